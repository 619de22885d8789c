"""A worker's day replayed: timed coordinates, stops and the trips between them."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from .ingest import metres


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


def replay(worker, day: dt.date, radius_m: float | None = None, minutes: float | None = None) -> dict:
    radius_m = settings.GRIDCITY_PATROL_STOP_METRES if radius_m is None else radius_m
    minutes = settings.GRIDCITY_PATROL_STOP_MINUTES if minutes is None else minutes
    points = fixes_of(worker, day)
    runs = stops(points, radius_m, minutes)

    def stop(i, j):
        xs, ys = [p[1] for p in points[i : j + 1]], [p[2] for p in points[i : j + 1]]
        return {
            "start": points[i][0].isoformat(),
            "end": points[j][0].isoformat(),
            "minutes": round((points[j][0] - points[i][0]).total_seconds() / 60, 1),
            "lon": round(sum(xs) / len(xs), 7),
            "lat": round(sum(ys) / len(ys), 7),
            "fixes": j - i + 1,
        }

    def trip(i, j):
        length = sum(metres(*points[k][1:], *points[k + 1][1:]) for k in range(i, j))
        return {
            "start": points[i][0].isoformat(),
            "end": points[j][0].isoformat(),
            "distance_m": round(length, 1),
            "fixes": j - i + 1,
        }

    # Trips: the fixes between stops, each from the last fix of one stop to the first of the next.
    trips, at = [], 0
    for i, j in runs:
        if i > at:
            trips.append(trip(at, i))
        at = j
    if points and at < len(points) - 1:
        trips.append(trip(at, len(points) - 1))
    return {
        "worker": worker.username,
        "date": day.isoformat(),
        "coordinates": [[t.isoformat(), round(x, 7), round(y, 7)] for t, x, y in points],
        "stops": [stop(i, j) for i, j in runs],
        "trips": trips,
        "stop_rule": {"metres": radius_m, "minutes": minutes},
    }
