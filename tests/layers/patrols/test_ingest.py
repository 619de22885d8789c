import datetime as dt
import json

import pytest
from django.test import override_settings
from django.utils import timezone

from gis_core import crs
from layers.patrols.models import DeviceClock, PatrolFix, QuarantinedFix

from .conftest import LAT, LON
from .helpers import START, fix, post


def test_a_batch_is_stored_once_however_often_it_is_sent(worker):
    batch = {"device_id": "phone-1", "fixes": [fix(i) for i in range(20)]}
    first = post(worker, batch)
    assert first.status_code == 201, first.content
    assert first.json() == {"stored": 20, "duplicates": 0, "quarantined": []}
    again = post(worker, batch)
    assert again.status_code == 200
    assert again.json() == {"stored": 0, "duplicates": 20, "quarantined": []}
    assert PatrolFix.objects.filter(worker=worker).count() == 20


def test_overlapping_and_out_of_order_batches(worker):
    assert post(worker, {"fixes": [fix(i) for i in range(0, 30)]}).json()["stored"] == 30
    overlap = [fix(i) for i in reversed(range(20, 50))]
    answer = post(worker, {"fixes": overlap}).json()
    assert answer == {"stored": 20, "duplicates": 10, "quarantined": []}
    times = list(PatrolFix.objects.filter(worker=worker).order_by("fix_time").values_list("fix_time", flat=True))
    assert len(times) == 50 == len(set(times))


def test_a_repeat_within_one_batch_is_a_duplicate(worker):
    answer = post(worker, {"fixes": [fix(1), fix(2), fix(1)]}).json()
    assert answer == {"stored": 2, "duplicates": 1, "quarantined": []}


def test_another_workers_fixes_are_refused(worker, other_worker):
    answer = post(worker, {"worker": other_worker.username, "fixes": [fix(0)]})
    assert answer.status_code == 403
    answer = post(worker, {"fixes": [fix(0, worker=other_worker.username)]})
    assert answer.status_code == 403
    assert not PatrolFix.objects.exists()


def test_only_grid_workers_post(dispatcher):
    assert post(dispatcher, {"fixes": [fix(0)]}).status_code == 403


def test_too_many_fixes_is_413(worker):
    with override_settings(GRIDCITY_PATROL_MAX_FIXES=5):
        answer = post(worker, {"fixes": [fix(i) for i in range(6)]})
    assert answer.status_code == 413
    assert answer.json()["field"] == "fixes"


def test_a_body_over_the_limit_is_413_before_it_is_read(worker):
    with override_settings(GRIDCITY_PATROL_MAX_BODY_BYTES=1000):
        answer = post(worker, {"fixes": [fix(i) for i in range(50)]})
    assert answer.status_code == 413
    assert not PatrolFix.objects.exists()


def test_a_malformed_batch_is_refused_whole_naming_each_bad_fix(worker):
    fixes = [fix(i) for i in range(5)]
    fixes[1]["lat"] = "north"
    fixes[3]["fix_time"] = "2026-12-03T08:00:00"  # no offset
    fixes[4]["crs"] = "EPSG:3857"
    answer = post(worker, {"fixes": fixes})
    assert answer.status_code == 400
    fields = {e["field"] for e in answer.json()["errors"]}
    assert fields == {"fixes[1].lat", "fixes[3].fix_time", "fixes[4].crs"}
    assert not PatrolFix.objects.exists() and not QuarantinedFix.objects.exists()


def test_gcj02_fixes_are_converted_to_cgcs2000(worker):
    glon, glat = crs.wgs84_to_gcj02(LON, LAT)
    answer = post(worker, {"fixes": [fix(0, lon=float(glon), lat=float(glat), crs="GCJ02")]})
    assert answer.json()["stored"] == 1
    stored = PatrolFix.objects.get(worker=worker)
    assert stored.source_crs == "GCJ02"
    assert stored.geom.x == pytest.approx(LON, abs=1e-6) and stored.geom.y == pytest.approx(LAT, abs=1e-6)
    assert abs(glon - LON) > 1e-3  # GCJ-02 is hundreds of metres off: the conversion did something


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"lon": 0, "lat": 0}, "null_island"),
        ({"fix_time": "2006-05-01T08:00:00+08:00"}, "too_old"),
        ({"fix_time": (timezone.now() + dt.timedelta(hours=1)).isoformat()}, "future"),
        ({"lon": 116.0, "lat": 39.9}, "outside_district"),
        ({"accuracy": 500.0}, "inaccurate"),
    ],
)
def test_each_quarantine_reason(worker, change, reason):
    answer = post(worker, {"fixes": [fix(0), fix(1, **change)]})
    assert answer.json() == {"stored": 1, "duplicates": 0, "quarantined": [{"index": 1, "reason": reason}]}
    kept = QuarantinedFix.objects.get(worker=worker)
    assert kept.reason == reason and kept.raw["crs"] == "WGS84"


def test_an_impossible_jump_from_the_last_good_fix_is_quarantined(worker):
    post(worker, {"fixes": [fix(0)]})
    jump = fix(1, lon=LON + 0.1)  # ~9 km in 10 s
    answer = post(worker, {"fixes": [jump, fix(2)]}).json()
    assert answer["quarantined"] == [{"index": 0, "reason": "impossible_speed"}]
    assert answer["stored"] == 1


def test_clock_skew_is_tracked(worker):
    late = START - dt.timedelta(minutes=30)
    post(worker, {"device_id": "phone-1", "fixes": [fix(0, send_time=late.isoformat())]})
    clock = DeviceClock.objects.get(worker=worker)
    assert clock.device_id == "phone-1" and clock.skew_seconds > 2 * 3600


def test_bd09_fixes_are_converted_too(worker):
    glon, glat = crs.wgs84_to_gcj02(LON, LAT)
    blon, blat = crs.gcj02_to_bd09(glon, glat)
    post(worker, {"fixes": [fix(0, lon=float(blon), lat=float(blat), crs="BD09")]})
    stored = PatrolFix.objects.get(worker=worker)
    assert stored.geom.x == pytest.approx(LON, abs=1e-6) and stored.geom.y == pytest.approx(LAT, abs=1e-6)


def test_naming_oneself_is_allowed(worker):
    answer = post(worker, {"worker": worker.username, "fixes": [fix(0, worker=worker.username)]})
    assert answer.status_code == 201


def test_a_body_that_is_not_json_is_400(worker):
    from django.test import Client

    c = Client()
    c.force_login(worker)
    answer = c.post("/api/patrols/fixes/", "{not json", content_type="application/json")
    assert answer.status_code == 400 and answer.json()["field"] == "fixes"


@pytest.mark.parametrize("lon", ["NaN", "Infinity", "1" + "0" * 400])
def test_what_json_has_no_number_for_is_400_not_json(worker, lon):
    from django.test import Client

    c = Client()
    c.force_login(worker)
    body = json.dumps({"fixes": [fix(0, lon=0.5)]}).replace("0.5", lon)
    answer = c.post("/api/patrols/fixes/", body, content_type="application/json")
    assert answer.status_code == 400 and answer.json()["field"] == "fixes"
    assert "not JSON" in answer.json()["message"]
    assert not PatrolFix.objects.exists()


def test_a_quarantined_batch_writes_nothing_to_the_track(worker):
    answer = post(worker, {"fixes": [fix(0, accuracy=900.0)]})
    assert answer.status_code == 200 and answer.json()["stored"] == 0
    assert not PatrolFix.objects.exists()


def test_the_changed_box_reaches_the_stored_neighbours(worker):
    from layers.patrols.signals import patrols_changed

    post(worker, {"fixes": [fix(0), fix(10, lon=LON + 0.001)]})
    seen = []

    def receiver(sender, bbox, **kwargs):
        seen.append(bbox)

    patrols_changed.connect(receiver)
    try:
        from django.test import TestCase

        with TestCase.captureOnCommitCallbacks(execute=True):
            post(worker, {"fixes": [fix(5, lon=LON + 0.0005, lat=LAT + 0.0002)]})
    finally:
        patrols_changed.disconnect(receiver)
    minx, miny, maxx, maxy = seen[0]
    assert minx <= LON and maxx >= LON + 0.001 and maxy >= LAT + 0.0002


def test_a_bad_anchor_holds_for_the_window_only(worker):
    post(worker, {"fixes": [fix(0, lon=LON + 0.05)]})  # a wrong first fix, ~4.5 km off
    near = post(worker, {"fixes": [fix(1)]}).json()
    assert near["quarantined"] == [{"index": 0, "reason": "impossible_speed"}]
    later = post(worker, {"fixes": [fix(200)]}).json()  # 33 minutes on: not compared, a new start
    assert later["stored"] == 1


def _stored(worker):
    fixes = PatrolFix.objects.filter(worker=worker).order_by("fix_time")
    kept = QuarantinedFix.objects.filter(worker=worker).order_by("fix_time")
    return (
        [(f.fix_time, f.send_time, f.geom.coords, f.accuracy, f.speed, f.heading, f.source_crs) for f in fixes],
        [(q.fix_time, q.send_time, q.reason, q.geom and q.geom.coords, q.accuracy, q.heading) for q in kept],
        DeviceClock.objects.get(worker=worker).skew_seconds,
    )


def test_a_plain_batch_and_one_checked_fix_by_fix_end_the_same(worker, other_worker):
    """Ingest takes a plain batch as columns and anything else fix by fix (an empty send time is read
    only by the latter): the answers and the rows must not tell the two apart."""
    from layers.patrols import ingest

    def gcj(i):
        glon, glat = crs.wgs84_to_gcj02(LON + i * 0.00001, LAT)
        return fix(i, lon=float(glon), lat=float(glat), crs="GCJ02")

    batch = (
        [fix(i) for i in range(30, 60)]  # 30-39 stored already
        + [gcj(i) for i in range(60, 70)]
        + [fix(45), fix(70, lon=LON + 0.2), fix(71), fix(72, accuracy=900.0), fix(73, lon=0, lat=0)]
        + [fix(74, heading=None), fix(75, speed=None), fix(76)]
    )
    plain = batch[:-1] + [{k: v for k, v in batch[-1].items() if k != "send_time"}]
    checked = batch[:-1] + [{**batch[-1], "send_time": ""}]
    assert ingest._fast_columns(worker, plain) is not None and ingest._fast_columns(other_worker, checked) is None
    answers = []
    for user, fixes in ((worker, plain), (other_worker, checked)):
        post(user, {"fixes": [fix(i) for i in range(40)]})
        answers.append(post(user, {"device_id": "p", "fixes": fixes}).json())
    assert answers[0] == answers[1]
    assert answers[0]["stored"] == 34 and answers[0]["duplicates"] == 11
    assert [q["reason"] for q in answers[0]["quarantined"]] == ["impossible_speed", "inaccurate", "null_island"]
    (fixes_a, kept_a, skew_a), (fixes_b, kept_b, skew_b) = _stored(worker), _stored(other_worker)
    assert fixes_a == fixes_b and kept_a == kept_b
    assert skew_a == pytest.approx(skew_b, abs=5)  # "now" is each post's own
