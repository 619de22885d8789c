"""/api/incidents/classes/: the classes a report form offers, per component class."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(dispatcher):
    c = Client()
    c.force_login(dispatcher)
    return c


def test_a_streetlight_offers_its_anomaly_class_only(reader):
    r = reader.get("/api/incidents/classes/", {"component_class": "0118"})
    assert r.status_code == 200
    rows = r.json()
    assert [row["code"] for row in rows] == ["0118"]
    assert rows[0]["name"] == "路灯不亮或损坏" and rows[0]["major_code"] == "01" and rows[0]["requires_asset"]


def test_without_a_component_class_every_reportable_sub_class_and_no_major(reader):
    codes = [row["code"] for row in reader.get("/api/incidents/classes/").json()]
    assert "0118" in codes and "06010" in codes
    assert "01" not in codes and "06" not in codes
    assert codes == sorted(codes)


def test_an_unknown_component_class_is_400_naming_it(reader):
    r = reader.get("/api/incidents/classes/", {"component_class": "9999"})
    assert r.status_code == 400 and r.json()["field"] == "component_class" and "9999" in r.json()["message"]


def test_anonymous_is_refused():
    assert Client().get("/api/incidents/classes/").status_code in (401, 403)
