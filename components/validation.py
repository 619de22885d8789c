"""The rules a component must meet, shared by every write path (REST, admin, import)."""

import datetime as dt
import functools
import re
import unicodedata

import numpy as np
import shapely
from django.conf import settings

from gis_core import arrow_strings
from gis_core.geometry import geometry_error
from gis_core.text import bad_character, is_ascii_digits

from .attributes import attribute_errors
from .ids import id_error
from .models import Component

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


def class_error(cls) -> str | None:
    """Why a component may not have this class (None: no class), or None."""
    if cls is None:
        return REQUIRED
    if not cls.active:
        return CLASS_INACTIVE.format(code=cls.code)
    return None


def class_errors_array(classes: np.ndarray) -> np.ndarray:
    """class_error() for an array of classes (ComponentClass or None): an object array of reasons."""
    classes = np.asarray(classes, dtype=object)
    reasons = np.full(len(classes), None, dtype=object)
    reasons[np.equal(classes, None)] = REQUIRED  # noqa: E711 - elementwise
    inactive = np.fromiter((c is not None and not c.active for c in classes.tolist()), dtype=bool, count=len(classes))
    for i in np.flatnonzero(inactive).tolist():
        reasons[i] = CLASS_INACTIVE.format(code=classes[i].code)
    return reasons


def state_error(state) -> str | None:
    """Why a component may not be in this state (None: no state), or None."""
    if state is None:
        return REQUIRED
    if not state.active:
        return STATE_INACTIVE.format(code=state.code)
    return None


def code_hierarchy_errors(admin_code: str, street_code: str = "", community_code: str = "") -> dict[str, str]:
    errors = {}
    if not admin_code or not _ADMIN_RE.match(admin_code):
        errors["admin_code"] = ADMIN_CODE_FORMAT
    if street_code and not (
        len(street_code) == 9 and is_ascii_digits(street_code) and street_code.startswith(admin_code or "")
    ):
        errors["street_code"] = STREET_CODE_FORMAT
    if community_code and not (
        len(community_code) == 12
        and is_ascii_digits(community_code)
        and community_code.startswith(street_code or admin_code or "")
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
        dtype=bool,
        count=len(census),
    )


def component_errors(values: dict, *, check_code: bool = True) -> dict[str, str]:
    """Every rule a full set of component values breaks, as {field: reason}.
    `values` carries resolved objects: component_class, state, department/owner/maintainer."""
    errors: dict[str, str] = {}
    cls = values.get("component_class")
    for name, reason in (("component_class", class_error(cls)), ("state", state_error(values.get("state")))):
        if reason:
            errors[name] = reason
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
        errors.update(
            {
                f"attributes.{k}": v
                for k, v in attribute_errors(cls.attribute_schema, values.get("attributes") or {}).items()
            }
        )
    if values.get("census_date") and values.get("change_date") and values["change_date"] < values["census_date"]:
        errors["change_date"] = CHANGE_BEFORE_CENSUS
    return errors


# Free-text fields people type (True: may span lines), and how long each may be.
TEXT_FIELDS = {
    "name": False,
    "location_desc": False,
    "street_code": False,
    "community_code": False,
    "grid_code": False,
    "note": True,
}
NOTE_MAX_LENGTH = 500  # the note column is unbounded text; people's notes are not
# The column widths, so an over-long value is refused with words before PostgreSQL refuses it.
MAX_LENGTH = {name: Component._meta.get_field(name).max_length or NOTE_MAX_LENGTH for name in TEXT_FIELDS}
TOO_LONG = "is longer than {limit} characters"


def text_errors(values: dict) -> dict[str, str]:
    """Control and format characters (gis_core.text.bad_character) and over-long text in the free-text
    fields present in `values`, for the writers that come without a serializer (admin, shell, tasks)."""
    errors = {}
    for name, multiline in TEXT_FIELDS.items():
        value = values.get(name)
        reason = bad_character(value, multiline=multiline)
        if reason:
            errors[name] = reason
        elif isinstance(value, str) and len(value) > MAX_LENGTH[name]:
            errors[name] = TOO_LONG.format(limit=MAX_LENGTH[name])
    return errors


def text_errors_array(name: str, values: np.ndarray) -> np.ndarray:
    """text_errors() for one free-text field over many rows: an object array of reasons, None where
    a row is fine. Arrow finds the rows with a suspect character; bad_character() words the reason."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = np.asarray(values, dtype=object)
    n = len(values)
    reasons = np.full(n, None, dtype=object)
    if n == 0:
        return reasons
    multiline = TEXT_FIELDS[name]
    try:
        arr = arrow_strings.strings(values)
        if _ascii_without_controls(arr, multiline):
            suspect = np.zeros(n, dtype=bool)
        else:
            suspect = np.asarray(
                pc.match_substring_regex(arr, _suspect_re2(multiline)).to_numpy(zero_copy_only=False), dtype=bool
            )
        lengths = np.asarray(pc.utf8_length(arr).to_numpy(zero_copy_only=False))
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all text: look at every row
        suspect = np.ones(n, dtype=bool)
        lengths = np.fromiter((len(v) if isinstance(v, str) else 0 for v in values.tolist()), dtype=np.int64, count=n)
    for i in np.flatnonzero(suspect).tolist():
        reasons[i] = bad_character(values[i], multiline=multiline)
    too_long = np.equal(reasons, None) & (lengths > MAX_LENGTH[name])  # noqa: E711 - elementwise
    reasons[too_long] = TOO_LONG.format(limit=MAX_LENGTH[name])
    return reasons


def _ascii_without_controls(arr, multiline: bool) -> bool:
    """Whether an Arrow string array is ASCII with no control character (tab, LF and CR allowed when
    `multiline`), by one look at its bytes: then no row holds a Cc or Cf character (no format
    character is ASCII) and the regex per row is spared, as for the columns of codes."""
    data = arr.buffers()[2]
    if data is None:
        return True
    b = np.frombuffer(data, dtype=np.uint8)
    if not len(b):
        return True
    if b.max() >= 0x80:
        return False
    if b.min() < 0x20:
        controls = b < 0x20
        if multiline:
            controls &= (b != 0x09) & (b != 0x0A) & (b != 0x0D)
        if controls.any():
            return False
    return not (b == 0x7F).any()


@functools.cache
def _format_ranges() -> tuple[tuple[int, int], ...]:
    """The code point ranges of the format (Cf) characters: one pass over Unicode per process
    (0.1 s; it was a pass of twice that per _suspect_re2 variant, 0.5 s on a first import)."""
    ranges = []
    category = unicodedata.category
    for cp in range(0x110000):
        if category(chr(cp)) == "Cf":
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    return tuple((a, b) for a, b in ranges)


@functools.cache
def _suspect_re2(multiline: bool) -> str:
    """An RE2 class of every control (Cc) and format (Cf) character: the ones bad_character() refuses.
    The controls are C0 and C1 (Unicode's stability policy fixes Cc), less tab, LF and CR when
    `multiline`."""
    controls = [(0x0, 0x8), (0xB, 0xC), (0xE, 0x1F)] if multiline else [(0x0, 0x1F)]
    ranges = [*controls, (0x7F, 0x9F), *_format_ranges()]
    return "[" + "".join(f"\\x{{{a:x}}}" if a == b else f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in ranges) + "]"
