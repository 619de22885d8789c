"""PNG tiles and WMS GetMap over HTTP on the production path: committed rows, so the render process reads
PostGIS itself through mapnik's plugin with the unit's scope and the filters bound into its SQL. Inside a
test transaction the rows would be read in Django instead (tiles.raster.render.layer_source), a branch
production never takes; here that branch is made to fail, so these tests cannot pass through it."""

import io

import mercantile
import pytest
from django.contrib.gis.geos import Point
from django.test import Client
from PIL import Image

from components import roles
from components.models import ComponentClass
from tests.factories import ComponentFactory, OrganisationFactory, make_user
from tests.layers.test_wfs_support import PASSWORD, basic
from tiles.raster import render

pytestmark = pytest.mark.django_db(transaction=True)

Z = 16
TILE = mercantile.tile(116.8255, 35.5455, Z)
_B = mercantile.bounds(TILE)
_W, _H = _B.east - _B.west, _B.north - _B.south
# Own components in the tile's west half, the other organisation's in its east half; in each half a
# street light (class 0118) above a component of another major class.
SPOTS = {
    "own_light": (_B.west + 0.25 * _W, _B.south + 0.6 * _H),
    "own_other": (_B.west + 0.25 * _W, _B.south + 0.3 * _H),
    "their_light": (_B.west + 0.75 * _W, _B.south + 0.6 * _H),
    "their_other": (_B.west + 0.75 * _W, _B.south + 0.3 * _H),
}
LIGHT = "0118"


@pytest.fixture(autouse=True)
def _fresh_credentials():
    """Each test makes its users anew under the same names: a user cached by an earlier test (Basic
    credentials -> user, for a minute per process) would carry that test's organisation here."""
    from components import roles as role_cache
    from gis_core.request_user import forget_users
    from layers.ogc import auth

    auth.clear_cache(), forget_users(), role_cache.forget_roles()
    yield


@pytest.fixture(autouse=True)
def production_path_only(monkeypatch):
    def rows_read_in_django(*args, **kwargs):
        raise AssertionError("rows were read in Django (the in-transaction branch), not by mapnik from PostGIS")

    monkeypatch.setattr(render, "features_geojson", rows_read_in_django)


@pytest.fixture
def registry(transactional_db):
    mine, other = OrganisationFactory(name="兖州城管局"), OrganisationFactory(name="兖州供电公司")
    light = ComponentClass.objects.get(code=LIGHT)
    another = ComponentClass.objects.exclude(major_code=light.major_code).order_by("code").first()
    for name, (lon, lat) in SPOTS.items():
        org = mine if name.startswith("own") else other
        ComponentFactory(
            geom=Point(lon, lat, srid=4490),
            owner=org,
            maintainer=org,
            component_class=light if name.endswith("light") else another,
        )
    make_user("prod_unit", roles.MAINTENANCE_UNIT, organisation=mine, password=PASSWORD)
    make_user("prod_reader", roles.DISPATCHER, password=PASSWORD)
    return another.code


def png(response) -> Image.Image:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content)).convert("RGBA")
    assert image.size == (256, 256)
    return image


def drawn(image: Image.Image) -> set[str]:
    """The spots with a marker drawn on them (any alpha at the spot's pixel)."""
    b = mercantile.bounds(TILE)
    out = set()
    for name, (lon, lat) in SPOTS.items():
        col = int((lon - b.west) / (b.east - b.west) * image.width)
        row = int((b.north - lat) / (b.north - b.south) * image.height)
        if image.getpixel((col, row))[3] > 0:
            out.add(name)
    return out


def painted_in(image: Image.Image, half: str) -> int:
    w = image.width // 2
    box = (0, 0, w, image.height) if half == "west" else (w, 0, image.width, image.height)
    return sum(1 for a in image.crop(box).getchannel("A").tobytes() if a)


def tile(username, query=""):
    return png(
        Client(HTTP_AUTHORIZATION=basic(username)).get(
            f"/tiles/components/{Z}/{TILE.x}/{TILE.y}.png" + (f"?{query}" if query else "")
        )
    )


def getmap(username, layers="components"):
    b = mercantile.bounds(TILE)
    return png(
        Client(HTTP_AUTHORIZATION=basic(username)).get(
            "/wms",
            {
                "SERVICE": "WMS",
                "VERSION": "1.3.0",
                "REQUEST": "GetMap",
                "LAYERS": layers,
                "STYLES": "",
                "CRS": "CRS:84",
                "BBOX": f"{b.west},{b.south},{b.east},{b.north}",
                "WIDTH": "256",
                "HEIGHT": "256",
                "FORMAT": "image/png",
                "TRANSPARENT": "TRUE",
            },
        )
    )


def test_the_png_tile_shows_a_reader_every_component(registry):
    assert drawn(tile("prod_reader")) == set(SPOTS)


def test_the_png_tile_shows_a_unit_only_its_organisations_components(registry):
    image = tile("prod_unit")
    assert drawn(image) == {"own_light", "own_other"}
    assert painted_in(image, "west") > 0 and painted_in(image, "east") == 0


def test_a_class_filter_restricts_the_png_tile(registry):
    other_class = registry
    assert drawn(tile("prod_reader", f"class={LIGHT}")) == {"own_light", "their_light"}
    assert drawn(tile("prod_reader", f"class={other_class}")) == {"own_other", "their_other"}
    assert drawn(tile("prod_reader", f"class={other_class[:2]}")) == {"own_other", "their_other"}  # major class
    assert drawn(tile("prod_reader", f"class={LIGHT},{other_class}")) == set(SPOTS)


def test_scope_and_filter_apply_together(registry):
    image = tile("prod_unit", f"class={LIGHT}")
    assert drawn(image) == {"own_light"}
    assert painted_in(image, "east") == 0
    assert drawn(tile("prod_unit", "state=damaged")) == set()


def test_a_units_tile_is_not_served_from_a_readers_cache_entry(registry):
    assert drawn(tile("prod_reader")) == set(SPOTS)  # now cached for readers
    assert drawn(tile("prod_unit")) == {"own_light", "own_other"}
    assert drawn(tile("prod_reader")) == set(SPOTS)


def test_wms_getmap_shows_a_unit_only_its_organisations_components(registry):
    assert drawn(getmap("prod_reader")) == set(SPOTS)
    image = getmap("prod_unit")
    assert drawn(image) == {"own_light", "own_other"}
    assert painted_in(image, "west") > 0 and painted_in(image, "east") == 0
