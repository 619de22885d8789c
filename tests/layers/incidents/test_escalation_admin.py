"""Admins keep the grid staff; notifications are read-only in the admin."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from layers.incidents.models import GridStaff, Notification

from .escalation_setup import garbage_fixture, staff_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(db):
    c = Client()
    c.force_login(get_user_model().objects.create_superuser("escalation_admin", password="test-pass-123"))
    return c


def test_grid_staff_are_edited_by_admins(admin_client):
    assert admin_client.get("/admin/incidents/gridstaff/add/").status_code == 200
    r = admin_client.post(
        "/admin/incidents/gridstaff/add/",
        {"level": 1, "grid_code": "370812001001", "name": "社区网格长", "phone": "0537-1234567", "active": "on"},
    )
    assert r.status_code == 302 and GridStaff.objects.get().name == "社区网格长"


def test_notifications_are_read_only(admin_client, garbage, staff):
    n = Notification.objects.create(
        recipient=staff[0].user, case=garbage, kind="overdue", stage_key="k", message="红灯"
    )
    assert admin_client.get("/admin/incidents/notification/").status_code == 200
    assert admin_client.get(f"/admin/incidents/notification/{n.pk}/change/").status_code == 200
    assert admin_client.get("/admin/incidents/notification/add/").status_code == 403
