"""PNG tiles rendered by mapnik in the render processes: pixels where the rows are, metatile
neighbours cached, permissions, invalidation with the vector tiles, and no mapnik in Django."""

import io
import json
import sys

import mercantile
import pytest
from django.contrib.gis.geos import Point
from django.test import Client
from PIL import Image

from components import roles
from layers import catalogue
from tests.factories import ComponentFactory, OrganisationFactory, make_user
from tests.layers.test_wfs_support import PASSWORD, basic, make_grids
from tiles import cache
from tiles.raster import render, render_tile_png

pytestmark = pytest.mark.django_db

Z = 16
LON, LAT = 116.8255, 35.5455  # inside base grid 37081200100101 of make_grids()
TILE = mercantile.tile(LON, LAT, Z)


def pixel_at(png: bytes, lon: float, lat: float, tile=TILE):
    image = Image.open(io.BytesIO(png)).convert("RGBA")
    b = mercantile.xy_bounds(tile)
    x, y = mercantile.xy(lon, lat)
    col = int((x - b.left) / (b.right - b.left) * image.width)
    row = int((b.top - y) / (b.top - b.bottom) * image.height)
    return image.getpixel((min(col, image.width - 1), min(row, image.height - 1)))


def painted(png: bytes) -> int:
    image = Image.open(io.BytesIO(png)).convert("RGBA")
    return sum(1 for a in image.getchannel("A").tobytes() if a)


@pytest.fixture
def viewer(db):
    return make_user("png_viewer", roles.DISPATCHER, password=PASSWORD)


@pytest.fixture
def lights(db):
    mine, other = OrganisationFactory(name="兖州城管局"), OrganisationFactory(name="兖州供电公司")
    return [
        ComponentFactory(
            geom=Point(LON + i * 0.0003, LAT, srid=4490),
            owner=mine if i < 2 else other,
            maintainer=mine if i < 2 else other,
        )
        for i in range(4)
    ], mine


def test_a_component_tile_is_painted_where_the_component_is_and_clear_elsewhere(lights):
    layer = catalogue.get("components")
    png = render_tile_png(layer, Z, TILE.x, TILE.y, ("all", "TRUE", []), {})
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert Image.open(io.BytesIO(png)).size == (256, 256)
    assert pixel_at(png, LON, LAT)[3] > 0  # a marker on the first component
    b = mercantile.bounds(TILE)
    assert pixel_at(png, b.west + 0.0001, b.north - 0.0001)[3] == 0  # nothing in the corner
    assert "mapnik" not in sys.modules  # rendering happened in the render processes only


def test_grids_are_drawn_and_the_whole_metatile_is_cached(db):
    make_grids()
    layer = catalogue.get("base_grids")
    png = render_tile_png(layer, Z, TILE.x, TILE.y, ("all", "TRUE", []), {})
    assert painted(png) > 1000  # the grid's translucent fill covers much of the tile
    n = render.META
    mx, my = TILE.x - TILE.x % n, TILE.y - TILE.y % n
    for c in range(n):
        for r in range(n):
            entry, _ = cache.lookup(layer, Z, mx + c, my + r, "png|all")
            assert entry is not None, (c, r)


def test_the_png_view_needs_a_login_and_answers_with_etags(lights, viewer):
    url = f"/tiles/components/{Z}/{TILE.x}/{TILE.y}.png"
    assert Client().get(url).status_code == 401
    client = Client(HTTP_AUTHORIZATION=basic("png_viewer"))
    first = client.get(url)
    assert first.status_code == 200 and first["Content-Type"] == "image/png"
    assert pixel_at(first.content, LON, LAT)[3] > 0
    assert "private" in first["Cache-Control"]
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    session = Client()
    session.force_login(viewer)
    assert session.get(url).content == first.content


def test_bad_png_requests_say_what_is_wrong(viewer):
    client = Client(HTTP_AUTHORIZATION=basic("png_viewer"))
    assert client.get("/tiles/nope/1/0/0.png").status_code == 404
    r = client.get("/tiles/components/2/9/0.png")
    assert r.status_code == 400 and r.json()["field"] == "x"
    r = client.get(f"/tiles/components/{Z}/{TILE.x}/{TILE.y}.png?colour=red")
    assert r.status_code == 400


def test_a_maintenance_unit_sees_only_its_own_components(lights):
    components, mine = lights
    make_user("png_unit", roles.MAINTENANCE_UNIT, organisation=mine, password=PASSWORD)
    client = Client(HTTP_AUTHORIZATION=basic("png_unit"))
    png = client.get(f"/tiles/components/{Z}/{TILE.x}/{TILE.y}.png").content
    assert pixel_at(png, LON, LAT)[3] > 0  # its own
    assert pixel_at(png, LON + 3 * 0.0003, LAT)[3] == 0  # another organisation's


def test_filters_narrow_the_png_like_the_vector_tile(lights, viewer):
    client = Client(HTTP_AUTHORIZATION=basic("png_viewer"))
    url = f"/tiles/components/{Z}/{TILE.x}/{TILE.y}.png"
    assert pixel_at(client.get(url + "?state=intact").content, LON, LAT)[3] > 0
    assert painted(client.get(url + "?state=damaged").content) == 0


def test_a_moved_component_leaves_the_cached_png(lights, django_capture_on_commit_callbacks):
    """PNG tiles share the vector tiles' cache entries, so the same after-commit invalidation drops them."""
    components, _ = lights
    layer = catalogue.get("components")
    before = render_tile_png(layer, Z, TILE.x, TILE.y, ("all", "TRUE", []), {})
    assert pixel_at(before, LON, LAT)[3] > 0
    api = Client()
    api.force_login(make_user("png_editor", roles.GIS_EDITOR))
    with django_capture_on_commit_callbacks(execute=True):
        r = api.patch(
            f"/api/components/{components[0].code}/",
            json.dumps({"geometry": {"type": "Point", "coordinates": [LON + 0.02, LAT]}}),
            content_type="application/json",
        )
    assert r.status_code == 200, r.content
    after = render_tile_png(layer, Z, TILE.x, TILE.y, ("all", "TRUE", []), {})
    assert pixel_at(after, LON, LAT)[3] == 0


@pytest.mark.django_db(transaction=True)
def test_committed_rows_are_read_by_the_render_process_itself():
    """Outside a transaction the render process queries PostGIS (mapnik's plugin) with the scope's
    values bound here; a maintenance unit's map still shows only its own components."""
    mine, other = OrganisationFactory(name="兖州城管局"), OrganisationFactory(name="兖州供电公司")
    for i in range(4):
        org = mine if i < 2 else other
        ComponentFactory(geom=Point(LON + i * 0.0003, LAT, srid=4490), owner=org, maintainer=org)
    layer = catalogue.get("components")
    b = mercantile.xy_bounds(TILE)
    bbox = (b.left, b.bottom, b.right, b.top)
    source = render.layer_source(layer, bbox, (b.right - b.left) / 256, "TRUE", [])
    assert "postgis" in source and "!bbox!" in source["postgis"]
    png = render.render_map([layer], bbox, 256, 256, scopes={layer.id: ("TRUE", [])})
    assert pixel_at(png, LON, LAT)[3] > 0 and pixel_at(png, LON + 3 * 0.0003, LAT)[3] > 0
    _, unit_sql, unit_params = layer.tiles.scope(make_user("png_unit_tx", roles.MAINTENANCE_UNIT, organisation=mine))
    png = render.render_map([layer], bbox, 256, 256, scopes={layer.id: (unit_sql, unit_params)})
    assert pixel_at(png, LON, LAT)[3] > 0
    assert pixel_at(png, LON + 3 * 0.0003, LAT)[3] == 0
    assert "mapnik" not in sys.modules


def test_a_value_that_reads_as_a_mapnik_token_is_not_sent_to_mapnik():
    """mapnik substitutes !bbox! anywhere in the SQL text, inside quoted values too: such a request
    is answered from rows read here instead."""
    layer = catalogue.get("components")
    assert render.postgis_subquery(layer, 1.0, "t.code = %s", ["x!BBOX!y"]) is None
    assert render.postgis_subquery(layer, 1.0, "t.code = %s", ["x!y"]) is not None
