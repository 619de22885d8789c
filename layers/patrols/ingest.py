"""The one write path of patrol fixes: `ingest(user, batch)`.

A batch is validated whole first: one malformed fix refuses the batch (400, each bad fix named by
index and field) and nothing is written, so a device can resend it unchanged after a fix in the app.
Well-formed but implausible fixes are kept apart in QuarantinedFix with a reason; the rest go through
COPY into a staging table and INSERT ... ON CONFLICT DO NOTHING on (worker, fix_time), so the same fix
posted any number of times, in any order or in overlapping batches, is stored once."""

import bisect
import datetime as dt
import math
import statistics
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from components import roles
from gis_core import crs as crs_lib
from gis_core.errors import ClientError, ServiceError

from . import trackdays
from .models import DeviceClock, PatrolFix, QuarantinedFix
from .signals import patrols_changed

CRS_NAMES = {"WGS84": 4326, "CGCS2000": 4490, "GCJ02": crs_lib.GCJ02, "BD09": crs_lib.BD09}
Reason = QuarantinedFix.Reason
EARTH_RADIUS_M = 6_371_008.8


def metres(lon1, lat1, lon2, lat2) -> float:
    """Great-circle distance (haversine): plenty for speeds and 50 m stops."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, a)))


def ingest(user, batch, now=None) -> dict:
    """Store a worker's batch of fixes. Returns {stored, duplicates, quarantined: [{index, reason}]}."""
    if roles.GRID_WORKER not in roles.roles_of(user):
        raise ClientError("only grid workers (网格员) post patrol fixes", status=403)
    now = now or timezone.now()
    if not isinstance(batch, dict):
        raise ServiceError({"fixes": "the body must be a JSON object {device_id?, fixes: [...]}"})
    _own(user, batch.get("worker"), "worker")
    fixes = batch.get("fixes")
    if not isinstance(fixes, list) or not fixes:
        raise ServiceError({"fixes": "give a non-empty list of fixes"})
    if len(fixes) > settings.GRIDCITY_PATROL_MAX_FIXES:
        raise ClientError(
            f"at most {settings.GRIDCITY_PATROL_MAX_FIXES} fixes per request, {len(fixes)} given: split the batch",
            field="fixes",
            status=413,
        )
    device = batch.get("device_id") or ""
    if not isinstance(device, str) or len(device) > 64:
        raise ServiceError({"device_id": "a text of at most 64 characters"})
    parsed, errors = [], {}
    for index, raw in enumerate(fixes):
        fix = _parse(user, index, raw, errors)
        if fix is not None:
            parsed.append(fix)
    if not errors:
        _to_storage(parsed, errors)
    if errors:
        raise ServiceError(errors)

    good, quarantined = _sort_out(user, parsed, now)
    with transaction.atomic():
        stored, bbox = _store(user, device, good, now)
        QuarantinedFix.objects.bulk_create(
            QuarantinedFix(
                worker=user,
                device_id=device,
                fix_time=f["fix_time"],
                send_time=f["send_time"],
                receive_time=now,
                geom=Point(f["lon"], f["lat"], srid=4490) if f["lon"] is not None else None,
                accuracy=f["accuracy"],
                speed=f["speed"],
                heading=f["heading"],
                source_crs=f["crs"],
                reason=reason,
                raw=f["raw"],
            )
            for f, reason in quarantined
        )
        _track_clock(user, device, parsed, now)
        if stored:
            # Where the worker's day lines were and are (simplification may move vertices anywhere
            # along a changed line) and the new fixes (positions): every tile that may differ.
            transaction.on_commit(lambda: patrols_changed.send(sender=PatrolFix, workers=[user.pk], bbox=bbox))
    return {
        "stored": stored,
        "duplicates": len(good) - stored,
        "quarantined": [{"index": f["index"], "reason": reason} for f, reason in sorted(quarantined, key=_index)],
    }


def _index(pair):
    return pair[0]["index"]


def _own(user, named, field):
    if named not in (None, "", user.username):
        raise ClientError(f"{field}: a worker posts only their own fixes", field=field, status=403)


_NUMBER = (int, float)  # exact types: a JSON true/false is a bool, which is no number here
_RANGES = (("accuracy", 0, None), ("speed", 0, None), ("heading", 0, 360))


def _parse(user, index, raw, errors) -> dict | None:
    """One fix checked and typed (coordinates converted later, per batch). Runs for every fix of
    every batch: kept to plain lookups and exact type tests."""
    if type(raw) is not dict:
        errors[f"fixes[{index}].fix"] = "each fix is an object"
        return None
    if raw.get("worker") not in (None, "", user.username):
        _own(user, raw["worker"], f"fixes[{index}].worker")
    had = len(errors)
    fix = {"index": index, "raw": raw}
    for name in ("fix_time", "send_time"):
        value = raw.get(name)
        if name == "send_time" and value in (None, ""):
            fix[name] = None
            continue
        when = _when(value) if type(value) is str else None
        if when is None:
            errors[f"fixes[{index}].{name}"] = "an ISO 8601 date and time with offset, e.g. 2026-12-03T08:00:00+08:00"
        elif when.utcoffset() is None:
            errors[f"fixes[{index}].{name}"] = "give the UTC offset (e.g. +08:00): a time without one is ambiguous"
        fix[name] = when
    name = raw.get("crs")
    if name not in CRS_NAMES:
        errors[f"fixes[{index}].crs"] = f"one of {', '.join(CRS_NAMES)}"
    fix["crs"] = name if type(name) is str else ""
    for key in ("lon", "lat"):
        value = raw.get(key)
        if type(value) not in _NUMBER or not math.isfinite(value):
            errors[f"fixes[{index}].{key}"] = "a number in degrees"
    for key, low, high in _RANGES:
        value = raw.get(key)
        if value is None:
            fix[key] = None
        elif type(value) not in _NUMBER or not math.isfinite(value):
            errors[f"fixes[{index}].{key}"] = "a number"
        elif value < low or (high is not None and value > high):
            errors[f"fixes[{index}].{key}"] = f"between {low} and {high}" if high is not None else f"at least {low}"
        else:
            fix[key] = float(value)
    if len(errors) > had:
        return None
    fix["ts"] = fix[
        "fix_time"
    ].timestamp()  # epoch seconds: compared and sorted below, far cheaper than aware datetimes
    fix["raw_lon"], fix["raw_lat"] = float(raw["lon"]), float(raw["lat"])
    if fix["raw_lon"] == 0 and fix["raw_lat"] == 0:
        fix["lon"] = fix["lat"] = None  # 0,0 is the receiver's "no position": quarantined, not converted
    return fix


def _to_storage(parsed, errors) -> None:
    """Sets lon/lat (EPSG:4490) of every parsed fix, one array conversion per CRS in the batch (a
    point at a time costs ~100x more, mostly numpy's per-call overhead in the GCJ-02 iteration);
    the same checks and messages as gis_core.crs.storage_point."""
    groups: dict[str, list[dict]] = {}
    for fix in parsed:
        if fix.get("raw_lon") is not None and "lon" not in fix:
            groups.setdefault(fix["crs"], []).append(fix)
    for name, fixes in groups.items():
        srid = CRS_NAMES[name]
        x = np.array([f["raw_lon"] for f in fixes])
        y = np.array([f["raw_lat"] for f in fixes])
        degrees = srid in (crs_lib.STORAGE_SRID, 4326, crs_lib.GCJ02, crs_lib.BD09)
        sane = (np.abs(x) <= 180) & (np.abs(y) <= 90) if degrees else np.ones(len(x), bool)
        lon, lat = np.full(len(x), np.nan), np.full(len(x), np.nan)
        if sane.any():
            lon[sane], lat[sane] = crs_lib.to_storage_xy(x[sane], y[sane], srid)
        landed = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
        where = srid if isinstance(srid, str) else f"EPSG:{srid}"
        for k, fix in enumerate(fixes):
            if not sane[k]:
                errors[f"fixes[{fix['index']}].lon"] = (
                    f"({x[k]}, {y[k]}) is not a lon,lat in degrees: wrong CRS or axis order?"
                )
            elif not landed[k]:
                errors[f"fixes[{fix['index']}].lon"] = f"({x[k]}, {y[k]}) lies outside the area of {where}"
            else:
                fix["lon"], fix["lat"] = float(lon[k]), float(lat[k])


def _when(value: str):
    """An ISO 8601 date-time: the standard library's parser first (the phones' own format, ~10x faster
    than Django's regex), Django's for the forms only it reads; None when neither does."""
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        try:
            return parse_datetime(value)
        except ValueError:
            return None


def _rules(now) -> tuple:
    """The plausibility limits of one batch, read from settings once (not per fix)."""
    return (
        parse_datetime(settings.GRIDCITY_PATROL_EARLIEST).timestamp(),
        (now + dt.timedelta(seconds=settings.GRIDCITY_PATROL_FUTURE_SECONDS)).timestamp(),
        tuple(settings.GRIDCITY_DISTRICT_BBOX),
        settings.GRIDCITY_PATROL_MAX_ACCURACY_M,
    )


def _reason(fix, rules) -> str | None:
    """The first rule a well-formed fix breaks, None if it is plausible (the speed rule is separate)."""
    earliest, latest, (minx, miny, maxx, maxy), max_accuracy = rules
    if fix["lon"] is None:
        return Reason.NULL_ISLAND
    if fix["ts"] < earliest:
        return Reason.TOO_OLD
    if fix["ts"] > latest:
        return Reason.FUTURE
    if not (minx <= fix["lon"] <= maxx and miny <= fix["lat"] <= maxy):
        return Reason.OUTSIDE
    if fix["accuracy"] is not None and fix["accuracy"] > max_accuracy:
        return Reason.INACCURATE
    return None


def _sort_out(user, parsed, now):
    """(good fixes, [(fix, reason)]). Speeds are measured in time order from the previous good fix,
    in this batch or already stored, so a batch sent out of order is judged as if sent in order."""
    quarantined, candidates = [], []
    rules = _rules(now)
    for fix in parsed:
        reason = _reason(fix, rules)
        (quarantined.append((fix, reason)) if reason else candidates.append(fix))
    if not candidates:
        return [], quarantined
    candidates.sort(key=lambda f: f["ts"])
    window = dt.timedelta(minutes=settings.GRIDCITY_PATROL_SPEED_WINDOW_MINUTES)
    # Plain SQL: a resent batch finds thousands of stored fixes here, and GEOS objects cost ~0.3 ms each.
    with connection.cursor() as cur:
        cur.execute(
            "SELECT fix_time, ST_X(geom), ST_Y(geom) FROM patrols_patrolfix WHERE worker_id = %s "
            "AND fix_time >= %s AND fix_time <= %s ORDER BY fix_time",
            [user.pk, candidates[0]["fix_time"] - window, candidates[-1]["fix_time"]],
        )
        stored = [(t.timestamp(), (x, y)) for t, x, y in cur.fetchall()]
    # Epoch seconds, not aware datetimes: comparing those converts time zones on every step.
    known = dict(stored)  # good fixes by time: stored ones, then this batch's
    times = [t for t, _ in stored]
    limit, max_speed = window.total_seconds(), settings.GRIDCITY_PATROL_MAX_SPEED_MS
    good = []
    for fix in candidates:
        t = fix["ts"]
        at = bisect.bisect_left(times, t)
        if at < len(times) and times[at] == t:
            # Already stored (or a repeat within the batch): a duplicate, not a jump, and not worth
            # staging (ON CONFLICT still guards against a concurrent post of the same fix).
            fix["known"] = True
            good.append(fix)
            continue
        if at > 0 and t - times[at - 1] <= limit:
            plon, plat = known[times[at - 1]]
            if metres(plon, plat, fix["lon"], fix["lat"]) / (t - times[at - 1]) > max_speed:
                quarantined.append((fix, Reason.SPEED))
                continue
        times.insert(at, t)
        known[t] = (fix["lon"], fix["lat"])
        good.append(fix)
    return good, quarantined


def _store(user, device, good, now) -> tuple[int, tuple | None]:
    """Stores the good fixes once each and rebuilds the worker's stored lines of the days that got new
    ones. Returns (fixes stored, extent of what changed on the map)."""
    fresh = [f for f in good if "known" not in f]
    if not fresh:
        return 0, None
    with connection.cursor() as cur:
        cur.execute(
            # Made once per database session and emptied at every commit: creating and dropping a table per
            # batch costs catalogue writes (~8 ms a batch on the dev box).
            "CREATE TEMP TABLE IF NOT EXISTS patrols_staging (fix_time timestamptz, send_time timestamptz, "
            "lon float8, lat float8, accuracy float8, speed float8, heading float8, source_crs text) "
            "ON COMMIT DELETE ROWS"
        )
        # One text block, not a row at a time: psycopg's per-row adaptation costs more than the COPY.
        with cur.cursor.copy(
            "COPY patrols_staging (fix_time, send_time, lon, lat, accuracy, speed, heading, source_crs) FROM STDIN"
        ) as copy:
            copy.write("".join(map(_staging_line, fresh)))
        # The days that got new fixes (not duplicates) and where those fixes are: what to rebuild and redraw.
        cur.execute(
            "WITH ins AS (INSERT INTO patrols_patrolfix (worker_id, device_id, fix_time, send_time, receive_time, "
            "geom, accuracy, speed, heading, source_crs) "
            "SELECT %s, %s, fix_time, send_time, %s, ST_SetSRID(ST_MakePoint(lon, lat), 4490), accuracy, speed, "
            "heading, source_crs FROM patrols_staging ORDER BY fix_time "
            "ON CONFLICT (worker_id, fix_time) DO NOTHING RETURNING fix_time, geom) "
            f"SELECT count(*), array_agg(DISTINCT (fix_time AT TIME ZONE '{trackdays.ZONE}')::date), "
            "ST_XMin(ST_Extent(geom)), ST_YMin(ST_Extent(geom)), ST_XMax(ST_Extent(geom)), ST_YMax(ST_Extent(geom)) "
            "FROM ins",
            [user.pk, device, now],
        )
        stored, days, *box = cur.fetchone()
        cur.execute("DELETE FROM patrols_staging")  # emptied now too: a caller may hold an enclosing transaction
        if not stored:
            return 0, None
        start, end = day_range(days)
        lines = trackdays.refresh(cur, user.pk, days, start, end)
    return stored, _union(box, lines)


def _text(value) -> str:
    return r"\N" if value is None else repr(value)


def _staging_line(f) -> str:
    send = r"\N" if f["send_time"] is None else f["send_time"].isoformat()
    return (
        f"{f['fix_time'].isoformat()}\t{send}\t{f['lon']!r}\t{f['lat']!r}\t{_text(f['accuracy'])}\t"
        f"{_text(f['speed'])}\t{_text(f['heading'])}\t{f['crs']}\n"
    )


def day_range(days) -> tuple[dt.datetime, dt.datetime]:
    """From the start of the first local day to the end of the last."""
    zone = ZoneInfo(settings.TIME_ZONE)
    return (
        dt.datetime.combine(min(days), dt.time(), zone),
        dt.datetime.combine(max(days) + dt.timedelta(days=1), dt.time(), zone),
    )


def _union(a, b):
    boxes = [x for x in (a, b) if x and x[0] is not None]
    if not boxes:
        return None
    return (min(x[0] for x in boxes), min(x[1] for x in boxes), max(x[2] for x in boxes), max(x[3] for x in boxes))


def _track_clock(user, device, parsed, now):
    skews = [(now - f["send_time"]).total_seconds() for f in parsed if f["send_time"] is not None]
    if skews:
        DeviceClock.objects.update_or_create(
            worker=user, defaults={"device_id": device, "skew_seconds": statistics.median(skews)}
        )
