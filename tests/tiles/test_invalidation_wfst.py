"""A WFS-T geometry edit, insert and delete of a base grid leaves the cached tiles at that spot: the
vector tile and the PNG tile (which share the cache entries' invalidation) show the change right after
the Transaction. Transactional: the edit really commits and the after-commit invalidation really runs, as
in production (no captured on_commit callbacks), and the PNG is rendered by the render process from
PostGIS itself."""

import gzip
import io
from xml.etree import ElementTree as ET

import mapbox_vector_tile
import mercantile
import pytest
from django.test import Client
from PIL import Image

from components import roles
from layers.models import Grid
from tests.factories import make_user
from tests.layers.test_wfs_support import PASSWORD, TARGET_PK, X0, Y0, basic, make_grids

pytestmark = pytest.mark.django_db(transaction=True)
WFS = "http://www.opengis.net/wfs"
OGC = "http://www.opengis.net/ogc"
GML = "http://www.opengis.net/gml"
NS = f'xmlns:wfs="{WFS}" xmlns:ogc="{OGC}" xmlns:gml="{GML}" xmlns:gridcity="https://gridcity.example/ns/gridcity"'
Z = 16
# Spots in the middle of grid 101 (moved away by the edit), of the empty square north-east of the
# grids (where the edit or the insert puts a grid), and of grid 102 (deleted).
OLD_101 = (X0 + 0.025, Y0 + 0.025)
EMPTY = (X0 + 0.035, Y0 + 0.035)
GRID_102 = (X0 + 0.035, Y0 + 0.025)


@pytest.fixture(autouse=True)
def _fresh_credentials():
    """Each test makes its users anew under the same names: a user cached by an earlier test (Basic
    credentials -> user, for a minute per process) would carry that test's organisation here."""
    from components import roles as role_cache
    from gis_core.request_user import forget_users
    from layers.ogc import auth

    auth.clear_cache(), forget_users(), role_cache.forget_roles()
    yield


@pytest.fixture
def clients(transactional_db):
    make_grids()
    make_user("inval_viewer", roles.DISPATCHER, password=PASSWORD)
    make_user("inval_editor", roles.GIS_EDITOR, password=PASSWORD)
    return Client(HTTP_AUTHORIZATION=basic("inval_viewer")), Client(HTTP_AUTHORIZATION=basic("inval_editor"))


def tile_of(spot):
    return mercantile.tile(*spot, Z)


def mvt_codes(viewer, spot) -> set[str]:
    t = tile_of(spot)
    r = viewer.get(f"/tiles/base_grids/{Z}/{t.x}/{t.y}.mvt")
    assert r.status_code in (200, 204), r.content[:300]
    body = gzip.decompress(r.content) if r.get("Content-Encoding") == "gzip" else r.content
    tile = mapbox_vector_tile.decode(body) if body else {}
    return {f["properties"]["code"] for f in tile.get("base_grids", {}).get("features", [])}


def png_alpha(viewer, spot) -> int:
    """The PNG tile's alpha at the spot (the grids' translucent fill is > 0, nothing is 0)."""
    t = tile_of(spot)
    r = viewer.get(f"/tiles/base_grids/{Z}/{t.x}/{t.y}.png")
    assert r.status_code == 200 and r["Content-Type"] == "image/png", r.content[:300]
    image = Image.open(io.BytesIO(r.content)).convert("RGBA")
    b = mercantile.xy_bounds(t)
    x, y = mercantile.xy(*spot)
    col = int((x - b.left) / (b.right - b.left) * image.width)
    row = int((b.top - y) / (b.top - b.bottom) * image.height)
    return image.getpixel((col, row))[3]


def transaction(editor, operations: str) -> dict:
    body = f'<wfs:Transaction {NS} version="1.1.0" service="WFS">{operations}</wfs:Transaction>'
    r = editor.post("/wfs", body.encode(), content_type="text/xml")
    assert r.status_code == 200, r.content[:500]
    root = ET.fromstring(r.content)
    summary = root.find(f"{{{WFS}}}TransactionSummary")
    assert summary is not None, r.content[:500]
    return {e.tag.split("}")[1]: int(e.text) for e in summary}


def polygon(x0, y0, x1, y1) -> str:
    ring = [(X0 + x0, Y0 + y0), (X0 + x1, Y0 + y0), (X0 + x1, Y0 + y1), (X0 + x0, Y0 + y1), (X0 + x0, Y0 + y0)]
    coords = " ".join(f"{x} {y}" for x, y in ring)
    return (
        f'<gml:Polygon srsName="EPSG:4490"><gml:exterior><gml:LinearRing><gml:posList>{coords}'
        "</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>"
    )


def warm(viewer, *spots):
    """Both kinds of tile at each spot, read once so that they are in the cache before the edit."""
    for spot in spots:
        mvt_codes(viewer, spot), png_alpha(viewer, spot)


def test_a_geometry_edit_moves_the_grid_on_the_vector_and_png_tiles(clients):
    viewer, editor = clients
    warm(viewer, OLD_101, EMPTY)
    assert "37081200100101" in mvt_codes(viewer, OLD_101) and png_alpha(viewer, OLD_101) > 0
    assert "37081200100101" not in mvt_codes(viewer, EMPTY) and png_alpha(viewer, EMPTY) == 0
    summary = transaction(
        editor,
        (
            '<wfs:Update typeName="gridcity:base_grids"><wfs:Property><wfs:Name>geometry</wfs:Name>'
            f"<wfs:Value>{polygon(0.03, 0.03, 0.04, 0.04)}</wfs:Value></wfs:Property>"
            f'<ogc:Filter><ogc:FeatureId fid="base_grids.{TARGET_PK}"/></ogc:Filter></wfs:Update>'
        ),
    )
    assert summary["totalUpdated"] == 1
    assert Grid.objects.get(pk=TARGET_PK).geom.extent == pytest.approx((X0 + 0.03, Y0 + 0.03, X0 + 0.04, Y0 + 0.04))
    assert "37081200100101" not in mvt_codes(viewer, OLD_101) and png_alpha(viewer, OLD_101) == 0
    assert "37081200100101" in mvt_codes(viewer, EMPTY) and png_alpha(viewer, EMPTY) > 0


def test_an_insert_shows_on_the_vector_and_png_tiles(clients):
    viewer, editor = clients
    warm(viewer, EMPTY)
    assert mvt_codes(viewer, EMPTY) == set() and png_alpha(viewer, EMPTY) == 0
    summary = transaction(
        editor,
        (
            "<wfs:Insert><gridcity:base_grids><gridcity:code>37081200100104</gridcity:code>"
            "<gridcity:name>四号网格</gridcity:name><gridcity:parent_code>370812001001</gridcity:parent_code>"
            f"<gridcity:geometry>{polygon(0.03, 0.03, 0.04, 0.04)}</gridcity:geometry>"
            "</gridcity:base_grids></wfs:Insert>"
        ),
    )
    assert summary["totalInserted"] == 1
    assert mvt_codes(viewer, EMPTY) == {"37081200100104"} and png_alpha(viewer, EMPTY) > 0


def test_a_delete_leaves_the_vector_and_png_tiles(clients):
    viewer, editor = clients
    pk = Grid.objects.get(code="37081200100102").pk
    warm(viewer, GRID_102)
    assert "37081200100102" in mvt_codes(viewer, GRID_102) and png_alpha(viewer, GRID_102) > 0
    summary = transaction(
        editor,
        (
            f'<wfs:Delete typeName="gridcity:base_grids"><ogc:Filter><ogc:FeatureId fid="base_grids.{pk}"/>'
            "</ogc:Filter></wfs:Delete>"
        ),
    )
    assert summary["totalDeleted"] == 1
    assert "37081200100102" not in mvt_codes(viewer, GRID_102) and png_alpha(viewer, GRID_102) == 0
