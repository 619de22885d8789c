"""The incidents benchmark's verdicts and its call of the weekly report (no server needed)."""

import pytest

from bench.incidents_bench import _targets, over_repeats, weekly_report_timing


def run(p50, errors=0):
    return {"p50": p50, "errors": errors, "first_errors": [f"HTTP 500 at {p50}"] * errors}


def results(p50=10.0):
    return {
        k: over_repeats([run(p50), run(p50 + 1), run(p50 - 1)])
        for k in ("unit_queue", "dispatcher_queue", "list", "transition")
    }


TILES = {
    "floor": {"rps": 100.0, "p99": 10.0},
    "cold": {"rps": 90.0, "p99": 15.0},
    "largest_bytes": 1000,
    "errors": 0,
}


def test_medians_and_spread_over_repeats():
    m = over_repeats([run(12.0), run(30.0), run(11.0, errors=1)])
    assert (m["median"], m["min"], m["max"], m["errors"]) == (12.0, 11.0, 30.0, 1)


def test_targets_pass_fail_and_skip():
    ok = _targets(results(10.0), {"skipped": "no reports"}, TILES)
    assert all(t["ok"] in (True, None) for t in ok)
    assert [t["ok"] for t in ok if "weekly" in t["target"]] == [None]  # skipped is not a failure
    slow = _targets(
        results(25.0), {"median": 2.5, "min": 2.4, "max": 2.6}, {**TILES, "cold": {"rps": 50.0, "p99": 30.0}}
    )
    failed = {t["target"] for t in slow if t["ok"] is False}
    assert "(b) list API p50" in failed and "(d) weekly report, whole district" in failed
    assert "(e) cold tiles/s >= 0.8 x floor" in failed and "(e) cold p99 <= 2 x floor p99" in failed
    bad = results(10.0)
    bad["list"] = over_repeats([run(10.0, errors=2)] * 3)
    assert any(t["ok"] is False and "every answer" in t["target"] for t in _targets(bad, {"skipped": "-"}, TILES))


@pytest.mark.django_db
def test_weekly_report_times_the_reports_module(streetlight_case):
    timing = weekly_report_timing(3)
    assert "reports.build(period('week'" in timing["call"]
    assert len(timing["runs"]) == 3 and timing["min"] <= timing["median"] <= timing["max"]


@pytest.fixture
def streetlight_case(db):
    from django.contrib.gis.geos import Point

    from components import roles
    from components.models import ComponentClass
    from layers.incidents import services
    from tests.factories import ComponentFactory, make_user

    ComponentFactory(component_class=ComponentClass.objects.get(code="0118"), geom=Point(116.8255, 35.5455, srid=4490))
    return services.report_case(make_user("bench_dispatcher", roles.DISPATCHER), "0118", (116.8255, 35.5455))
