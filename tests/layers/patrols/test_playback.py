import datetime as dt

from django.test import Client
from django.utils import timezone

from .conftest import LON
from .helpers import START, fix, post

STEP = 0.0001  # ~9 m east per 10 s: walking


def _walk_stop_walk():
    """60 fixes walking, 40 standing (400 s), 60 walking again."""
    lons = [LON + i * STEP for i in range(60)]
    lons += [lons[-1]] * 40
    lons += [lons[-1] + (i + 1) * STEP for i in range(60)]
    return [fix(i, lon=lon) for i, lon in enumerate(lons)]


def _day(user, worker, day=None, query=""):
    c = Client()
    c.force_login(user)
    day = day or timezone.localtime(START).date()
    return c.get(f"/api/patrols/workers/{worker.username}/days/{day.isoformat()}/{query}")


def test_playback_is_in_time_order_with_stops_and_trips(worker, dispatcher):
    if timezone.localtime(START).date() != timezone.localtime(START + dt.timedelta(seconds=1600)).date():
        return  # the walk would straddle local midnight; the day split is not what this test is about
    fixes = _walk_stop_walk()
    assert post(worker, {"fixes": list(reversed(fixes))}).json()["stored"] == 160
    answer = _day(dispatcher, worker)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    times = [row[0] for row in body["coordinates"]]
    assert len(times) == 160 and times == sorted(times)
    assert [len(row) for row in body["coordinates"]] == [3] * 160
    assert len(body["stops"]) == 1
    stop = body["stops"][0]
    assert stop["minutes"] >= 5 and stop["fixes"] >= 40
    assert len(body["trips"]) == 2 and all(t["distance_m"] > 400 for t in body["trips"])


def test_stop_rule_is_tunable(worker, dispatcher):
    post(worker, {"fixes": _walk_stop_walk()})
    body = _day(dispatcher, worker, query="?stop_minutes=10").json()
    assert body["stops"] == [] and body["stop_rule"]["minutes"] == 10
    assert _day(dispatcher, worker, query="?stop_minutes=-1").status_code == 400


def test_a_worker_replays_their_own_day_only(worker, other_worker):
    post(worker, {"fixes": [fix(i) for i in range(5)]})
    assert _day(worker, worker).status_code == 200
    assert _day(other_worker, worker).status_code == 404
    assert _day(worker, worker, day=None, query="").json()["worker"] == worker.username


def test_a_bad_date_is_400(worker, dispatcher):
    c = Client()
    c.force_login(dispatcher)
    for date in ("2026-13-40", "9999-12-31", "0001-01-01"):  # the last two once overflowed the day's end
        answer = c.get(f"/api/patrols/workers/{worker.username}/days/{date}/")
        assert answer.status_code == 400 and answer.json()["field"] == "date"


def test_array_stops_follow_the_anchor_rule_exactly():
    """playback._runs (arrays, used by replay) finds the same stops as playback.stops (the rule as written)."""
    import random

    import numpy as np

    from layers.patrols import playback

    rng = random.Random(3)
    for _ in range(20):
        t0 = timezone.now()
        points, lon, lat = [], LON, 35.5
        for k in range(rng.randint(0, 300)):
            if rng.random() < 0.7:
                lon += rng.uniform(0, 0.0008)
            points.append((t0 + dt.timedelta(seconds=10 * k), lon + rng.gauss(0, 0.00005), lat))
        t = np.array([p[0].timestamp() for p in points])
        x, y = np.array([p[1] for p in points]), np.array([p[2] for p in points])
        for radius, minutes in ((50, 5), (20, 1), (80, 0)):
            assert playback._runs(t, x, y, radius, minutes) == playback.stops(points, radius, minutes)
