"""Admins edit the class catalogue and routing table; cases are read-only in the admin."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from layers.incidents import services

from .conftest import LAT, LON

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(db):
    user = get_user_model().objects.create_superuser("incidents_admin", password="test-pass-123")
    c = Client()
    c.force_login(user)
    return c


def test_case_pages_render_read_only(admin_client, dispatcher):
    case = services.report_case(dispatcher, "06010", (LON, LAT), "EPSG:4490", "垃圾")
    assert admin_client.get("/admin/incidents/case/").status_code == 200
    page = admin_client.get(f"/admin/incidents/case/{case.pk}/change/")
    assert page.status_code == 200 and case.number in page.content.decode()
    assert admin_client.get("/admin/incidents/case/add/").status_code == 403


def test_class_catalogue_and_routing_table_are_editable(admin_client):
    assert admin_client.get("/admin/incidents/caseclass/").status_code == 200
    assert admin_client.get("/admin/incidents/caseclass/add/").status_code == 200
    assert admin_client.get("/admin/incidents/routingrule/add/").status_code == 200
