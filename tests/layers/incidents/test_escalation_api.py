"""The API side of escalation: grid_staff and escalation_level on a case, the escalated list filter,
and each user's own inbox of messages."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from layers.incidents import escalation, services
from layers.incidents.models import Notification

from .escalation_setup import garbage_fixture, now, set_times, staff_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


def client(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


def test_the_case_names_its_staff_and_level(garbage, staff, dispatcher):
    props = client(dispatcher).get(f"/api/incidents/{garbage.number}/").json()["properties"]
    assert props["escalation_level"] == 0
    assert [(s["level"], s["level_name"], s["name"], s["phone"]) for s in props["grid_staff"]] == [
        (0, "网格", "员工0", "13800000000"),
        (1, "社区", "员工1", "13800000001"),
        (2, "街道", "员工2", "13800000002"),
    ]


def test_the_list_filters_escalated_cases(garbage, dispatcher, streetlight):
    other = services.report_case(dispatcher, "0118", (streetlight.geom.x, streetlight.geom.y), "EPSG:4490", "灯")
    set_times(garbage, due_at=now() - timedelta(minutes=1))
    escalation.escalate_due()
    c = client(dispatcher)
    numbers = lambda r: [f["id"] for f in r.json()["features"]]  # noqa: E731
    assert numbers(c.get("/api/incidents/", {"escalated": "true"})) == [garbage.number]
    assert numbers(c.get("/api/incidents/", {"escalated": "false"})) == [other.number]
    bad = c.get("/api/incidents/", {"escalated": "maybe"})
    assert bad.status_code == 400 and bad.json()["field"] == "escalated"


def test_the_inbox_is_the_users_own_unread_first(garbage, staff, dispatcher, unit_user):
    mine = staff[0].user
    older = Notification.objects.create(recipient=mine, case=garbage, kind="warning", stage_key="a", message="黄灯")
    newer = Notification.objects.create(recipient=mine, case=garbage, kind="overdue", stage_key="a", message="红灯")
    Notification.objects.create(recipient=unit_user, case=garbage, kind="overdue", stage_key="a", message="别人的")
    c = client(mine)
    assert c.post(f"/api/incidents/notifications/{newer.pk}/read/").status_code == 200
    body = c.get("/api/incidents/notifications/").json()
    assert body["count"] == 2 and body["unread"] == 1
    assert [(n["id"], n["case"], n["kind_name"]) for n in body["results"]] == [
        (older.pk, garbage.number, "黄灯预警"),
        (newer.pk, garbage.number, "红灯超期"),
    ]
    assert body["results"][1]["read_at"] is not None
    assert [n["id"] for n in c.get("/api/incidents/notifications/", {"unread": "true"}).json()["results"]] == [older.pk]


def test_reading_again_keeps_the_first_time_and_others_messages_are_404(garbage, staff, unit_user):
    n = Notification.objects.create(recipient=unit_user, case=garbage, kind="overdue", stage_key="a", message="红灯")
    c = client(unit_user)
    first = c.post(f"/api/incidents/notifications/{n.pk}/read/").json()["read_at"]
    assert c.post(f"/api/incidents/notifications/{n.pk}/read/").json()["read_at"] == first
    assert client(staff[0].user).post(f"/api/incidents/notifications/{n.pk}/read/").status_code == 404
    assert c.post("/api/incidents/notifications/999999/read/").status_code == 404


def test_the_inbox_refuses_bad_parameters_and_strangers(db, unit_user):
    bad = client(unit_user).get("/api/incidents/notifications/", {"unread": "yes"})
    assert bad.status_code == 400 and bad.json()["field"] == "unread"
    assert APIClient().get("/api/incidents/notifications/").status_code in (401, 403)
