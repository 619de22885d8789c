import pytest
from django.contrib.gis.geos import Point
from rest_framework.test import APIClient

from components import roles
from components.models import Component, ComponentClass
from gis_core.crs import wgs84_to_gcj02
from tests.factories import ComponentFactory, OrganisationFactory, make_user

pytestmark = pytest.mark.django_db


def client_for(role, organisation=None, name=None):
    user = make_user(name or f"u_{role}", role, organisation=organisation)
    c = APIClient()
    c.force_authenticate(user)
    return c


@pytest.fixture
def dispatcher():
    return client_for(roles.DISPATCHER)


@pytest.fixture
def editor():
    return client_for(roles.GIS_EDITOR)


def test_component_is_a_geojson_feature_with_its_id(dispatcher):
    c = ComponentFactory(name="建设路路灯1")
    r = dispatcher.get(f"/api/components/{c.code}/")
    assert r.status_code == 200
    body = r.json()
    assert body["type"] == "Feature" and body["id"] == c.code
    assert body["geometry"]["type"] == "Point"
    assert body["properties"]["class_code"] == "0118"
    assert body["properties"]["owner"]["uscc"] == c.owner.uscc


def test_ownership_by_id(dispatcher):
    c = ComponentFactory()
    r = dispatcher.get(f"/api/components/{c.code}/ownership/")
    assert r.status_code == 200
    assert r.json()["owner"]["name"] == c.owner.name
    assert r.json()["maintainer"]["uscc"] == c.maintainer.uscc
    assert dispatcher.get("/api/components/3708120118999999/ownership/").status_code == 404


def test_nearest_first_with_distances_in_metres(dispatcher):
    origin = (116.83, 35.55)
    # ~11 m, ~22 m and ~110 m north of the origin (1e-4 degree of latitude is about 11.1 m).
    near = ComponentFactory(geom=Point(origin[0], origin[1] + 0.0001, srid=4490))
    mid = ComponentFactory(geom=Point(origin[0], origin[1] + 0.0002, srid=4490))
    ComponentFactory(geom=Point(origin[0], origin[1] + 0.001, srid=4490))
    r = dispatcher.get("/api/components/", {"near": f"{origin[0]},{origin[1]}", "radius": 50})
    assert r.status_code == 200
    feats = r.json()["features"]
    assert [f["id"] for f in feats] == [near.code, mid.code]
    assert 10.5 < feats[0]["properties"]["distance_m"] < 11.6
    assert 21.5 < feats[1]["properties"]["distance_m"] < 23


def test_bbox_polygon_and_area_filters(dispatcher):
    inside = ComponentFactory(geom=Point(116.831, 35.551, srid=4490), street_code="370812001")
    ComponentFactory(geom=Point(116.90, 35.60, srid=4490))
    r = dispatcher.get("/api/components/", {"bbox": "116.83,35.55,116.832,35.552"})
    assert [f["id"] for f in r.json()["features"]] == [inside.code]
    poly = {"type": "Polygon", "coordinates": [[[116.83, 35.55], [116.832, 35.55], [116.832, 35.552], [116.83, 35.55]]]}
    r = dispatcher.post("/api/components/within/", {"geometry": poly}, format="json")
    assert [f["id"] for f in r.json()["features"]] == [inside.code]
    r = dispatcher.get("/api/components/", {"street_code": "370812001"})
    assert [f["id"] for f in r.json()["features"]] == [inside.code]


def test_unit_summary_counts_per_class_and_state(dispatcher):
    org = OrganisationFactory()
    ComponentFactory.create_batch(3, owner=org)
    tree = ComponentFactory(owner=org, component_class=ComponentClass.objects.get(code="0402"))
    from components.services import change_state

    change_state(tree, "damaged")
    r = dispatcher.get(f"/api/organisations/{org.uscc}/summary/")
    assert r.status_code == 200
    owner = r.json()["owner"]
    assert owner["total"] == 4
    by_class = {c["class_code"]: c for c in owner["classes"]}
    assert by_class["0118"]["states"] == {"intact": 3}
    assert by_class["0402"]["states"] == {"damaged": 1}
    r = dispatcher.get(f"/api/organisations/{org.uscc}/components/", {"role": "owner", "class": "0402"})
    assert [f["id"] for f in r.json()["features"]] == [tree.code]


def test_maintenance_unit_sees_and_edits_only_its_own():
    mine_org, other_org = OrganisationFactory(), OrganisationFactory()
    mine = ComponentFactory(maintainer=mine_org)
    other = ComponentFactory()
    unit = client_for(roles.MAINTENANCE_UNIT, organisation=mine_org)
    assert [f["id"] for f in unit.get("/api/components/").json()["features"]] == [mine.code]
    assert unit.get(f"/api/components/{other.code}/").status_code == 404
    assert unit.patch(f"/api/components/{mine.code}/", {"note": "已巡检"}, format="json").status_code == 200
    assert unit.patch(f"/api/components/{other.code}/", {"note": "x"}, format="json").status_code == 404
    assert unit.get(f"/api/organisations/{other_org.uscc}/summary/").status_code == 403
    assert unit.post("/api/components/", {}, format="json").status_code == 403


def test_anonymous_and_roleless_users_see_nothing():
    ComponentFactory()
    assert APIClient().get("/api/components/").status_code in (401, 403)
    c = APIClient()
    c.force_authenticate(make_user("nobody"))
    assert c.get("/api/components/").status_code == 403


def test_create_in_gcj02_stores_cgcs2000(editor):
    owner = OrganisationFactory()
    lon, lat = 116.83, 35.55
    glon, glat = wgs84_to_gcj02(lon, lat)
    body = {
        "class_code": "0118",
        "geometry": {"type": "Point", "coordinates": [float(glon), float(glat)]},
        "crs": "GCJ02",
        "owner": owner.uscc,
        "attributes": {"lamp_type": "LED", "power_w": 120},
    }
    r = editor.post("/api/components/", body, format="json")
    assert r.status_code == 201, r.json()
    c = Component.objects.get(code=r.json()["id"])
    assert abs(c.geom.x - lon) < 1e-6 and abs(c.geom.y - lat) < 1e-6
    assert r.json()["id"].startswith("3708120118")


@pytest.mark.parametrize(
    "patch,field",
    [
        ({"geometry": {"type": "Point", "coordinates": [120.0, 30.0]}}, "geom"),
        (
            {
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [[116.83, 35.55], [116.84, 35.56], [116.84, 35.55], [116.83, 35.56], [116.83, 35.55]]
                    ],
                }
            },
            "geom",
        ),
        ({"class_code": "9999"}, "class_code"),
        ({"owner": "91370812MA0000000X"}, "owner"),
        ({"crs": "EPSG:3857"}, "crs"),
        ({"code": "12345"}, "code"),
        ({"attributes": {"power_w": "lots"}}, "attributes.power_w"),
        ({"attributes": {"colour": "red"}}, "attributes.colour"),
    ],
)
def test_bad_create_names_the_field_and_writes_nothing(editor, patch, field):
    body = {"class_code": "0118", "geometry": {"type": "Point", "coordinates": [116.83, 35.55]}, **patch}
    before = Component.objects.count()
    r = editor.post("/api/components/", body, format="json")
    assert r.status_code == 400, r.json()
    assert r.json()["field"] == field, r.json()
    assert r.json()["message"]
    assert Component.objects.count() == before


@pytest.mark.parametrize(
    "params,field",
    [
        ({"near": "abc"}, "near"),
        ({"near": "116.8,35.5", "radius": "99999"}, "radius"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"state": "intact;drop table"}, "state"),
        ({"owner": "x"}, "owner"),
        ({"census_from": "2024-13-01"}, "census_from"),
        ({"retired": "maybe"}, "retired"),
    ],
)
def test_bad_filters_are_400_naming_the_parameter(dispatcher, params, field):
    r = dispatcher.get("/api/components/", params)
    assert r.status_code == 400
    assert r.json()["field"] == field


def test_transfer_many_is_dated_and_in_history(editor):
    new_owner = OrganisationFactory(name="兖州区城市管理局路灯管理所")
    comps = ComponentFactory.create_batch(3)
    r = editor.post(
        "/api/components/transfer/",
        {
            "codes": [c.code for c in comps],
            "role": "owner",
            "to": new_owner.uscc,
            "effective_date": "2026-01-01",
            "reason": "移交",
        },
        format="json",
    )
    assert r.status_code == 200, r.json()
    assert r.json()["transferred"] == 3
    for c in comps:
        c.refresh_from_db()
        assert c.owner == new_owner and str(c.change_date) == "2026-01-01"
    history = editor.get(f"/api/components/{comps[0].code}/history/").json()["history"]
    assert history[0]["action"] == "transfer"
    assert "owner" in history[0]["changes"]


def test_state_change_and_retire(editor):
    c = ComponentFactory()
    worker = client_for(roles.GRID_WORKER)
    assert (
        worker.post(
            f"/api/components/{c.code}/state/", {"state": "damaged", "note": "灯罩破损"}, format="json"
        ).status_code
        == 200
    )
    assert worker.post(f"/api/components/{c.code}/retire/", {"reason": "x"}, format="json").status_code == 403
    r = editor.post(f"/api/components/{c.code}/retire/", {"reason": "道路改造拆除"}, format="json")
    assert r.status_code == 200 and r.json()["properties"]["retired"] is True
    assert c.code not in [f["id"] for f in editor.get("/api/components/").json()["features"]]
    assert c.code in [f["id"] for f in editor.get("/api/components/", {"retired": "true"}).json()["features"]]
    r = editor.patch(f"/api/components/{c.code}/", {"note": "x"}, format="json")
    assert r.status_code == 400 and "retired" in r.json()["message"]


def test_openapi_schema_and_docs_work_offline(client):
    import re

    assert client.get("/api/schema/").status_code == 200
    r = client.get("/api/docs/")
    assert r.status_code == 200
    assert not re.findall(r"""(?:src|href)=["']https?://""", r.content.decode())


def test_classes_and_states_are_public(client):
    classes = client.get("/api/classes/").json()
    by_code = {c["code"]: c for c in classes}
    assert by_code["0118"]["maps_to"] == ["01037"]
    assert len([c for c in classes if c["scheme"] == "gbt30428"]) == 85
    assert {s["code"] for s in client.get("/api/states/").json()} >= {
        "intact",
        "damaged",
        "lost",
        "abandoned",
        "removed",
    }


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["checks"]["database"]["ok"] and r.json()["checks"]["broker"]["ok"]


def test_fast_features_match_the_documented_serializer(dispatcher):
    from components.api.serializers import ComponentSerializer

    c = ComponentFactory(name="对照", department=OrganisationFactory())
    from components.services import retire_component

    retire_component(c, reason="比较")
    fast = dispatcher.get(f"/api/components/{c.code}/").json()
    slow = ComponentSerializer(Component.objects.get(pk=c.pk)).data
    assert fast["id"] == slow["id"] and fast["type"] == "Feature"
    assert fast["properties"] == dict(slow["properties"])
    assert fast["geometry"]["coordinates"] == pytest.approx(list(slow["geometry"]["coordinates"]))


def test_paging_counts_with_and_without_a_second_page(dispatcher):
    ComponentFactory.create_batch(3)
    one_page = dispatcher.get("/api/components/", {"page_size": 5}).json()
    assert one_page["count"] == 3 and one_page["next"] is None and len(one_page["features"]) == 3
    paged = dispatcher.get("/api/components/", {"page_size": 2}).json()
    assert paged["count"] == 3 and paged["next"] and len(paged["features"]) == 2
    second = dispatcher.get("/api/components/", {"page_size": 2, "page": 2}).json()
    assert second["count"] == 3 and len(second["features"]) == 1
    assert {f["id"] for f in paged["features"] + second["features"]} == {f["id"] for f in one_page["features"]}


def test_unit_cannot_move_its_component_to_another_organisation_by_patch():
    """Issue 8: the PATCH committed and then answered 404 (the re-read no longer saw the row)."""
    mine_org, other_org = OrganisationFactory(), OrganisationFactory()
    mine = ComponentFactory(owner=mine_org, maintainer=mine_org)
    unit = client_for(roles.MAINTENANCE_UNIT, organisation=mine_org)
    r = unit.patch(
        f"/api/components/{mine.code}/",
        {"owner": other_org.uscc, "maintainer": other_org.uscc, "department": other_org.uscc},
        format="json",
    )
    assert r.status_code == 400
    assert r.json()["field"] in ("owner", "maintainer", "department") and "transfer" in r.json()["message"]
    mine.refresh_from_db()
    assert mine.owner == mine_org and mine.maintainer == mine_org and mine.department is None
    from components.models import OwnershipTransfer

    assert not OwnershipTransfer.objects.exists()


def test_a_failure_after_the_write_rolls_the_write_back(editor, monkeypatch):
    """No write answers an error status after committing: the answer is built inside the write's
    transaction, so anything failing there undoes the write."""
    from rest_framework.exceptions import NotFound

    from components.api import views

    c = ComponentFactory(name="原名")

    def broken(request, component):
        raise NotFound("gone")

    monkeypatch.setattr(views, "_written", broken)
    assert editor.patch(f"/api/components/{c.code}/", {"name": "新名"}, format="json").status_code == 404
    assert editor.post(f"/api/components/{c.code}/state/", {"state": "damaged"}, format="json").status_code == 404
    assert editor.post(f"/api/components/{c.code}/retire/", {"reason": "x"}, format="json").status_code == 404
    c.refresh_from_db()
    assert (c.name, c.state_id, c.retired) == ("原名", "intact", False)


def test_state_report_must_change_the_state_and_notes_are_bounded():
    c = ComponentFactory(note="原备注")
    worker = client_for(roles.GRID_WORKER)
    r = worker.post(f"/api/components/{c.code}/state/", {"state": "intact", "note": "改写"}, format="json")
    assert r.status_code == 400 and r.json()["field"] == "state"
    r = worker.post(f"/api/components/{c.code}/state/", {"state": "damaged", "note": "x" * 501}, format="json")
    assert r.status_code == 400 and r.json()["field"] == "note"
    c.refresh_from_db()
    assert (c.state_id, c.note) == ("intact", "原备注")
    r = worker.post(f"/api/components/{c.code}/state/", {"state": "damaged", "note": "灯罩破损\n第二行"}, format="json")
    assert r.status_code == 200
    c.refresh_from_db()
    assert (c.state_id, c.note) == ("damaged", "灯罩破损\n第二行")
    assert worker.patch(f"/api/components/{c.code}/", {"note": "x"}, format="json").status_code == 403


@pytest.mark.parametrize("char", ["\u202e", "\x07", "\x1b", "\x00", "\u200b", "\n"])
@pytest.mark.parametrize(
    "path,field",
    [
        ("", "name"),
        ("", "location_desc"),
        ("", "grid_code"),
        ("state/", "note"),
        ("retire/", "reason"),
    ],
)
def test_control_characters_are_refused_in_free_text(editor, char, path, field):
    c = ComponentFactory(name="原名")
    body = {field: f"府河{char}路"}
    if path == "state/":
        body["state"] = "damaged"
        if char == "\n":  # notes may span lines
            return
    r = (editor.patch if not path else editor.post)(f"/api/components/{c.code}/{path}", body, format="json")
    assert r.status_code == 400, r.content
    assert r.json()["field"] == field
    c.refresh_from_db()
    assert (c.name, c.state_id, c.retired, c.location_desc) == ("原名", "intact", False, "")


def test_control_characters_are_refused_in_organisations():
    admin = client_for(roles.ADMINISTRATOR)
    r = admin.post(
        "/api/organisations/", {"uscc": OrganisationFactory.build().uscc, "name": "恶意\u202e单位"}, format="json"
    )
    assert r.status_code == 400 and r.json()["field"] == "name"


def test_unit_sees_only_its_own_organisations_phone():
    mine_org = OrganisationFactory(phone="0537-1111111")
    other_org = OrganisationFactory(phone="0537-2222222")
    c = ComponentFactory(owner=mine_org, maintainer=other_org)
    unit = client_for(roles.MAINTENANCE_UNIT, organisation=mine_org)
    answers = [
        unit.get(f"/api/components/{c.code}/").json()["properties"],
        unit.get("/api/components/").json()["features"][0]["properties"],
        unit.get(f"/api/components/{c.code}/ownership/").json(),
        unit.patch(f"/api/components/{c.code}/", {"name": "x"}, format="json").json()["properties"],
    ]
    for props in answers:
        assert props["owner"]["phone"] == "0537-1111111"
        assert props["maintainer"]["phone"] is None and props["maintainer"]["name"] == other_org.name
    by_uscc = {o["uscc"]: o for o in unit.get("/api/organisations/").json()}
    assert by_uscc[mine_org.uscc]["phone"] == "0537-1111111" and by_uscc[other_org.uscc]["phone"] is None
    dispatcher = client_for(roles.DISPATCHER, name="phone-dispatcher")
    assert dispatcher.get(f"/api/components/{c.code}/").json()["properties"]["maintainer"]["phone"] == "0537-2222222"


# Hostile and careless input (issue 8): each is a 400 naming the parameter, never a 500 or a 503.
@pytest.mark.parametrize(
    "params,field",
    [
        ({"near": ""}, "near"),
        ({"near": " "}, "near"),
        ({"near": "nan,35.5"}, "near"),
        ({"near": "116.8,inf"}, "near"),
        ({"near": "116.8,35.5", "radius": "nan"}, "radius"),
        ({"near": "116.8,35.5", "radius": "inf"}, "radius"),
        ({"bbox": "nan,35,117,36"}, "bbox"),
        ({"bbox": "116,35,inf,36"}, "bbox"),
        ({"bbox": "-inf,35,117,36"}, "bbox"),
        ({"admin_code": "³⁷⁰⁸¹²"}, "admin_code"),
        ({"grid_code": "¹²"}, "grid_code"),
        ({"street_code": "٣٧٠٨١٢٠٠١"}, "street_code"),
        ({"grid_code": "12\x0034"}, "grid_code"),
        ({"owner": "\x00"}, "owner"),
        ({"class": "01\x0018"}, "class"),
        ({"census_from": "2024-01-01\x00"}, "census_from"),
        ({"unknown": "a\x00b"}, "unknown"),
    ],
)
def test_hostile_filter_values_are_refused_by_name(dispatcher, params, field):
    r = dispatcher.get("/api/components/", params)
    assert r.status_code == 400, (r.status_code, r.content[:300])
    assert r.json()["field"] == field, r.json()


def test_nul_in_a_path_id_is_a_400_naming_it(dispatcher):
    for url in (
        "/api/components/3708120118%00/",
        "/api/components/%00/history/",
        "/api/organisations/%00/summary/",
        "/api/grids/%00/",
    ):
        r = dispatcher.get(url)
        assert r.status_code == 400, (url, r.status_code, r.content[:300])
        assert r.json()["field"] in ("code", "uscc"), r.json()


def test_nul_in_a_body_field_is_a_400_not_a_database_error(editor):
    body = {
        "class_code": "0118",
        "geometry": {"type": "Point", "coordinates": [116.83, 35.55]},
        "attributes": {"lamp_type": "LED\x00"},
    }
    before = Component.objects.count()
    r = editor.post("/api/components/", body, format="json")
    assert r.status_code == 400, r.content[:300]
    assert Component.objects.count() == before


def test_deeply_nested_json_is_a_400(dispatcher):
    for depth in (100, 100_000):
        body = "[" * depth + "]" * depth
        r = dispatcher.post("/api/components/within/", body, content_type="application/json")
        assert r.status_code == 400, (depth, r.status_code)
        assert "nested" in r.json()["message"]
    geometry = {"type": "Polygon", "coordinates": [[[116.8, 35.5], [116.9, 35.5], [116.9, 35.6], [116.8, 35.5]]]}
    assert dispatcher.post("/api/components/within/", {"geometry": geometry}, format="json").status_code == 200


def test_three_d_geometry_is_stored_flat_not_refused_by_the_database(editor):
    body = {
        "class_code": "0118",
        "geometry": {"type": "Point", "coordinates": [116.83, 35.55, 52.0]},
        "attributes": {"lamp_type": "LED", "power_w": 120},
    }
    r = editor.post("/api/components/", body, format="json")
    assert r.status_code == 201, r.content[:300]
    c = Component.objects.get(code=r.json()["id"])
    assert not c.geom.hasz and (c.geom.x, c.geom.y) == (116.83, 35.55)
    line = {"type": "LineString", "coordinates": [[116.83, 35.55, 1], [116.831, 35.551, 2]]}
    assert editor.patch(f"/api/components/{c.code}/", {"geometry": line}, format="json").status_code == 200
    c.refresh_from_db()
    assert not c.geom.hasz


@pytest.mark.parametrize("coordinates", ["[1e308, 1e308]", "[116.83, 1e400]", "[-1e300, 35.5]"])
def test_absurd_coordinates_in_gcj02_and_bd09_are_a_400(editor, coordinates):
    for crs in ("GCJ02", "BD09", "EPSG:4527", "EPSG:4490"):
        # 1e400 is read as inf by Python's JSON decoder: sent as text, as a client would.
        body = '{"class_code": "0118", "geometry": {"type": "Point", "coordinates": %s}, "crs": "%s"}' % (
            coordinates,
            crs,
        )
        r = editor.post("/api/components/", body, content_type="application/json")
        assert r.status_code == 400 and r.json()["field"] == "geom", (crs, r.status_code, r.content[:300])
