"""Stored daily tracks (patrols_trackday): rebuilt by ingest for exactly the worker-days a batch added
fixes to, whatever the order, duplicates or lateness of the batches; the tracks layer reads them."""

import datetime as dt

from django.db import connection
from django.utils import timezone

from layers import catalogue
from layers.patrols import trackdays
from layers.patrols.models import PatrolFix, TrackDay
from tiles.sql import TileRequest, tile_sql

from .conftest import LON
from .helpers import START, fix, post


def _line(worker, day=None):
    day = day or timezone.localdate(START)
    return TrackDay.objects.get(worker=worker, day=day)


def _expected(worker, day):
    """The line the old view computed at query time, from the fixes themselves."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*), min(fix_time), max(fix_time), ST_AsText(ST_MakeLine(geom ORDER BY fix_time)) "
            "FROM patrols_patrolfix WHERE worker_id = %s AND (fix_time AT TIME ZONE 'Asia/Shanghai')::date = %s",
            [worker.pk, day],
        )
        return cur.fetchone()


def test_a_batch_makes_its_days_line(worker):
    post(worker, {"fixes": [fix(i) for i in range(30)]})
    line = _line(worker)
    count, first, last, wkt = _expected(worker, line.day)
    assert (line.fix_count, line.first_time, line.last_time) == (30, first, last) and count == 30
    assert line.geom.wkt == TrackDay.objects.get(pk=line.pk).geom.wkt
    with connection.cursor() as cur:
        cur.execute(
            "SELECT ST_Equals(geom, %s::geometry) FROM patrols_trackday WHERE id = %s", [f"SRID=4490;{wkt}", line.pk]
        )
        assert cur.fetchone()[0]
    assert line.pk == worker.pk * 100000 + (line.day - dt.date(2000, 1, 1)).days


def test_out_of_order_duplicates_and_late_fixes_give_the_same_line(worker, other_worker):
    ordered = [fix(i) for i in range(40)]
    post(other_worker, {"fixes": ordered})
    # The same fixes, late, reversed, in overlapping batches, some sent twice.
    post(worker, {"fixes": list(reversed(ordered[20:]))})
    post(worker, {"fixes": ordered[10:25]})
    post(worker, {"fixes": ordered[10:25]})
    post(worker, {"fixes": list(reversed(ordered[:12]))})
    mine, theirs = _line(worker), _line(other_worker)
    assert mine.fix_count == theirs.fix_count == 40
    assert mine.geom.equals_exact(theirs.geom, 1e-12)
    assert (mine.first_time, mine.last_time) == (theirs.first_time, theirs.last_time)


def test_only_the_days_a_batch_touched_are_rebuilt(worker):
    yesterday = START - dt.timedelta(days=1)
    post(worker, {"fixes": [fix(i, start=yesterday) for i in range(10)] + [fix(i) for i in range(10)]})
    old = _line(worker, timezone.localdate(yesterday))
    with connection.cursor() as cur:  # a mark that a rebuild of yesterday would wipe
        cur.execute("UPDATE patrols_trackday SET fix_count = -1 WHERE id = %s", [old.pk])
    answer = post(worker, {"fixes": [fix(i) for i in range(5, 20)]}).json()
    assert answer == {"stored": 10, "duplicates": 5, "quarantined": []}
    assert _line(worker, timezone.localdate(yesterday)).fix_count == -1
    assert _line(worker).fix_count == 20
    # A batch of duplicates only changes nothing at all.
    assert post(worker, {"fixes": [fix(i) for i in range(20)]}).json()["stored"] == 0
    assert _line(worker).fix_count == 20


def test_a_single_fix_day_has_no_line_until_a_second_comes(worker):
    post(worker, {"fixes": [fix(0)]})
    assert not TrackDay.objects.filter(worker=worker).exists()
    post(worker, {"fixes": [fix(1)]})
    assert _line(worker).fix_count == 2


def test_quarantined_fixes_stay_off_the_line(worker):
    post(worker, {"fixes": [fix(0), fix(1), fix(2, lon=LON + 0.05), fix(3)]})  # fix 2 jumps ~4.5 km
    assert _line(worker).fix_count == 3


def test_simplified_copies_keep_within_the_full_lines_box(worker):
    # 200 fixes 10 s apart: 33 minutes, which must not cross local midnight (two daily lines then).
    start = START
    if timezone.localtime(start).date() != timezone.localtime(start + dt.timedelta(minutes=34)).date():
        start += dt.timedelta(minutes=40)
    wiggle = [fix(i, lat=35.5455 + (0.00002 if i % 2 else 0), start=start) for i in range(200)]
    post(worker, {"fixes": wiggle})
    line = _line(worker)
    assert line.geom_3857_low.num_points < line.geom_3857_mid.num_points <= line.geom_3857.num_points == 200
    full = line.geom_3857.extent
    for copy in (line.geom_3857_mid, line.geom_3857_low):
        x0, y0, x1, y1 = copy.extent
        assert full[0] <= x0 and full[1] <= y0 and x1 <= full[2] and y1 <= full[3]


def test_rebuild_gives_what_ingest_kept(worker, other_worker):
    post(worker, {"fixes": [fix(i) for i in range(25)]})
    post(other_worker, {"fixes": [fix(i, start=START - dt.timedelta(days=2)) for i in range(25)]})
    before = sorted(TrackDay.objects.values_list("id", "fix_count", "first_time", "last_time"))
    trackdays.rebuild()
    assert sorted(TrackDay.objects.values_list("id", "fix_count", "first_time", "last_time")) == before
    assert PatrolFix.objects.count() == 50


def test_tiles_read_the_stored_line_and_its_copy_per_zoom():
    layer = catalogue.get("tracks")
    sql_low, _ = tile_sql(TileRequest(layer, 11, 1688, 805))
    sql_mid, _ = tile_sql(TileRequest(layer, 14, 13508, 6459))
    sql_full, _ = tile_sql(TileRequest(layer, 17, 108064, 51672))
    assert "patrols_track t" in sql_full and "patrols_patrolfix" not in sql_full
    assert "t.geom_3857_low" in sql_low and "t.geom_3857_mid" in sql_mid
    assert "geom_3857_low" not in sql_full and "geom_3857_mid" not in sql_full
    assert "t.geom_3857 && ST_MakeEnvelope" in sql_low  # the GiST on the full line finds the rows


def test_the_changed_box_covers_the_whole_days_line(worker):
    """Simplification may move vertices anywhere along a changed line: the whole day is redrawn."""
    from django.test import TestCase

    from layers.patrols.signals import patrols_changed

    post(worker, {"fixes": [fix(i, lon=LON + i * 0.0002) for i in range(20)]})
    seen = []

    def receiver(sender, bbox, **kwargs):
        seen.append(bbox)

    patrols_changed.connect(receiver)
    try:
        with TestCase.captureOnCommitCallbacks(execute=True):
            post(worker, {"fixes": [fix(30, lon=LON + 0.0041)]})
    finally:
        patrols_changed.disconnect(receiver)
    minx, _, maxx, _ = seen[0]
    assert minx <= LON and maxx >= LON + 0.0041
