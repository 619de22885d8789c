"""The two small endpoints the viewer's 巡查 panel reads: the day's workers and live positions."""

import datetime as dt

from django.test import Client
from django.utils import timezone

from components import roles
from tests.factories import OrganisationFactory, make_user

from .conftest import LAT, LON
from .helpers import START, fix, post


def _get(user, url, **headers):
    c = Client()
    if user is not None:
        c.force_login(user)
    return c.get(url, headers=headers)


def _day_url(day=None, query=""):
    day = day or timezone.localtime(START).date()
    return f"/api/patrols/days/{day.isoformat()}/workers/{query}"


def test_the_days_workers_with_time_range_count_and_distance(worker, other_worker, dispatcher):
    unit = OrganisationFactory(name="兴隆街道办")
    worker.last_name, worker.first_name = "王", "小明"
    worker.save()
    from components.models import UserProfile

    UserProfile.objects.create(user=worker, organisation=unit)
    post(worker, {"fixes": [fix(i, lon=LON + i * 0.0001) for i in range(11)]})  # 10 steps of ~9 m
    post(other_worker, {"fixes": [fix(i) for i in range(3)]})
    answer = _get(dispatcher, _day_url())
    assert answer.status_code == 200, answer.content
    assert answer["Cache-Control"] == "private, no-cache"
    body = answer.json()
    assert body["truncated"] is False
    assert [w["username"] for w in body["workers"]] == ["patrol_other_worker", "patrol_worker"]
    wang = body["workers"][1]
    assert wang["name"] == "王小明" and wang["unit"] == "兴隆街道办" and wang["fix_count"] == 11
    assert dt.datetime.fromisoformat(wang["first_time"]) == START
    assert dt.datetime.fromisoformat(wang["last_time"]) == START + dt.timedelta(seconds=100)
    assert 85 < wang["distance_m"] < 95  # 0.001 degree of longitude at 35.5 N is ~90.6 m
    assert body["workers"][0]["name"] == "patrol_other_worker" and body["workers"][0]["unit"] is None

    searched = _get(dispatcher, _day_url(query="?q=小明")).json()["workers"]
    assert [w["username"] for w in searched] == ["patrol_worker"]
    assert _get(dispatcher, _day_url(query="?q=%25")).json()["workers"] == []  # a literal %, not a wildcard
    other_day = timezone.localtime(START).date() - dt.timedelta(days=3)
    assert _get(dispatcher, _day_url(day=other_day)).json()["workers"] == []


def test_the_days_workers_are_scoped_like_tracks(worker, other_worker):
    post(worker, {"fixes": [fix(i) for i in range(3)]})
    post(other_worker, {"fixes": [fix(i) for i in range(3)]})
    assert [w["username"] for w in _get(worker, _day_url()).json()["workers"]] == ["patrol_worker"]
    unit_user = make_user("patrol_unit_user", roles.MAINTENANCE_UNIT)
    assert _get(unit_user, _day_url()).json()["workers"] == []
    assert _get(None, _day_url()).status_code in (401, 403)


def test_the_days_workers_refuse_a_bad_date_or_query(dispatcher):
    bad = _get(dispatcher, "/api/patrols/days/2026-13-40/workers/")
    assert bad.status_code == 400 and bad.json()["field"] == "date"
    long = _get(dispatcher, _day_url(query="?q=" + "x" * 151))
    assert long.status_code == 400 and long.json()["field"] == "q"
    assert _get(dispatcher, _day_url(query="?q=a%00b")).json()["field"] == "q"
    far = _get(dispatcher, "/api/patrols/days/9999-12-31/workers/")
    assert far.status_code == 400 and far.json()["field"] == "date"


def test_live_positions_are_the_last_fix_of_each_worker_on_duty(worker, other_worker, dispatcher):
    now = timezone.now().replace(microsecond=0)
    post(worker, {"fixes": [fix(i, start=now - dt.timedelta(minutes=2)) for i in range(3)]})
    post(other_worker, {"fixes": [fix(0, start=now - dt.timedelta(hours=1))]})  # off duty: too old
    answer = _get(dispatcher, "/api/patrols/positions/")
    assert answer.status_code == 200 and answer["Cache-Control"] == "private, no-cache"
    body = answer.json()
    assert body["type"] == "FeatureCollection" and body["truncated"] is False
    [only] = body["features"]
    assert only["properties"]["worker"] == "patrol_worker"
    assert only["geometry"]["coordinates"] == [round(LON + 2 * 0.00001, 7), LAT]
    assert dt.datetime.fromisoformat(only["properties"]["fix_time"]) == now - dt.timedelta(minutes=2) + dt.timedelta(
        seconds=20
    )
    # Unchanged: 304 on the same ETag; a new fix changes it.
    assert _get(dispatcher, "/api/patrols/positions/", if_none_match=answer["ETag"]).status_code == 304
    post(worker, {"fixes": [fix(3, start=now - dt.timedelta(minutes=2))]})
    again = _get(dispatcher, "/api/patrols/positions/", if_none_match=answer["ETag"])
    assert again.status_code == 200 and again["ETag"] != answer["ETag"]


def test_live_positions_are_scoped(worker, other_worker):
    now = timezone.now().replace(microsecond=0)
    for who in (worker, other_worker):
        post(who, {"fixes": [fix(0, start=now - dt.timedelta(minutes=1))]})
    mine = _get(worker, "/api/patrols/positions/").json()["features"]
    assert [f["properties"]["worker"] for f in mine] == ["patrol_worker"]
    unit_user = make_user("patrol_unit_user", roles.MAINTENANCE_UNIT)
    assert _get(unit_user, "/api/patrols/positions/").json()["features"] == []
