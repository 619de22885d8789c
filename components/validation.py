"""The rules a component must meet, shared by every write path (REST, admin, import)."""
import re

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


def code_hierarchy_errors(admin_code: str, street_code: str = "", community_code: str = "") -> dict[str, str]:
    errors = {}
    if not admin_code or not _ADMIN_RE.match(admin_code):
        errors["admin_code"] = "must be 6 digits (GB/T 2260)"
    if street_code and not (len(street_code) == 9 and is_ascii_digits(street_code) and street_code.startswith(admin_code or "")):
        errors["street_code"] = "must be 9 digits starting with the admin code"
    if community_code and not (
        len(community_code) == 12 and is_ascii_digits(community_code) and community_code.startswith(street_code or admin_code or "")
    ):
        errors["community_code"] = "must be 12 digits starting with the street code"
    return errors


def component_errors(values: dict, *, check_code: bool = True) -> dict[str, str]:
    """Every rule a full set of component values breaks, as {field: reason}.
    `values` carries resolved objects: component_class, state, department/owner/maintainer."""
    errors: dict[str, str] = {}
    cls = values.get("component_class")
    if cls is None:
        errors["component_class"] = "required"
    elif not cls.active:
        errors["component_class"] = f"class {cls.code} is no longer active"
    if values.get("state") is None:
        errors["state"] = "required"
    elif not values["state"].active:
        errors["state"] = f"state {values['state'].code} is not active"
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
        errors["change_date"] = "is before the census date"
    return errors
