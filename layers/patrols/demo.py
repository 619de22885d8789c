"""Demo patrols: ~100 grid workers walking their base grids for one working day, posted through the
real write path (`ingest`) the way phones would: hourly batches, some sent twice, some in GCJ-02,
now and then a jump. Refused in production."""

import datetime as dt
import math
import random
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection

from components import roles
from gis_core import crs

from .ingest import ingest, metres
from .models import PatrolAssignment, PatrolFix

WALK_MS = 1.2
BATCH_MINUTES = 60


class DemoRefused(Exception):
    pass


def _waypoints(grid_code: str, count: int, seed: int) -> list[tuple[float, float]]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT ST_X(d.geom), ST_Y(d.geom) FROM layers_grid g, "
            "ST_Dump(ST_GeneratePoints(g.geom, %s, %s)) d WHERE g.code = %s",
            [count, seed, grid_code],
        )
        return cur.fetchall()


def _walk(rng, points, start: dt.datetime, end: dt.datetime, every_s: int) -> list[tuple[dt.datetime, float, float]]:
    """Straight legs between waypoints at walking pace, a 6-10 minute stop at every third one."""
    out, t, i = [], start, 0
    lon, lat = points[0]
    while t < end:
        tlon, tlat = points[(i + 1) % len(points)]
        legs = max(1, int(metres(lon, lat, tlon, tlat) / WALK_MS / every_s))
        for k in range(legs):
            out.append((t, lon + (tlon - lon) * k / legs + rng.gauss(0, 2e-5), lat + (tlat - lat) * k / legs))
            t += dt.timedelta(seconds=every_s)
        lon, lat, i = tlon, tlat, i + 1
        if i % 3 == 0:
            for _ in range(rng.randint(6 * 60, 10 * 60) // every_s):
                out.append((t, lon + rng.gauss(0, 5e-5), lat + rng.gauss(0, 5e-5)))
                t += dt.timedelta(seconds=every_s)
    return [p for p in out if p[0] < end]


def load(workers: int = 100, day: dt.date | None = None, seed: int = 1, every_s: int = 30, if_empty=False) -> dict:
    from components.auth import is_production

    if is_production():
        raise DemoRefused("demo patrols are refused in production (GRIDCITY_ENV=production)")
    if if_empty and PatrolFix.objects.exists():
        return {"skipped": True}
    zone = ZoneInfo(settings.TIME_ZONE)
    day = day or (dt.datetime.now(zone).date() - dt.timedelta(days=1))
    rng = random.Random(seed)
    grids = list(
        connection.cursor().execute("SELECT code FROM layers_grid WHERE level_id = 4 ORDER BY code").fetchall()
    )
    if not grids:
        raise DemoRefused("no base grids (level 4): load the demo city first (manage.py load_demo_city)")
    chosen = rng.sample([c for (c,) in grids], min(workers, len(grids)))
    group, _ = Group.objects.get_or_create(name=roles.GRID_WORKER)
    totals = {"workers": 0, "stored": 0, "duplicates": 0, "quarantined": 0, "skipped": False}
    for n, grid_code in enumerate(chosen):
        user, _ = get_user_model().objects.get_or_create(username=f"patrol_demo_{n + 1:03d}")
        user.groups.add(group)
        PatrolAssignment.objects.get_or_create(
            worker=user, grid_code=grid_code, defaults={"valid_from": day - dt.timedelta(days=30)}
        )
        points = _waypoints(grid_code, 12, seed + n)
        if len(points) < 2:
            continue
        start = dt.datetime.combine(day, dt.time(8, 30), zone) + dt.timedelta(minutes=rng.randint(0, 30))
        walk = _walk(rng, points, start, start + dt.timedelta(hours=8), every_s)
        gcj = n % 4 == 3  # every fourth phone reports Amap (GCJ-02) coordinates
        per_batch = BATCH_MINUTES * 60 // every_s
        for b in range(0, len(walk), per_batch):
            fixes = []
            for t, lon, lat in walk[b : b + per_batch]:
                if rng.random() < 0.002:  # a multipath jump of a few kilometres
                    lon += 0.05 * math.copysign(1, rng.random() - 0.5)
                x, y = (float(v) for v in crs.wgs84_to_gcj02(lon, lat)) if gcj else (lon, lat)
                fixes.append(
                    {
                        "fix_time": t.isoformat(),
                        "send_time": (t + dt.timedelta(seconds=rng.randint(1, 90))).isoformat(),
                        "lon": x,
                        "lat": y,
                        "accuracy": round(rng.uniform(3, 25), 1),
                        "speed": WALK_MS,
                        "crs": "GCJ02" if gcj else "WGS84",
                    }
                )
            sends = 2 if rng.random() < 0.2 else 1  # a lost acknowledgement: the phone sends it again
            for _ in range(sends):
                answer = ingest(user, {"device_id": f"demo-{n + 1:03d}", "fixes": fixes})
                totals["stored"] += answer["stored"]
                totals["duplicates"] += answer["duplicates"]
                totals["quarantined"] += len(answer["quarantined"])
        totals["workers"] += 1
    return totals
