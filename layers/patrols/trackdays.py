"""Stored daily tracks (`patrols_trackday`): one line per worker per local day, rebuilt from the
fixes for exactly the worker-days a batch added fixes to, in the batch's transaction, so tiles are
right as soon as the batch commits and a tile reads one line per worker-day instead of every fix.

A day is rebuilt whole rather than appended to: fixes arrive late and out of order (a phone's
backlog), and rebuilding one worker-day reads at most a few thousand fixes from one partition.
Simplified copies are made here once, not per tile: `geom_3857_mid` with the tolerance of half a
pixel at z15 (served z13-15), `geom_3857_low` with that of z12 (served up to z12); the tile query
still simplifies each to its own zoom on top."""

from gis_core.mercator import HALF_WORLD

ZONE = "Asia/Shanghai"  # the day of a fix, as the view of migration 0001 had it (settings.TIME_ZONE)
MID_ZOOM, LOW_ZOOM = 15, 12


def tolerance(z: int, px: float = 0.5) -> float:
    """`px` screen pixels (of a 256-pixel tile) at zoom z, in EPSG:3857 metres."""
    return px * 2 * HALF_WORLD / 256 / 2**z


# The columns of a trackday row from the fixes selected by `where` (grouped per worker and day).
_ROWS = f"""
SELECT worker_id::bigint * 100000 + (day - DATE '2000-01-01'), worker_id, day, first_time, last_time, fix_count,
       line, l3857, ST_Simplify(l3857, %(mid)s, true), ST_Simplify(l3857, %(low)s, true)
FROM (
    SELECT worker_id, day, first_time, last_time, fix_count, line, ST_Transform(line, 3857) AS l3857
    FROM (
        SELECT worker_id, (fix_time AT TIME ZONE '{ZONE}')::date AS day, min(fix_time) AS first_time,
               max(fix_time) AS last_time, count(*)::integer AS fix_count,
               ST_MakeLine(geom ORDER BY fix_time) AS line
        FROM patrols_patrolfix
        WHERE {{where}}
        GROUP BY 1, 2
        HAVING count(*) > 1
    ) g
) s
"""
_INSERT = (
    "INSERT INTO patrols_trackday (id, worker_id, day, first_time, last_time, fix_count, geom, geom_3857, "
    "geom_3857_mid, geom_3857_low) "
)

# One worker's days: the fix_time range lets PostgreSQL prune to the partitions of those days.
_ONE_WORKER = (
    "worker_id = %(worker)s AND fix_time >= %(start)s AND fix_time < %(end)s "
    f"AND (fix_time AT TIME ZONE '{ZONE}')::date = ANY(%(days)s::date[])"
)
DROP_DAYS = (
    "WITH gone AS (DELETE FROM patrols_trackday WHERE worker_id = %(worker)s AND day = ANY(%(days)s::date[]) "
    "RETURNING geom) SELECT ST_Extent(geom) FROM gone"
)
MAKE_DAYS = (
    f"WITH made AS ({_INSERT} {_ROWS.format(where=_ONE_WORKER)} RETURNING geom) "
    "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
    "(SELECT ST_Extent(geom)::geometry AS e FROM (SELECT geom FROM made UNION ALL "
    "SELECT %(gone)s::box2d::geometry) b) x"
)

# Every worker-day at once (the migration's backfill, and `rebuild()` after a repair by hand).
REBUILD = f"DELETE FROM patrols_trackday; {_INSERT} {_ROWS.format(where='TRUE')}"


def params(**extra) -> dict:
    return {"mid": tolerance(MID_ZOOM), "low": tolerance(LOW_ZOOM), **extra}


def refresh(cursor, worker_id: int, days, start, end) -> tuple | None:
    """Rebuilds the worker's `days` (dates) from their fixes in [start, end) (the days' bounds).
    Returns the extent (EPSG:4490) of the lines before and after: every tile that may differ, since
    simplification can move vertices anywhere along a changed line."""
    days = sorted(days)
    cursor.execute(DROP_DAYS, {"worker": worker_id, "days": days})
    gone = cursor.fetchone()[0]
    cursor.execute(MAKE_DAYS, params(worker=worker_id, days=days, start=start, end=end, gone=gone))
    box = cursor.fetchone()
    return tuple(box) if box and box[0] is not None else None


def rebuild() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(REBUILD, params())
