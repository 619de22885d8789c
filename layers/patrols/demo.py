"""Demo patrols: grid workers walking the demo city's roads in and around their base grids, posted
through the real write path (`ingest`) the way phones would. Refused in production.

- `demo` (default, part of `make demo`): ~100 workers, one working day, hourly batches.
- `city`: ~1,000 workers, 30 days, one batch per worker-day (or a phone's backlog of several days),
  ~10 million fixes; minutes, not seconds. Never used by tests at that size.

Both include what real phones send: ~20 % of batches sent twice (a lost acknowledgement), every fourth
phone in GCJ-02 (Amap), late uploads (a phone offline for days posting its backlog, newest day first)
and multipath jumps of a few kilometres that ingest must quarantine (`impossible_speed`).

The roads are the demo city's (`fixtures.demo_city.roads`, rebuilt in memory from the city's seed and
scale, the same lines as the `roads` layer of the demo GeoPackage). Each worker's route is a random
walk over the road vertices within ~60 m of their grid's box (grids are bounded by roads, so a route
runs around and through the grid), walked back and forth at 1.2 m/s with stops of 6-10 minutes."""

import datetime as dt
import functools
import math
import random
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection

from components import roles
from gis_core import crs

from .ingest import ingest
from .models import PatrolAssignment, PatrolFix

WALK_MS = 1.2
BATCH_MINUTES = 60
ROUTE_METRES = 4000  # one random walk per worker, walked back and forth
MARGIN_DEG = 0.0006  # ~60 m around the grid's box: the roads bounding it
NOISE_M = 3.0
JUMP_SHARE = 0.002
RESENT_SHARE = 0.2
M_PER_DEG_LAT = 111_320.0

SCALES = {
    # workers, days, seconds between fixes, fixes per batch (0: hourly), share of worker-days uploaded late
    "demo": {"workers": 100, "days": 1, "every_s": 30, "late_share": 0.1},
    # ~10M fixes: 1,000 workers x 30 days x 8 h at one fix per 90 s (a phone's battery-saving rate);
    # --every 10 gives the same day nine times denser.
    "city": {"workers": 1000, "days": 30, "every_s": 90, "late_share": 0.05},
}


class DemoRefused(Exception):
    pass


@functools.lru_cache(maxsize=2)
def road_graph(city_scale: str = "demo", seed: int = 1):
    """(vertices as an (n, 2) array of lon/lat in EPSG:4490, neighbours of each vertex): the demo
    city's road network, its intersections shared between the lines crossing there."""
    from pyproj import Transformer

    from fixtures.demo_city.generator import LOCAL_CRS
    from fixtures.demo_city.generator import SCALES as CITY_SCALES
    from fixtures.demo_city.roads import build_network

    net = build_network(np.random.default_rng(seed), **CITY_SCALES[city_scale])
    index: dict[tuple, int] = {}
    points: list[tuple[float, float]] = []
    edges: list[tuple[int, int]] = []
    for line in net.lines:
        prev = None
        for x, y in line:
            key = (round(float(x), 1), round(float(y), 1))  # the same node, whichever line passes it
            i = index.get(key)
            if i is None:
                i = index[key] = len(points)
                points.append((float(x), float(y)))
            if prev is not None and prev != i:
                edges.append((prev, i))
            prev = i
    xy = np.array(points)
    lon, lat = Transformer.from_crs(LOCAL_CRS, "EPSG:4490", always_xy=True).transform(xy[:, 0], xy[:, 1])
    neighbours: list[list[int]] = [[] for _ in points]
    for a, b in edges:
        neighbours[a].append(b)
        neighbours[b].append(a)
    return np.column_stack([lon, lat]), neighbours


def road_lines(city_scale: str = "demo", seed: int = 1) -> list[np.ndarray]:
    """The demo roads as lon/lat arrays (for tests and checks)."""
    from pyproj import Transformer

    from fixtures.demo_city.generator import LOCAL_CRS
    from fixtures.demo_city.generator import SCALES as CITY_SCALES
    from fixtures.demo_city.roads import build_network

    net = build_network(np.random.default_rng(seed), **CITY_SCALES[city_scale])
    to_geo = Transformer.from_crs(LOCAL_CRS, "EPSG:4490", always_xy=True)
    return [np.column_stack(to_geo.transform(line[:, 0], line[:, 1])) for line in net.lines]


def _city_scale() -> str:
    """The demo city loaded: its base grids' count tells the scale (demo ~1,300, city ~15,000)."""
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM layers_grid WHERE level_id = 4")
        return "city" if cur.fetchone()[0] > 5000 else "demo"


def route(rng: random.Random, vertices, neighbours, box) -> np.ndarray | None:
    """A random walk (lon/lat array) over the road vertices within `box` (widened by MARGIN_DEG),
    avoiding turning back unless at a dead end; None when no road passes there."""
    minx, miny, maxx, maxy = box
    for margin in (MARGIN_DEG, 3 * MARGIN_DEG):
        inside = (
            (vertices[:, 0] >= minx - margin)
            & (vertices[:, 0] <= maxx + margin)
            & (vertices[:, 1] >= miny - margin)
            & (vertices[:, 1] <= maxy + margin)
        )
        allowed = set(np.flatnonzero(inside).tolist())
        starts = [i for i in allowed if any(n in allowed for n in neighbours[i])]
        if starts:
            break
    else:
        return None
    at, prev, path, length = rng.choice(sorted(starts)), None, [], 0.0
    path.append(at)
    for _ in range(5000):
        options = [n for n in neighbours[at] if n in allowed and n != prev] or [
            n for n in neighbours[at] if n in allowed
        ]
        nxt = rng.choice(options)
        length += _metres(vertices[at], vertices[nxt])
        prev, at = at, nxt
        path.append(at)
        if length >= ROUTE_METRES:
            break
    return vertices[path]


def _metres(a, b) -> float:
    dx = (b[0] - a[0]) * M_PER_DEG_LAT * math.cos(math.radians(a[1]))
    return math.hypot(dx, (b[1] - a[1]) * M_PER_DEG_LAT)


def walk_day(rng: random.Random, path: np.ndarray, start: dt.datetime, hours: float, every_s: int):
    """(times, lon, lat) of a shift: the route walked back and forth at WALK_MS from a random point,
    a 6-10 minute stop every 15-25 minutes, a few metres of GPS noise."""
    n = int(hours * 3600 // every_s)
    t = np.arange(n) * float(every_s)
    # Time spent moving before each sample: the clock minus the stops already begun.
    moving = t.copy()
    at = rng.uniform(5, 20) * 60
    while at < t[-1] if n else False:
        length = rng.uniform(6, 10) * 60
        moving -= np.clip(t - at, 0, length)
        at += length + rng.uniform(15, 25) * 60
    seg = np.array([_metres(path[i], path[i + 1]) for i in range(len(path) - 1)])
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    total = cum[-1]
    s = (rng.uniform(0, 2 * total) + moving * WALK_MS) % (2 * total)
    s = np.where(s > total, 2 * total - s, s)  # back and forth
    lon, lat = np.interp(s, cum, path[:, 0]), np.interp(s, cum, path[:, 1])
    nrng = np.random.default_rng(rng.getrandbits(32))
    lat = lat + nrng.normal(0, NOISE_M / M_PER_DEG_LAT, n)
    lon = lon + nrng.normal(0, NOISE_M / (M_PER_DEG_LAT * math.cos(math.radians(float(lat.mean())))), n)
    times = [start + dt.timedelta(seconds=float(x)) for x in t]
    return times, lon, lat


def _fixes(rng: random.Random, times, lon, lat, gcj: bool, jumps: bool = True) -> list[dict]:
    lon = lon.copy()
    jumps = np.array([jumps and rng.random() < JUMP_SHARE for _ in range(len(lon))], dtype=bool)
    lon[jumps] += 0.05 * np.array([1 if rng.random() < 0.5 else -1 for _ in range(int(jumps.sum()))])  # ~4.5 km
    if gcj:
        lon, lat = crs.wgs84_to_gcj02(lon, lat)
    name = "GCJ02" if gcj else "WGS84"
    return [
        {
            "fix_time": t.isoformat(),
            "send_time": (t + dt.timedelta(seconds=rng.randint(1, 90))).isoformat(),
            "lon": float(x),
            "lat": float(y),
            "accuracy": round(rng.uniform(3, 25), 1),
            "speed": WALK_MS,
            "crs": name,
        }
        for t, x, y in zip(times, lon, lat)
    ]


def load(
    workers: int | None = None,
    day: dt.date | None = None,
    seed: int = 1,
    every_s: int | None = None,
    if_empty=False,
    scale: str = "demo",
    days: int | None = None,
    progress=None,
) -> dict:
    from components.auth import is_production

    if is_production():
        raise DemoRefused("demo patrols are refused in production (GRIDCITY_ENV=production)")
    if scale not in SCALES:
        raise DemoRefused(f"unknown scale {scale!r}: {', '.join(SCALES)}")
    if if_empty and PatrolFix.objects.exists():
        return {"skipped": True}
    plan = SCALES[scale]
    workers = workers or plan["workers"]
    days = days or plan["days"]
    every_s = every_s or plan["every_s"]
    zone = ZoneInfo(settings.TIME_ZONE)
    last_day = day or (dt.datetime.now(zone).date() - dt.timedelta(days=1))
    first_day = last_day - dt.timedelta(days=days - 1)
    rng = random.Random(seed)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT code, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM layers_grid "
            "WHERE level_id = 4 ORDER BY code"
        )
        grids = cur.fetchall()
        # A month's partition for every day walked (a fix of a month not made would land in DEFAULT).
        cur.execute("SELECT patrols_make_partitions(%s, %s)", [first_day, days // 28 + 2])
    if not grids:
        raise DemoRefused("no base grids (level 4): load the demo city first (manage.py load_demo_city)")
    vertices, neighbours = road_graph(_city_scale(), 1)
    chosen = rng.sample(grids, min(workers, len(grids)))
    group, _ = Group.objects.get_or_create(name=roles.GRID_WORKER)
    totals = {"workers": 0, "stored": 0, "duplicates": 0, "quarantined": 0, "batches": 0, "skipped": False}
    bulk = days > 1  # a day (or a backlog of days) per request, up to the ingest's limit
    for n, (grid_code, *box) in enumerate(chosen):
        user, _ = get_user_model().objects.get_or_create(username=f"patrol_demo_{n + 1:03d}")
        user.groups.add(group)
        PatrolAssignment.objects.get_or_create(
            worker=user, grid_code=grid_code, defaults={"valid_from": first_day - dt.timedelta(days=30)}
        )
        path = route(rng, vertices, neighbours, box)
        if path is None:
            continue
        gcj = n % 4 == 3  # every fourth phone reports Amap (GCJ-02) coordinates
        per_day = []
        for d in range(days):
            the_day = first_day + dt.timedelta(days=d)
            start = dt.datetime.combine(the_day, dt.time(8, 30), zone) + dt.timedelta(minutes=rng.randint(0, 30))
            per_day.append(_fixes(rng, *walk_day(rng, path, start, 8, every_s), gcj))
        for batch in _batches(rng, per_day, bulk, every_s, plan["late_share"]):
            sends = 2 if rng.random() < RESENT_SHARE else 1  # a lost acknowledgement: the phone sends it again
            for _ in range(sends):
                answer = ingest(user, {"device_id": f"demo-{n + 1:03d}", "fixes": batch})
                totals["stored"] += answer["stored"]
                totals["duplicates"] += answer["duplicates"]
                totals["quarantined"] += len(answer["quarantined"])
                totals["batches"] += 1
        totals["workers"] += 1
        if progress and (n + 1) % 50 == 0:
            progress(n + 1, totals)
    return totals


def _batches(rng: random.Random, per_day: list[list[dict]], bulk: bool, every_s: int, late_share: float):
    """Hourly batches (demo), or one batch per day; a late phone holds its days back and posts the
    backlog later, newest day first (out of order), in batches of at most GRIDCITY_PATROL_MAX_FIXES."""
    limit = settings.GRIDCITY_PATROL_MAX_FIXES
    if not bulk:
        per_batch = max(1, BATCH_MINUTES * 60 // every_s)
        batches = [fixes[b : b + per_batch] for fixes in per_day for b in range(0, len(fixes), per_batch)]
        late = rng.random() < late_share  # offline all day: the hours posted in the evening, newest first
        yield from reversed(batches) if late else batches
        return
    held: list[list[dict]] = []
    for fixes in per_day:
        if rng.random() < late_share or (held and rng.random() < 0.6):
            held.append(fixes)  # offline: kept on the phone
            continue
        for late in reversed(held):  # the backlog, newest day first, before today's
            yield from _split(late, limit)
        held = []
        yield from _split(fixes, limit)
    for late in reversed(held):
        yield from _split(late, limit)


def _split(fixes, limit):
    for b in range(0, len(fixes), limit):
        yield fixes[b : b + limit]
