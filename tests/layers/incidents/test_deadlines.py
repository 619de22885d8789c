"""Deadlines of real cases through the services and the database: the failure classes of SLA engines
(midnight, weekend, holiday, 调休 Saturday, lunch break, a pause over a holiday, a limit edited while
paused, a pending 延期, a year outside the calendar), the 延期 workflow, the tables' constraints and
the holiday copy. Time is set by patching django.utils.timezone.now, so event rows carry it."""

from contextlib import contextmanager
from datetime import date, datetime, timedelta
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction

from layers.incidents import deadlines, services
from layers.incidents.clock import SHANGHAI, WorkingCalendar
from layers.incidents.clock_models import CalendarOverride, CalendarYear, CaseExtension, TimeLimit, WorkingHoursSetting
from layers.incidents.models import Case, CaseClass, CaseEvent

from .conftest import LAT, LON

pytestmark = pytest.mark.django_db
CLASS = "06013"  # 道路破损: an event class with no limits of its own, so the defaults apply


def T(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@contextmanager
def at(text: str):
    with mock.patch("django.utils.timezone.now", return_value=T(text)):
        yield


def set_limit(stage: str, amount, unit: str, warn_fraction=0.2):
    TimeLimit.objects.filter(stage=stage).delete()
    return TimeLimit.objects.create(
        stage=stage, case_class=None, severity="", amount=amount, unit=unit, warn_fraction=warn_fraction
    )


def report(user, when: str, severity="normal") -> Case:
    with at(when):
        return services.report_case(user, CLASS, (LON, LAT), "EPSG:4490", "路面坑洞", severity=severity)


def step(fn, user, case, when: str, *args, **kwargs) -> Case:
    with at(when):
        return fn(user, case, *args, **kwargs)


def stored(case) -> Case:
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def two_hours(db):
    return set_limit("dispatch", 2, "working_hours")


# --- the failure classes ------------------------------------------------------------------------------


def test_a_deadline_across_midnight_goes_on_next_morning(dispatcher, two_hours):
    case = report(dispatcher, "2025-09-24 16:30")  # Wednesday: 1 h today, 1 h tomorrow
    case = stored(case)
    assert case.due_at == T("2025-09-25 09:30") and case.stage_started_at == T("2025-09-24 16:30")
    assert case.calendar_known


def test_a_weekend_is_skipped(dispatcher, two_hours):
    case = stored(report(dispatcher, "2025-09-19 17:00"))  # Friday
    assert case.due_at == T("2025-09-22 10:00")  # Monday


def test_a_holiday_is_skipped(dispatcher, two_hours):
    case = stored(report(dispatcher, "2025-09-30 16:30"))  # National Day: Oct 1-8 off
    assert case.due_at == T("2025-10-09 09:30")


def test_working_days_over_the_national_day_holiday(dispatcher, unit):
    set_limit("handle", 5, "working_days")
    case = report(dispatcher, "2025-09-30 09:00")
    step(services.dispatch, dispatcher, case, "2025-09-30 10:00", organisation=unit)
    assert stored(case).due_at == T("2025-10-14 17:30")  # Sat Oct 11 is worked (调休)


def test_a_make_up_saturday_is_worked(dispatcher, two_hours):
    case = stored(report(dispatcher, "2025-10-10 17:00"))  # Friday; Sat Oct 11 is a 调休 working day
    assert case.due_at == T("2025-10-11 10:00")


def test_the_lunch_break_is_not_counted(dispatcher, two_hours):
    case = stored(report(dispatcher, "2025-09-24 11:00"))
    assert case.due_at == T("2025-09-24 14:30")


def test_a_pause_spanning_a_holiday_costs_only_the_working_time_before_it(dispatcher, two_hours):
    case = report(dispatcher, "2025-09-30 10:00")
    step(services.hold, dispatcher, case, "2025-09-30 11:00", "等待权属认定")  # 1 h used
    step(services.resume, dispatcher, case, "2025-10-09 09:00")
    case = stored(case)
    assert case.due_at == T("2025-10-09 10:00") and case.stage_started_at == T("2025-09-30 10:00")


def test_a_limit_edited_while_paused_is_recomputed_for_open_cases(
    dispatcher, two_hours, settings, django_capture_on_commit_callbacks
):
    settings.GRIDCITY_INCIDENT_RECOMPUTE_IN_WORKER = False
    case = report(dispatcher, "2025-09-24 09:00")
    step(services.hold, dispatcher, case, "2025-09-24 10:00", "挂账")  # 1 h used
    with at("2025-09-24 15:00"):
        status = deadlines.status_of(stored(case))
        assert status.paused and status.time_left_minutes == 60 and status.light == "green"
        two_hours.amount = 4
        with django_capture_on_commit_callbacks(execute=True):
            two_hours.save()  # the admin's save: recomputed after commit
    case = stored(case)
    assert case.due_at == T("2025-09-25 09:00")  # 3 h left from 15:00, the pause going on
    with at("2025-09-24 17:00"):
        assert deadlines.time_left_minutes(case) == 180  # stands still while parked
    step(services.resume, dispatcher, case, "2025-09-25 09:00")
    assert stored(case).due_at == T("2025-09-25 12:00")


def test_recompute_open_counts_changed_cases_and_leaves_closed_ones(dispatcher, two_hours):
    first = report(dispatcher, "2025-09-24 09:00")
    second = report(dispatcher, "2025-09-24 09:30")
    step(services.void, dispatcher, second, "2025-09-24 09:40", "重复")
    TimeLimit.objects.filter(pk=two_hours.pk).update(amount=3)  # behind the signals' back
    with at("2025-09-24 10:00"):
        assert deadlines.recompute_open() == 1
        assert deadlines.recompute_open() == 0
    assert stored(first).due_at == T("2025-09-24 12:00") and stored(second).due_at is None


def test_a_pending_extension_pauses_and_an_approval_grows_the_limit(dispatcher, unit, unit_user):
    set_limit("handle", 2, "working_hours")
    case = report(dispatcher, "2025-09-22 08:40")
    step(services.dispatch, dispatcher, case, "2025-09-22 09:00", organisation=unit)
    assert stored(case).due_at == T("2025-09-22 11:00")
    step(services.request_extension, unit_user, case, "2025-09-22 10:00", "需要吊车", 1, "working_days")
    with at("2025-09-22 16:00"):
        assert deadlines.time_left_minutes(stored(case)) == 60
    with at("2025-09-23 11:00"):
        assert deadlines.time_left_minutes(stored(case)) == 60
    step(services.approve_extension, dispatcher, case, "2025-09-23 14:00")
    # 1 h left at 14:00 Tue -> 15:00, then 1 working day after Tuesday: Wednesday's close.
    case = stored(case)
    assert case.due_at == T("2025-09-24 17:30")
    granted = CaseExtension.objects.get(event__action="approve_extension", event__case=case)
    assert (granted.amount, granted.unit) == (1, "working_days")


def test_a_rejected_extension_only_paused_the_clock(dispatcher, unit, unit_user):
    set_limit("handle", 2, "working_hours")
    case = report(dispatcher, "2025-09-22 08:40")
    step(services.dispatch, dispatcher, case, "2025-09-22 09:00", organisation=unit)
    step(services.request_extension, unit_user, case, "2025-09-22 10:00", "需要吊车", 4, "working_hours")
    step(services.reject_extension, dispatcher, case, "2025-09-22 15:00", "理由不足")
    assert stored(case).due_at == T("2025-09-22 16:00")


def test_a_date_outside_every_known_year_is_flagged_not_a_crash(
    dispatcher, two_hours, settings, django_capture_on_commit_callbacks
):
    settings.GRIDCITY_INCIDENT_RECOMPUTE_IN_WORKER = False
    case = stored(report(dispatcher, "2027-03-10 17:00"))  # chinesecalendar 1.11 ends with 2026
    assert case.due_at == T("2027-03-11 10:00") and case.calendar_known is False
    # An admin enters 2027: a holiday on the 11th, and the year as complete.
    with at("2027-03-10 17:10"), django_capture_on_commit_callbacks(execute=True):
        CalendarOverride.objects.create(date=date(2027, 3, 11), working=False, note="测试假日")
        CalendarYear.objects.create(year=2027, note="国务院办公厅通知")
    case = stored(case)
    assert case.due_at == T("2027-03-12 10:00") and case.calendar_known is True


def test_closed_and_void_cases_have_no_deadline(dispatcher, two_hours):
    case = report(dispatcher, "2025-09-24 09:00")
    case = step(services.void, dispatcher, case, "2025-09-24 09:10", "误报")
    case = stored(case)
    assert (case.due_at, case.warn_at, case.stage_started_at) == (None, None, None)
    assert deadlines.light_of(case) is None


def test_warning_and_overdue_lights(dispatcher, two_hours):
    case = stored(report(dispatcher, "2025-09-24 09:00"))
    assert case.due_at == T("2025-09-24 11:00") and case.warn_at == T("2025-09-24 10:36")  # 20 % of 2 h
    for when, light in [("10:00", "green"), ("10:40", "yellow"), ("11:01", "red")]:
        with at(f"2025-09-24 {when}"):
            assert deadlines.light_of(case) == light
    with at("2025-09-24 14:00"):
        assert deadlines.time_left_minutes(case) == -90  # 11:00-12:00 and 13:30-14:00


def test_the_stage_clock_restarts_on_dispatch_and_uses_the_units_hours(dispatcher, unit):
    set_limit("handle", 2, "working_hours")
    WorkingHoursSetting.objects.create(organisation=unit, periods=[["08:00", "12:00"], ["14:00", "18:00"]])
    case = report(dispatcher, "2025-09-24 09:00")
    step(services.dispatch, dispatcher, case, "2025-09-24 11:00", organisation=unit)
    case = stored(case)
    assert case.stage_started_at == T("2025-09-24 11:00") and case.due_at == T("2025-09-24 15:00")


def test_a_class_row_beats_the_default_and_severity_picks_its_row(dispatcher):
    TimeLimit.objects.filter(stage="dispatch").delete()
    TimeLimit.objects.create(stage="dispatch", severity="", amount=2, unit="working_hours")
    TimeLimit.objects.create(stage="dispatch", severity="urgent", amount=10, unit="calendar_minutes")
    urgent = stored(report(dispatcher, "2025-09-27 22:00", severity="urgent"))  # a Saturday night
    assert urgent.due_at == T("2025-09-27 22:10")
    major = CaseClass.objects.get(code="06")
    TimeLimit.objects.create(stage="dispatch", case_class=major, severity="", amount=1, unit="working_hours")
    assert stored(report(dispatcher, "2025-09-24 09:00")).due_at == T("2025-09-24 10:00")


def test_no_limit_row_means_no_deadline(dispatcher):
    TimeLimit.objects.filter(stage="dispatch").delete()
    case = stored(report(dispatcher, "2025-09-24 09:00"))
    assert case.due_at is None and deadlines.status_of(case).limit_dict() is None


# --- the 延期 workflow ---------------------------------------------------------------------------------


@pytest.fixture
def handling(dispatcher, unit, unit_user):
    set_limit("handle", 2, "working_hours")
    case = report(dispatcher, "2025-09-22 08:40")
    step(services.dispatch, dispatcher, case, "2025-09-22 09:00", organisation=unit)
    return step(services.accept, unit_user, case, "2025-09-22 09:10")


def test_a_request_needs_a_note_an_amount_and_the_units_role(handling, unit_user, dispatcher):
    events = CaseEvent.objects.count()
    with at("2025-09-22 09:30"):
        with pytest.raises(services.ServiceError) as refused:
            services.act(unit_user, handling, "request_extension", "", extension={"amount": 1, "unit": "working_days"})
        assert refused.value.field == "note"
        with pytest.raises(services.ServiceError) as refused:
            services.act(unit_user, handling, "request_extension", "缺材料")
        assert refused.value.field == "amount"
        for bad, field in [
            ({"amount": 0, "unit": "working_days"}, "amount"),
            ({"amount": 1.5, "unit": "working_days"}, "amount"),
            ({"amount": "x", "unit": "working_hours"}, "amount"),
            ({"amount": 2, "unit": "fortnights"}, "unit"),
        ]:
            with pytest.raises(services.ServiceError) as refused:
                services.act(unit_user, handling, "request_extension", "缺材料", extension=bad)
            assert refused.value.field == field and refused.value.status == 400
        with pytest.raises(services.RoleRefused):
            services.request_extension(dispatcher, handling, "缺材料", 1, "working_days")
    assert CaseEvent.objects.count() == events and not CaseExtension.objects.exists()


def test_one_request_at_a_time_and_decisions_only_when_pending(handling, unit_user, dispatcher):
    with at("2025-09-22 09:30"):
        with pytest.raises(services.TransitionRefused) as refused:
            services.approve_extension(dispatcher, handling)
        assert refused.value.status == 409 and "request_extension" in refused.value.allowed
        assert "approve_extension" not in refused.value.allowed
        services.request_extension(unit_user, handling, "缺材料", 4, "working_hours")
        with pytest.raises(services.TransitionRefused) as refused:
            services.request_extension(unit_user, handling, "再延", 1, "working_days")
        assert set(refused.value.allowed) >= {"approve_extension", "reject_extension"}
        with pytest.raises(services.ServiceError) as refused:
            services.reject_extension(dispatcher, handling, "")
        assert refused.value.field == "note"
        case = services.approve_extension(dispatcher, handling, "同意两小时", amount=2, unit="working_hours")
        assert case.state == "handling"
    log = list(CaseEvent.objects.filter(case=handling).values_list("action", "from_state", "to_state"))
    assert log[-2:] == [
        ("request_extension", "handling", "handling"),
        ("approve_extension", "handling", "handling"),
    ]
    amounts = CaseExtension.objects.filter(event__case=handling).order_by("event__id")
    assert [(float(e.amount), e.unit) for e in amounts] == [(4, "working_hours"), (2, "working_hours")]


def test_a_pending_request_ends_when_the_case_leaves_the_stage(handling, unit_user, dispatcher):
    step(services.request_extension, unit_user, handling, "2025-09-22 09:30", "缺材料", 1, "working_days")
    step(services.handle, unit_user, handling, "2025-09-22 10:00", "已修复")
    with at("2025-09-22 10:05"), pytest.raises(services.TransitionRefused):
        services.approve_extension(dispatcher, handling)  # not from 核查结案


# --- the tables -------------------------------------------------------------------------------------


def test_limits_are_unique_per_stage_class_and_severity_with_empty_class_and_severity(db):
    set_limit("verify", 1, "working_hours")
    with pytest.raises(IntegrityError), transaction.atomic():
        TimeLimit.objects.create(stage="verify", case_class=None, severity="", amount=2, unit="working_hours")


@pytest.mark.parametrize(
    "values",
    [
        {"amount": 0, "unit": "working_hours"},
        {"amount": 1.5, "unit": "working_days"},
        {"amount": 1, "unit": "weeks"},
        {"amount": 1, "unit": "working_hours", "stage": "lunch"},
        {"amount": 1, "unit": "working_hours", "severity": "mild"},
        {"amount": 1, "unit": "working_hours", "warn_fraction": 1},
    ],
)
def test_the_database_refuses_impossible_limits(db, values):
    row = {"stage": "verify", "severity": "urgent", **values}
    with pytest.raises(IntegrityError), transaction.atomic():
        TimeLimit.objects.create(**row)


def test_working_hours_are_validated_and_one_default(db):
    for bad in [[], [["08:30"]], [["12:00", "08:30"]], [["08:00", "12:00"], ["11:00", "17:00"]], [["8h", "9h"]]]:
        with pytest.raises(ValidationError):
            WorkingHoursSetting(periods=bad).save()
    assert WorkingHoursSetting.objects.filter(organisation=None).count() == 1  # seeded
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkingHoursSetting.objects.create(organisation=None, periods=[["09:00", "17:00"]])


def test_load_holidays_copies_the_package_into_the_database_once(db):
    call_command("load_holidays", "--year", "2025")
    assert CalendarOverride.objects.get(date=date(2025, 10, 1)).working is False
    assert CalendarOverride.objects.get(date=date(2025, 10, 11)).working is True  # 调休 Saturday
    assert CalendarYear.objects.filter(year=2025).exists()
    count = CalendarOverride.objects.count()
    call_command("load_holidays", "--year", "2025")
    assert CalendarOverride.objects.count() == count


def test_the_seeded_limits_follow_the_reference(db):
    rows = {(r.stage, r.case_class.code if r.case_class else None, r.severity): r for r in TimeLimit.objects.all()}
    assert (rows[("handle", None, "")].amount, rows[("handle", None, "")].unit) == (5, "working_days")
    assert rows[("handle", None, "normal")].unit == "working_hours" and rows[("handle", None, "normal")].amount == 2
    assert rows[("handle", "06010", "")].amount == 4


def test_refresh_paused_moves_only_the_deadlines_of_paused_cases(dispatcher, two_hours):
    parked = report(dispatcher, "2025-09-24 09:00")
    step(services.hold, dispatcher, parked, "2025-09-24 10:00", "挂账")
    running = report(dispatcher, "2025-09-24 09:30")
    assert stored(parked).due_at == T("2025-09-24 11:00")
    with at("2025-09-24 16:00"):
        assert deadlines.refresh_paused() == 1
    assert stored(parked).due_at == T("2025-09-24 17:00")  # 1 h left from 16:00
    assert stored(running).due_at == T("2025-09-24 11:30")


def test_the_severity_choices_of_limits_are_the_cases(db):
    from layers.incidents.clock_models import SEVERITY_CHOICES
    from layers.incidents.models import Severity

    assert [v for v, _ in SEVERITY_CHOICES if v] == Severity.values


def test_a_calendar_without_working_days_gives_no_deadline_not_a_crash(dispatcher, two_hours):
    case = report(dispatcher, "2025-09-24 09:00")
    tables = deadlines.load_tables()
    no_work = {date(2025, 9, 24) + timedelta(days=i): False for i in range(12000)}  # beyond clock.MAX_DAYS
    tables.calendar = WorkingCalendar(overrides=no_work)
    status = deadlines.compute(stored(case), list(CaseEvent.objects.filter(case=case)), tables, T("2025-09-24 09:00"))
    assert status.due_at is None and status.calendar_known is False
