"""Patrol coverage on a hand-made 200 m grid with one road through its middle (layers.patrols.coverage)."""

import datetime as dt
import json

import pytest
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection
from django.test import Client
from django.utils import timezone
from pyproj import Transformer

from components import roles
from layers.models import Grid, GridLevel
from layers.patrols.coverage import LOCAL, compute_day
from layers.patrols.models import GridCoverage, PatrolAssignment
from layers.roads.models import Road
from tests.factories import make_user
from tests.layers.test_wfs_support import basic

from .conftest import LAT, LON

GK = 4548  # CGCS2000 3-degree GK, central meridian 117E: the district's zone
to_gk = Transformer.from_crs(4490, GK, always_xy=True)
to_geo = Transformer.from_crs(GK, 4490, always_xy=True)
X0, Y0 = to_gk.transform(LON, LAT)
DAY = timezone.localdate() - dt.timedelta(days=1)
CODE = "370812001001001"


def geo(x, y):
    """Metres east/north of the grid's south-west corner -> (lon, lat)."""
    return to_geo.transform(X0 + x, Y0 + y)


def wkt_line(points):
    return "LINESTRING(" + ", ".join("%.9f %.9f" % geo(x, y) for x, y in points) + ")"


@pytest.fixture
def grid(db):
    GridLevel.objects.get_or_create(level=4, defaults={"slug": "base", "name": "单元网格", "code_length": 15})
    ring = [geo(x, y) for x, y in ((0, 0), (200, 0), (200, 200), (0, 200), (0, 0))]
    poly = "MULTIPOLYGON(((" + ", ".join("%.9f %.9f" % p for p in ring) + ")))"
    g = Grid.objects.create(code=CODE, name="测试网格", level_id=4, geom=GEOSGeometry(poly, srid=4490))
    # The road runs east-west through the middle and beyond the grid: 200 m of it inside.
    road = "MULTILINESTRING(" + wkt_line([(-100, 100), (300, 100)])[len("LINESTRING") :] + ")"
    Road.objects.create(name="测试路", level="minor", geom=GEOSGeometry(road, srid=4490))
    return g


def walk(worker, points, start_hour=10, every_s=10, step_m=10.0):
    """Fixes every `every_s` seconds along `points` (metres), one per `step_m` metres."""
    import shapely

    line = shapely.LineString(points)
    n = int(line.length // step_m) + 1
    start = dt.datetime.combine(DAY, dt.time(start_hour), tzinfo=LOCAL)
    rows = []
    for i in range(n):
        p = line.interpolate(min(i * step_m, line.length))
        lon, lat = geo(p.x, p.y)
        rows.append((worker.pk, start + dt.timedelta(seconds=i * every_s), lon, lat))
    with connection.cursor() as cur:
        cur.executemany(
            "INSERT INTO patrols_patrolfix (worker_id, fix_time, receive_time, geom, source_crs) "
            "VALUES (%s, %s, now(), ST_SetSRID(ST_MakePoint(%s, %s), 4490), 'CGCS2000')",
            [(w, t, x, y) for w, t, x, y in rows],
        )
    return rows


@pytest.fixture
def worker(db):
    return make_user("cov_worker", roles.GRID_WORKER)


def coverage():
    compute_day(DAY, workers=1)
    return GridCoverage.objects.get(grid_code=CODE, day=DAY)


def test_a_track_along_half_the_road_walks_half_of_it(grid, worker):
    # x 1..71 walked: within 30 m of the track the road is walked from 0 to 101 of its 200 m.
    rows = walk(worker, [(1, 100), (71, 100)])  # from 1 m inside the west edge
    c = coverage()
    assert c.street_m == pytest.approx(200, abs=0.5)
    assert c.street_share == pytest.approx(0.5, abs=0.01)
    assert c.workers == ["cov_worker"]
    # 8 fixes 10 s apart: 7 intervals of 10 s, the last fix counts nothing.
    assert len(rows) == 8
    assert c.minutes == pytest.approx(70 / 60, abs=0.01)
    assert c.worker_minutes == {"cov_worker": pytest.approx(70 / 60, abs=0.01)}


def test_a_track_40_m_from_the_road_walks_none_of_it(grid, worker):
    walk(worker, [(-50, 140), (250, 140)])
    c = coverage()
    assert c.street_share == 0
    assert c.walked_m == 0
    assert c.area_share > 0


def test_area_share_is_the_swath_inside_the_grid(grid, worker):
    # Straight across the middle: 50 m each side, a 100 m band of the 200 m square.
    walk(worker, [(-60, 100), (260, 100)])
    c = coverage()
    assert c.area_share == pytest.approx(0.5, abs=0.005)
    assert c.street_share == pytest.approx(1.0, abs=0.001)


def test_a_road_walked_by_two_workers_counts_once(grid, worker):
    # Both along the west half, 5 m and 8 m north of the road: the road walked is x 0..71+sqrt(30² - 5²)
    # = 100.6 m, once (less up to ~0.6 m: the 30 m cap is a quad_segs=4 polygon); a union of each
    # worker's cut of the road counted it about twice (share 1.0).
    other = make_user("cov_worker_2", roles.GRID_WORKER)
    walk(worker, [(1, 105), (71, 105)])
    walk(other, [(1, 108), (71, 108)])
    c = coverage()
    assert c.walked_m == pytest.approx(100.6, abs=1.0)
    assert c.street_share == pytest.approx(0.503, abs=0.005)
    assert c.workers == ["cov_worker", "cov_worker_2"]


def test_a_gap_over_two_minutes_breaks_the_track(grid, worker):
    # x 10..30, then an hour later x 170..190: the road within 30 m is x 0..60 and 140..200, not all of it.
    walk(worker, [(10, 100), (30, 100)], start_hour=10)
    walk(worker, [(170, 100), (190, 100)], start_hour=11)
    c = coverage()
    assert c.walked_m == pytest.approx(120, abs=0.5)
    assert c.street_share == pytest.approx(0.6, abs=0.003)


def test_minutes_cap_each_interval_at_a_minute(grid, worker):
    walk(worker, [(10, 10), (40, 10)], every_s=300)  # 4 fixes 5 min apart: 3 x 1 min
    assert coverage().minutes == pytest.approx(3.0, abs=0.01)


def test_a_day_without_fixes_has_rows_of_zero_and_recomputing_replaces_them(grid, worker):
    assert coverage().area_share == 0
    walk(worker, [(0, 100), (70, 100)])
    assert coverage().street_share == pytest.approx(0.5, abs=0.01)
    assert GridCoverage.objects.filter(day=DAY).count() == 1


# --- API -----------------------------------------------------------------------------------------


def _get(user, url):
    c = Client()
    c.force_login(user)
    return c.get(url)


@pytest.fixture
def computed(grid, worker):
    PatrolAssignment.objects.create(worker=worker, grid_code=CODE, valid_from=DAY)
    walk(worker, [(0, 100), (70, 100)])
    compute_day(DAY, workers=1)


@pytest.mark.parametrize("by", ["grid", "community", "street", "worker"])
def test_reports_by_each_level_in_json(computed, by):
    boss = make_user("cov_dispatcher", roles.DISPATCHER)
    r = _get(boss, f"/api/patrols/coverage/?from={DAY}&to={DAY}&by={by}")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["by"] == by and len(body["rows"]) == 1
    assert "private" in r["Cache-Control"]
    row = body["rows"][0]
    if by == "grid":
        assert row["grid_name"] == "测试网格" and row["street_share"] == pytest.approx(0.5, abs=0.01)
        assert row["workers"] == "cov_worker"
    if by == "worker":
        assert row["worker"] == "cov_worker" and row["assigned_grids"] == CODE
        assert row["assigned_street_share"] == pytest.approx(0.5, abs=0.01)


def test_reports_as_csv_and_xlsx_carry_names(computed):
    boss = make_user("cov_dispatcher", roles.DISPATCHER)
    r = _get(boss, f"/api/patrols/coverage/?from={DAY}&by=grid&format=csv")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    text = r.content.decode("utf-8-sig")
    assert "网格名称" in text and "测试网格" in text
    r = _get(boss, f"/api/patrols/coverage/?from={DAY}&by=grid&format=xlsx")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet.cell(3, 2).value == "测试网格"


def test_a_grid_worker_sees_only_their_grids_and_a_unit_nothing(computed, worker):
    other = make_user("cov_other", roles.GRID_WORKER)
    assert _get(other, f"/api/patrols/coverage/?from={DAY}").json()["rows"] == []
    assert len(_get(worker, f"/api/patrols/coverage/?from={DAY}").json()["rows"]) == 1
    unit = make_user("cov_unit", roles.MAINTENANCE_UNIT)
    assert _get(unit, f"/api/patrols/coverage/?from={DAY}").status_code == 403
    assert _get(unit, "/api/patrols/unvisited-grids/").status_code == 403
    assert _get(unit, f"/api/patrols/nearest-workers/?lon={LON}&lat={LAT}").status_code == 403


@pytest.mark.parametrize(
    "query,field",
    [
        ("from=yesterday", "from"),
        ("from=2026-02-30", "from"),
        ("from=2026-01-02&to=2026-01-01", "to"),
        ("from=2024-01-01&to=2026-01-01", "to"),
        ("by=town", "by"),
        ("format=pdf", "format"),
    ],
)
def test_bad_report_parameters_are_400_naming_the_field(db, query, field):
    boss = make_user("cov_dispatcher", roles.DISPATCHER)
    r = _get(boss, f"/api/patrols/coverage/?{query}")
    assert r.status_code == 400, r.content
    assert r.json()["field"] == field


def test_unvisited_grids_come_live_from_the_fixes(grid, worker):
    boss = make_user("cov_dispatcher", roles.DISPATCHER)
    body = _get(boss, f"/api/patrols/unvisited-grids/?date={DAY}").json()
    assert [g["grid_code"] for g in body["grids"]] == [CODE]
    walk(worker, [(0, 100), (70, 100)])
    assert _get(boss, f"/api/patrols/unvisited-grids/?date={DAY}").json()["grids"] == []
    assert _get(boss, "/api/patrols/unvisited-grids/?date=soon").json()["field"] == "date"


def test_nearest_on_duty_workers_come_nearest_first(grid):
    boss = make_user("cov_dispatcher", roles.DISPATCHER)
    near, far, off = (make_user(n, roles.GRID_WORKER) for n in ("cov_near", "cov_far", "cov_off"))
    now = timezone.now()
    with connection.cursor() as cur:
        for w, (x, y), ago in ((far, (150, 150), 2), (near, (20, 20), 5), (off, (10, 10), 40)):
            lon, lat = geo(x, y)
            cur.execute(
                "INSERT INTO patrols_patrolfix (worker_id, fix_time, receive_time, geom, source_crs) "
                "VALUES (%s, %s, now(), ST_SetSRID(ST_MakePoint(%s, %s), 4490), 'CGCS2000')",
                [w.pk, now - dt.timedelta(minutes=ago), lon, lat],
            )
    lon, lat = geo(0, 0)
    body = _get(boss, f"/api/patrols/nearest-workers/?lon={lon}&lat={lat}&n=5").json()
    assert [w["worker"] for w in body["workers"]] == ["cov_near", "cov_far"]
    assert body["workers"][0]["distance_m"] == pytest.approx(28.3, abs=0.5)
    assert body["workers"][0]["grid_code"] == CODE
    for query, field in (("lat=35.5", "lon"), (f"lon={lon}&lat=95", "lat"), (f"lon={lon}&lat={lat}&n=0", "n")):
        r = _get(boss, f"/api/patrols/nearest-workers/?{query}")
        assert r.status_code == 400 and r.json()["field"] == field


def test_the_coverage_layer_serves_a_days_grids_over_wfs(computed):
    boss = make_user("cov_dispatcher", roles.DISPATCHER)
    r = Client().get(
        "/wfs?service=WFS&version=2.0.0&request=GetFeature&typeNames=gridcity:patrol_coverage"
        "&outputFormat=application/json",
        HTTP_AUTHORIZATION=basic(boss.username, "test-pass-123"),
    )
    assert r.status_code == 200, r.content[:500]
    features = json.loads(b"".join(r.streaming_content))["features"]
    assert features[0]["properties"]["grid_code"] == CODE


def _coverage_tile(user, query=""):
    import gzip

    import mapbox_vector_tile
    import mercantile

    lon, lat = geo(100, 100)
    t = mercantile.tile(lon, lat, 16)
    c = Client()
    c.force_login(user)
    answer = c.get(f"/tiles/patrol_coverage/16/{t.x}/{t.y}.mvt{query}")
    assert answer.status_code in (200, 204), answer.content[:300]
    if answer.status_code == 204 or not answer.content:
        return []
    body = gzip.decompress(answer.content) if answer.get("Content-Encoding") == "gzip" else answer.content
    return mapbox_vector_tile.decode(body).get("patrol_coverage", {}).get("features", [])


def test_the_coverage_tiles_without_a_date_show_the_latest_day_computed(grid, worker):
    boss = make_user("cov_dispatcher", roles.DISPATCHER)
    assert _coverage_tile(boss) == []  # nothing computed: no default day, no grid
    walk(worker, [(0, 100), (70, 100)])
    compute_day(DAY - dt.timedelta(days=1), workers=1)
    compute_day(DAY, workers=1)
    compute_day(DAY + dt.timedelta(days=3), workers=1)  # a future day (computed by hand) is not "latest"
    assert [f["properties"]["day"] for f in _coverage_tile(boss)] == [DAY.isoformat()]
    earlier = (DAY - dt.timedelta(days=1)).isoformat()
    assert [f["properties"]["day"] for f in _coverage_tile(boss, f"?date={earlier}")] == [earlier]
    assert _coverage_tile(boss, f"?date={DAY}")[0]["properties"]["street_share"] == pytest.approx(0.5, abs=0.01)
