"""Plain 2D GML polygons are read in Python (no database round trip in a WFS-T edit): the result must
be what PostGIS's ST_GeomFromGML makes of the same element, axis order included; anything else still
goes to PostGIS."""

import pytest

from layers.ogc import crs as crslib
from layers.ogc import geometry
from layers.ogc.xmlsafe import parse

GML = 'xmlns:gml="http://www.opengis.net/gml"'
RING = "116.80 35.50 116.81 35.50 116.81 35.51 116.80 35.51 116.80 35.50"
HOLE = "116.802 35.502 116.803 35.502 116.803 35.503 116.802 35.502"
CASES = [
    # (GML, srsName default, multi)
    (
        f'<gml:Polygon {GML} srsName="EPSG:4490"><gml:exterior><gml:LinearRing><gml:posList>{RING}</gml:posList>'
        "</gml:LinearRing></gml:exterior></gml:Polygon>",
        True,
    ),
    (
        f'<gml:MultiPolygon {GML} srsName="EPSG:4490"><gml:polygonMember><gml:Polygon><gml:exterior><gml:LinearRing>'
        f'<gml:posList srsDimension="2">{RING}</gml:posList></gml:LinearRing></gml:exterior><gml:interior>'
        f"<gml:LinearRing><gml:posList>{HOLE}</gml:posList></gml:LinearRing></gml:interior></gml:Polygon>"
        "</gml:polygonMember></gml:MultiPolygon>",
        True,
    ),
    (
        f'<gml:Polygon {GML} srsName="EPSG:4490"><gml:outerBoundaryIs><gml:LinearRing><gml:coordinates>'
        + " ".join(f"{x},{y}" for x, y in zip(RING.split()[0::2], RING.split()[1::2]))
        + "</gml:coordinates></gml:LinearRing></gml:outerBoundaryIs></gml:Polygon>",
        False,
    ),
    # lat/lon axis order of the urn form
    (
        f'<gml:MultiSurface {GML} srsName="urn:ogc:def:crs:EPSG::4490"><gml:surfaceMember><gml:Polygon><gml:exterior>'
        "<gml:LinearRing><gml:posList>35.50 116.80 35.50 116.81 35.51 116.81 35.51 116.80 35.50 116.80</gml:posList>"
        "</gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember></gml:MultiSurface>",
        True,
    ),
]


def _via_postgis(elem, multi, monkeypatch):
    monkeypatch.setattr(geometry, "_simple_polygons", lambda *a: None)
    try:
        return geometry.gml_to_geos(elem, crslib.parse("EPSG:4490"), 4490, multi=multi)
    finally:
        monkeypatch.undo()


@pytest.mark.django_db
@pytest.mark.parametrize(("gml", "multi"), CASES)
def test_plain_polygons_read_in_python_equal_postgis(gml, multi, monkeypatch):
    elem = parse(gml.encode())
    assert geometry._simple_polygons(elem, crslib.parse(elem.get("srsName")).latlon, multi) is not None
    ours = geometry.gml_to_geos(elem, crslib.parse("EPSG:4490"), 4490, multi=multi)
    theirs = _via_postgis(elem, multi, monkeypatch)
    assert ours.srid == theirs.srid == 4490
    assert ours.geom_type == theirs.geom_type
    assert ours.equals_exact(theirs, 0)


@pytest.mark.parametrize(
    "gml",
    [
        # 3D, an unclosed ring, too few points, a curve, a separator of its own: PostGIS reads (or refuses) them
        f'<gml:Polygon {GML}><gml:exterior><gml:LinearRing><gml:posList srsDimension="3">'
        "1 2 0 3 4 0 5 6 0 1 2 0</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>",
        f"<gml:Polygon {GML}><gml:exterior><gml:LinearRing><gml:posList>1 2 3 4 5 6 7 8</gml:posList>"
        "</gml:LinearRing></gml:exterior></gml:Polygon>",
        f"<gml:Polygon {GML}><gml:exterior><gml:LinearRing><gml:posList>1 2 3 4 1 2</gml:posList>"
        "</gml:LinearRing></gml:exterior></gml:Polygon>",
        f"<gml:Polygon {GML}><gml:exterior><gml:Ring><gml:curveMember/></gml:Ring></gml:exterior></gml:Polygon>",
        f'<gml:Polygon {GML}><gml:outerBoundaryIs><gml:LinearRing><gml:coordinates cs=";" ts=" ">'
        "1;2 3;4 5;6 1;2</gml:coordinates></gml:LinearRing></gml:outerBoundaryIs></gml:Polygon>",
        f"<gml:LineString {GML}><gml:posList>1 2 3 4</gml:posList></gml:LineString>",
    ],
)
def test_anything_else_is_left_to_postgis(gml):
    assert geometry._simple_polygons(parse(gml.encode()), False, True) is None
