"""Geometry checks at the edge: every refusal says what is wrong and where."""
import math

import shapely
from django.conf import settings
from shapely.validation import explain_validity

ALLOWED_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}


def district_bbox() -> tuple[float, float, float, float]:
    return settings.GRIDCITY_DISTRICT_BBOX


def geometry_error(geom, bbox=None) -> str | None:
    """Why a shapely geometry (lon/lat, EPSG:4490) may not be stored, or None."""
    if geom is None:
        return "geometry is missing"
    if geom.geom_type not in ALLOWED_TYPES:
        return f"geometry type {geom.geom_type} is not accepted (point, line or polygon)"
    if geom.is_empty:
        return "geometry is empty"
    if not all(math.isfinite(v) for v in geom.bounds):
        return "coordinates must be finite numbers (nan, inf or too large for the CRS given)"
    if not shapely.is_valid(geom):
        return f"geometry is invalid: {explain_validity(geom)}"
    if shapely.get_coordinate_dimension(geom) > 2:
        geom = shapely.force_2d(geom)
    minx, miny, maxx, maxy = geom.bounds
    bx0, by0, bx1, by1 = bbox or district_bbox()
    if minx < bx0 or maxx > bx1 or miny < by0 or maxy > by1:
        return (
            f"coordinates ({minx:.6f}, {miny:.6f}) - ({maxx:.6f}, {maxy:.6f}) lie outside the district "
            f"({bx0}, {by0}, {bx1}, {by1}): wrong CRS or axis order?"
        )
    return None


def flat_geos(geom):
    """A GEOS geometry with Z (and any further ordinate) dropped, as imports drop them: the columns are
    2-D and PostGIS would refuse the write."""
    if geom is None or not geom.hasz:
        return geom
    from django.contrib.gis.geos import GEOSGeometry, WKBWriter

    writer = WKBWriter()
    writer.outdim = 2
    return GEOSGeometry(memoryview(writer.write(geom)), srid=geom.srid)
