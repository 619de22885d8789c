"""GML in (Transactions, filters) through PostGIS ST_GeomFromGML, after fixing the axis order that
the srsName form requires (plain 2D polygons, what QGIS sends for every polygon edit, are read here
without the round trip); envelopes; SQL expressions for GML/GeoJSON out."""

import copy
import math
import struct
from xml.etree import ElementTree as ET

from django.contrib.gis.geos import GEOSGeometry, Polygon
from django.db import DatabaseError, connection
from django.db.models import Func, TextField

from . import crs as crslib
from .exceptions import OWSException
from .xmlsafe import children, local, ns, text

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
    if crs.srid == target_srid:
        simple = _simple_polygons(elem, crs.latlon, multi)
        if simple is not None:
            simple.srid = target_srid
            return simple
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
        # No savepoint: a refused geometry ends the request (a Transaction rolls back as a whole).
        with connection.cursor() as cur:
            cur.execute(f"SELECT ST_AsEWKB({expr})", params)
            (wkb,) = cur.fetchone()
    except DatabaseError as exc:
        cause = exc.__cause__ or exc
        message = getattr(getattr(cause, "diag", None), "message_primary", None) or str(cause).splitlines()[0]
        raise OWSException(f"invalid GML geometry: {message}", locator=locator) from None
    if wkb is None:
        raise OWSException("invalid GML geometry", locator=locator)
    return GEOSGeometry(memoryview(bytes(wkb)))


_POLYGON_PARTS = {"exterior": 0, "outerBoundaryIs": 0, "interior": 1, "innerBoundaryIs": 1}
_MEMBERS = {"polygonMember", "surfaceMember"}


def _ring(part, latlon: bool) -> bytes | None:
    """A 2D closed ring from a posList or default-form coordinates as WKB (point count, x y ...), or
    None (PostGIS reads it then). WKB, not GEOS objects: those cost a call per coordinate."""
    rings = children(part)
    if len(rings) != 1 or local(rings[0].tag) != "LinearRing":
        return None
    lists = children(rings[0])
    if len(lists) != 1:
        return None
    kind, attrs = local(lists[0].tag), set(lists[0].attrib)
    if kind == "posList" and attrs <= {"srsDimension", "count"} and lists[0].get("srsDimension", "2") == "2":
        raw = text(lists[0]).split()
    elif kind == "coordinates" and not attrs:
        raw = text(lists[0]).replace(",", " ").split()
        if text(lists[0]).count(",") * 2 != len(raw):
            return None  # not "x,y x,y ...": 3D or a separator of its own
    else:
        return None
    try:
        numbers = [float(v) for v in raw]
    except ValueError:
        return None
    if len(numbers) % 2 or len(numbers) < 8 or not all(math.isfinite(v) for v in numbers):
        return None
    if numbers[:2] != numbers[-2:]:
        return None
    if latlon:
        numbers[0::2], numbers[1::2] = numbers[1::2], numbers[0::2]
    return struct.pack(f"<I{len(numbers)}d", len(numbers) // 2, *numbers)


def _polygon(elem, latlon: bool) -> bytes | None:
    """WKB of a gml:Polygon (byte order, type 3, rings), or None."""
    rings = []
    for i, part in enumerate(children(elem)):
        kind = _POLYGON_PARTS.get(local(part.tag))
        if kind is None or kind != (0 if i == 0 else 1):
            return None  # one exterior first, then interiors
        ring = _ring(part, latlon)
        if ring is None:
            return None
        rings.append(ring)
    if not rings:
        return None
    return struct.pack("<BII", 1, 3, len(rings)) + b"".join(rings)


def _simple_polygons(elem, latlon: bool, multi: bool):
    """A gml:Polygon, gml:MultiPolygon or gml:MultiSurface of plain 2D polygons as GEOS, read in
    Python; None for anything else (the caller asks PostGIS, which also words the errors)."""
    kind = local(elem.tag)
    if ns(elem.tag) not in GML_NAMESPACES:
        return None
    if kind == "Polygon":
        polys = [_polygon(elem, latlon)]
        if polys[0] is None:
            return None
        if not multi:
            return GEOSGeometry(memoryview(polys[0]))
    elif kind in ("MultiPolygon", "MultiSurface"):
        polys = []
        for member in children(elem):
            if local(member.tag) not in _MEMBERS or len(children(member)) != 1:
                return None
            inner = children(member)[0]
            poly = _polygon(inner, latlon) if local(inner.tag) == "Polygon" else None
            if poly is None:
                return None
            polys.append(poly)
        if not polys:
            return None
    else:
        return None
    return GEOSGeometry(memoryview(struct.pack("<BII", 1, 6, len(polys)) + b"".join(polys)))


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
