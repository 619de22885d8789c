import json
import time

import pytest
from django.contrib.gis.geos import Point, Polygon
from django.core.management import call_command
from django.db import transaction
from rest_framework.test import APIClient

from components import roles
from components.models import Component
from components.services import assign_grid_codes
from layers.grids.services import create_grid, update_grid
from layers.models import GridReassignment
from tests.factories import ComponentFactory, make_user

X0, Y0 = 116.80, 35.52


def box(x0, y0, x1, y1):
    return Polygon.from_bbox((X0 + x0, Y0 + y0, X0 + x1, Y0 + y1))


def build_hierarchy():
    create_grid(code="370812", name="兖州区", level=1, geom=box(0, 0, 0.1, 0.1))
    create_grid(code="370812001", name="鼓楼街道", level=2, parent_code="370812", geom=box(0, 0, 0.1, 0.1))
    create_grid(code="370812001001", name="龙桥社区", level=3, parent_code="370812001", geom=box(0, 0, 0.1, 0.1))
    create_grid(code="37081200100101", name="网格1", level=4, parent_code="370812001001", geom=box(0, 0, 0.05, 0.1))
    create_grid(code="37081200100102", name="网格2", level=4, parent_code="370812001001", geom=box(0.05, 0, 0.08, 0.1))


@pytest.fixture
def reader():
    c = APIClient()
    c.force_authenticate(make_user("reader", roles.DISPATCHER))
    return c


@pytest.mark.django_db
def test_components_get_base_grid_street_and_community_codes():
    build_hierarchy()
    west = ComponentFactory(geom=Point(X0 + 0.01, Y0 + 0.01, srid=4490))
    east = ComponentFactory(geom=Point(X0 + 0.06, Y0 + 0.01, srid=4490))
    gap = ComponentFactory(geom=Point(X0 + 0.09, Y0 + 0.01, srid=4490))
    assert assign_grid_codes() == 2
    west.refresh_from_db(), east.refresh_from_db(), gap.refresh_from_db()
    assert (west.grid_code, west.community_code, west.street_code) == ("37081200100101", "370812001001", "370812001")
    assert east.grid_code == "37081200100102"
    assert gap.grid_code == ""
    assert assign_grid_codes() == 0  # a second run changes nothing


@pytest.mark.django_db
def test_locate_returns_the_chain_down_to_the_base_grid(reader):
    build_hierarchy()
    r = reader.get("/api/grids/locate/", {"lon": X0 + 0.01, "lat": Y0 + 0.01})
    assert r.status_code == 200
    body = r.json()
    assert body["base_grid"] == "37081200100101"
    assert [g["id"] for g in body["grids"]] == ["370812", "370812001", "370812001001", "37081200100101"]
    assert reader.get("/api/grids/locate/", {"lon": "x", "lat": 1}).json()["field"] == "lon"
    assert reader.get("/api/grids/locate/", {"lon": 1, "lat": 1, "crs": "EPSG:3857"}).json()["field"] == "crs"


@pytest.mark.django_db
def test_coverage_gap_is_reported_in_square_metres(reader, capsys):
    build_hierarchy()
    r = reader.get("/api/grids/370812001001/coverage/")
    assert r.status_code == 200
    gap = r.json()
    # 0.02 deg x 0.1 deg uncovered: about 1.81 km x 11.09 km.
    assert 19.5e6 < gap["gap_area_m2"] < 20.6e6
    assert gap["gap"]["type"] in ("Polygon", "MultiPolygon")
    assert reader.get("/api/grids/370812/coverage/").json()["gap_area_m2"] == 0
    call_command("grid_coverage")
    assert "370812001001" in capsys.readouterr().out


@pytest.mark.django_db
def test_grid_api_detail_versions_and_as_of(reader):
    build_hierarchy()
    update_grid("37081200100101", name="网格一")
    r = reader.get("/api/grids/37081200100101/")
    assert r.json()["properties"]["name"] == "网格一" and r.json()["properties"]["version"] == 2
    versions = reader.get("/api/grids/37081200100101/versions/").json()["features"]
    assert [v["properties"]["name"] for v in versions] == ["网格1", "网格一"]
    first_from = versions[0]["properties"]["valid_from"]
    r = reader.get("/api/grids/37081200100101/", {"as_of": first_from})
    assert r.json()["properties"]["name"] == "网格1"
    assert [f["id"] for f in reader.get("/api/grids/", {"level": 4}).json()["features"]] == [
        "37081200100101",
        "37081200100102",
    ]


@pytest.mark.django_db
def test_boundary_edit_reassigns_the_components_where_the_border_moved_in_its_own_transaction():
    build_hierarchy()
    c = ComponentFactory(geom=Point(X0 + 0.055, Y0 + 0.01, srid=4490))
    far = ComponentFactory(geom=Point(X0 + 0.07, Y0 + 0.01, srid=4490))
    assign_grid_codes()
    c.refresh_from_db(), far.refresh_from_db()
    assert c.grid_code == "37081200100102"
    earlier = set(GridReassignment.objects.values_list("pk", flat=True))
    # Move the border east: the component now stands in grid 1. One edit, as QGIS commits it.
    with transaction.atomic():
        update_grid("37081200100102", geom=box(0.06, 0, 0.08, 0.1))
        update_grid("37081200100101", geom=box(0, 0, 0.06, 0.1))
        c.refresh_from_db()
        assert c.grid_code == "37081200100101"  # already, inside the edit's transaction
    assert not GridReassignment.objects.exclude(pk__in=earlier).exists()  # no job for a small edit
    assert Component.objects.get(pk=c.pk).community_code == "370812001001"
    # Only the strip between the old and new border was looked at: the other component kept its row.
    before = far.updated_at
    far.refresh_from_db()
    assert far.updated_at == before


@pytest.mark.django_db(transaction=True)
def test_boundary_edit_touching_many_components_reassigns_them_in_a_celery_job(monkeypatch):
    from celery.contrib.testing.worker import start_worker

    from gis_core.celery import app
    from layers.grids import assignment

    build_hierarchy()
    c = ComponentFactory(geom=Point(X0 + 0.055, Y0 + 0.01, srid=4490))
    assign_grid_codes()
    c.refresh_from_db()
    assert c.grid_code == "37081200100102"
    monkeypatch.setattr(assignment, "REASSIGN_NOW_MAX", 0)  # every component is "many"
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        deadline = time.time() + 30  # the two jobs queued when the base grids were created
        while time.time() < deadline and GridReassignment.objects.exclude(status="done").exists():
            time.sleep(0.1)
        earlier = set(GridReassignment.objects.values_list("pk", flat=True))
        # The jobs are queued after the commit, so none can run between the two halves (the component
        # would then be re-assigned twice, first to no base grid).
        with transaction.atomic():
            update_grid("37081200100102", geom=box(0.06, 0, 0.08, 0.1))
            update_grid("37081200100101", geom=box(0, 0, 0.06, 0.1))
            c.refresh_from_db()
            assert c.grid_code == "37081200100102"  # left to the job
        jobs = GridReassignment.objects.exclude(pk__in=earlier)
        deadline = time.time() + 30
        while time.time() < deadline and not (jobs.count() == 2 and not jobs.exclude(status="done").exists()):
            time.sleep(0.1)
    assert jobs.count() == 2 and {j.status for j in jobs} == {"done"}
    c.refresh_from_db()
    assert c.grid_code == "37081200100101"
    assert sum(j.components_changed for j in jobs) == 1
    assert Component.objects.get(pk=c.pk).community_code == "370812001001"


@pytest.mark.django_db
def test_rest_writes_go_through_the_topology_rules():
    from layers.models import Grid

    editor = APIClient()
    editor.force_authenticate(make_user("editor", roles.GIS_EDITOR))
    worker = APIClient()
    worker.force_authenticate(make_user("worker", roles.GRID_WORKER))
    build_hierarchy()
    poly = {
        "type": "Polygon",
        "coordinates": [
            [[X0 + 0.08, Y0], [X0 + 0.1, Y0], [X0 + 0.1, Y0 + 0.1], [X0 + 0.08, Y0 + 0.1], [X0 + 0.08, Y0]]
        ],
    }
    body = {"code": "37081200100103", "name": "网格3", "level": 4, "parent_code": "370812001001", "geometry": poly}
    assert worker.post("/api/grids/", body, format="json").status_code == 403
    r = editor.post("/api/grids/", body, format="json")
    assert r.status_code == 201, r.json()
    overlapping = {
        **body,
        "code": "37081200100104",
        "geometry": {
            **poly,
            "coordinates": [
                [
                    [X0 + 0.07, Y0],
                    [X0 + 0.1, Y0],
                    [X0 + 0.1, Y0 + 0.05],
                    [X0 + 0.07, Y0],
                ]
            ],
        },
    }
    r = editor.post("/api/grids/", overlapping, format="json")
    assert r.status_code == 400 and "overlaps" in r.json()["message"], r.json()
    r = editor.patch("/api/grids/37081200100103/", {"name": "第三网格"}, format="json")
    assert r.status_code == 200 and r.json()["properties"]["version"] == 2
    assert editor.patch("/api/grids/37081200100103/", {"parent_code": "370812001002"}, format="json").status_code == 400
    assert editor.delete("/api/grids/370812001001/").status_code == 400  # it has children
    assert editor.delete("/api/grids/37081200100103/").status_code == 204
    assert not Grid.objects.filter(code="37081200100103").exists()


@pytest.mark.django_db
def test_coverage_gaps_are_a_wfs_layer():
    import base64

    from django.test import Client

    build_hierarchy()
    make_user("gapreader", roles.DISPATCHER, password="pw-gap-12345")
    auth = "Basic " + base64.b64encode(b"gapreader:pw-gap-12345").decode()
    r = Client().get(
        "/wfs",
        {
            "SERVICE": "WFS",
            "VERSION": "2.0.0",
            "REQUEST": "GetFeature",
            "TYPENAMES": "grid_gaps",
            "OUTPUTFORMAT": "application/json",
        },
        HTTP_AUTHORIZATION=auth,
    )
    assert r.status_code == 200, r.content[:500]
    body = json.loads(b"".join(r.streaming_content) if r.streaming else r.content)
    codes = [f["properties"]["code"] for f in body["features"]]
    assert codes == ["370812001001"]
    assert 19.5e6 < body["features"][0]["properties"]["gap_area_m2"] < 20.6e6
