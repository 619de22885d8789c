"""The working-time clock of a case: calendar, working hours, limits, deadlines, time left, lights.

Pure functions over aware datetimes; nothing here reads the database. The caller passes the case's
start, its limit, the pauses taken from the event log (挂账 parked, pending 延期 extension) and the
unit's working hours and calendar, so recomputing from the same log always gives the same answer,
whatever the limits table or the calendar said when the case was opened. The rules are in
docs/incidents-clock.md; in short:

- Working days follow the State Council holiday notice as packaged by `chinesecalendar`
  (holidays and make-up working days, 调休), plus overrides (an admin table). A date the package
  does not cover and no override names falls back to "Monday-Friday work" and is flagged unknown.
- Working time is the working periods (default 08:30-12:00, 13:30-17:30) of working days.
- A limit counts from the start, like a legal period (民法典 art. 201, 203): in working or calendar
  hours/minutes it is that much clock time; in days, the start day is not counted and the case is
  due at the close of the Nth day after it (working days: the end of the last working period of the
  Nth working day; calendar days: 24:00 of the Nth day).
- Pauses stop the clock: the deadline moves by the clock time (working or wall, as the limit's
  unit) that falls inside a pause. An open pause is treated as ending `now`.
- All answers are in Asia/Shanghai (UTC+8 all year, no DST since 1991); input in any zone.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Iterable, Iterator, Mapping, Optional, Sequence
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")

# The walk over days gives up after this many; an empty calendar or a huge limit would otherwise
# loop for ever.
MAX_DAYS = 366 * 30

Pause = tuple[datetime, Optional[datetime]]


# --- calendar -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarDay:
    working: bool
    known: bool  # False: outside every known year, decided by the weekend rule alone


@functools.lru_cache(maxsize=8192)
def package_day(day: date) -> CalendarDay:
    """What `chinesecalendar` says, or the weekend rule flagged unknown for years it lacks. Cached:
    a page of cases asks the same few weeks of days hundreds of times."""
    try:
        return CalendarDay(working=chinese_calendar.is_workday(day), known=True)
    except NotImplementedError:
        return CalendarDay(working=day.weekday() < 5, known=False)


@dataclass(frozen=True)
class WorkingCalendar:
    """The package's calendar with admin additions on top.

    `overrides` maps a date to working (True) or not; `known_years` are years an admin has entered
    completely (their remaining days follow the weekend rule and count as known)."""

    overrides: Mapping[date, bool] = field(default_factory=dict)
    known_years: frozenset[int] = frozenset()

    def day(self, day: date) -> CalendarDay:
        if day in self.overrides:
            return CalendarDay(working=bool(self.overrides[day]), known=True)
        found = package_day(day)
        if not found.known and day.year in self.known_years:
            return CalendarDay(working=found.working, known=True)
        return found


DEFAULT_CALENDAR = WorkingCalendar()


def calendar_day(day: date, overrides: Mapping[date, bool] | None = None) -> CalendarDay:
    return WorkingCalendar(overrides or {}).day(day)


def is_working_day(day: date, overrides: Mapping[date, bool] | None = None) -> bool:
    return calendar_day(day, overrides).working


# --- working hours ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkingHours:
    """The working periods of a working day, in local (Asia/Shanghai) time, sorted, not overlapping."""

    periods: tuple[tuple[time, time], ...] = ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))

    def __post_init__(self):
        if not self.periods:
            raise ValueError("working hours need at least one period")
        previous_end = None
        for begin, end in self.periods:
            if not begin < end:
                raise ValueError(f"working period {begin}-{end} ends before it starts")
            if previous_end is not None and begin < previous_end:
                raise ValueError(f"working period {begin}-{end} overlaps or precedes the one before")
            previous_end = end

    def intervals(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        for begin, end in self.periods:
            yield datetime.combine(day, begin, SHANGHAI), datetime.combine(day, end, SHANGHAI)

    def close(self, day: date) -> datetime:
        return datetime.combine(day, self.periods[-1][1], SHANGHAI)


DEFAULT_HOURS = WorkingHours()


# --- limits ----------------------------------------------------------------------------------------


class Unit(str, enum.Enum):
    WORKING_MINUTES = "working_minutes"
    WORKING_HOURS = "working_hours"
    WORKING_DAYS = "working_days"
    CALENDAR_MINUTES = "calendar_minutes"
    CALENDAR_HOURS = "calendar_hours"
    CALENDAR_DAYS = "calendar_days"

    @property
    def working(self) -> bool:
        return self.value.startswith("working_")


@dataclass(frozen=True)
class Limit:
    amount: int | float | Decimal
    unit: Unit

    def __post_init__(self):
        object.__setattr__(self, "unit", Unit(self.unit))
        if self.amount < 0:
            raise ValueError("a time limit cannot be negative")
        if self.unit in (Unit.WORKING_DAYS, Unit.CALENDAR_DAYS) and self.amount != int(self.amount):
            raise ValueError("a limit in days must be a whole number; use hours for parts of a day")

    def duration(self) -> timedelta:
        """The clock time of a minutes/hours limit (days have no fixed length)."""
        per = 60 if self.unit in (Unit.WORKING_MINUTES, Unit.CALENDAR_MINUTES) else 3600
        return timedelta(seconds=float(self.amount) * per)


# --- intervals -------------------------------------------------------------------------------------


def local(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the clock needs timezone-aware datetimes")
    return moment.astimezone(SHANGHAI)


def _merged_pauses(pauses: Iterable[Pause], now: datetime | None) -> list[tuple[datetime, datetime]]:
    """Pauses as sorted, disjoint, closed intervals; an open pause ends at `now`."""
    closed = []
    for begin, end in pauses:
        begin = local(begin)
        if end is None:
            if now is None:
                raise ValueError("an open pause needs `now` to say how long the clock has stopped")
            end = max(begin, local(now))
        else:
            end = local(end)
        if end < begin:
            raise ValueError(f"pause ends ({end.isoformat()}) before it starts ({begin.isoformat()})")
        if end > begin:
            closed.append((begin, end))
    closed.sort()
    merged: list[tuple[datetime, datetime]] = []
    for begin, end in closed:
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    return merged


def _minus(begin: datetime, end: datetime, pauses: Sequence[tuple[datetime, datetime]]):
    """Pieces of [begin, end) outside the pauses, in order."""
    for pause_begin, pause_end in pauses:
        if pause_end <= begin:
            continue
        if pause_begin >= end:
            break
        if pause_begin > begin:
            yield begin, pause_begin
        begin = max(begin, pause_end)
        if begin >= end:
            return
    if begin < end:
        yield begin, end


class _Clock:
    """Running time of one kind (working or wall) from a moment on, with the pauses cut out."""

    def __init__(self, working: bool, hours: WorkingHours, calendar: WorkingCalendar, pauses):
        self.working = working
        self.hours = hours
        self.calendar = calendar
        self.pauses = pauses
        self.known = True

    def _spans(self, begin: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Running spans from `begin` on, for ever (the caller stops)."""
        day = begin.date()
        for _ in range(MAX_DAYS):
            if self.working:
                today = self.calendar.day(day)
                self.known &= today.known
                periods = self.hours.intervals(day) if today.working else ()
            else:
                periods = [
                    (
                        datetime.combine(day, time(0), SHANGHAI),
                        datetime.combine(day + timedelta(days=1), time(0), SHANGHAI),
                    )
                ]
            for period_begin, period_end in periods:
                if period_end <= begin:
                    continue
                yield from _minus(max(period_begin, begin), period_end, self.pauses)
            day += timedelta(days=1)
        raise ValueError(f"no end within {MAX_DAYS} days: check the working hours, calendar and limit")

    def advance(self, begin: datetime, budget: timedelta) -> datetime:
        """The first moment at which `budget` of running time has passed since `begin`."""
        if budget <= timedelta(0):
            return begin
        for span_begin, span_end in self._spans(begin):
            if span_end - span_begin >= budget:
                return span_begin + budget
            budget -= span_end - span_begin
        raise AssertionError("unreachable")  # _spans raises first

    def between(self, begin: datetime, end: datetime) -> timedelta:
        total = timedelta(0)
        if end <= begin:
            return total
        for span_begin, span_end in self._spans(begin):
            if span_begin >= end:
                break
            total += min(span_end, end) - span_begin
            if span_end >= end:
                break
        return total


# --- deadlines -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    at: datetime
    calendar_known: bool  # False: some day on the way was outside every known calendar year


def deadline_detail(
    start: datetime,
    limit: Limit,
    pauses: Iterable[Pause] = (),
    hours: WorkingHours = DEFAULT_HOURS,
    calendar: WorkingCalendar = DEFAULT_CALENDAR,
    now: datetime | None = None,
) -> Deadline:
    start = local(start)
    merged = _merged_pauses(pauses, now)
    clock = _Clock(limit.unit.working, hours, calendar, merged)
    if limit.unit == Unit.WORKING_DAYS:
        # The unpaused due moment fixes the budget; the pauses then push it like any other budget.
        plain = _Clock(True, hours, calendar, [])
        due_day = _nth_working_day_after(start.date(), int(limit.amount), plain)
        budget = plain.between(start, hours.close(due_day))
        clock.known &= plain.known
    elif limit.unit == Unit.CALENDAR_DAYS:
        due = datetime.combine(start.date() + timedelta(days=int(limit.amount) + 1), time(0), SHANGHAI)
        budget = due - start
    else:
        budget = limit.duration()
    at = clock.advance(start, budget)
    return Deadline(at=at.astimezone(SHANGHAI), calendar_known=clock.known)


def _nth_working_day_after(day: date, count: int, clock: _Clock) -> date:
    for _ in range(MAX_DAYS):
        if count <= 0:
            return day
        day += timedelta(days=1)
        today = clock.calendar.day(day)
        clock.known &= today.known
        count -= today.working
    raise ValueError(f"no {count} working days within {MAX_DAYS} days: check the calendar")


def deadline(
    start: datetime,
    limit: Limit,
    pauses: Iterable[Pause] = (),
    hours: WorkingHours = DEFAULT_HOURS,
    calendar: WorkingCalendar = DEFAULT_CALENDAR,
    now: datetime | None = None,
) -> datetime:
    """When a case started at `start` with `limit` is due, in Asia/Shanghai.

    Working days: the start day is day 0 whatever the hour (registered at 07:00 or 19:00 alike);
    the case is due at the close of the `limit.amount`-th working day after it. Calendar days: 24:00
    of the Nth day after the start day. Minutes and hours: that much running time after the start
    (a working-hours case registered at 17:00 with 2 h is due at 10:00 the next working day).
    Pauses (start, end or None) push the deadline by the running time inside them; an open pause
    needs `now` and ends there, so a parked case's deadline moves on while it stays parked."""
    return deadline_detail(start, limit, pauses, hours, calendar, now).at


def elapsed_working(
    start: datetime,
    end: datetime,
    pauses: Iterable[Pause] = (),
    hours: WorkingHours = DEFAULT_HOURS,
    calendar: WorkingCalendar = DEFAULT_CALENDAR,
    now: datetime | None = None,
    working: bool = True,
) -> float:
    """Minutes of running time (working time, or wall time with working=False) from start to end,
    pauses cut out; 0 when end is not after start. Open pauses end at `now` (default: `end`)."""
    merged = _merged_pauses(pauses, now if now is not None else end)
    return _Clock(working, hours, calendar, merged).between(local(start), local(end)) / timedelta(minutes=1)


def time_left(
    now: datetime,
    due: datetime,
    pauses: Iterable[Pause] = (),
    hours: WorkingHours = DEFAULT_HOURS,
    calendar: WorkingCalendar = DEFAULT_CALENDAR,
    working: bool = True,
) -> float:
    """Minutes of running time from now to the deadline; negative (the running time overdue) after
    it. Pauses open at `now` end there: a parked case's time left, or time overdue, stands still."""
    now, due = local(now), local(due)
    merged = _merged_pauses(pauses, now)
    clock = _Clock(working, hours, calendar, merged)
    if now <= due:
        return clock.between(now, due) / timedelta(minutes=1)
    return -(clock.between(due, now) / timedelta(minutes=1))


def is_working_time(
    moment: datetime, hours: WorkingHours = DEFAULT_HOURS, calendar: WorkingCalendar = DEFAULT_CALENDAR
) -> bool:
    """Inside a working period of a working day (reminders are sent only then)."""
    moment = local(moment)
    if not calendar.day(moment.date()).working:
        return False
    return any(begin <= moment < end for begin, end in hours.intervals(moment.date()))


GREEN, YELLOW, RED = "green", "yellow", "red"


def light(
    now: datetime,
    start: datetime,
    due: datetime,
    warn_fraction: float = 0.2,
    warn_before: timedelta | None = None,
    pauses: Iterable[Pause] = (),
    hours: WorkingHours = DEFAULT_HOURS,
    calendar: WorkingCalendar = DEFAULT_CALENDAR,
    working: bool = True,
) -> str:
    """red (红灯) once now is past the deadline; yellow (黄灯) when the running time left is within
    the warning window: `warn_before` if given, else `warn_fraction` of the whole limit's running
    time from start to deadline; green otherwise."""
    now, start, due = local(now), local(start), local(due)
    if now > due:
        return RED
    pauses = list(pauses)
    left = timedelta(minutes=time_left(now, due, pauses, hours, calendar, working))
    if warn_before is None:
        total = timedelta(minutes=elapsed_working(start, due, pauses, hours, calendar, now=now, working=working))
        warn_before = total * warn_fraction
    return YELLOW if left <= warn_before else GREEN
