"""The working-time clock: the known failure classes of SLA engines, on the real 2025/2026 State
Council calendar as packaged by chinesecalendar (National Day 2025: Oct 1-8 off, Sun Sep 28 and
Sat Oct 11 worked; Spring Festival 2026: Feb 15-23 off, Sat Feb 14 and Sat Feb 28 worked)."""

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layers.incidents.clock import (
    GREEN,
    RED,
    SHANGHAI,
    YELLOW,
    CalendarDay,
    Limit,
    Unit,
    WorkingCalendar,
    WorkingHours,
    calendar_day,
    deadline,
    deadline_detail,
    elapsed_working,
    is_working_day,
    is_working_time,
    light,
    time_left,
)


def at(*parts):
    return datetime(*parts, tzinfo=SHANGHAI)


def hours(n):
    return Limit(n, Unit.WORKING_HOURS)


def days(n):
    return Limit(n, Unit.WORKING_DAYS)


# --- calendar --------------------------------------------------------------------------------------


def test_package_calendar_knows_holidays_and_make_up_days():
    assert calendar_day(date(2025, 10, 1)) == CalendarDay(working=False, known=True)
    assert calendar_day(date(2025, 10, 8)) == CalendarDay(working=False, known=True)  # a Wednesday
    assert calendar_day(date(2025, 9, 28)) == CalendarDay(working=True, known=True)  # a Sunday, 调休
    assert calendar_day(date(2025, 10, 11)) == CalendarDay(working=True, known=True)  # a Saturday, 调休
    assert calendar_day(date(2026, 2, 14)) == CalendarDay(working=True, known=True)
    assert not is_working_day(date(2026, 2, 16))
    assert not is_working_day(date(2025, 9, 27))  # an ordinary Saturday


def test_date_outside_the_package_falls_back_to_weekends_and_is_flagged():
    assert calendar_day(date(2030, 1, 1)) == CalendarDay(working=True, known=False)  # a Tuesday
    assert calendar_day(date(2030, 1, 5)) == CalendarDay(working=False, known=False)  # a Saturday
    assert calendar_day(date(1999, 10, 1)) == CalendarDay(working=True, known=False)  # before 2004


def test_overrides_and_admin_years_win_over_the_package():
    calendar = WorkingCalendar(
        overrides={date(2030, 1, 1): False, date(2025, 10, 8): True}, known_years=frozenset({2030})
    )
    assert calendar.day(date(2030, 1, 1)) == CalendarDay(working=False, known=True)
    assert calendar.day(date(2030, 1, 2)) == CalendarDay(working=True, known=True)
    assert calendar.day(date(2025, 10, 8)) == CalendarDay(working=True, known=True)
    assert calendar.day(date(2031, 1, 1)).known is False
    assert is_working_day(date(2025, 10, 1), overrides={date(2025, 10, 1): True})


def test_working_hours_are_checked():
    with pytest.raises(ValueError):
        WorkingHours(periods=())
    with pytest.raises(ValueError):
        WorkingHours(periods=((time(12), time(8)),))
    with pytest.raises(ValueError):
        WorkingHours(periods=((time(8), time(12)), (time(11), time(17))))


def test_limits_are_checked():
    with pytest.raises(ValueError):
        Limit(-1, Unit.WORKING_HOURS)
    with pytest.raises(ValueError):
        Limit(1.5, Unit.WORKING_DAYS)
    assert Limit(2, "working_hours").unit is Unit.WORKING_HOURS


# --- deadlines in working hours --------------------------------------------------------------------


def test_deadline_across_midnight():
    assert deadline(at(2025, 9, 24, 16, 30), hours(2)) == at(2025, 9, 25, 9, 30)


def test_deadline_across_a_weekend():
    assert deadline(at(2025, 9, 19, 17), hours(2)) == at(2025, 9, 22, 10)  # Friday -> Monday


def test_deadline_across_a_public_holiday():
    assert deadline(at(2025, 9, 30, 17), hours(2)) == at(2025, 10, 9, 10)  # National Day 1-8 Oct
    # Spring Festival 2026: Fri Feb 13 -> Sat Feb 14 (worked) -> Tue Feb 24.
    assert deadline(at(2026, 2, 13, 17), hours(8)) == at(2026, 2, 14, 17, 30)
    assert deadline(at(2026, 2, 13, 17), hours(9)) == at(2026, 2, 24, 9, 30)


def test_deadline_on_a_make_up_working_day():
    assert deadline(at(2025, 9, 26, 17), hours(2)) == at(2025, 9, 28, 10)  # Sunday 28 Sep worked
    assert deadline(at(2025, 10, 10, 17), hours(2)) == at(2025, 10, 11, 10)  # Saturday 11 Oct worked


def test_deadline_skips_the_lunch_break():
    assert deadline(at(2025, 9, 24, 11), hours(2)) == at(2025, 9, 24, 14, 30)
    assert deadline(at(2025, 9, 24, 12, 30), hours(1)) == at(2025, 9, 24, 14, 30)  # started at lunch
    # A budget that runs out at noon is due at noon, not when the office reopens.
    assert deadline(at(2025, 9, 24, 11), hours(1)) == at(2025, 9, 24, 12)


def test_deadline_started_outside_working_time():
    assert deadline(at(2025, 9, 24, 6), hours(1)) == at(2025, 9, 24, 9, 30)
    assert deadline(at(2025, 9, 27, 10), Limit(30, Unit.WORKING_MINUTES)) == at(2025, 9, 28, 9)


def test_custom_working_hours():
    summer = WorkingHours(periods=((time(8), time(12)), (time(14, 30), time(18))))
    assert deadline(at(2025, 7, 1, 11), hours(2), hours=summer) == at(2025, 7, 1, 15, 30)


# --- deadlines in days -----------------------------------------------------------------------------


def test_working_days_count_from_the_day_after_the_start_and_end_at_the_close():
    # Tue 30 Sep; 9 Oct (1), 10 Oct (2), Sat 11 Oct (3), 13 Oct (4), 14 Oct (5).
    assert deadline(at(2025, 9, 30, 10), days(5)) == at(2025, 10, 14, 17, 30)
    # The hour of registration does not matter: the start day is never counted.
    assert deadline(at(2025, 9, 30, 7), days(5)) == deadline(at(2025, 9, 30, 19), days(5))
    # Registered on a weekend: Monday is the first working day.
    assert deadline(at(2025, 9, 20, 10), days(1)) == at(2025, 9, 22, 17, 30)


def test_calendar_days_and_hours_ignore_the_calendar():
    assert deadline(at(2025, 9, 30, 10), Limit(3, Unit.CALENDAR_DAYS)) == at(2025, 10, 4)  # 24:00 of 3 Oct
    assert deadline(at(2025, 9, 30, 10), Limit(36, Unit.CALENDAR_HOURS)) == at(2025, 10, 1, 22)
    assert deadline(at(2025, 9, 30, 10), Limit(10, Unit.CALENDAR_MINUTES)) == at(2025, 9, 30, 10, 10)


def test_zero_limit_is_due_at_once():
    assert deadline(at(2025, 9, 30, 10), hours(0)) == at(2025, 9, 30, 10)


# --- pauses ----------------------------------------------------------------------------------------


def test_pause_stops_the_clock_for_the_working_time_it_covers():
    start = at(2025, 9, 24, 9)  # Wednesday
    assert deadline(start, hours(4)) == at(2025, 9, 24, 14, 30)
    pauses = [(at(2025, 9, 24, 10), at(2025, 9, 24, 11))]
    assert deadline(start, hours(4), pauses) == at(2025, 9, 24, 15, 30)
    # A pause entirely outside working time changes nothing.
    assert deadline(start, hours(4), [(at(2025, 9, 24, 12), at(2025, 9, 24, 13, 30))]) == at(2025, 9, 24, 14, 30)


def test_pause_spanning_a_holiday():
    start = at(2025, 9, 29, 9)  # Monday: 7 h that day, 7.5 h a full day
    assert deadline(start, hours(16)) == at(2025, 10, 9, 10)
    parked = [(at(2025, 9, 30, 12), at(2025, 10, 10, 9))]
    # Before the pause 7 + 3.5 = 10.5 h; the rest, 5.5 h, from 10 Oct 09:00.
    assert deadline(start, hours(16), parked) == at(2025, 10, 10, 16)
    assert elapsed_working(start, at(2025, 10, 10, 16), parked) == 16 * 60
    # A pause that covers only the holiday itself costs no working time.
    holiday_only = [(at(2025, 10, 1), at(2025, 10, 9, 8))]
    assert deadline(at(2025, 9, 30, 10), days(5), holiday_only) == at(2025, 10, 14, 17, 30)


def test_pause_pushes_a_working_days_deadline_by_its_working_time():
    plain = deadline(at(2025, 9, 22, 10), days(2))
    assert plain == at(2025, 9, 24, 17, 30)
    paused = deadline(at(2025, 9, 22, 10), days(2), [(at(2025, 9, 23, 8, 30), at(2025, 9, 23, 12))])
    assert paused == at(2025, 9, 25, 12)


def test_overlapping_and_open_pauses():
    start = at(2025, 9, 24, 9)
    overlapping = [(at(2025, 9, 24, 10), at(2025, 9, 24, 10, 45)), (at(2025, 9, 24, 10, 30), at(2025, 9, 24, 11))]
    assert deadline(start, hours(4), overlapping) == at(2025, 9, 24, 15, 30)
    with pytest.raises(ValueError):
        deadline(start, hours(4), [(at(2025, 9, 24, 10), None)])
    with pytest.raises(ValueError):
        deadline(start, hours(4), [(at(2025, 9, 24, 10), at(2025, 9, 24, 9))])


def test_parked_case_stands_still_and_a_limit_edited_while_paused_is_recomputed_from_the_log():
    start = at(2025, 9, 22, 9)  # Monday
    log_pauses = [(at(2025, 9, 22, 11), None)]  # parked after 2 working hours, still parked
    for now in (at(2025, 9, 23, 10), at(2025, 9, 26, 16)):
        due = deadline(start, hours(4), log_pauses, now=now)
        assert time_left(now, due, log_pauses) == 2 * 60  # frozen while parked
        # The limit changes to 8 h while the case is parked: the same log gives 6 h left.
        due = deadline(start, hours(8), log_pauses, now=now)
        assert time_left(now, due, log_pauses) == 6 * 60
    # Unparked on Friday 26 Sep 16:00: the edited limit applies as if it had always been 8 h.
    closed = [(at(2025, 9, 22, 11), at(2025, 9, 26, 16))]
    assert deadline(start, hours(8), closed) == at(2025, 9, 28, 14, 30)  # 1.5 h Fri, 4.5 h Sun 28 (调休)
    assert deadline(start, hours(8), closed) == deadline(start, hours(8), log_pauses, now=at(2025, 9, 26, 16))


# --- calendar years outside the package ------------------------------------------------------------


def test_deadline_into_an_unknown_year_does_not_crash_and_is_flagged():
    result = deadline_detail(at(2026, 12, 30, 11), days(5))
    # 31 Dec (1), then 2027 by weekdays: Fri 1 Jan (2), 4, 5, 6 Jan.
    assert result.at == at(2027, 1, 6, 17, 30)
    assert result.calendar_known is False
    assert deadline_detail(at(2026, 9, 30, 11), days(5)).calendar_known is True
    admin = WorkingCalendar(overrides={date(2027, 1, 1): False}, known_years=frozenset({2027}))
    result = deadline_detail(at(2026, 12, 30, 11), days(5), calendar=admin)
    assert result == deadline_detail(at(2026, 12, 30, 11), days(5), calendar=admin)
    assert result.at == at(2027, 1, 7, 17, 30)
    assert result.calendar_known is True
    assert deadline_detail(at(2035, 6, 1, 10), hours(2)).calendar_known is False


# --- time zones ------------------------------------------------------------------------------------


def test_other_zones_are_converted_and_answers_are_in_shanghai():
    utc_start = datetime(2025, 9, 24, 8, 30, tzinfo=timezone.utc)  # 16:30 in Shanghai
    due = deadline(utc_start, hours(2))
    assert due == at(2025, 9, 25, 9, 30)
    assert due.utcoffset() == timedelta(hours=8)
    # New York is on summer time in September; Shanghai never is.
    ny_start = datetime(2025, 9, 24, 4, 30, tzinfo=ZoneInfo("America/New_York"))
    assert deadline(ny_start, hours(2)) == at(2025, 9, 25, 9, 30)
    with pytest.raises(ValueError):
        deadline(datetime(2025, 9, 24, 16, 30), hours(2))


# --- time left and lights --------------------------------------------------------------------------


def test_time_left_counts_working_minutes_and_goes_negative_when_overdue():
    due = at(2025, 9, 25, 9, 30)
    assert time_left(at(2025, 9, 24, 16, 30), due) == 120
    assert time_left(at(2025, 9, 25, 10), due) == -30
    assert time_left(at(2025, 9, 24, 16, 30), due, working=False) == 17 * 60
    assert elapsed_working(at(2025, 9, 24, 16, 30), at(2025, 9, 24, 10)) == 0


def test_lights():
    start, due = at(2025, 9, 22, 9), at(2025, 9, 22, 14)  # 4.5 working hours
    assert light(at(2025, 9, 22, 10), start, due) == GREEN
    assert light(at(2025, 9, 22, 13, 30), start, due) == YELLOW  # 30 min left < 20 % of 270
    assert light(at(2025, 9, 22, 14, 1), start, due) == RED
    assert light(at(2025, 9, 22, 10), start, due, warn_before=timedelta(hours=4)) == YELLOW
    # Past the deadline in non-working time is still overdue.
    assert light(at(2025, 9, 22, 18), at(2025, 9, 22, 9), at(2025, 9, 22, 17, 30)) == RED


def test_reminders_only_in_working_time():
    assert is_working_time(at(2025, 9, 28, 9))  # make-up Sunday
    assert not is_working_time(at(2025, 10, 2, 9))
    assert not is_working_time(at(2025, 9, 24, 12, 30))
    assert not is_working_time(at(2025, 9, 24, 17, 30))


# --- properties ------------------------------------------------------------------------------------

starts = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 10, 31)).map(
    lambda moment: moment.replace(microsecond=0, tzinfo=SHANGHAI)
)


@settings(max_examples=60, deadline=None)
@given(start=starts, minutes=st.integers(min_value=0, max_value=60 * 60))
def test_deadline_then_elapsed_gives_back_the_limit(start, minutes):
    due = deadline(start, Limit(minutes, Unit.WORKING_MINUTES))
    assert elapsed_working(start, due) == minutes
    assert due >= start


@settings(max_examples=60, deadline=None)
@given(
    start=starts,
    limit_hours=st.integers(min_value=1, max_value=80),
    pause_offsets=st.lists(
        st.tuples(st.integers(min_value=0, max_value=60 * 24 * 20), st.integers(min_value=0, max_value=60 * 24 * 5)),
        max_size=4,
    ),
)
def test_pauses_never_shorten_and_the_limit_is_spent_outside_them(start, limit_hours, pause_offsets):
    pauses = [
        (start + timedelta(minutes=offset), start + timedelta(minutes=offset + length))
        for offset, length in pause_offsets
    ]
    due = deadline(start, hours(limit_hours), pauses)
    assert due >= deadline(start, hours(limit_hours))
    assert elapsed_working(start, due, pauses) == limit_hours * 60


@settings(max_examples=40, deadline=None)
@given(start=starts, count=st.integers(min_value=1, max_value=30))
def test_working_days_end_at_a_close_on_a_working_day(start, count):
    due = deadline(start, days(count))
    assert due.time() == time(17, 30)
    assert is_working_day(due.date())
    assert deadline(start, days(count + 1)) > due


def test_decimal_amounts_from_the_limits_table():
    assert deadline(at(2025, 9, 24, 9), Limit(Decimal("1.5"), Unit.WORKING_HOURS)) == at(2025, 9, 24, 10, 30)


class _NeverWorking(WorkingCalendar):
    def day(self, day):
        return CalendarDay(working=False, known=True)


def test_a_calendar_without_working_days_is_refused_not_looped_on():
    with pytest.raises(ValueError):
        deadline(at(2025, 9, 24, 9), hours(1), calendar=_NeverWorking())
