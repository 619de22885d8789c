"""Query parameters for component lists, parsed with an error that names the parameter."""

import datetime as dt
import re

from rest_framework.exceptions import ValidationError

from gis_core.geometry import flat_geos, geometry_error
from gis_core.text import finite_float, has_nul, is_ascii_digits

from ..selectors import MAX_RADIUS_M, parse_geometry
from ..validation import to_shapely

_LIST = re.compile(r"^[0-9A-Za-z_,]+$")


def _bad(param, message):
    raise ValidationError({param: [message]})


def _floats(param, text, n):
    try:
        values = [finite_float(v) for v in text.split(",")]
    except ValueError:
        _bad(param, f"must be {n} comma-separated finite numbers")
    if len(values) != n:
        _bad(param, f"must be {n} comma-separated numbers")
    return values


def _date(param, text):
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        _bad(param, "must be a date YYYY-MM-DD")


def parse_component_filters(params, body_geometry=None) -> dict:
    f: dict = {}
    for param in params:
        # PostgreSQL refuses NUL in text: one check here instead of a database error per filter.
        if has_nul(param) or any(has_nul(v) for v in params.getlist(param)):
            _bad(param.replace("\x00", "\\x00")[:40], "must not contain NUL characters")
    if "near" in params and not params["near"].strip():
        _bad("near", "must be lon,lat (empty given)")
    for param, key in (("class", "class_code"), ("major", "major"), ("state", "state")):
        if params.get(param):
            if not _LIST.match(params[param]):
                _bad(param, "must be a comma-separated list of codes")
            f[key] = params[param].split(",")
    for param in ("owner", "maintainer", "department", "unit"):
        if params.get(param):
            if not re.match(r"^[0-9A-Z]{18}$", params[param]):
                _bad(param, "must be an 18-character unified social credit code")
            f[param] = params[param]
    for param, digits in (("admin_code", 6), ("street_code", 9), ("community_code", 12), ("grid_code", None)):
        if params.get(param):
            value = params[param]
            if not is_ascii_digits(value) or (digits and len(value) != digits):
                _bad(param, f"must be {digits} digits" if digits else "must be digits")
            f[param] = value
    for param in ("census_from", "census_to", "changed_from", "changed_to"):
        if params.get(param):
            f[param] = _date(param, params[param])
    retired = params.get("retired", "false")
    if retired not in ("true", "false", "any"):
        _bad("retired", "must be true, false or any")
    f["retired"] = {"true": True, "false": False, "any": None}[retired]
    if params.get("bbox"):
        minx, miny, maxx, maxy = _floats("bbox", params["bbox"], 4)
        if minx >= maxx or miny >= maxy:
            _bad("bbox", "must be minx,miny,maxx,maxy with min < max")
        f["bbox"] = (minx, miny, maxx, maxy)
    if params.get("near"):
        lon, lat = _floats("near", params["near"], 2)
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            _bad("near", "must be lon,lat in degrees (EPSG:4490)")
        f["near"] = (lon, lat)
        radius = params.get("radius", "50")
        try:
            f["radius"] = finite_float(radius)
        except ValueError:
            _bad("radius", "must be a number of metres")
        if not 0 < f["radius"] <= MAX_RADIUS_M:
            _bad("radius", f"must be between 0 and {MAX_RADIUS_M} metres")
    elif params.get("radius"):
        _bad("radius", "needs near=lon,lat")
    within = body_geometry if body_geometry is not None else params.get("within")
    if within:
        try:
            geom = parse_geometry(within)
        except Exception:  # noqa: BLE001 - any unreadable text is the client's error, named
            _bad("within", "must be a GeoJSON or WKT polygon")
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            _bad("within", "must be a Polygon or MultiPolygon")
        reason = geometry_error(to_shapely(geom), bbox=(-180, -90, 180, 90))
        if reason:
            _bad("within", reason)
        f["within"] = flat_geos(geom)
    return f
