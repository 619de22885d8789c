"""Patrol coverage of base grids per day (issue 11 §3), computed set-based in PostGIS, exact geometry.

Per base grid and local day (Asia/Shanghai):
- street_m: length of the road centre lines (roads_road) inside the grid;
- walked_m / street_share: the part of those lines within WALK_M (30 m) of any worker's track;
- area_share: the part of the grid's area within SWATH_M (50 m) of a track;
- minutes: time of the fixes inside the grid, each fix counting the interval to the worker's next fix,
  capped at FIX_CAP_S (60 s) (a phone switched off does not patrol);
- workers / worker_minutes: who had fixes inside the grid, and for how long.

How (measured in docs/patrols.md; buffering whole-day lines took ~290 s a city day, the previous version
100 s of CPU, this one ~40 s):
1. base grids and the roads clipped to each of them, once per run, in the district's CGCS2000 3-degree
   Gauss-Krueger zone (metres);
2. per share of the workers, on its own connection (2 on a 2-core machine), start to finish: one ordered
   scan of their fixes (intervals, runs split at gaps above GAP_S, SLOT_S pieces of line); the minutes per
   grid by a point-in-grid join driven from the grids; each piece simplified by SIMPLIFY_M, buffered by
   WALK_M (quad_segs=QUAD_SEGS) and the buffers unioned per worker (the walk), the swath being the walk
   grown by SWATH_M - WALK_M;
3. per share of the grids: the swaths meeting a grid clipped to it and unioned (area), the walks unioned
   and the grid's roads cut by them (walked).
The day's rows are replaced in one transaction at the end.

Stated approximations: tracks simplified by SIMPLIFY_M (2 m) before buffering; buffers are polygons with
QUAD_SEGS (4) chords per quarter circle, inside the true circle by at most r(1 - cos(pi / (4 QUAD_SEGS))):
0.58 m at 30 m, 0.96 m for the 50 m swath (0.58 m + 0.38 m of its 20 m step). Measured on the bench day:
swath area ~0.7 % under quad_segs=16 (quad_segs=2, the previous setting: ~3.6 % under).
"""

import datetime as dt
import json
import secrets
import threading
import time
import zoneinfo
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import GridCoverage

WALK_M = 30.0
SWATH_M = 50.0
FIX_CAP_S = 60.0
GAP_S = 120.0
SLOT_S = 120
SIMPLIFY_M = 2.0
QUAD_SEGS = 4
BASE_LEVEL = 4
# A city day takes tens of seconds: the request-sized statement timeout (10 s) does not apply here.
STATEMENT_TIMEOUT = "15min"
LOCAL = zoneinfo.ZoneInfo("Asia/Shanghai")


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(0), tzinfo=LOCAL)
    return start, start + dt.timedelta(days=1)


def district_srid(cur) -> int:
    """The CGCS2000 3-degree GK zone of the district's centre (the same rule as grid areas)."""
    x0, y0, x1, y1 = settings.GRIDCITY_DISTRICT_BBOX
    cur.execute("SELECT gridcity_gk_srid(ST_SetSRID(ST_MakePoint(%s, %s), 4490))", [(x0 + x1) / 2, (y0 + y1) / 2])
    return cur.fetchone()[0]


class _Scratch:
    """Names of this run's UNLOGGED work tables (visible to the helper connections, unlike TEMP ones)."""

    def __init__(self):
        token = secrets.token_hex(4)
        self.grids, self.streets, self.minutes, self.swaths = (
            f"patrols_cov_{token}_{part}" for part in ("grid", "street", "minute", "swath")
        )

    def all(self):
        return (self.grids, self.streets, self.minutes, self.swaths)


def _run(cur, script: str, params):
    """psycopg sends statements with parameters one at a time: a script is split on ';\n'."""
    for statement in script.split(";\n"):
        if statement.strip():
            cur.execute(statement, params)


_SETUP = """
CREATE UNLOGGED TABLE {grids} AS
SELECT row_number() OVER (ORDER BY code)::int AS id, code, gk AS geom, ST_Area(gk) AS area_m2
FROM (SELECT code, ST_Transform(geom, %(srid)s) AS gk FROM layers_grid
      WHERE level_id = %(level)s AND (%(codes)s::text[] IS NULL OR code = ANY(%(codes)s))) g;
CREATE INDEX ON {grids} USING gist (geom);
ANALYZE {grids};
CREATE UNLOGGED TABLE {streets} AS
SELECT g.id AS grid_id, ST_CollectionExtract(ST_Intersection(ST_Collect(r.gk), g.geom), 2) AS geom
FROM {grids} g
JOIN (SELECT ST_Transform(geom, %(srid)s) AS gk FROM roads_road) r ON ST_Intersects(r.gk, g.geom)
GROUP BY g.id, g.geom;
CREATE UNIQUE INDEX ON {streets} (grid_id);
CREATE UNLOGGED TABLE {minutes} (grid_id int, worker_id int, seconds float8);
CREATE UNLOGGED TABLE {swaths} (worker_id int, walk geometry, swath geometry);
"""


# One share of the workers (worker_id % parts = part), start to finish on one connection: one ordered
# scan of their fixes, the minutes per grid, the pieces of track and each worker's walk and swath.
# - The scan computes each fix's interval (capped), run (a gap above GAP_S starts one) and the next
#   fix of the same run, which closes the fix's slot piece (so no segment is lost between slots).
# - Minutes: point in grid driven from the grids over a GiST on the scan (one index probe per grid,
#   the grid's prepared polygon reused for its ~1,000 fixes): ~1.2 s per 1.4 M fixes, against ~18 s
#   probing the grid index once per fix.
# - Walk: each piece buffered by WALK_M, unioned per worker; swath = walk grown by SWATH_M - WALK_M
#   (Minkowski sums add: buffer(buffer(L, 30), 20) = buffer(L, 50)), instead of a second union of
#   50 m buffers. Buffering the self-overlapping pieces is the cost (the union is the smaller part).
_WORKERS = """
CREATE TEMP TABLE {tmp} AS
SELECT worker_id, fix_time, gk, seconds, floor(extract(epoch FROM fix_time) / %(slot)s)::bigint AS slot,
       sum(CASE WHEN gap IS NULL OR gap > %(gap)s THEN 1 ELSE 0 END) OVER w AS run,
       CASE WHEN next_gap <= %(gap)s THEN lead(gk) OVER w END AS closing
FROM (
    SELECT worker_id, fix_time, ST_Transform(geom, %(srid)s) AS gk,
           extract(epoch FROM fix_time - lag(fix_time) OVER w) AS gap,
           extract(epoch FROM lead(fix_time) OVER w - fix_time) AS next_gap,
           least(coalesce(extract(epoch FROM lead(fix_time) OVER w - fix_time), 0), %(cap)s) AS seconds
    FROM patrols_patrolfix
    WHERE fix_time >= %(start)s AND fix_time < %(end)s AND worker_id %% %(parts)s = %(part)s
    WINDOW w AS (PARTITION BY worker_id ORDER BY fix_time)
) f
WINDOW w AS (PARTITION BY worker_id ORDER BY fix_time);
CREATE INDEX ON {tmp} USING gist (gk);
ANALYZE {tmp};

INSERT INTO {minutes} (grid_id, worker_id, seconds)
SELECT g.id, f.worker_id, sum(f.seconds)
FROM {grids} g JOIN {tmp} f ON ST_Intersects(g.geom, f.gk)
GROUP BY g.id, f.worker_id;

INSERT INTO {swaths} (worker_id, walk, swath)
SELECT worker_id, walk, ST_Buffer(walk, %(swath)s - %(walk)s, %(quad)s)
FROM (
    SELECT worker_id, ST_Union(ST_Buffer(ST_Simplify(line, %(simplify)s), %(walk)s, %(quad)s)) AS walk
    FROM (
        SELECT worker_id,
               CASE WHEN closing IS NULL THEN line ELSE ST_AddPoint(line, closing) END AS line
        FROM (
            SELECT worker_id, ST_MakeLine(gk ORDER BY fix_time) AS line,
                   (array_agg(closing ORDER BY fix_time DESC))[1] AS closing
            FROM {tmp}
            GROUP BY worker_id, run, slot
        ) p
    ) q
    WHERE ST_NPoints(line) > 1
    GROUP BY worker_id
) w;
DROP TABLE {tmp};
"""

# Per grid of a share of the grids (id % parts = part): the workers' swaths met, clipped to the grid
# and unioned (area); their walks clipped to the box of the grid's roads, unioned, then the roads cut
# by that union (street walked). The walks are unioned before the roads are cut, not the cut roads
# after: the parts of one road cut by two workers' walks are not exactly collinear in floating point,
# so a union of the parts counted a road walked by two workers about twice.
_GRIDS = """
WITH h AS (
    SELECT g.id AS grid_id, s.walk, s.swath
    FROM {grids} g JOIN {swaths} s ON s.swath && g.geom
    WHERE g.id %% %(parts)s = %(part)s
), area AS (
    SELECT h.grid_id, ST_Area(ST_Union(ST_Intersection(h.swath, g.geom))) / nullif(g.area_m2, 0) AS share
    FROM h JOIN {grids} g ON g.id = h.grid_id
    GROUP BY h.grid_id, g.area_m2
), walk AS (
    SELECT h.grid_id,
           ST_Length(ST_CollectionExtract(ST_Intersection(st.geom, ST_Union(
               ST_Intersection(h.walk, ST_Expand(st.geom, 1)))), 2)) AS walked_m
    FROM h JOIN {streets} st ON st.grid_id = h.grid_id AND st.geom && h.walk
    GROUP BY h.grid_id, st.geom
)
SELECT a.grid_id, coalesce(w.walked_m, 0), coalesce(a.share, 0)
FROM area a LEFT JOIN walk w ON w.grid_id = a.grid_id
"""


def _in_parallel(jobs, workers: int):
    """Runs job(cursor) callables, each on its own connection when workers > 1; returns their results."""
    if workers <= 1:
        with connection.cursor() as cur:
            return [job(cur) for job in jobs]

    def run(job):
        try:
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute("SET LOCAL statement_timeout = %s", [STATEMENT_TIMEOUT])
                return job(cur)
        finally:
            if threading.current_thread() is not threading.main_thread():
                connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, jobs))


def compute_day(day: dt.date, codes: list[str] | None = None, *, workers: int = 2) -> dict:
    """Replaces the GridCoverage rows of `day` (all base grids, or those in `codes`); returns
    {"day", "grids", "visited", "fixes_seconds", "grids_seconds", "seconds"} (fixes_seconds: the per-worker
    step, from the fixes to each worker's swath; grids_seconds: the per-grid clipping).

    With workers > 1 the work tables must be visible to other connections: the caller may not be inside
    a transaction (tests are: they run with workers=1)."""
    t0 = time.perf_counter()
    if connection.in_atomic_block:
        workers = 1
    start, end = day_bounds(day)
    s = _Scratch()
    try:
        with connection.cursor() as cur:
            cur.execute("SET statement_timeout = %s", [STATEMENT_TIMEOUT])
            srid = district_srid(cur)
        params = {
            "gap": GAP_S,
            "cap": FIX_CAP_S,
            "srid": srid,
            "slot": SLOT_S,
            "start": start,
            "end": end,
            "parts": workers,
            "simplify": SIMPLIFY_M,
            "walk": WALK_M,
            "swath": SWATH_M,
            "quad": f"quad_segs={QUAD_SEGS}",
            "level": BASE_LEVEL,
            "codes": codes,
        }
        names = {"grids": s.grids, "streets": s.streets, "minutes": s.minutes, "swaths": s.swaths}
        with connection.cursor() as cur:
            _run(cur, _SETUP.format(**names), params)

        def share(part):
            def job(cur):
                _run(cur, _WORKERS.format(tmp=f"patrols_cov_fix_{part}", **names), {**params, "part": part})

            return job

        _in_parallel([share(k) for k in range(workers)], workers)
        with connection.cursor() as cur:
            cur.execute(f"CREATE INDEX ON {s.swaths} USING gist (swath)")
            cur.execute(f"ANALYZE {s.swaths}")
        t1 = time.perf_counter()

        def grids(part):
            def job(cur):
                cur.execute(_GRIDS.format(**names), {**params, "part": part})
                return cur.fetchall()

            return job

        measured = {
            gid: row for rows in _in_parallel([grids(k) for k in range(workers)], workers) for gid, *row in rows
        }
        t2 = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(
                f"""
                SELECT g.id, g.code, coalesce(ST_Length(st.geom), 0),
                       coalesce(sum(m.seconds), 0) / 60.0,
                       coalesce(jsonb_object_agg(u.username, round((m.seconds / 60.0)::numeric, 2))
                                FILTER (WHERE u.username IS NOT NULL), '{{}}')
                FROM {s.grids} g
                LEFT JOIN {s.streets} st ON st.grid_id = g.id
                LEFT JOIN {s.minutes} m ON m.grid_id = g.id
                LEFT JOIN auth_user u ON u.id = m.worker_id
                GROUP BY g.id, g.code, st.geom
                """
            )
            totals = cur.fetchall()
        now = timezone.now()
        rows = []
        for gid, code, street_m, minutes, by_worker in totals:
            walked_m, area_share = measured.get(gid, (0.0, 0.0))
            if isinstance(by_worker, str):
                by_worker = json.loads(by_worker)
            by_worker = {k: float(v) for k, v in by_worker.items()}
            rows.append(
                GridCoverage(
                    grid_code=code,
                    day=day,
                    street_m=round(street_m, 1),
                    walked_m=round(min(walked_m, street_m), 1),
                    street_share=round(min(walked_m / street_m, 1.0), 4) if street_m > 0 else None,
                    area_share=round(min(area_share, 1.0), 4),
                    minutes=round(float(minutes), 2),
                    workers=sorted(by_worker),
                    worker_minutes=by_worker,
                    computed_at=now,
                )
            )
        with transaction.atomic():
            old = GridCoverage.objects.filter(day=day)
            if codes is not None:
                old = old.filter(grid_code__in=codes)
            old.delete()
            GridCoverage.objects.bulk_create(rows, batch_size=2000)
    finally:
        with connection.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS " + ", ".join(s.all()))
            cur.execute("RESET statement_timeout")
    return {
        "day": day.isoformat(),
        "grids": len(rows),
        "visited": sum(1 for r in rows if r.minutes > 0 or r.area_share > 0),
        "fixes_seconds": round(t1 - t0, 2),
        "grids_seconds": round(t2 - t1, 2),
        "seconds": round(time.perf_counter() - t0, 2),
    }
