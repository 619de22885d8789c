"""GML in (Transactions, filters) through PostGIS ST_GeomFromGML, after fixing the axis order that
the srsName form requires; envelopes; SQL expressions for GML/GeoJSON out."""

import copy
import math
from xml.etree import ElementTree as ET

from django.contrib.gis.geos import GEOSGeometry, Polygon
from django.db import DatabaseError, connection, transaction
from django.db.models import Func, TextField

from . import crs as crslib
from .exceptions import OWSException
from .xmlsafe import children, local, text

GML_NAMESPACES = {"http://www.opengis.net/gml", "http://www.opengis.net/gml/3.2"}


def _srs_of(elem):
    for e in elem.iter():
        if isinstance(e.tag, str) and e.get("srsName"):
            return e.get("srsName")
    return None


def gml_to_geos(elem, default_crs: crslib.Crs, target_srid: int, multi: bool = False, locator="geometry"):
    """A GML geometry element -> GEOSGeometry in target_srid (x/y). Polygons are promoted to
    MultiPolygons when `multi`."""
    if elem is None or local(elem.tag) in ("Envelope", "Box"):
        if elem is not None:
            return envelope(elem, default_crs, target_srid, locator)
        raise OWSException("a geometry is missing", locator=locator)
    srs_text = _srs_of(elem)
    crs = crslib.parse(srs_text, locator="srsName") if srs_text else default_crs
    elem = copy.deepcopy(elem)
    for e in elem.iter():  # PostGIS applies its own axis rules to urn names: give it the plain form.
        if isinstance(e.tag, str) and e.get("srsName"):
            e.set("srsName", f"EPSG:{crs.srid}")
    gml = ET.tostring(elem, encoding="unicode")
    expr = "ST_SetSRID(ST_GeomFromGML(%s), %s)"
    if crs.latlon:
        expr = f"ST_FlipCoordinates({expr})"
    if crs.srid != target_srid:
        expr = f"ST_Transform({expr}, %s)"
    if multi:
        expr = f"ST_Multi({expr})"
    params = [gml, crs.srid] + ([target_srid] if crs.srid != target_srid else [])
    try:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"SELECT ST_AsEWKB({expr})", params)
            (wkb,) = cur.fetchone()
    except DatabaseError as exc:
        cause = exc.__cause__ or exc
        message = getattr(getattr(cause, "diag", None), "message_primary", None) or str(cause).splitlines()[0]
        raise OWSException(f"invalid GML geometry: {message}", locator=locator) from None
    if wkb is None:
        raise OWSException("invalid GML geometry", locator=locator)
    return GEOSGeometry(memoryview(bytes(wkb)))


def _numbers(s: str, locator) -> list[float]:
    try:
        numbers = [float(v) for v in s.replace(",", " ").split()]
    except ValueError:
        raise OWSException("coordinates must be numbers", locator=locator) from None
    if not all(math.isfinite(v) for v in numbers):  # float() reads nan and inf
        raise OWSException("coordinates must be finite numbers", locator=locator)
    return numbers


def envelope(elem, default_crs, target_srid, locator="BBOX"):
    srs_text = elem.get("srsName")
    crs = crslib.parse(srs_text, locator="srsName") if srs_text else default_crs
    if local(elem.tag) == "Envelope":
        lower = next((c for c in children(elem) if local(c.tag) in ("lowerCorner", "pos")), None)
        upper = next((c for c in children(elem) if local(c.tag) == "upperCorner"), None)
        if upper is None:
            pos = [c for c in children(elem) if local(c.tag) == "pos"]
            upper = pos[1] if len(pos) > 1 else None
        nums = _numbers(text(lower), locator) + _numbers(text(upper), locator)
    else:  # GML 2 Box
        coords = next(iter(children(elem, "coordinates")), None)
        if coords is not None:
            nums = _numbers(text(coords), locator)
        else:
            nums = [
                v
                for c in children(elem, "coord")
                for v in _numbers(
                    text(next(iter(children(c, "X")), None)) + " " + text(next(iter(children(c, "Y")), None)), locator
                )
            ]
    if len(nums) != 4:
        raise OWSException("an envelope needs two corners of two coordinates", locator=locator)
    return bbox_polygon(nums, crs, target_srid)


def bbox_polygon(nums, crs: crslib.Crs, target_srid: int):
    a, b, c, d = nums
    if crs.latlon:
        a, b, c, d = b, a, d, c
    if a > c or b > d:
        raise OWSException("the envelope's lower corner is above its upper corner", locator="BBOX")
    poly = Polygon.from_bbox((a, b, c, d))
    poly.srid = crs.srid
    if crs.srid != target_srid:
        poly.transform(target_srid)
    return poly


class GeomOut(Func):
    """ST_AsGML / ST_AsGeoJSON of the geometry column, transformed and axis-flipped in SQL.
    `fmt` holds only trusted integers and catalogue names; {g} and {pk} are compiled columns."""

    output_field = TextField()

    def __init__(self, geom, pk, fmt: str):
        super().__init__(geom, pk)
        self.fmt = fmt

    def as_sql(self, compiler, connection, **extra):
        g_sql, g_params = compiler.compile(self.source_expressions[0])
        pk_sql, pk_params = compiler.compile(self.source_expressions[1])
        return self.fmt.format(g=g_sql, pk=pk_sql), [*g_params, *pk_params]


def output_expression(layer, out_crs: crslib.Crs, kind: str, typename: str):
    """kind: gml32, gml311, gml2, geojson."""
    g = "{g}"
    if out_crs.srid != layer.srid:
        g = f"ST_Transform({g}, {int(out_crs.srid)})"
    if out_crs.latlon and kind != "geojson":
        g = f"ST_FlipCoordinates({g})"
    precision = 9 if out_crs.srid == 3857 else 15
    if kind == "geojson":
        fmt = f"ST_AsGeoJSON({g}, {precision})"
    elif kind == "gml2":
        fmt = f"ST_AsGML(2, {g}, {precision}, 0, 'gml')"
    elif kind == "gml311":
        fmt = f"ST_AsGML(3, {g}, {precision}, 0, 'gml')"
    else:
        fmt = f"ST_AsGML(3, {g}, {precision}, 0, 'gml', '{typename}.' || {{pk}}::text || '.geom')"
    return fmt
