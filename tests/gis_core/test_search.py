"""GET /api/search/: one search box over components, classes, grids, organisations and roads."""

import pytest
from django.contrib.gis.geos import LineString, Point
from rest_framework.test import APIClient

from components import roles
from components.models import ComponentClass
from components.search import digit_range
from gis_core import search
from layers.grids.services import create_grid
from tests.factories import ComponentFactory, OrganisationFactory, make_user
from tests.layers.test_grid_topology import box

pytestmark = pytest.mark.django_db


def client_for(role, organisation=None, name=None):
    c = APIClient()
    c.force_authenticate(make_user(name or f"s_{role}", role, organisation=organisation))
    return c


def groups(response) -> dict:
    assert response.status_code == 200, response.content
    return {g["kind"]: g for g in response.json()["groups"]}


@pytest.fixture
def city():
    lamps = OrganisationFactory(name="兖州区路灯管理所")
    water = OrganisationFactory(name="兖州区自来水公司")
    lamp_class = ComponentClass.objects.get(code="0118")
    cover = ComponentClass.objects.get(code="0101")
    made = {
        "lamps": [
            ComponentFactory(
                component_class=lamp_class, owner=lamps, maintainer=lamps, location_desc="建设路K0+020北侧"
            )
            for _ in range(25)
        ],
        "covers": [
            ComponentFactory(component_class=cover, owner=water, maintainer=water, location_desc="民主路K0+049北侧")
            for _ in range(3)
        ],
        "lamps_org": lamps,
        "water_org": water,
    }
    create_grid(code="370812", name="兖州区", level=1, geom=box(0, 0, 0.1, 0.1))
    create_grid(code="370812001", name="鼓楼街道", level=2, parent_code="370812", geom=box(0, 0, 0.05, 0.1))
    return made


def test_answer_shape_and_groups_in_order(city):
    r = client_for(roles.DISPATCHER).get("/api/search/", {"q": "路灯"})
    body = r.json()
    assert body["q"] == "路灯"
    assert [g["kind"] for g in body["groups"]] == ["component", "class", "grid", "organisation", "road"]
    for g in body["groups"]:
        assert set(g) == {"kind", "label", "count", "results"}
        for item in g["results"]:
            assert set(item) == {"id", "title", "subtitle", "lon", "lat", "bbox", "url"}
    assert r["Cache-Control"] == "private, no-cache"


def test_class_name_finds_its_components_and_the_classes_of_both_schemes(city):
    g = groups(client_for(roles.DISPATCHER).get("/api/search/", {"q": "路灯"}))
    # 25 lamps by class name (and by their maintainer's name), not the three covers.
    assert g["component"]["count"] == 25
    assert g["component"]["label"] == "部件"
    first = g["component"]["results"][0]
    assert first["url"] == f"/c/{first['id']}" and first["lon"] and first["lat"] and first["bbox"] is None
    codes = [r["id"] for r in g["class"]["results"]]
    assert "0118" in codes and "01037" in codes
    assert codes[0] == "0118"  # the class that has components comes first
    assert "25 个部件" in g["class"]["results"][0]["subtitle"]
    assert g["organisation"]["count"] == 1
    assert g["organisation"]["results"][0]["title"] == "兖州区路灯管理所"
    assert g["organisation"]["results"][0]["bbox"] is not None


def test_counts_are_true_totals_and_offset_pages_on(city):
    c = client_for(roles.DISPATCHER)
    g = groups(c.get("/api/search/", {"q": "建设路", "kinds": "component", "limit": 10}))
    assert list(g) == ["component"]
    assert g["component"]["count"] == 25 and len(g["component"]["results"]) == 10
    rest = groups(c.get("/api/search/", {"q": "建设路", "kinds": "component", "limit": 10, "offset": 20}))
    assert len(rest["component"]["results"]) == 5
    ids = {r["id"] for r in g["component"]["results"]} | {r["id"] for r in rest["component"]["results"]}
    assert len(ids) == 15


def test_id_prefix_address_and_organisation(city):
    c = client_for(roles.DISPATCHER)
    lamp = city["lamps"][0]
    g = groups(c.get("/api/search/", {"q": lamp.code}))
    assert g["component"]["count"] == 1 and g["component"]["results"][0]["id"] == lamp.code
    g = groups(c.get("/api/search/", {"q": "民主路"}))
    assert g["component"]["count"] == 3
    g = groups(c.get("/api/search/", {"q": "自来水"}))
    assert g["component"]["count"] == 3 and g["organisation"]["count"] == 1
    g = groups(c.get("/api/search/", {"q": city["water_org"].uscc[:8].lower()}))
    assert g["organisation"]["results"][0]["id"] == city["water_org"].uscc


def test_grids_by_name_and_code_with_parent_and_box(city):
    c = client_for(roles.DISPATCHER)
    g = groups(c.get("/api/search/", {"q": "鼓楼"}))
    hit = g["grid"]["results"][0]
    assert g["grid"]["count"] == 1 and hit["id"] == "370812001"
    assert "上级 兖州区" in hit["subtitle"]
    w, s, e, n = hit["bbox"]
    assert w < hit["lon"] < e and s < hit["lat"] < n
    g = groups(c.get("/api/search/", {"q": "370812"}))
    assert g["grid"]["count"] == 2


def test_a_maintenance_unit_finds_only_its_own(city):
    unit = client_for(roles.MAINTENANCE_UNIT, organisation=city["water_org"], name="s_unit")
    g = groups(unit.get("/api/search/", {"q": "路"}))
    assert g["component"]["count"] == 3  # its covers, not the 25 lamps of 建设路
    g = groups(unit.get("/api/search/", {"q": "兖州区"}))
    assert [r["title"] for r in g["organisation"]["results"]] == ["兖州区自来水公司"]


def test_wildcards_in_the_text_are_literal(city):
    g = groups(client_for(roles.DISPATCHER).get("/api/search/", {"q": "%"}))
    assert all(g[k]["count"] == 0 for k in g)
    g = groups(client_for(roles.DISPATCHER, name="s2").get("/api/search/", {"q": "_"}))
    assert g["component"]["count"] == 0


@pytest.mark.parametrize(
    "params, field",
    [
        ({}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "x" * 101}, "q"),
        ({"q": "路\u202e灯"}, "q"),
        ({"q": "路灯", "limit": "0"}, "limit"),
        ({"q": "路灯", "limit": "101"}, "limit"),
        ({"q": "路灯", "limit": "ten"}, "limit"),
        ({"q": "路灯", "offset": "-1"}, "offset"),
        ({"q": "路灯", "kinds": "component,people"}, "kinds"),
    ],
)
def test_wrong_requests_are_400_json(params, field):
    r = client_for(roles.DISPATCHER).get("/api/search/", params)
    assert r.status_code == 400
    assert r.json()["field"] == field


def test_anonymous_is_refused_and_no_role_finds_nothing(city):
    assert APIClient().get("/api/search/", {"q": "路灯"}).status_code in (401, 403)
    g = groups(client_for(None, name="nobody").get("/api/search/", {"q": "路灯"}))
    assert all(g[k]["count"] == 0 for k in g)


def test_roads_are_found_by_name_with_their_pieces_and_box(city):
    from django.contrib.gis.geos import MultiLineString

    from layers.roads.models import Road

    g = groups(client_for(roles.DISPATCHER).get("/api/search/", {"q": "建设路"}))
    assert g["road"]["count"] == 0
    for line in (LineString((116.81, 35.54), (116.82, 35.54)), LineString((116.82, 35.54), (116.83, 35.545))):
        Road.objects.create(name="建设路", geom=MultiLineString(line, srid=4490))
    Road.objects.create(name="民主路", geom=MultiLineString(LineString((0, 0), (1, 1)), srid=4490))
    g = groups(client_for(roles.DISPATCHER, name="s3").get("/api/search/", {"q": "建设路"}))
    assert g["road"]["count"] == 1
    road = g["road"]["results"][0]
    assert road["title"] == "建设路" and "2 段" in road["subtitle"]
    assert road["bbox"] == [116.81, 35.54, 116.83, 35.545]
    assert Point(road["lon"], road["lat"]).distance(Point(116.82, 35.54)) < 0.011


def test_digit_range_carries():
    assert digit_range("3708") == ("3708", "3709")
    assert digit_range("3799") == ("3799", "38")  # every code starting 3799 sorts below 38
    assert digit_range("999") == ("999", None)


def test_every_installed_provider_is_registered():
    assert {"component", "class", "grid", "organisation", "road"} <= set(search.kinds())


def test_search_is_in_the_openapi_schema():
    r = client_for(roles.DISPATCHER, name="s4").get("/api/schema/", {"format": "json"})
    assert r.status_code == 200
    assert "/api/search/" in r.json()["paths"]
