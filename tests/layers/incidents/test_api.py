"""/api/incidents/: the five-step loop through the API with its event log, visibility per unit, the
list filters, and refusals in the API's own error form."""

import pytest
from django.test import Client

from layers.incidents.models import Case, CaseEvent

from .conftest import LAT, LON

pytestmark = pytest.mark.django_db
PASSWORD = "test-pass-123"


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def report(user, **values):
    body = {"class_code": "0118", "point": [LON, LAT], "description": "路灯不亮", **values}
    return client_for(user).post("/api/incidents/", body, content_type="application/json")


def act(user, number, action, **body):
    return client_for(user).post(f"/api/incidents/{number}/actions/{action}/", body, content_type="application/json")


def test_the_five_steps_report_dispatch_handle_verify_close(streetlight, unit, dispatcher, unit_user, grid_worker):
    r = report(dispatcher)
    assert r.status_code == 201, r.json()
    number = r.json()["id"]
    props = r.json()["properties"]
    assert props["component_code"] == streetlight.code and props["state"] == "reported"
    assert props["next_actions"] == ["dispatch", "hold", "merge", "void"]

    r = act(dispatcher, number, "dispatch", note="一键派遣")
    assert r.status_code == 200, r.json()
    assert r.json()["properties"]["assigned_org"]["name"] == "兖州区路灯管理所"
    assert act(unit_user, number, "accept").status_code == 200
    assert act(unit_user, number, "handle", note="已更换灯泡").status_code == 200
    assert act(grid_worker, number, "verify", note="现场已亮").status_code == 200
    r = act(grid_worker, number, "close")
    assert r.status_code == 200 and r.json()["properties"]["state"] == "closed"

    timeline = client_for(dispatcher).get(f"/api/incidents/{number}/").json()["properties"]["events"]
    assert [(e["action"], e["from_state"], e["to_state"]) for e in timeline] == [
        ("report", "", "reported"),
        ("dispatch", "reported", "dispatched"),
        ("accept", "dispatched", "handling"),
        ("handle", "handling", "verifying"),
        ("verify", "verifying", "verifying"),
        ("close", "verifying", "closed"),
    ]
    assert [e["actor"] for e in timeline] == [
        "case_dispatcher",
        "case_dispatcher",
        "case_unit_user",
        "case_unit_user",
        "case_grid_worker",
        "case_grid_worker",
    ]
    assert timeline[1]["organisation"]["uscc"] == unit.uscc and timeline[3]["note"] == "已更换灯泡"


def test_an_illegal_step_is_409_with_the_allowed_actions_and_changes_nothing(streetlight, dispatcher):
    number = report(dispatcher).json()["id"]
    r = act(dispatcher, number, "close")
    assert r.status_code == 409
    assert r.json()["allowed"] == ["dispatch", "hold", "merge", "self_handle", "void"]
    assert r.json()["field"] == "action" and "dispatch" in r.json()["message"]
    assert Case.objects.get(number=number).state == "reported" and CaseEvent.objects.count() == 1


def test_a_step_of_another_role_is_403(streetlight, dispatcher, grid_worker):
    number = report(dispatcher).json()["id"]
    r = act(grid_worker, number, "dispatch")
    assert r.status_code == 403 and r.json()["field"] == "action"


def test_unknown_action_class_and_points_outside_are_400_naming_them(streetlight, dispatcher):
    number = report(dispatcher).json()["id"]
    assert act(dispatcher, number, "explode").json()["field"] == "action"
    r = report(dispatcher, class_code="9999")
    assert r.status_code == 400 and r.json()["field"] == "class_code"
    r = report(dispatcher, point=[121.47, 31.23])
    assert r.status_code == 400 and r.json()["field"] == "point"
    r = report(dispatcher, point=["x", 1])
    assert r.status_code == 400 and r.json()["field"].startswith("point")
    assert Case.objects.count() == 1


def test_a_unit_sees_only_the_cases_assigned_to_it(
    streetlight, unit, other_unit, dispatcher, unit_user, other_unit_user
):
    mine = report(dispatcher).json()["id"]
    act(dispatcher, mine, "dispatch")
    theirs = report(dispatcher, class_code="06010").json()["id"]
    act(dispatcher, theirs, "dispatch", organisation=other_unit.uscc)
    unassigned = report(dispatcher, class_code="06010").json()["id"]

    def listed(user):
        return sorted(f["id"] for f in client_for(user).get("/api/incidents/").json()["features"])

    assert listed(unit_user) == [mine]
    assert listed(other_unit_user) == [theirs]
    assert listed(dispatcher) == sorted([mine, theirs, unassigned])
    assert client_for(unit_user).get(f"/api/incidents/{theirs}/").status_code == 404
    assert act(unit_user, theirs, "accept").status_code == 404
    assert Case.objects.get(number=theirs).state == "dispatched"


def test_list_filters(streetlight, unit, dispatcher):
    light = report(dispatcher).json()["id"]
    act(dispatcher, light, "dispatch")
    garbage = report(dispatcher, class_code="06010", source="hotline_12345").json()["id"]
    c = client_for(dispatcher)

    def ids(**params):
        r = c.get("/api/incidents/", params)
        assert r.status_code == 200, r.json()
        assert r.json()["type"] == "FeatureCollection"
        return [f["id"] for f in r.json()["features"]]

    assert ids(state="dispatched") == [light]
    assert ids(**{"class": "06"}) == [garbage]
    assert ids(source="hotline_12345") == [garbage]
    assert ids(unit=unit.uscc) == [light]
    assert sorted(ids(date_from="2000-01-01")) == sorted([light, garbage])
    assert ids(date_to="2000-01-01") == []
    for params, field in (
        ({"state": "lost"}, "state"),
        ({"class": "77"}, "class"),
        ({"unit": "x"}, "unit"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"grid": "abc"}, "grid"),
    ):
        r = c.get("/api/incidents/", params)
        assert r.status_code == 400 and r.json()["field"] == field


def test_anonymous_requests_are_refused(streetlight):
    assert Client().get("/api/incidents/").status_code in (401, 403)


def test_the_openapi_document_describes_the_case_answers(client):
    import json

    doc = json.loads(client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)
    page = doc["paths"]["/api/incidents/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    page = doc["components"]["schemas"][page["$ref"].rsplit("/", 1)[-1]]
    assert page["properties"]["features"]["items"]["$ref"] == "#/components/schemas/Case"
    assert "properties" in doc["components"]["schemas"]["Case"]
    action = doc["paths"]["/api/incidents/{number}/actions/{action}/"]["post"]["responses"]
    assert {"200", "400", "403", "404", "409"} <= set(action)


def test_a_role_that_may_not_report_is_403(streetlight):
    from components import roles
    from tests.factories import make_user

    r = report(make_user("case_gis_editor", roles.GIS_EDITOR))
    assert r.status_code == 403 and not Case.objects.exists()


def test_a_repeated_report_with_the_same_client_token_makes_one_case(streetlight, dispatcher, grid_worker):
    first = report(dispatcher, client_token="phone-7f3a-0001")
    again = report(dispatcher, client_token="phone-7f3a-0001")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Case.objects.count() == 1 and CaseEvent.objects.count() == 1
    assert report(grid_worker, client_token="phone-7f3a-0001").status_code == 201  # tokens are per reporter
    assert report(dispatcher, client_token="x" * 65).json()["field"] == "client_token"


def test_a_report_lists_open_cases_of_the_same_class_nearby_as_possible_duplicates(streetlight, dispatcher):
    first = report(dispatcher).json()["id"]
    report(dispatcher, class_code="06010")  # another class: not a duplicate
    second = report(dispatcher, point=[LON, LAT + 0.0002])  # ~22 m north, the same light
    assert second.json()["properties"]["possible_duplicates"] == [first]
    act(dispatcher, first, "void", note="重复")
    third = report(dispatcher)
    assert third.json()["properties"]["possible_duplicates"] == [second.json()["id"]]
