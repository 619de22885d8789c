"""The rules a component must meet, shared by every write path (REST, admin, import)."""
import datetime as dt
import re

import numpy as np
import shapely
from django.conf import settings

from gis_core.geometry import geometry_error
from gis_core.text import is_ascii_digits

from .attributes import attribute_errors
from .ids import id_error

_ADMIN_RE = re.compile(r"^[0-9]{6}$")


# The services' refusal: defined once in gis_core for every protocol's renderer.
from gis_core.errors import ServiceError  # noqa: E402,F401


def to_shapely(geom):
    """GEOSGeometry or shapely -> shapely (2D)."""
    if geom is None:
        return None
    if hasattr(geom, "wkb") and not isinstance(geom, shapely.Geometry):
        return shapely.from_wkb(bytes(geom.wkb))
    return geom


# One text per rule, for the services (scalar forms) and the importer (the *_array forms).
ADMIN_CODE_FORMAT = "must be 6 digits (GB/T 2260)"
STREET_CODE_FORMAT = "must be 9 digits starting with the admin code"
COMMUNITY_CODE_FORMAT = "must be 12 digits starting with the street code"
REQUIRED = "required"
CLASS_INACTIVE = "class {code} is no longer active"
STATE_INACTIVE = "state {code} is not active"
CHANGE_BEFORE_CENSUS = "is before the census date"


def code_hierarchy_errors(admin_code: str, street_code: str = "", community_code: str = "") -> dict[str, str]:
    errors = {}
    if not admin_code or not _ADMIN_RE.match(admin_code):
        errors["admin_code"] = ADMIN_CODE_FORMAT
    if street_code and not (len(street_code) == 9 and is_ascii_digits(street_code) and street_code.startswith(admin_code or "")):
        errors["street_code"] = STREET_CODE_FORMAT
    if community_code and not (
        len(community_code) == 12 and is_ascii_digits(community_code) and community_code.startswith(street_code or admin_code or "")
    ):
        errors["community_code"] = COMMUNITY_CODE_FORMAT
    return errors


def code_hierarchy_errors_array(admin: np.ndarray, street: np.ndarray, community: np.ndarray) -> dict[str, np.ndarray]:
    """code_hierarchy_errors() for many rows: {field: boolean array of the rows that break its rule}
    (the reason is the field's constant above). Arrays of str, '' where a row gives no code."""
    admin, street, community = (np.asarray(a, dtype=str) for a in (admin, street, community))
    admin_ok = _ascii_digits(admin, 6)
    street_given = street != ""
    street_bad = street_given & ~(_ascii_digits(street, 9) & _starts_with(street, admin))
    parent = np.where(street_given, street, admin)
    community_bad = (community != "") & ~(_ascii_digits(community, 12) & _starts_with(community, parent))
    return {"admin_code": ~admin_ok, "street_code": street_bad, "community_code": community_bad}


def _starts_with(values: np.ndarray, prefixes: np.ndarray) -> np.ndarray:
    """str.startswith row by row (a prefix of its own per row; '' starts everything)."""
    return np.strings.slice(values, 0, np.strings.str_len(prefixes)) == prefixes


def _ascii_digits(values: np.ndarray, length: int) -> np.ndarray:
    """Rows that are exactly `length` ASCII digits (str.isdigit() alone also takes '¹' and '１')."""
    ok = np.strings.str_len(values) == length
    ok &= np.strings.isdigit(values)
    if ok.any():
        ok[ok] = np.strings.str_len(np.strings.encode(values[ok], "utf-8")) == length
    return ok


def date_order_errors_array(census: list, change: list) -> np.ndarray:
    """Rows whose change date is before their census date (reason: CHANGE_BEFORE_CENSUS); a None or a
    date that did not parse (a ValueError, reported for its own column) is not compared."""
    return np.fromiter(
        (isinstance(a, dt.date) and isinstance(b, dt.date) and b < a for a, b in zip(census, change)),
        dtype=bool, count=len(census))


def component_errors(values: dict, *, check_code: bool = True) -> dict[str, str]:
    """Every rule a full set of component values breaks, as {field: reason}.
    `values` carries resolved objects: component_class, state, department/owner/maintainer."""
    errors: dict[str, str] = {}
    cls = values.get("component_class")
    if cls is None:
        errors["component_class"] = REQUIRED
    elif not cls.active:
        errors["component_class"] = CLASS_INACTIVE.format(code=cls.code)
    if values.get("state") is None:
        errors["state"] = REQUIRED
    elif not values["state"].active:
        errors["state"] = STATE_INACTIVE.format(code=values["state"].code)
    reason = geometry_error(to_shapely(values.get("geom")))
    if reason:
        errors["geom"] = reason
    admin_code = values.get("admin_code") or settings.GRIDCITY_ADMIN_CODE
    errors.update(code_hierarchy_errors(admin_code, values.get("street_code", ""), values.get("community_code", "")))
    if check_code and values.get("code"):
        reason = id_error(values["code"], cls, admin_code)
        if reason:
            errors["code"] = reason
    if cls is not None:
        errors.update({f"attributes.{k}": v for k, v in attribute_errors(cls.attribute_schema, values.get("attributes") or {}).items()})
    if values.get("census_date") and values.get("change_date") and values["change_date"] < values["census_date"]:
        errors["change_date"] = CHANGE_BEFORE_CENSUS
    return errors
