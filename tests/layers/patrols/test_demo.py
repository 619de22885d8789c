import datetime as dt
import math

import numpy as np
import shapely
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.core.management import call_command
from django.db import connection

from layers.models import Grid, GridLevel
from layers.patrols.demo import road_lines
from layers.patrols.models import PatrolAssignment, PatrolFix, QuarantinedFix, TrackDay

from .conftest import LAT, LON


def _grids(n):
    GridLevel.objects.get_or_create(level=4, defaults={"slug": "base", "name": "单元网格", "code_length": 15})
    for k in range(n):
        x = LON + k * 0.006
        square = Polygon.from_bbox((x, LAT, x + 0.005, LAT + 0.005))
        square.srid = 4490
        Grid.objects.create(
            code=f"37081200100100{k}", name=f"网格{k}", level_id=4, geom=MultiPolygon(square, srid=4490)
        )


def _metres_to_nearest_road(points: np.ndarray) -> np.ndarray:
    """Distance (m) from each lon/lat point to the nearest demo road, in a local equirectangular frame."""
    kx, ky = 111_320.0 * math.cos(math.radians(LAT)), 111_320.0
    lines = [shapely.LineString(np.column_stack([line[:, 0] * kx, line[:, 1] * ky])) for line in road_lines()]
    tree = shapely.STRtree(lines)
    pts = shapely.points(points[:, 0] * kx, points[:, 1] * ky)
    _, distances = tree.query_nearest(pts, return_distance=True, all_matches=False)
    return distances


def test_demo_patrols_walk_the_demo_roads_through_ingest(db, capsys):
    _grids(4)
    day = dt.date.today() - dt.timedelta(days=1)
    call_command("load_demo_patrols", "--workers", "4", "--every", "30", "--date", day.isoformat())
    assert "4 workers" in capsys.readouterr().out
    assert PatrolAssignment.objects.count() == 4
    assert PatrolFix.objects.values("worker").distinct().count() == 4
    # Every fourth phone reports Amap (GCJ-02) coordinates; the rest WGS84.
    assert set(PatrolFix.objects.values_list("source_crs", flat=True).distinct()) == {"WGS84", "GCJ02"}
    # Multipath jumps of a few kilometres are quarantined, and nothing else is.
    reasons = set(QuarantinedFix.objects.values_list("reason", flat=True))
    assert reasons == {"impossible_speed"}
    # Resent batches were counted as duplicates, and each worker's day is one stored line.
    assert TrackDay.objects.filter(day=day).count() == 4
    with connection.cursor() as cur:
        cur.execute("SELECT ST_X(geom), ST_Y(geom) FROM patrols_patrolfix ORDER BY fix_time, worker_id")
        points = np.array(cur.fetchall())
    near = _metres_to_nearest_road(points)
    assert np.mean(near <= 15) >= 0.95, f"only {np.mean(near <= 15):.0%} of fixes within 15 m of a road"
    call_command("load_demo_patrols", "--workers", "2", "--if-empty")
    assert "skipped" in capsys.readouterr().out
