"""Geometry checks at the edge: every refusal says what is wrong and where."""

import math

import numpy as np
import shapely
from django.conf import settings
from shapely.validation import explain_validity

ALLOWED_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}
ALLOWED_TYPE_IDS = np.array([0, 1, 3, 4, 5, 6])  # the same types as shapely.get_type_id() numbers them

# One text per refusal, for geometry_error() (services) and geometry_errors_array() (imports).
GEOMETRY_MISSING = "geometry is missing"
GEOMETRY_TYPE = "geometry type {type} is not accepted (point, line or polygon)"
GEOMETRY_EMPTY = "geometry is empty"
GEOMETRY_NOT_FINITE = "coordinates must be finite numbers (nan, inf or too large for the CRS given)"
GEOMETRY_INVALID = "geometry is invalid: {reason}"


def district_bbox() -> tuple[float, float, float, float]:
    return settings.GRIDCITY_DISTRICT_BBOX


def outside_message(bounds, bbox, crs: str | None = None) -> str:
    minx, miny, maxx, maxy = bounds
    bx0, by0, bx1, by1 = bbox
    named = f" ({crs})" if crs else ""
    return (
        f"coordinates ({minx:.6f}, {miny:.6f}) - ({maxx:.6f}, {maxy:.6f}) lie outside the district "
        f"({bx0}, {by0}, {bx1}, {by1}): wrong CRS{named} or axis order?"
    )


def geometry_error(geom, bbox=None) -> str | None:
    """Why a shapely geometry (lon/lat, EPSG:4490) may not be stored, or None."""
    if geom is None:
        return GEOMETRY_MISSING
    if geom.geom_type not in ALLOWED_TYPES:
        return GEOMETRY_TYPE.format(type=geom.geom_type)
    if geom.is_empty:
        return GEOMETRY_EMPTY
    if not all(math.isfinite(v) for v in geom.bounds):
        return GEOMETRY_NOT_FINITE
    if not shapely.is_valid(geom):
        return GEOMETRY_INVALID.format(reason=explain_validity(geom))
    if shapely.get_coordinate_dimension(geom) > 2:
        geom = shapely.force_2d(geom)
    minx, miny, maxx, maxy = geom.bounds
    bx0, by0, bx1, by1 = bbox = bbox or district_bbox()
    if minx < bx0 or maxx > bx1 or miny < by0 or maxy > by1:
        return outside_message(geom.bounds, bbox)
    return None


def geometry_errors_array(geoms: np.ndarray, bbox=None, crs: str | None = None) -> np.ndarray:
    """geometry_error() for an array of shapely geometries (None = missing), the same checks in the
    same order, each run on the whole array: an object array of reasons, None where a row is fine.
    `crs` names the coordinate system the rows came in, for the out-of-district hint."""
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    reasons = np.full(n, None, dtype=object)
    ok = ~np.equal(geoms, None)  # noqa: E711 - elementwise
    reasons[~ok] = GEOMETRY_MISSING
    wrong_type = ok & ~np.isin(shapely.get_type_id(geoms), ALLOWED_TYPE_IDS)
    for i in np.flatnonzero(wrong_type).tolist():
        reasons[i] = GEOMETRY_TYPE.format(type=geoms[i].geom_type)
    ok &= ~wrong_type
    empty = ok & shapely.is_empty(geoms)
    reasons[empty] = GEOMETRY_EMPTY
    ok &= ~empty
    bounds = shapely.bounds(geoms)
    with np.errstate(invalid="ignore"):
        not_finite = ok & ~np.isfinite(bounds).all(axis=1)
    reasons[not_finite] = GEOMETRY_NOT_FINITE
    ok &= ~not_finite
    valid = np.ones(n, dtype=bool)
    valid[ok] = shapely.is_valid(geoms[ok])
    invalid = ok & ~valid
    if invalid.any():
        for i, why in zip(np.flatnonzero(invalid).tolist(), shapely.is_valid_reason(geoms[invalid]).tolist()):
            reasons[i] = GEOMETRY_INVALID.format(reason=why)
    ok &= ~invalid
    bbox = bbox or district_bbox()
    bx0, by0, bx1, by1 = bbox
    with np.errstate(invalid="ignore"):
        outside = ok & ~((bounds[:, 0] >= bx0) & (bounds[:, 2] <= bx1) & (bounds[:, 1] >= by0) & (bounds[:, 3] <= by1))
    for i in np.flatnonzero(outside).tolist():
        reasons[i] = outside_message(bounds[i].tolist(), bbox, crs)
    return reasons


def flat_geos(geom):
    """A GEOS geometry with Z (and any further ordinate) dropped, as imports drop them: the columns are
    2-D and PostGIS would refuse the write."""
    if geom is None or not geom.hasz:
        return geom
    from django.contrib.gis.geos import GEOSGeometry, WKBWriter

    writer = WKBWriter()
    writer.outdim = 2
    return GEOSGeometry(memoryview(writer.write(geom)), srid=geom.srid)
