"""The escalation part of the incidents layer: overdue / warning / escalation_level in tiles and WFS,
the tile filters grid, date_from/date_to, overdue and escalated (checked: a bad value is a 400), and a
case that turns red by time alone reaching cached tiles through the escalation task's announcement."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from layers import catalogue
from layers.incidents import escalation
from layers.incidents.clock import SHANGHAI
from tests.layers.test_wfs_support import basic

from .escalation_setup import BASE, COMMUNITY, STREET, garbage_fixture, now, set_times  # noqa: F401
from .test_map_layers import LAYER, URL, as_user, features

pytestmark = pytest.mark.django_db


def props(response) -> dict:
    [feature] = features(response)
    return feature["properties"]


def numbers(response) -> list[str]:
    return [f["properties"]["number"] for f in features(response)]


def test_the_tile_carries_lights_and_level(garbage, dispatcher):
    set_times(garbage, due_at=now() - timedelta(minutes=1), escalation_level=2)
    p = props(as_user(dispatcher).get(URL))
    assert p["overdue"] is True and p["warning"] is False and p["escalation_level"] == 2


def test_a_warned_case_is_yellow_not_red(garbage, dispatcher):
    set_times(garbage, warn_at=now() - timedelta(minutes=1), due_at=now() + timedelta(hours=1))
    p = props(as_user(dispatcher).get(URL))
    assert (p["overdue"], p["warning"]) == (False, True)


def test_a_closed_case_is_never_overdue(garbage, dispatcher):
    set_times(garbage, state="closed", due_at=now() - timedelta(days=1))
    assert props(as_user(dispatcher).get(URL))["overdue"] is False


@pytest.mark.parametrize("code", [BASE, COMMUNITY, STREET])
def test_the_grid_filter_takes_any_level(garbage, dispatcher, code):
    c = as_user(dispatcher)
    assert numbers(c.get(URL, {"grid": code})) == [garbage.number]
    assert numbers(c.get(URL, {"grid": "37081200100102"})) == []


def test_the_date_range_is_in_local_days(garbage, dispatcher):
    today = timezone.localtime(garbage.created_at, SHANGHAI).date()
    c = as_user(dispatcher)
    assert numbers(c.get(URL, {"date_from": today.isoformat(), "date_to": today.isoformat()})) == [garbage.number]
    assert numbers(c.get(URL, {"date_from": (today + timedelta(days=1)).isoformat()})) == []
    assert numbers(c.get(URL, {"date_to": (today - timedelta(days=1)).isoformat()})) == []


def test_overdue_and_escalated_filters(garbage, dispatcher, django_capture_on_commit_callbacks):
    c = as_user(dispatcher)
    assert numbers(c.get(URL, {"overdue": "true"})) == []
    assert numbers(c.get(URL, {"escalated": "false"})) == [garbage.number]
    set_times(garbage, due_at=now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        escalation.escalate_due()  # announced after commit, so the cached tiles go
    assert numbers(c.get(URL, {"overdue": "true"})) == [garbage.number]
    assert numbers(c.get(URL, {"overdue": "false"})) == []
    assert numbers(c.get(URL, {"escalated": "true"})) == [garbage.number]


@pytest.mark.parametrize(
    "param, value",
    [
        ("grid", "abc"),
        ("grid", "12"),
        ("date_from", "2026-13-01"),
        ("date_to", "2026-01-01,2026-02-01"),
        ("overdue", "yes"),
        ("escalated", "1"),
    ],
)
def test_bad_filter_values_are_400_naming_the_parameter(garbage, dispatcher, param, value):
    r = as_user(dispatcher).get(URL, {param: value})
    assert r.status_code == 400 and param in r.content.decode()


def test_a_case_turning_red_by_time_reaches_the_cached_tile_when_announced(garbage, dispatcher):
    c = as_user(dispatcher)
    set_times(garbage, due_at=now() + timedelta(hours=1))
    assert props(c.get(URL))["overdue"] is False
    # Time passes: the deadline is behind us, but nothing wrote to the case, so the tile is stale.
    set_times(garbage, due_at=now() - timedelta(minutes=1))
    assert props(c.get(URL))["overdue"] is False
    assert escalation.announce_lights() == 1
    assert props(c.get(URL))["overdue"] is True


def test_the_style_rings_overdue_red_and_warning_amber():
    points = next(s for s in catalogue.get(LAYER).tiles.style if s["id"] == "points")
    ring = points["paint"]["circle-stroke-color"]
    assert "#dc2626" in ring and "#f59e0b" in ring and ["get", "overdue"] in ring[1]


def test_wfs_carries_the_same_properties(garbage, dispatcher):
    set_times(garbage, due_at=now() - timedelta(minutes=1), escalation_level=1)
    c = Client(HTTP_AUTHORIZATION=basic(dispatcher.username, "test-pass-123"))
    r = c.get(
        "/wfs",
        {
            "SERVICE": "WFS",
            "VERSION": "2.0.0",
            "REQUEST": "GetFeature",
            "TYPENAMES": LAYER,
            "OUTPUTFORMAT": "application/json",
        },
    )
    body = (b"".join(r.streaming_content) if r.streaming else r.content).decode()
    assert r.status_code == 200, body[:300]
    assert '"overdue": true' in body.replace('"overdue":true', '"overdue": true')
    assert '"escalation_level": 1' in body.replace('"escalation_level":1', '"escalation_level": 1')


def test_clusters_and_png_tiles_take_the_same_filters(garbage, dispatcher):
    import mercantile

    from .conftest import LAT, LON

    set_times(garbage, due_at=now() - timedelta(minutes=1))
    t = mercantile.tile(LON, LAT, 10)
    c = as_user(dispatcher)
    cluster_url = f"/tiles/{LAYER}/10/{t.x}/{t.y}.mvt"
    assert [f["properties"]["count"] for f in features(c.get(cluster_url, {"overdue": "true", "grid": BASE}))] == [1]
    assert features(c.get(cluster_url, {"escalated": "true"})) == []
    png = c.get(URL.replace(".mvt", ".png"), {"overdue": "true", "date_to": "2099-12-31"})
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
