"""The catalogue is open to any app: the throwaway test domain (tests/throwaway) declares one point
layer in its own map_layers.py and is served by every generic service with no other change."""

import gzip
import io

import mapbox_vector_tile
import mercantile
import pytest
from django.contrib.gis.geos import Point
from django.test import Client
from PIL import Image

from components import roles
from layers import catalogue
from tests.factories import make_user
from tests.layers.test_wfs_support import PASSWORD, basic
from tests.throwaway.models import Pin
from tests.throwaway.services import create_pin, update_pin

pytestmark = pytest.mark.django_db

LAYER = "throwaway_pins"
LON, LAT = 116.8255, 35.5455
Z = 16
TILE = mercantile.tile(LON, LAT, Z)
WFS = "http://www.opengis.net/wfs/2.0"
FES = "http://www.opengis.net/fes/2.0"
GML = "http://www.opengis.net/gml/3.2"


@pytest.fixture
def reader(db):
    return make_user("pin_reader", roles.DISPATCHER, password=PASSWORD)


@pytest.fixture
def editor(db):
    return make_user("pin_editor", roles.GIS_EDITOR, password=PASSWORD)


@pytest.fixture
def pin(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return create_pin(name="一号图钉", geom=Point(LON, LAT, srid=4490))


def as_user(user) -> Client:
    return Client(HTTP_AUTHORIZATION=basic(user.username))


def mvt_features(response) -> list[dict]:
    body = response.content
    if response.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return mapbox_vector_tile.decode(body).get(LAYER, {}).get("features", [])


def test_the_declaration_is_found_without_being_named_anywhere():
    layer = catalogue.get(LAYER)
    assert layer is not None and layer.tiles.changes is not None


def test_catalogue_tilejson_style_and_viewer_tree_list_it(reader):
    c = as_user(reader)
    entries = {e["id"]: e for e in c.get("/tiles/").json()["layers"]}
    assert entries[LAYER]["group"] == "测试" and entries[LAYER]["title_zh"] == "测试图钉"
    tj = c.get(f"/tiles/{LAYER}.json").json()
    assert tj["vector_layers"][0]["id"] == LAYER and "name" in tj["vector_layers"][0]["fields"]
    style = c.get("/tiles/style.json").json()
    assert any(s["source"] == LAYER for s in style["layers"] if "source" in s)
    assert LAYER in style["sources"]


def test_vector_tile_carries_the_pin(pin, reader):
    r = as_user(reader).get(f"/tiles/{LAYER}/{Z}/{TILE.x}/{TILE.y}.mvt")
    assert r.status_code == 200
    assert [f["properties"]["name"] for f in mvt_features(r)] == ["一号图钉"]


def test_png_tile_draws_the_pin(pin, reader):
    r = as_user(reader).get(f"/tiles/{LAYER}/{Z}/{TILE.x}/{TILE.y}.png")
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(r.content)).convert("RGBA")
    assert image.getchannel("A").getextrema()[1] > 0


def test_wms_lists_and_draws_it(pin, reader):
    c = as_user(reader)
    caps = c.get("/wms", {"SERVICE": "WMS", "REQUEST": "GetCapabilities"})
    assert caps.status_code == 200 and f"<Name>{LAYER}</Name>" in caps.content.decode()
    r = c.get(
        "/wms",
        {
            "SERVICE": "WMS",
            "VERSION": "1.3.0",
            "REQUEST": "GetMap",
            "LAYERS": LAYER,
            "STYLES": "",
            "CRS": "CRS:84",
            "BBOX": f"{LON - 0.001},{LAT - 0.001},{LON + 0.001},{LAT + 0.001}",
            "WIDTH": 64,
            "HEIGHT": 64,
            "FORMAT": "image/png",
            "TRANSPARENT": "TRUE",
        },
    )
    assert r.status_code == 200 and r["Content-Type"].startswith("image/png")
    image = Image.open(io.BytesIO(r.content)).convert("RGBA")
    assert image.getchannel("A").getextrema()[1] > 0


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_wfs_reads_it(pin, reader):
    c = as_user(reader)
    caps = _body(c.get("/wfs", {"SERVICE": "WFS", "REQUEST": "GetCapabilities"})).decode()
    assert LAYER in caps
    r = c.get("/wfs", {"SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature", "TYPENAMES": LAYER})
    assert r.status_code == 200
    assert "一号图钉" in _body(r).decode()


def test_wfs_transaction_edits_it_through_its_service(reader, editor):
    body = (
        f'<wfs:Transaction xmlns:wfs="{WFS}" version="2.0.0" service="WFS" xmlns:gml="{GML}" '
        f'xmlns:gridcity="https://gridcity.example/ns/gridcity"><wfs:Insert><gridcity:{LAYER}>'
        f'<gridcity:name>二号图钉</gridcity:name><gridcity:geometry><gml:Point srsName="urn:ogc:def:crs:EPSG::4490">'
        f"<gml:pos>{LAT} {LON}</gml:pos></gml:Point></gridcity:geometry></gridcity:{LAYER}></wfs:Insert>"
        f"</wfs:Transaction>"
    )
    refused = as_user(reader).post("/wfs", body, content_type="text/xml")
    assert refused.status_code == 403 and not Pin.objects.exists()
    r = as_user(editor).post("/wfs", body, content_type="text/xml")
    assert r.status_code == 200, _body(r)
    pin = Pin.objects.get()
    assert pin.name == "二号图钉" and pin.geom.coords == pytest.approx((LON, LAT))


def test_its_tiles_are_invalidated_by_its_signal(pin, reader, django_capture_on_commit_callbacks):
    c = as_user(reader)
    url = f"/tiles/{LAYER}/{Z}/{TILE.x}/{TILE.y}.mvt"
    assert [f["properties"]["name"] for f in mvt_features(c.get(url))] == ["一号图钉"]
    with django_capture_on_commit_callbacks(execute=True):
        update_pin(None, pin, {"name": "改名图钉"})
    assert [f["properties"]["name"] for f in mvt_features(c.get(url))] == ["改名图钉"]
