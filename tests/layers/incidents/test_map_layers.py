"""The incidents layer in the catalogue: served as MVT (points by state, scoped per unit, clusters at
low zoom), WFS read-only, and its tiles invalidated by a workflow step."""

import gzip

import mapbox_vector_tile
import mercantile
import pytest
from django.test import Client

from layers import catalogue
from layers.incidents import services
from layers.incidents.models import Case
from tests.layers.test_wfs_support import basic

from .conftest import LAT, LON

pytestmark = pytest.mark.django_db

LAYER = "incidents"
Z = 16
TILE = mercantile.tile(LON, LAT, Z)
URL = f"/tiles/{LAYER}/{Z}/{TILE.x}/{TILE.y}.mvt"


def as_user(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def features(response) -> list[dict]:
    assert response.status_code == 200, response.content[:300]
    body = response.content
    if response.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return mapbox_vector_tile.decode(body).get(LAYER, {}).get("features", [])


@pytest.fixture
def case(streetlight, dispatcher, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.report_case(dispatcher, "0118", (LON, LAT), "EPSG:4490", "路灯不亮")


def test_the_layer_is_declared_in_the_event_group():
    layer = catalogue.get(LAYER)
    assert layer.group == "事件" and layer.tiles.changes is not None and not layer.editable


def test_the_tile_carries_the_case_with_its_state(case, dispatcher):
    [feature] = features(as_user(dispatcher).get(URL))
    assert feature["properties"]["number"] == case.number
    assert feature["properties"]["state"] == "reported" and feature["properties"]["class_code"] == "0118"


def test_a_step_invalidates_the_tile(case, dispatcher, django_capture_on_commit_callbacks):
    c = as_user(dispatcher)
    assert [f["properties"]["state"] for f in features(c.get(URL))] == ["reported"]
    with django_capture_on_commit_callbacks(execute=True):
        services.dispatch(dispatcher, case)
    assert [f["properties"]["state"] for f in features(c.get(URL))] == ["dispatched"]


def test_a_unit_sees_only_its_cases_on_the_map(
    case, dispatcher, unit_user, other_unit_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.dispatch(dispatcher, case)
    assert [f["properties"]["number"] for f in features(as_user(unit_user).get(URL))] == [case.number]
    assert features(as_user(other_unit_user).get(URL)) == []


def test_low_zooms_serve_counted_clusters(case, dispatcher):
    t = mercantile.tile(LON, LAT, 10)
    [cluster] = features(as_user(dispatcher).get(f"/tiles/{LAYER}/10/{t.x}/{t.y}.mvt"))
    assert cluster["properties"]["count"] == 1


def test_tile_filters_are_checked(case, dispatcher):
    c = as_user(dispatcher)
    assert len(features(c.get(URL, {"state": "reported"}))) == 1
    assert features(c.get(URL, {"state": "closed"})) == []
    assert len(features(c.get(URL, {"class": "01"}))) == 1
    assert c.get(URL, {"state": "lost"}).status_code == 400


def test_wfs_reads_it_and_refuses_writes(case, dispatcher):
    c = Client(HTTP_AUTHORIZATION=basic(dispatcher.username, "test-pass-123"))
    r = c.get("/wfs", {"SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature", "TYPENAMES": LAYER})
    body = b"".join(r.streaming_content) if r.streaming else r.content
    assert r.status_code == 200 and case.number in body.decode()
    insert = (
        f'<wfs:Transaction xmlns:wfs="http://www.opengis.net/wfs/2.0" version="2.0.0" service="WFS" '
        f'xmlns:gridcity="https://gridcity.example/ns/gridcity"><wfs:Insert><gridcity:{LAYER}>'
        f"<gridcity:number>20990101000001</gridcity:number></gridcity:{LAYER}></wfs:Insert></wfs:Transaction>"
    )
    refused = c.post("/wfs", insert, content_type="text/xml")
    assert 400 <= refused.status_code < 500
    assert Case.objects.count() == 1


def test_png_tile_draws_it(case, dispatcher):
    import io

    from PIL import Image

    r = as_user(dispatcher).get(f"/tiles/{LAYER}/{Z}/{TILE.x}/{TILE.y}.png")
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(r.content)).convert("RGBA").getchannel("A").getextrema()[1] > 0
