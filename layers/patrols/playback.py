"""A worker's day replayed: timed coordinates, shifts, stops and the trips between them."""

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.db import connection

from .ingest import EARTH_RADIUS_M, metres


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = ZoneInfo(settings.TIME_ZONE)
    start = dt.datetime.combine(day, dt.time(), zone)
    return start, start + dt.timedelta(days=1)


def fixes_of(worker, day: dt.date) -> list[tuple[dt.datetime, float, float]]:
    """The day's fixes in time order. Plain coordinates from SQL: a GEOS point per fix would cost more
    than the rest of the playback (a day at one fix per 10 s is ~3,000 fixes)."""
    start, end = day_bounds(day)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT fix_time, ST_X(geom), ST_Y(geom) FROM patrols_patrolfix WHERE worker_id = %s "
            "AND fix_time >= %s AND fix_time < %s ORDER BY fix_time",
            [worker.pk, start, end],
        )
        return cur.fetchall()


def stops(points, radius_m: float, minutes: float) -> list[tuple[int, int]]:
    """(first, last) index pairs: runs that stay within `radius_m` of their first fix for at least
    `minutes` (the usual anchor method; a run is extended as long as it stays in the circle)."""
    found, i, n = [], 0, len(points)
    while i < n:
        j = i
        while j + 1 < n and metres(points[i][1], points[i][2], points[j + 1][1], points[j + 1][2]) <= radius_m:
            j += 1
        if (points[j][0] - points[i][0]).total_seconds() >= minutes * 60:
            found.append((i, j))
            i = j + 1
        else:
            i += 1
    return found


# Python's isoformat() of the UTC datetimes psycopg would return, made by PostgreSQL: ~3,000 fixes a day
# (one per 10 s) are ~3,000 datetimes to load and format, most of a playback's time in Python.
_ISO_UTC = (
    "to_char(fix_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
    "CASE WHEN date_part('microseconds', fix_time)::bigint %% 1000000 <> 0 "
    "THEN to_char(fix_time AT TIME ZONE 'UTC', '.US') ELSE '' END || '+00:00'"
)


def _day_arrays(worker, day: dt.date):
    """(epoch seconds, ISO texts, lon, lat) of the day's fixes in time order."""
    start, end = day_bounds(day)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT extract(epoch FROM fix_time)::float8, {_ISO_UTC}, ST_X(geom), ST_Y(geom) "
            "FROM patrols_patrolfix WHERE worker_id = %s AND fix_time >= %s AND fix_time < %s ORDER BY fix_time",
            [worker.pk, start, end],
        )
        rows = cur.fetchall()
    if not rows:
        return np.zeros(0), [], np.zeros(0), np.zeros(0)
    t, iso, x, y = zip(*rows)
    return np.array(t), list(iso), np.array(x), np.array(y)


def _haversine(lon1, lat1, lon2, lat2):
    """ingest.metres on arrays."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(1.0, a)))


def _runs(t, lon, lat, radius_m: float, minutes: float, near: int = 8) -> list[tuple[int, int]]:
    """`stops` on arrays, the same anchor rule. Every anchor's next `near` fixes are tested in one array
    operation; only anchors whose circle holds all of them (a stop) are followed further, in slices."""
    n = len(t)
    if n == 0:
        return []
    ahead = np.arange(n)[:, None] + np.arange(1, near + 1)[None, :]
    beyond = ahead >= n
    ahead = np.minimum(ahead, n - 1)
    leaves = (_haversine(lon[:, None], lat[:, None], lon[ahead], lat[ahead]) > radius_m) | beyond
    # Last fix of each anchor's run within the next `near` (or -1: all of them inside, look further).
    last = np.where(leaves.any(axis=1), np.arange(n) + leaves.argmax(axis=1), -1)
    found, i = [], 0
    while i < n:
        j = int(last[i])
        if j < 0:
            j, chunk = i + near, 64
            while j + 1 < n:
                hi = min(n, j + 1 + chunk)
                out = np.flatnonzero(_haversine(lon[i], lat[i], lon[j + 1 : hi], lat[j + 1 : hi]) > radius_m)
                if out.size:
                    j += int(out[0])
                    break
                j, chunk = hi - 1, chunk * 2
        if t[j] - t[i] >= minutes * 60:
            found.append((i, j))
            i = j + 1
        else:
            i += 1
    return found


def replay(worker, day: dt.date, radius_m: float | None = None, minutes: float | None = None) -> dict:
    radius_m = settings.GRIDCITY_PATROL_STOP_METRES if radius_m is None else radius_m
    minutes = settings.GRIDCITY_PATROL_STOP_MINUTES if minutes is None else minutes
    t, iso, x, y = _day_arrays(worker, day)
    n = len(t)
    step = _haversine(x[:-1], y[:-1], x[1:], y[1:]) if n > 1 else np.zeros(0)
    along = np.concatenate([[0.0], np.cumsum(step)])  # metres walked up to each fix
    runs = _runs(t, x, y, radius_m, minutes)

    def stop(i, j):
        return {
            "start": iso[i],
            "end": iso[j],
            "minutes": round(float(t[j] - t[i]) / 60, 1),
            "lon": round(float(x[i : j + 1].mean()), 7),
            "lat": round(float(y[i : j + 1].mean()), 7),
            "fixes": j - i + 1,
        }

    def trip(i, j):
        return {"start": iso[i], "end": iso[j], "distance_m": round(float(along[j] - along[i]), 1), "fixes": j - i + 1}

    # Trips: the fixes between stops, each from the last fix of one stop to the first of the next.
    trips, at = [], 0
    for i, j in runs:
        if i > at:
            trips.append(trip(at, i))
        at = j
    if n and at < n - 1:
        trips.append(trip(at, n - 1))
    xs, ys = np.round(x, 7).tolist(), np.round(y, 7).tolist()
    gap_s = settings.GRIDCITY_PATROL_SHIFT_GAP_MINUTES * 60
    # Shifts: the day cut where the phone was silent longer than the gap (off duty, lunch at home).
    cuts = np.flatnonzero(np.diff(t) > gap_s) if n > 1 else np.zeros(0, dtype=int)
    bounds = list(zip([0, *(cuts + 1).tolist()], [*cuts.tolist(), n - 1])) if n else []
    shifts = [
        {
            "start": iso[i],
            "end": iso[j],
            "minutes": round(float(t[j] - t[i]) / 60, 1),
            "distance_m": round(float(along[j] - along[i]), 1),
            "fixes": j - i + 1,
        }
        for i, j in bounds
    ]
    return {
        "worker": worker.username,
        "date": day.isoformat(),
        "coordinates": [[a, b, c] for a, b, c in zip(iso, xs, ys)],
        "shifts": shifts,
        "stops": [stop(i, j) for i, j in runs],
        "trips": trips,
        "stop_rule": {"metres": radius_m, "minutes": minutes},
        "shift_gap_minutes": settings.GRIDCITY_PATROL_SHIFT_GAP_MINUTES,
    }
