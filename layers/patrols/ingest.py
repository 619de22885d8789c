"""The one write path of patrol fixes: `ingest(user, batch)`.

A batch is validated whole first: one malformed fix refuses the batch (400, each bad fix named by
index and field) and nothing is written, so a device can resend it unchanged after a fix in the app.
Well-formed but implausible fixes are kept apart in QuarantinedFix with a reason; the rest go through
COPY into a staging table and INSERT ... ON CONFLICT DO NOTHING on (worker, fix_time), so the same fix
posted any number of times, in any order or in overlapping batches, is stored once."""

import bisect
import datetime as dt
import math
from itertools import repeat
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
    cols = _fast_columns(user, fixes)
    if cols is None:
        # Something in the batch is not plain (an error, an empty send time, a date only Django reads):
        # the checks fix by fix, which name every bad fix.
        parsed, errors = [], {}
        for index, raw in enumerate(fixes):
            fix = _parse(user, index, raw, errors)
            if fix is not None:
                parsed.append(fix)
        if not errors:
            _to_storage(parsed, errors)
        if errors:
            raise ServiceError(errors)
        cols = _columns_from_parsed(parsed)

    good, known, quarantined = _sort_out(user, cols, now)
    with transaction.atomic():
        stored, bbox = _store(user, device, cols, good[~known], now)
        QuarantinedFix.objects.bulk_create(
            QuarantinedFix(
                worker=user,
                device_id=device,
                fix_time=cols.times[i],
                send_time=cols.sends[i],
                receive_time=now,
                geom=Point(float(cols.lon[i]), float(cols.lat[i]), srid=4490) if cols.lon[i] == cols.lon[i] else None,
                accuracy=_number(cols.accuracy[i]),
                speed=_number(cols.speed[i]),
                heading=_number(cols.heading[i]),
                source_crs=cols.crs[i],
                reason=reason,
                raw=fixes[i],
            )
            for i, reason in quarantined
        )
        _track_clock(user, device, cols, now)
        if stored:
            # Where the worker's day lines were and are (simplification may move vertices anywhere
            # along a changed line) and the new fixes (positions): every tile that may differ.
            transaction.on_commit(lambda: patrols_changed.send(sender=PatrolFix, workers=[user.pk], bbox=bbox))
    return {
        "stored": stored,
        "duplicates": len(good) - stored,
        "quarantined": [{"index": i, "reason": reason} for i, reason in sorted(quarantined)],
    }


def _number(value) -> float | None:
    return None if value != value else float(value)  # NaN stands for "not given" in the columns


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


class Columns:
    """A well-formed batch as columns, one entry per fix in the order sent (position = index): numpy
    arrays for what is computed on (times as integer microseconds since 1970, so equality is exact;
    NaN for a number not given and for the position of a 0,0 fix), lists for what is only copied."""

    __slots__ = ("times", "sends", "us", "send_us", "sent", "lon", "lat", "accuracy", "speed", "heading", "crs")

    def __init__(self, times, sends, lon, lat, accuracy, speed, heading, crs):
        self.times, self.sends, self.crs = times, sends, crs
        self.us = _micros(times)
        # Which fixes give a send time (most batches: all of them, said without a loop).
        self.sent = np.array([t is not None for t in sends]) if None in sends else np.ones(len(sends), bool)
        self.send_us = _micros([t or _EPOCH for t in sends] if None in sends else sends)
        self.lon, self.lat = lon, lat
        self.accuracy, self.speed, self.heading = accuracy, speed, heading


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 (PostgreSQL's binary timestamps) in microseconds since 1970


def _micros(times) -> np.ndarray:
    """Aware datetimes as integer microseconds since 1970. timestamp() is the rounded quotient of the
    exact microseconds by 10**6; times 1e6 and rounded again gives them back exactly while |seconds| <
    2**32 (the float's error stays below a quarter microsecond); beyond, they are computed exactly."""
    ts = np.fromiter(map(dt.datetime.timestamp, times), float, len(times))
    us = np.rint(ts * 1e6).astype(np.int64)
    for i in np.flatnonzero(np.abs(ts) > 4e9):  # after 2096 or before 1843 (quarantined, or a send time)
        us[i] = (times[i] - _EPOCH) // dt.timedelta(microseconds=1)
    return us


def _fast_columns(user, fixes) -> Columns | None:
    """The batch as columns when every fix is plain (an object with ISO times with offsets, the known
    CRS names, finite numbers in range, coordinates that convert); None otherwise, and the fix-by-fix
    checks (_parse, _to_storage) then take over to name what is wrong. Accepts nothing those refuse:
    each test here is theirs or stricter, done a column at a time by C loops (map, set, numpy) instead
    of ~30 Python operations per fix."""
    try:
        if set(map(type, fixes)) != {dict}:
            return None
        n = len(fixes)

        def column(key):
            return list(map(dict.get, fixes, repeat(key, n)))

        if not set(column("worker")) <= {None, "", user.username}:
            return None
        times = _fast_times(column("fix_time"), optional=False)
        sends = _fast_times(column("send_time"), optional=True)
        if times is None or sends is None:
            return None
        crs = column("crs")
        if not set(crs) <= CRS_NAMES.keys():
            return None
        raw = []
        for key in ("lon", "lat"):
            values = column(key)
            if not set(map(type, values)) <= _NUMBER_TYPES:
                return None
            raw.append(np.array(values, float))
            if not np.isfinite(raw[-1]).all():
                return None
        numbers = []
        for key, low, high in _RANGES:
            values = column(key)
            if not set(map(type, values)) <= _NUMBER_TYPES | {type(None)}:
                return None
            a = np.array(values, float)  # None -> NaN
            given = ~np.isnan(a)
            # A NaN that was no None, an infinity, or a value out of range: for the per-fix message.
            if n - int(given.sum()) != values.count(None) or np.isinf(a).any():
                return None
            if (a[given] < low).any() or (high is not None and (a[given] > high).any()):
                return None
            numbers.append(a)
    except (TypeError, ValueError, OverflowError):  # unhashable values, unparsable times, huge integers
        return None
    lon, lat = _fast_storage(raw[0], raw[1], crs)
    if lon is None:
        return None
    return Columns(times, sends, lon, lat, *numbers, crs)


_NUMBER_TYPES = {int, float}


def _fast_times(values, optional: bool) -> list | None:
    """ISO 8601 texts with offsets -> aware datetimes; None when any is not (optional: None stays None;
    an empty text or a form only Django's parser reads goes the slow way)."""
    kinds = set(map(type, values))
    if kinds == {str}:
        times = list(map(dt.datetime.fromisoformat, values))
    elif optional and kinds == {str, type(None)}:
        times = [None if v is None else dt.datetime.fromisoformat(v) for v in values]
    elif optional and kinds == {type(None)}:
        return values
    else:
        return None
    if None in map(dt.datetime.utcoffset, filter(None, times)):
        return None
    return times


def _fast_storage(x, y, crs) -> tuple:
    """Raw lon/lat -> EPSG:4490 per CRS of the batch (NaN at 0,0: quarantined, never converted);
    (None, None) when a point is out of range or does not convert (the slow path says which)."""
    lon, lat = np.full(len(x), np.nan), np.full(len(x), np.nan)
    real = ~((x == 0) & (y == 0))
    names = set(crs)
    arr = np.array(crs) if len(names) > 1 else None
    for name in names:
        mask = real if arr is None else real & (arr == name)
        if not mask.any():
            continue
        xs, ys = x[mask], y[mask]
        if not ((np.abs(xs) <= 180) & (np.abs(ys) <= 90)).all():
            return None, None
        with np.errstate(invalid="ignore"):
            a, b = crs_lib.to_storage_xy(xs, ys, CRS_NAMES[name])
            a, b = np.asarray(a, float), np.asarray(b, float)
            if not (np.isfinite(a) & np.isfinite(b) & (np.abs(a) <= 180) & (np.abs(b) <= 90)).all():
                return None, None
        lon[mask], lat[mask] = a, b
    return lon, lat


def _columns_from_parsed(parsed) -> Columns:
    """The slow path's fixes (all of them: it raised on any error) as columns."""

    def numbers(key):
        return np.array([f.get(key) for f in parsed], float)  # None -> NaN

    return Columns(
        [f["fix_time"] for f in parsed],
        [f["send_time"] for f in parsed],
        numbers("lon"),
        numbers("lat"),
        numbers("accuracy"),
        numbers("speed"),
        numbers("heading"),
        [f["crs"] for f in parsed],
    )


_REASONS = (Reason.NULL_ISLAND, Reason.TOO_OLD, Reason.FUTURE, Reason.OUTSIDE, Reason.INACCURATE)


def _rules(now) -> tuple:
    """The plausibility limits of one batch, read from settings once (not per fix)."""
    return (
        parse_datetime(settings.GRIDCITY_PATROL_EARLIEST).timestamp(),
        (now + dt.timedelta(seconds=settings.GRIDCITY_PATROL_FUTURE_SECONDS)).timestamp(),
        tuple(settings.GRIDCITY_DISTRICT_BBOX),
        settings.GRIDCITY_PATROL_MAX_ACCURACY_M,
    )


def _reasons(cols, rules) -> np.ndarray:
    """Per fix, the index in _REASONS of the first rule it breaks, -1 if plausible (speed is separate)."""
    earliest, latest, (minx, miny, maxx, maxy), max_accuracy = rules
    ts = cols.us / 1e6
    with np.errstate(invalid="ignore"):
        inside = (minx <= cols.lon) & (cols.lon <= maxx) & (miny <= cols.lat) & (cols.lat <= maxy)
        broken = [np.isnan(cols.lon), ts < earliest, ts > latest, ~inside, cols.accuracy > max_accuracy]
    return np.select(broken, list(range(len(broken))), -1)


def _sort_out(user, cols, now):
    """(good: positions of the good fixes in time order, known: which of those are stored already or
    repeated in the batch, [(position, reason)] quarantined). Speeds are measured in time order from the
    previous good fix, in this batch or already stored, so a batch sent out of order is judged as if
    sent in order."""
    reasons = _reasons(cols, _rules(now))
    quarantined = [(int(i), _REASONS[reasons[i]]) for i in np.flatnonzero(reasons >= 0)]
    candidates = np.flatnonzero(reasons < 0)
    if not len(candidates):
        return candidates, np.zeros(0, bool), quarantined
    candidates = candidates[np.argsort(cols.us[candidates], kind="stable")]
    window = dt.timedelta(minutes=settings.GRIDCITY_PATROL_SPEED_WINDOW_MINUTES)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT (extract(epoch FROM fix_time) * 1000000)::bigint, ST_X(geom), ST_Y(geom) FROM patrols_patrolfix "
            "WHERE worker_id = %s AND fix_time >= %s AND fix_time <= %s ORDER BY fix_time",
            [user.pk, cols.times[candidates[0]] - window, cols.times[candidates[-1]]],
        )
        rows = cur.fetchall()
    stored = (
        np.array([r[0] for r in rows], np.int64),
        np.array([r[1] for r in rows], float),
        np.array([r[2] for r in rows], float),
    )
    batch = (cols.us[candidates], cols.lon[candidates], cols.lat[candidates])
    limit_us, max_speed = round(window.total_seconds() * 1e6), settings.GRIDCITY_PATROL_MAX_SPEED_MS
    state = _speed_rule(batch, stored, limit_us, max_speed)
    if state is None:
        state = _speed_rule_in_order(batch, stored, limit_us, max_speed)
    quarantined += [(int(i), Reason.SPEED) for i in candidates[state == _JUMP]]
    keep = state != _JUMP
    return candidates[keep], state[keep] == _KNOWN, quarantined


_NEW, _KNOWN, _JUMP = 0, 1, 2


def _speed_rule(batch, stored, limit_us, max_speed) -> np.ndarray | None:
    """The rule at once for a batch in which no fix breaks it and no time repeats (nearly every batch):
    then each new fix's previous good fix is simply the one before it among the stored and the new.
    None when that does not hold: the fix-by-fix rule decides (a quarantined fix is no anchor)."""
    us, lon, lat = batch
    s_us, s_lon, s_lat = stored
    if len(us) > 1 and not (np.diff(us) > 0).all():
        return None
    at = np.searchsorted(s_us, us)
    known = (at < len(s_us)) & (s_us[np.minimum(at, len(s_us) - 1)] == us) if len(s_us) else np.zeros(len(us), bool)
    new = ~known
    t = np.concatenate([s_us, us[new]])
    order = np.argsort(t, kind="stable")
    t = t[order]
    x, y = np.concatenate([s_lon, lon[new]])[order], np.concatenate([s_lat, lat[new]])[order]
    is_new = np.concatenate([np.zeros(len(s_us), bool), np.ones(int(new.sum()), bool)])[order]
    gap = np.diff(t)
    compared = is_new[1:] & (gap <= limit_us)
    if compared.any():
        seconds = gap[compared] / 1e6
        speed = metres_np(x[:-1][compared], y[:-1][compared], x[1:][compared], y[1:][compared]) / seconds
        if (speed > max_speed).any():
            return None
    return np.where(known, _KNOWN, _NEW)


def _speed_rule_in_order(batch, stored, limit_us, max_speed) -> np.ndarray:
    """The speed rule fix by fix in time order: a fix that breaks it is no anchor for the next."""
    us, lon, lat = (a.tolist() for a in batch)
    times = stored[0].tolist()
    known = dict(zip(times, zip(stored[1].tolist(), stored[2].tolist())))  # good fixes by time
    state = np.full(len(us), _NEW)
    for k, t in enumerate(us):
        at = bisect.bisect_left(times, t)
        if at < len(times) and times[at] == t:
            # Already stored (or a repeat within the batch): a duplicate, not a jump, and not worth
            # staging (ON CONFLICT still guards against a concurrent post of the same fix).
            state[k] = _KNOWN
            continue
        if at > 0 and t - times[at - 1] <= limit_us:
            plon, plat = known[times[at - 1]]
            if metres(plon, plat, lon[k], lat[k]) / ((t - times[at - 1]) / 1e6) > max_speed:
                state[k] = _JUMP
                continue
        times.insert(at, t)
        known[t] = (lon[k], lat[k])
    return state


def metres_np(lon1, lat1, lon2, lat2) -> np.ndarray:
    """metres() over arrays."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(1.0, a)))


# Binary COPY rows of the staging table, built for the whole batch by numpy: a field count, then each
# field's length and value, big-endian. Fixed width, so "not given" is a value: NaN for the numbers and
# infinity for the send time (no fix has either), turned back into NULL by the INSERT.
_STAGING_ROW = np.dtype(
    [("n", ">i2")]
    + [
        item
        for name, kind in (
            ("fix_time", ">i8"),
            ("send_time", ">i8"),
            ("lon", ">f8"),
            ("lat", ">f8"),
            ("accuracy", ">f8"),
            ("speed", ">f8"),
            ("heading", ">f8"),
            ("crs", ">i2"),
        )
        for item in ((f"{name}_len", ">i4"), (name, kind))
    ]
)
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # flags and header extension length: 0
_COPY_TRAILER = b"\xff\xff"
_INFINITY = np.iinfo(np.int64).max  # PostgreSQL's timestamp 'infinity'
_CRS_CODES = {name: k + 1 for k, name in enumerate(CRS_NAMES)}  # 1-based: SQL arrays


def _staging_copy(cols, fresh) -> bytes:
    rows = np.zeros(len(fresh), _STAGING_ROW)
    rows["n"] = 8
    for name in _STAGING_ROW.names[1::2]:
        rows[name] = 8
    rows["crs_len"] = 2
    rows["fix_time"] = cols.us[fresh] - _PG_EPOCH_US
    rows["send_time"] = np.where(cols.sent[fresh], cols.send_us[fresh] - _PG_EPOCH_US, _INFINITY)
    for name in ("lon", "lat", "accuracy", "speed", "heading"):
        rows[name] = getattr(cols, name)[fresh]
    codes = [_CRS_CODES[cols.crs[i]] for i in fresh] if len(set(cols.crs)) > 1 else _CRS_CODES[cols.crs[0]]
    rows["crs"] = codes
    return _COPY_SIGNATURE + rows.tobytes() + _COPY_TRAILER


def _store(user, device, cols, fresh, now) -> tuple[int, tuple | None]:
    """Stores the fixes at positions `fresh` (in time order, none known stored) once each and rebuilds
    the worker's stored lines of the days that got new ones. Returns (fixes stored, extent of what
    changed on the map)."""
    if not len(fresh):
        return 0, None
    with connection.cursor() as cur:
        cur.execute(
            # Made once per database session and emptied at every commit: creating and dropping a table per
            # batch costs catalogue writes (~8 ms a batch on the dev box).
            "CREATE TEMP TABLE IF NOT EXISTS patrols_fix_staging (fix_time timestamptz, send_time timestamptz, "
            "lon float8, lat float8, accuracy float8, speed float8, heading float8, crs int2) "
            "ON COMMIT DELETE ROWS"
        )
        # Binary and typed, built by numpy: no text to format here nor to parse in PostgreSQL.
        with cur.cursor.copy(
            "COPY patrols_fix_staging (fix_time, send_time, lon, lat, accuracy, speed, heading, crs) "
            "FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.write(_staging_copy(cols, fresh))
        # The days that got new fixes (not duplicates) and where those fixes are: what to rebuild and redraw.
        cur.execute(
            "WITH ins AS (INSERT INTO patrols_patrolfix (worker_id, device_id, fix_time, send_time, receive_time, "
            "geom, accuracy, speed, heading, source_crs) "
            "SELECT %s, %s, fix_time, NULLIF(send_time, 'infinity'), %s, ST_SetSRID(ST_MakePoint(lon, lat), 4490), "
            "NULLIF(accuracy, 'NaN'), NULLIF(speed, 'NaN'), NULLIF(heading, 'NaN'), (%s::text[])[crs] "
            "FROM patrols_fix_staging ORDER BY fix_time "
            "ON CONFLICT (worker_id, fix_time) DO NOTHING RETURNING fix_time, geom) "
            f"SELECT count(*), array_agg(DISTINCT (fix_time AT TIME ZONE '{trackdays.ZONE}')::date), "
            "ST_XMin(ST_Extent(geom)), ST_YMin(ST_Extent(geom)), ST_XMax(ST_Extent(geom)), ST_YMax(ST_Extent(geom)) "
            "FROM ins",
            [user.pk, device, now, list(CRS_NAMES)],
        )
        stored, days, *box = cur.fetchone()
        cur.execute("DELETE FROM patrols_fix_staging")  # emptied now too: a caller may hold an enclosing transaction
        if not stored:
            return 0, None
        start, end = day_range(days)
        lines = trackdays.refresh(cur, user.pk, days, start, end)
    return stored, _union(box, lines)


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


def _track_clock(user, device, cols, now):
    """The device's clock skew: the median of receive - send over the batch's fixes that give a send
    time, in one statement (an upsert: the worker's one row)."""
    sent = cols.send_us[cols.sent]
    if not len(sent):
        return
    now_us = (now - _EPOCH) // dt.timedelta(microseconds=1)
    skew = float(np.median((now_us - sent) / 1e6))
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {DeviceClock._meta.db_table} (worker_id, device_id, skew_seconds, updated_at) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (worker_id) DO UPDATE SET device_id = EXCLUDED.device_id, "
            "skew_seconds = EXCLUDED.skew_seconds, updated_at = EXCLUDED.updated_at",
            [user.pk, device, skew, timezone.now()],
        )
