"""Exports in the native layout; an export imported again changes nothing."""

import csv

import pytest
from django.contrib.gis.geos import LineString, Point
from rest_framework.test import APIClient

from components import roles
from components.exporting import export_components
from components.importing import import_file
from components.models import Component, ComponentClass, ComponentEvent
from components.services import change_state, retire_component
from tests.factories import ComponentFactory, OrganisationFactory, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry():
    owner = OrganisationFactory()
    cs = [
        ComponentFactory(
            owner=owner,
            name=f"灯{i}",
            attributes={"lamp_type": "LED", "power_w": 60 + i},
            geom=Point(116.8 + i * 0.0001234567891, 35.5 + i * 0.00009876543211, srid=4490),
        )
        for i in range(5)
    ]
    cs.append(
        ComponentFactory(
            component_class=ComponentClass.objects.get(code="0305"),
            owner=owner,
            note="a\tb\nc",
            geom=LineString((116.8, 35.5), (116.8100000000001, 35.5123456789), srid=4490),
        )
    )
    change_state(cs[1], "damaged")
    retire_component(cs[2], reason="拆除")
    return cs


@pytest.mark.parametrize("fmt", ["geojson", "csv", "gpkg"])
def test_export_reimport_is_a_noop(tmp_path, registry, fmt):
    path = tmp_path / f"out.{fmt}"
    assert export_components(None, fmt, path) == 6
    events = ComponentEvent.objects.count()
    r = import_file(path)
    assert r.ok, r.as_dict()
    assert (r.created, r.updated, r.unchanged) == (0, 0, 6)
    assert ComponentEvent.objects.count() == events


def test_export_into_empty_registry_recreates_the_components(tmp_path, registry):
    path = tmp_path / "out.gpkg"
    export_components(Component.objects.filter(retired=False), "gpkg", path)
    before = {
        c.code: (c.name, c.state_id, c.attributes, c.geom.wkb.hex(), c.owner_id)
        for c in Component.objects.filter(retired=False)
    }
    Component.objects.all().delete()
    r = import_file(path)
    assert r.created == 5
    after = {c.code: (c.name, c.state_id, c.attributes, c.geom.wkb.hex(), c.owner_id) for c in Component.objects.all()}
    assert after == before


def test_csv_export_columns(tmp_path, registry):
    path = tmp_path / "out.csv"
    export_components(Component.objects.filter(component_class__code="0305"), "csv", path)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 1 and rows[0]["class_code"] == "0305" and rows[0]["note"] == "a\tb\nc"
    assert rows[0]["wkt"].startswith("SRID=4490;LINESTRING")


def test_api_export_streams_with_filters(registry):
    c = APIClient()
    c.force_authenticate(make_user("disp", roles.DISPATCHER))
    r = c.get("/api/exports/", {"format": "csv", "state": "damaged"})
    assert r.status_code == 200, r.content
    body = b"".join(r.streaming_content).decode("utf-8-sig")
    assert body.count("\n") == 2 and registry[1].code in body
    r = c.get("/api/exports/", {"format": "geojson", "class": "0118"})
    assert r.status_code == 200 and b"FeatureCollection" in b"".join(r.streaming_content)
    assert c.get("/api/exports/", {"format": "shp"}).status_code == 400
    anon = APIClient()
    assert anon.get("/api/exports/", {"format": "csv"}).status_code in (401, 403)
