"""Reporting and the case record: asset snapping, routing, unique numbers under concurrency, and an
event log the database keeps append-only."""

import threading

import pytest
from django.contrib.gis.geos import Point
from django.db import DatabaseError, connection, connections, transaction

from components.models import ComponentClass
from gis_core.crs import wgs84_to_gcj02
from layers.incidents import services
from layers.incidents.models import Case, CaseClass, CaseEvent, RoutingRule
from layers.incidents.workflow import State
from tests.factories import ComponentFactory, OrganisationFactory

from .conftest import LAT, LON

# Degrees of latitude per metre, near enough at this latitude for 30 m / 70 m offsets.
DEG_PER_M = 1 / 111_000


def test_a_streetlight_case_snaps_to_the_nearest_light_within_50_m(db, streetlight, dispatcher):
    farther = ComponentFactory(
        component_class=ComponentClass.objects.get(code="0118"), geom=Point(LON, LAT + 40 * DEG_PER_M, srid=4490)
    )
    case = services.report_case(dispatcher, "0118", (LON, LAT + 30 * DEG_PER_M), "EPSG:4490", "路灯不亮")
    assert case.component == farther  # 10 m from it, 30 m from the first
    case = services.report_case(dispatcher, "0118", (LON, LAT + 5 * DEG_PER_M), "EPSG:4490", "路灯不亮")
    assert case.component == streetlight


def test_no_light_within_50_m_is_refused_for_a_class_that_requires_an_asset(db, streetlight, dispatcher):
    with pytest.raises(services.ServiceError) as refused:
        services.report_case(dispatcher, "0118", (LON, LAT + 70 * DEG_PER_M), "EPSG:4490", "路灯不亮")
    assert refused.value.field == "component_code"
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


def test_other_classes_of_components_and_retired_lights_are_not_snapped_to(db, streetlight, dispatcher):
    from components.services import retire_component

    ComponentFactory(component_class=ComponentClass.objects.get(code="0101"), geom=Point(LON, LAT, srid=4490))
    retire_component(streetlight, reason="拆除")
    with pytest.raises(services.ServiceError):
        services.report_case(dispatcher, "0118", (LON, LAT), "EPSG:4490", "路灯不亮")


def test_a_report_in_gcj02_is_stored_in_cgcs2000(db, streetlight, grid_worker):
    glon, glat = (float(v) for v in wgs84_to_gcj02(LON, LAT))
    case = services.report_case(grid_worker, "0118", (glon, glat), "GCJ02", "路灯不亮")
    assert case.geom.coords == pytest.approx((LON, LAT), abs=1e-7)
    assert case.component == streetlight and case.source == "grid_worker"


@pytest.mark.parametrize(
    "values, field",
    [
        ({"class_code": "9999"}, "class_code"),
        ({"class_code": "06"}, "class_code"),
        ({"point": (120.5, 31.3)}, "point"),
        ({"crs": "EPSG:3857"}, "crs"),
        ({"severity": "apocalyptic"}, "severity"),
        ({"source": "pigeon"}, "source"),
        ({"description": "a\x00b"}, "description"),
        ({"component_code": "370812011800999"}, "component_code"),
    ],
)
def test_bad_reports_are_refused_naming_the_field_and_write_nothing(db, dispatcher, values, field):
    args = {"class_code": "06010", "point": (LON, LAT), "crs": "EPSG:4490", "description": "垃圾", **values}
    with pytest.raises(services.ServiceError) as refused:
        services.report_case(dispatcher, **args)
    assert refused.value.field == field
    assert not Case.objects.exists()


def test_dispatch_goes_to_the_maintainer_else_the_owner(db, streetlight, unit, dispatcher):
    case = services.report_case(dispatcher, "0118", (LON, LAT), "EPSG:4490", "路灯不亮")
    assert services.dispatch(dispatcher, case).assigned_org == unit
    owner = OrganisationFactory()
    unmaintained = ComponentFactory(
        component_class=ComponentClass.objects.get(code="0101"),
        geom=Point(LON, LAT, srid=4490),
        maintainer=None,
        owner=owner,
    )
    case = services.report_case(dispatcher, "0101", (LON, LAT), "EPSG:4490", "井盖丢失")
    assert case.component == unmaintained
    assert services.dispatch(dispatcher, case).assigned_org == owner


def test_event_classes_go_through_the_routing_table(db, unit, other_unit, dispatcher):
    RoutingRule.objects.create(case_class=CaseClass.objects.get(code="06"), organisation=other_unit)
    RoutingRule.objects.create(case_class=CaseClass.objects.get(code="09006"), organisation=unit)
    garbage = services.report_case(dispatcher, "06010", (LON, LAT), "EPSG:4490", "垃圾")
    assert services.dispatch(dispatcher, garbage).assigned_org == other_unit  # the parent class's rule
    stall = services.report_case(dispatcher, "09006", (LON, LAT), "EPSG:4490", "占道")
    assert services.dispatch(dispatcher, stall).assigned_org == unit
    nobody = services.report_case(dispatcher, "09010", (LON, LAT), "EPSG:4490", "占用通道")
    with pytest.raises(services.ServiceError) as refused:
        services.dispatch(dispatcher, nobody)
    assert refused.value.field == "organisation"
    assert services.dispatch(dispatcher, nobody, organisation=unit).assigned_org == unit


def test_numbers_are_the_date_and_a_serial(db, dispatcher):
    first = services.report_case(dispatcher, "06010", (LON, LAT), "EPSG:4490", "垃圾")
    second = services.report_case(dispatcher, "06010", (LON, LAT), "EPSG:4490", "垃圾")
    assert first.number[:8] == first.created_at.astimezone().strftime("%Y%m%d")
    assert int(second.number[8:]) == int(first.number[8:]) + 1


def test_the_event_log_refuses_update_and_delete(db, dispatcher):
    case = services.report_case(dispatcher, "06010", (LON, LAT), "EPSG:4490", "垃圾")
    event = case.events.get()
    for sql in (
        "UPDATE incidents_caseevent SET note = 'rewritten' WHERE id = %s",
        "DELETE FROM incidents_caseevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [event.pk])
    event.refresh_from_db()
    assert event.note == "" and event.action == "report"


@pytest.mark.django_db(transaction=True)
def test_numbers_stay_unique_when_two_reports_race(streetlight):
    numbers, errors = [], []
    start = threading.Barrier(2)

    def report():
        try:
            start.wait()
            for _ in range(10):
                with transaction.atomic():
                    numbers.append(services.report_case(None, "06010", (LON, LAT), "EPSG:4490", "垃圾").number)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=report) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(numbers) == 20 and len(set(numbers)) == 20
    assert sorted(int(n[8:]) for n in numbers) == list(range(1, 21))


def test_grid_codes_are_fixed_at_registration(db, dispatcher):
    case = services.report_case(dispatcher, "06010", (LON, LAT), "EPSG:4490", "垃圾")
    assert case.state == State.REPORTED
    assert (case.grid_code, case.community_code, case.street_code) == ("", "", "")  # no grids in this test


@pytest.mark.django_db(transaction=True)
def test_the_same_client_token_racing_on_two_connections_makes_one_case(streetlight):
    from components import roles
    from tests.factories import make_user

    user = make_user("racing_reporter", roles.GRID_WORKER)
    answers, errors = [], []
    start = threading.Barrier(2)

    def report():
        try:
            start.wait()
            with transaction.atomic():
                answers.append(
                    services.report_case(user, "06010", (LON, LAT), "EPSG:4490", "垃圾", client_token="retry-1").number
                )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=report) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(answers) == 2 and answers[0] == answers[1]
    assert Case.objects.count() == 1 and CaseEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_clicking_at_once_make_one_step(streetlight):
    from components import roles
    from tests.factories import make_user

    case = services.report_case(None, "0118", (LON, LAT), "EPSG:4490", "路灯不亮")
    desks = [make_user(f"racing_dispatcher_{n}", roles.DISPATCHER) for n in range(2)]
    outcomes = []
    start = threading.Barrier(2)

    def dispatch(user):
        try:
            start.wait()
            services.dispatch(user, case)
            outcomes.append("done")
        except services.TransitionRefused as exc:
            outcomes.append(exc.status)
        except Exception as exc:  # noqa: BLE001 - reported below
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=dispatch, args=(u,)) for u in desks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes, key=str) == sorted(["done", 409], key=str)
    assert list(CaseEvent.objects.filter(case=case).values_list("action", flat=True).order_by("id")) == [
        "report",
        "dispatch",
    ]
