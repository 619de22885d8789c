"""A supervisor's checks: quarantined fixes with their reasons, device clocks, and shifts in the playback."""

import datetime as dt

from django.test import Client
from django.utils import timezone

from .conftest import LAT, LON
from .helpers import START, fix, post


def _get(user, url):
    c = Client()
    c.force_login(user)
    return c.get(url)


def _today():
    return timezone.localtime(START).date().isoformat()


def test_a_dispatcher_sees_the_quarantined_fixes_and_why(worker, dispatcher):
    fixes = [fix(0), fix(1, lon=0.0, lat=0.0), fix(2, accuracy=500.0), fix(3)]
    assert post(worker, {"fixes": fixes}).json()["stored"] == 2
    body = _get(dispatcher, f"/api/patrols/quarantine/?date={_today()}").json()
    assert body["total"] == 2 and not body["truncated"]
    assert {(c["reason"], c["count"]) for c in body["counts"]} == {("null_island", 1), ("inaccurate", 1)}
    labels = {f["reason"]: f["reason_label"] for f in body["fixes"]}
    assert labels["null_island"] == "坐标为0,0" and labels["inaccurate"] == "精度过差"
    assert all(f["worker"] == worker.username for f in body["fixes"])
    only = _get(dispatcher, f"/api/patrols/quarantine/?date={_today()}&reason=inaccurate").json()
    assert [f["reason"] for f in only["fixes"]] == ["inaccurate"] and only["total"] == 2


def test_a_worker_sees_only_their_own_quarantine(worker, other_worker):
    post(worker, {"fixes": [fix(1, lon=0.0, lat=0.0)]})
    assert _get(other_worker, f"/api/patrols/quarantine/?date={_today()}").json()["total"] == 0
    assert _get(worker, f"/api/patrols/quarantine/?date={_today()}").json()["total"] == 1
    named = _get(other_worker, f"/api/patrols/quarantine/?date={_today()}&worker={worker.username}")
    assert named.status_code == 404


def test_bad_quarantine_queries_name_the_field(dispatcher):
    for query, field in (("date=2026-13-01", "date"), ("", "date"), (f"date={_today()}&reason=bogus", "reason")):
        answer = _get(dispatcher, f"/api/patrols/quarantine/?{query}")
        assert answer.status_code == 400, query
        assert answer.json()["field"] == field


def test_device_clocks_show_how_far_off_each_phone_is(worker, other_worker, dispatcher):
    now = timezone.now()
    good = fix(0, send_time=(now - dt.timedelta(seconds=1)).isoformat())
    post(worker, {"device_id": "phone-1", "fixes": [good]})
    late = fix(1, send_time=(now - dt.timedelta(minutes=10)).isoformat())  # the phone's clock 10 min slow
    post(other_worker, {"device_id": "phone-2", "fixes": [late]})
    rows = {r["worker"]: r for r in _get(dispatcher, "/api/patrols/devices/").json()}
    assert rows[worker.username]["device_id"] == "phone-1" and not rows[worker.username]["clock_wrong"]
    assert rows[other_worker.username]["clock_wrong"] and rows[other_worker.username]["skew_seconds"] > 590
    assert [r["worker"] for r in _get(worker, "/api/patrols/devices/").json()] == [worker.username]


def test_a_long_silence_splits_the_day_into_shifts(worker, dispatcher):
    later = START + dt.timedelta(minutes=80)
    if timezone.localtime(START).date() != timezone.localtime(later + dt.timedelta(minutes=10)).date():
        return  # the walk would straddle local midnight; the day split is not what this test is about
    fixes = [fix(i) for i in range(30)] + [
        fix(i, start=later, lon=LON + 0.001 + i * 0.00001, lat=LAT) for i in range(30)
    ]
    assert post(worker, {"fixes": fixes}).json()["stored"] == 60
    body = _get(dispatcher, f"/api/patrols/workers/{worker.username}/days/{_today()}/").json()
    assert body["shift_gap_minutes"] == 60
    assert [s["fixes"] for s in body["shifts"]] == [30, 30]
    assert body["shifts"][0]["end"] < body["shifts"][1]["start"]
    assert all(s["minutes"] == 4.8 for s in body["shifts"])
