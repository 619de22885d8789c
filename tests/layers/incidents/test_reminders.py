"""Reminders: 黄灯 from warn_at, 红灯 from due_at, only in working time, to the assigned unit's users
and the grid staff up to the case's level, once per case, kind and stage."""

from datetime import timedelta

import pytest

from layers.incidents import reminders, services
from layers.incidents.models import Notification

from .escalation_setup import MONDAY_10, SATURDAY_10, garbage_fixture, set_times, staff_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def handling(garbage, staff, dispatcher, unit, unit_user):
    services.dispatch(dispatcher, garbage, organisation=unit)
    services.accept(unit_user, garbage)
    Notification.objects.all().delete()  # the dispatch's own message is not what these tests count
    return garbage


def told(case, kind):
    return sorted(Notification.objects.filter(case=case, kind=kind).values_list("recipient__username", flat=True))


def test_a_warning_goes_to_the_unit_and_the_base_grid_staff(handling):
    set_times(handling, warn_at=MONDAY_10 - timedelta(minutes=5), due_at=MONDAY_10 + timedelta(hours=1))
    assert reminders.send_reminders(MONDAY_10) == 2
    assert told(handling, "warning") == ["case_unit_user", "staff_level_0"]
    message = Notification.objects.filter(kind="warning").first().message
    assert handling.number in message and "即将到期" in message


def test_once_per_stage_and_a_new_stage_is_told_again(handling, grid_worker, unit_user):
    set_times(handling, warn_at=MONDAY_10 - timedelta(hours=2), due_at=MONDAY_10 - timedelta(minutes=1))
    assert reminders.send_reminders(MONDAY_10) == 2
    assert reminders.send_reminders(MONDAY_10 + timedelta(minutes=10)) == 0
    assert told(handling, "overdue") == ["case_unit_user", "staff_level_0"]
    # Handled, then sent back for rework: a new handling stage, late again, is a new reminder.
    services.handle(unit_user, handling)
    services.rework(grid_worker, handling, "没修好")
    set_times(handling, stage_started_at=MONDAY_10 - timedelta(hours=1))
    assert reminders.send_reminders(MONDAY_10) == 2


def test_nothing_is_sent_outside_working_time(handling):
    set_times(handling, warn_at=SATURDAY_10 - timedelta(hours=2), due_at=SATURDAY_10 - timedelta(hours=1))
    assert reminders.send_reminders(SATURDAY_10) == 0
    lunch = MONDAY_10.replace(hour=12, minute=30)
    assert reminders.send_reminders(lunch) == 0
    assert Notification.objects.count() == 0
    assert reminders.send_reminders(MONDAY_10) == 2  # the missed one goes out in working time


def test_escalated_cases_also_tell_the_staff_of_the_levels_reached(handling):
    set_times(handling, escalation_level=2, due_at=MONDAY_10 - timedelta(hours=1))
    reminders.send_reminders(MONDAY_10)
    assert told(handling, "overdue") == ["case_unit_user", "staff_level_0", "staff_level_1", "staff_level_2"]


def test_green_parked_and_closed_cases_are_left_alone(handling):
    set_times(handling, warn_at=MONDAY_10 + timedelta(hours=1), due_at=MONDAY_10 + timedelta(hours=2))
    assert reminders.send_reminders(MONDAY_10) == 0
    set_times(handling, state="on_hold", warn_at=MONDAY_10 - timedelta(hours=2), due_at=MONDAY_10 - timedelta(hours=1))
    assert reminders.send_reminders(MONDAY_10) == 0
    set_times(handling, state="closed")
    assert reminders.send_reminders(MONDAY_10) == 0


def test_the_reminder_is_unique_in_the_database(handling, unit_user):
    from django.db import IntegrityError, transaction

    fields = {"recipient": unit_user, "case": handling, "kind": "overdue", "stage_key": "k", "message": "m"}
    Notification.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(**fields)


def test_dispatch_tells_the_units_users(garbage, dispatcher, unit, unit_user, other_unit, other_unit_user):
    services.dispatch(dispatcher, garbage, organisation=unit)
    assert told(garbage, "assigned") == ["case_unit_user"]
    services.reassign(dispatcher, garbage, other_unit, "改派")
    assert told(garbage, "assigned") == ["case_other_unit_user", "case_unit_user"]


def test_many_late_cases_cost_a_fixed_number_of_queries(
    garbage, staff, dispatcher, unit, unit_user, django_assert_max_num_queries
):
    from .conftest import LAT, LON

    cases = [garbage] + [services.report_case(dispatcher, "06010", (LON, LAT), "EPSG:4490", "垃圾") for _ in range(5)]
    for case in cases:
        services.dispatch(dispatcher, case, organisation=unit)
        set_times(case, due_at=MONDAY_10 - timedelta(hours=1))
    with django_assert_max_num_queries(10):  # 4 of them read the clock tables (calendar, hours, limits)
        assert reminders.send_reminders(MONDAY_10) == 12  # the unit's user and the grid's staff, per case


def test_a_make_up_saturday_in_the_database_calendar_is_working_time(handling):
    from layers.incidents.clock_models import CalendarOverride

    set_times(handling, warn_at=SATURDAY_10 - timedelta(hours=2), due_at=SATURDAY_10 - timedelta(hours=1))
    CalendarOverride.objects.create(date=SATURDAY_10.date(), working=True, note="调休上班")
    assert reminders.send_reminders(SATURDAY_10) == 2
