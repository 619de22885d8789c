"""Admins edit the clock tables; a save recomputes the open cases' deadlines."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from layers.incidents.clock_models import TimeLimit, WorkingHoursSetting
from layers.incidents.models import Case

from .test_deadlines import T, at, report, set_limit

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(db):
    user = get_user_model().objects.create_superuser("clock_admin", password="test-pass-123")
    c = Client()
    c.force_login(user)
    return c


@pytest.mark.parametrize("model", ["timelimit", "calendaroverride", "calendaryear", "workinghourssetting"])
def test_the_clock_tables_are_editable(admin_client, model):
    assert admin_client.get(f"/admin/incidents/{model}/").status_code == 200
    assert admin_client.get(f"/admin/incidents/{model}/add/").status_code == 200


def test_extension_amounts_are_read_only(admin_client):
    assert admin_client.get("/admin/incidents/caseextension/").status_code == 200
    assert admin_client.get("/admin/incidents/caseextension/add/").status_code == 403


def test_bad_working_hours_are_refused_on_the_form(admin_client):
    r = admin_client.post(
        "/admin/incidents/workinghourssetting/add/", {"periods": '[["12:00", "08:30"]]', "organisation": ""}
    )
    assert r.status_code == 200 and "ends before it starts" in r.content.decode()
    assert WorkingHoursSetting.objects.count() == 1  # the seeded default only


def test_saving_a_limit_in_the_admin_recomputes_open_cases(
    admin_client, dispatcher, settings, django_capture_on_commit_callbacks
):
    settings.GRIDCITY_INCIDENT_RECOMPUTE_IN_WORKER = False
    row = set_limit("dispatch", 2, "working_hours")
    case = report(dispatcher, "2025-09-24 09:00")
    assert Case.objects.get(pk=case.pk).due_at == T("2025-09-24 11:00")
    with at("2025-09-24 09:30"), django_capture_on_commit_callbacks(execute=True):
        r = admin_client.post(
            f"/admin/incidents/timelimit/{row.pk}/change/",
            {
                "stage": "dispatch",
                "case_class": "",
                "severity": "",
                "amount": "1",
                "unit": "working_hours",
                "warn_fraction": "0.2",
                "note": "",
            },
        )
    assert r.status_code == 302, r.content.decode()[:2000]
    assert TimeLimit.objects.get(pk=row.pk).amount == 1
    assert Case.objects.get(pk=case.pk).due_at == T("2025-09-24 10:00")
