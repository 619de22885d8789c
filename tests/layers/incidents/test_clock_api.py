"""The clock in /api/incidents/: a case's deadline, light, time left and limit; the overdue filter and
the time-left queue; 延期 through the action endpoint."""

import pytest
from django.test import Client

from .conftest import LAT, LON
from .test_deadlines import CLASS, at, set_limit

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_hours(db):
    return set_limit("dispatch", 2, "working_hours")


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def api_report(user, when: str, **values):
    body = {"class_code": CLASS, "point": [LON, LAT], "description": "路面坑洞", **values}
    with at(when):
        return _client(user).post("/api/incidents/", body, content_type="application/json")


def api_act(user, number, action, when: str, **body):
    with at(when):
        return _client(user).post(f"/api/incidents/{number}/actions/{action}/", body, content_type="application/json")


def test_the_case_answer_carries_the_clock(dispatcher, two_hours):
    r = api_report(dispatcher, "2025-09-24 09:00")
    assert r.status_code == 201, r.json()
    number = r.json()["id"]
    with at("2025-09-24 10:40"):
        props = _client(dispatcher).get(f"/api/incidents/{number}/").json()["properties"]
    assert props["due_at"] == "2025-09-24T11:00:00+08:00" and props["warn_at"] == "2025-09-24T10:36:00+08:00"
    assert props["light"] == "yellow" and props["time_left_minutes"] == 20
    assert props["limit"] == {"amount": 2.0, "unit": "working_hours", "stage": "dispatch"}
    assert props["calendar_known"] is True and props["clock_paused"] is False


def test_overdue_filter_and_the_time_left_queue(dispatcher, two_hours, unit, unit_user, other_unit):
    set_limit("handle", 2, "working_hours")
    late = api_report(dispatcher, "2025-09-24 08:30").json()["id"]
    soon = api_report(dispatcher, "2025-09-24 10:00").json()["id"]
    later = api_report(dispatcher, "2025-09-24 11:00").json()["id"]
    closed = api_report(dispatcher, "2025-09-24 11:30").json()["id"]
    assert api_act(dispatcher, closed, "void", "2025-09-24 11:40", note="误报").status_code == 200
    with at("2025-09-24 11:50"):
        c = _client(dispatcher)
        r = c.get("/api/incidents/?overdue=true")
        assert [f["id"] for f in r.json()["features"]] == [late]
        assert r.json()["features"][0]["properties"]["light"] == "red"
        r = c.get("/api/incidents/?overdue=false&ordering=time_left")
        assert [f["id"] for f in r.json()["features"]] == [soon, later, closed]
        for bad in ("overdue=yes", "ordering=due"):
            r = c.get(f"/api/incidents/?{bad}")
            assert r.status_code == 400 and r.json()["field"] == bad.split("=")[0]
    # A unit's queue: only its own cases, least time left first.
    for number, org, when in ((later, unit, "13:30"), (soon, unit, "13:45"), (late, other_unit, "13:50")):
        r = api_act(dispatcher, number, "dispatch", f"2025-09-24 {when}", organisation=org.uscc)
        assert r.status_code == 200
    with at("2025-09-24 14:00"):
        r = _client(unit_user).get("/api/incidents/?ordering=time_left")
    assert [f["id"] for f in r.json()["features"]] == [later, soon]
    assert [f["properties"]["time_left_minutes"] for f in r.json()["features"]] == [90, 105]


def test_extension_through_the_api(dispatcher, unit, unit_user):
    set_limit("handle", 2, "working_hours")
    number = api_report(dispatcher, "2025-09-22 08:40").json()["id"]
    api_act(dispatcher, number, "dispatch", "2025-09-22 09:00", organisation=unit.uscc)
    r = api_act(unit_user, number, "request_extension", "2025-09-22 10:00", note="需要吊车")
    assert r.status_code == 400 and r.json()["field"] == "amount"
    r = api_act(unit_user, number, "request_extension", "2025-09-22 10:00", note="需要吊车", amount=1, unit="weeks")
    assert r.status_code == 400 and r.json()["field"] == "unit"
    r = api_act(
        unit_user, number, "request_extension", "2025-09-22 10:00", note="需要吊车", amount="4", unit="working_hours"
    )
    assert r.status_code == 200, r.json()
    assert r.json()["properties"]["clock_paused"] is True
    r = api_act(unit_user, number, "request_extension", "2025-09-22 10:05", note="再延", amount=1, unit="working_days")
    assert r.status_code == 409 and "approve_extension" in r.json()["allowed"]
    r = api_act(unit_user, number, "approve_extension", "2025-09-22 10:10")
    assert r.status_code == 403
    r = api_act(dispatcher, number, "approve_extension", "2025-09-22 11:00", note="同意")
    assert r.status_code == 200
    props = r.json()["properties"]
    # 1 h left at 11:00 -> 12:00, then 4 working hours more: the afternoon.
    assert props["due_at"] == "2025-09-22T17:30:00+08:00" and props["clock_paused"] is False
    events = props["events"]
    assert [e["action"] for e in events][-2:] == ["request_extension", "approve_extension"]
    r = api_act(dispatcher, number, "reject_extension", "2025-09-22 11:05", note="无")
    assert r.status_code == 409


def test_next_actions_offer_the_extension_steps_the_log_allows(dispatcher, unit, unit_user):
    number = api_report(dispatcher, "2025-09-22 08:40").json()["id"]
    r = api_act(dispatcher, number, "dispatch", "2025-09-22 09:00", organisation=unit.uscc)
    assert "approve_extension" not in r.json()["properties"]["next_actions"]
    r = api_act(unit_user, number, "accept", "2025-09-22 09:10")
    assert "request_extension" in r.json()["properties"]["next_actions"]
    r = api_act(unit_user, number, "request_extension", "2025-09-22 09:20", note="缺料", amount=2, unit="working_hours")
    assert "request_extension" not in r.json()["properties"]["next_actions"]
    with at("2025-09-22 09:30"):
        props = _client(dispatcher).get(f"/api/incidents/{number}/").json()["properties"]
    assert {"approve_extension", "reject_extension"} <= set(props["next_actions"])
