"""平安指数: populations seeded from the grids, weighted counts per 1,000 residents over the window,
the 0-100 score, the choropleth layers (tiles and WFS read-only), the Celery task, the API; and the
stage deadlines the reports read, recorded after each step."""

import datetime as dt
import itertools
import math

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.test import Client, override_settings

from components import roles
from layers import catalogue
from layers.incidents import safety_index, services
from layers.incidents.models import Case, CaseClass, CaseStageDeadline, GridPopulation, SafetyIndex
from layers.incidents.reports_tasks import refresh_safety_index
from tests.factories import make_user
from tests.layers.test_wfs_support import PASSWORD, basic, make_grids

from .conftest import LAT, LON

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.timezone.utc)
G1, G2, COMMUNITY = "37081200100101", "37081200100102", "370812001001"
WEIGHTS = {"09": 2.0}
SEVERITY = {"normal": 1.0, "major": 3.0}
_numbers = itertools.count(1)


def make_case(grid, days_ago, code="0901", severity="normal", state="reported"):
    cls = CaseClass.objects.filter(code__startswith=code[:2], parent__isnull=False).order_by("code").first()
    case = Case.objects.create(
        number=f"20261101{next(_numbers):06d}",
        source="dispatcher",
        case_class=cls,
        severity=severity,
        geom=Point(LON, LAT, srid=4490),
        grid_code=grid,
        community_code=grid[:12],
        street_code=grid[:9],
        state=state,
    )
    Case.objects.filter(pk=case.pk).update(created_at=NOW - dt.timedelta(days=days_ago))
    return case


@pytest.fixture
def grids(db):
    return make_grids()  # G1 has 100 residents; G2 and G3 have none in the register


@pytest.fixture
def cases(grids):
    make_case(G1, 1)  # weight 2 (major class 09)
    make_case(G1, 2, severity="major")  # weight 2 x 3
    make_case(G1, 3, state="void")  # voided: not counted
    make_case(G1, 45)  # outside the 30-day window
    make_case(G2, 5, code="0601")  # weight 1 (no class weight for 06)


@override_settings(GRIDCITY_SAFETY_CLASS_WEIGHTS=WEIGHTS, GRIDCITY_SAFETY_SEVERITY_WEIGHTS=SEVERITY)
def test_scores_follow_the_formula(cases):
    written = safety_index.refresh(now=NOW)
    assert written == 4  # three base grids and one community
    rows = {r.grid_code: r for r in SafetyIndex.objects.all()}
    g1 = rows[G1]
    assert (g1.cases, g1.weighted_cases, g1.population) == (2, 8.0, 100)
    assert g1.rate_per_1000 == pytest.approx(80.0)
    assert g1.score == round(100 * math.exp(-80 / 20), 1) == safety_index.score(80)
    assert g1.level == 4 and g1.window_days == 30
    # G2 has no population in the register: estimated from its area.
    estimated = GridPopulation.objects.get(grid_code=G2)
    assert estimated.source == "area" and estimated.population > 0
    assert rows[G2].score == safety_index.score(1000 / estimated.population)
    community = rows[COMMUNITY]
    assert community.level == 3 and community.cases == 3 and community.weighted_cases == 9.0
    assert community.population == sum(GridPopulation.objects.values_list("population", flat=True))


def test_no_cases_is_100_and_no_population_is_no_score(grids):
    GridPopulation.objects.create(grid_code=G2, population=0, as_of=NOW.date(), source="admin")
    safety_index.refresh(now=NOW)
    rows = {r.grid_code: r for r in SafetyIndex.objects.all()}
    assert rows[G1].score == 100.0
    assert rows[G2].score is None and rows[G2].population == 0  # an admin's number is kept


def test_refresh_replaces_the_table(cases):
    safety_index.refresh(now=NOW)
    safety_index.refresh(now=NOW + dt.timedelta(days=40))
    assert SafetyIndex.objects.count() == 4 and SafetyIndex.objects.get(grid_code=G1).cases == 0


def test_the_celery_task_refreshes(grids):
    assert refresh_safety_index.apply().get() == 4


def test_the_layers_are_declared_read_only():
    for layer_id in ("safety_index", "safety_index_community"):
        layer = catalogue.get(layer_id)
        assert layer.group == "事件" and not layer.editable and layer.tiles.changes is safety_index.safety_index_changed


def test_the_layer_is_served_as_tiles_and_wfs(cases, django_capture_on_commit_callbacks):
    import gzip

    import mapbox_vector_tile
    import mercantile

    with django_capture_on_commit_callbacks(execute=True):
        safety_index.refresh(now=NOW)
    c = Client()
    c.force_login(make_user("safety_dispatcher", roles.DISPATCHER, password=PASSWORD))
    g1 = SafetyIndex.objects.get(grid_code=G1)
    x, y = g1.geom.centroid.coords
    tile = mercantile.tile(x, y, 14)
    answer = c.get(f"/tiles/safety_index/14/{tile.x}/{tile.y}.mvt")
    assert answer.status_code == 200
    body = gzip.decompress(answer.content) if answer.get("Content-Encoding") == "gzip" else answer.content
    features = mapbox_vector_tile.decode(body)["safety_index"]["features"]
    assert {f["properties"]["grid_code"] for f in features} >= {G1}
    wfs = Client().get(
        "/wfs",
        {"service": "WFS", "version": "2.0.0", "request": "GetFeature", "typeNames": "safety_index"},
        HTTP_AUTHORIZATION=basic("safety_dispatcher"),
    )
    assert wfs.status_code == 200 and G1 in b"".join(wfs.streaming_content).decode()


def test_the_api_lists_scores_lowest_first(cases):
    safety_index.refresh(now=NOW)
    c = Client()
    c.force_login(make_user("safety_leader", "leader"))
    body = c.get("/api/incidents/safety-index/?level=grid").json()
    scores = [r["score"] for r in body["rows"]]
    assert body["window_days"] == 30 and scores == sorted(scores)
    assert c.get("/api/incidents/safety-index/?level=street").json()["field"] == "level"


def test_each_step_records_the_deadline_of_the_state_it_leaves_the_case_in(
    streetlight, dispatcher, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case = services.report_case(dispatcher, "0118", (LON, LAT), "EPSG:4490", "路灯不亮")
    with django_capture_on_commit_callbacks(execute=True):
        services.dispatch(dispatcher, Case.objects.get(pk=case.pk))
    due = Case.objects.get(pk=case.pk).due_at  # the clock's deadline for the unit's stage
    assert due is not None
    recorded = {(d.state, d.due_at) for d in CaseStageDeadline.objects.filter(case=case)}
    assert ("dispatched", due) in recorded


def test_an_admin_entered_population_is_marked_and_kept(grids):
    c = Client()
    c.force_login(get_user_model().objects.create_superuser("safety_admin", password="test-pass-123"))
    answer = c.post(
        "/admin/incidents/gridpopulation/add/",
        {"grid_code": G1, "population": "2500", "as_of": "2026-11-30"},
    )
    assert answer.status_code == 302 and "/login/" not in answer["Location"], answer.content[:500]
    safety_index.refresh(now=NOW)
    row = GridPopulation.objects.get(grid_code=G1)
    assert (row.population, row.source) == (2500, "admin")
    assert c.get("/admin/incidents/safetyindex/").status_code == 200


def test_the_management_command_refreshes(grids):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("refresh_safety_index", "--window-days", "7", stdout=out)
    assert "4 grids" in out.getvalue() and SafetyIndex.objects.filter(window_days=7).count() == 4


def test_the_layer_is_drawn_over_wms(cases):
    import io

    from PIL import Image

    from tests.layers.test_wfs_support import X0, Y0

    safety_index.refresh(now=NOW)
    make_user("safety_wms", roles.DISPATCHER, password=PASSWORD)
    box = (X0 + 0.015, Y0 + 0.015, X0 + 0.035, Y0 + 0.035)
    answer = Client(HTTP_AUTHORIZATION=basic("safety_wms")).get(
        "/wms",
        {
            "SERVICE": "WMS",
            "VERSION": "1.3.0",
            "REQUEST": "GetMap",
            "LAYERS": "safety_index",
            "STYLES": "",
            "CRS": "EPSG:4490",
            "BBOX": f"{box[1]},{box[0]},{box[3]},{box[2]}",
            "WIDTH": "100",
            "HEIGHT": "100",
            "FORMAT": "image/png",
            "TRANSPARENT": "TRUE",
        },
    )
    assert answer.status_code == 200 and answer["Content-Type"] == "image/png", answer.content[:300]
    picture = Image.open(io.BytesIO(answer.content)).convert("RGBA")
    assert picture.getpixel((50, 50))[3] > 0  # the middle of base grid G1 is filled
