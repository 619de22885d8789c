"""A case's clock from its event log and the clock tables: which stage it is in, since when, its
pauses (挂账, pending 延期), its limit (grown by approved 延期), and so its deadline, yellow-light
moment, time left and light.

`refresh(case)` writes the answer onto the case (due_at, warn_at, stage_started_at, calendar_known);
services call it inside each step's transaction. `recompute_open()` does the same for every open case
after limits, working hours or the calendar changed. Nothing here decides from stored deadlines: the
log and the tables are the truth, so recomputing gives what the new values would always have given.
The arithmetic is clock.py's; the rules are in docs/incidents-clock.md."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from . import clock
from .clock import Limit, Unit, WorkingCalendar, WorkingHours
from .clock_models import CalendarOverride, CalendarYear, Stage, TimeLimit, WorkingHoursSetting
from .models import Case, CaseClass, CaseEvent
from .workflow import OPEN_STATES, Action, State

# The stage whose clock runs in each state; 挂账 parks the 受理派遣 stage it came from (it pauses the
# clock rather than starting a stage of its own). Closed and void cases have no clock.
STAGE_OF_STATE = {
    State.REPORTED: Stage.DISPATCH,
    State.ON_HOLD: Stage.DISPATCH,
    State.DISPATCHED: Stage.HANDLE,
    State.HANDLING: Stage.HANDLE,
    State.SUPERVISION: Stage.HANDLE,
    State.VERIFYING: Stage.VERIFY,
}
RECOMPUTE_BATCH = 500
log = logging.getLogger(__name__)


# --- the tables -------------------------------------------------------------------------------------


@dataclass
class Tables:
    """The clock tables, read once for a batch of cases."""

    limits: dict = field(default_factory=dict)  # (stage, class id or None, severity or "") -> TimeLimit
    hours: dict = field(default_factory=dict)  # organisation id or None -> WorkingHours
    calendar: WorkingCalendar = clock.DEFAULT_CALENDAR
    parents: dict = field(default_factory=dict)  # case class id -> parent id (read once, not per case)

    def limit_row(self, stage: str, case_class, severity: str) -> TimeLimit | None:
        """The most specific row: the class itself, then its parents, then the default; within each,
        the case's severity before "any severity"."""
        classes, pk = [], getattr(case_class, "pk", case_class)
        while pk is not None and len(classes) < 10:
            classes.append(pk)
            pk = self.parents.get(pk)
        for class_id in classes + [None]:
            for sev in (severity, ""):
                row = self.limits.get((stage, class_id, sev))
                if row is not None:
                    return row
        return None

    def hours_of(self, organisation_id) -> WorkingHours:
        return self.hours.get(organisation_id) or self.hours.get(None) or clock.DEFAULT_HOURS


def load_tables(since: date | None = None) -> Tables:
    """The limits, working hours and DB calendar (overrides from `since` on: clocks only walk forward
    from a stage start, so older days are never asked)."""
    overrides = CalendarOverride.objects.all()
    if since is not None:
        overrides = overrides.filter(date__gte=since - timedelta(days=1))
    calendar = WorkingCalendar(
        overrides=dict(overrides.values_list("date", "working")),
        known_years=frozenset(CalendarYear.objects.values_list("year", flat=True)),
    )
    hours = {}
    for row in WorkingHoursSetting.objects.all():
        try:
            hours[row.organisation_id] = row.hours()
        except Exception:  # noqa: BLE001 - a row broken outside save(): the default applies, never a crash
            continue
    limits = {(r.stage, r.case_class_id, r.severity): r for r in TimeLimit.objects.all()}
    parents = dict(CaseClass.objects.values_list("pk", "parent_id"))
    return Tables(limits=limits, hours=hours, calendar=calendar, parents=parents)


# --- the log ----------------------------------------------------------------------------------------


@dataclass
class Timeline:
    """What the event log says about the current stage."""

    stage: str
    start: datetime
    pauses: list = field(default_factory=list)  # (begin, end or None)
    extensions: list = field(default_factory=list)  # approved Limits, in order
    hold_since: datetime | None = None
    request_since: datetime | None = None  # a 延期 request waiting for a decision

    @property
    def paused(self) -> bool:
        return self.hold_since is not None or self.request_since is not None


def _amount(event) -> Limit | None:
    extension = getattr(event, "extension", None)
    return Limit(extension.amount, Unit(extension.unit)) if extension is not None else None


def read_log(events, state: str) -> Timeline | None:
    """The current stage from the events in order. A stage starts at the event that entered it from
    another stage (report, dispatch, handle, rework, 回退 ...); steps inside a stage (改派, 督查, 核查,
    挂账 and back) keep its clock. A pending 延期 ends when the case leaves the stage it was asked in."""
    stage = STAGE_OF_STATE.get(state)
    if stage is None:
        return None
    line = None
    for e in events:
        before = STAGE_OF_STATE.get(e.from_state) if e.from_state else None
        after = STAGE_OF_STATE.get(e.to_state)
        if after is None:
            line = None
            continue
        if line is None or after != before:
            line = Timeline(stage=after, start=e.at)
        if e.action == Action.HOLD:
            line.hold_since = e.at
        elif e.from_state == State.ON_HOLD and line.hold_since is not None:
            line.pauses.append((line.hold_since, e.at))
            line.hold_since = None
        if e.action == Action.REQUEST_EXTENSION:
            line.request_since = line.request_since or e.at
        elif e.action in (Action.APPROVE_EXTENSION, Action.REJECT_EXTENSION) and line.request_since is not None:
            line.pauses.append((line.request_since, e.at))
            line.request_since = None
            granted = _amount(e) if e.action == Action.APPROVE_EXTENSION else None
            if granted is not None:
                line.extensions.append(granted)
    if line is None or line.stage != stage:
        return None  # a log that does not lead to the state (data fixed by hand): no clock, no crash
    for since in (line.hold_since, line.request_since):
        if since is not None:
            line.pauses.append((since, None))
    return line


# --- the answer -------------------------------------------------------------------------------------


@dataclass
class Status:
    stage: str | None = None
    started_at: datetime | None = None
    limit: TimeLimit | None = None
    extended_by: list = field(default_factory=list)
    due_at: datetime | None = None
    warn_at: datetime | None = None
    calendar_known: bool = True
    paused: bool = False
    extension_pending: bool = False
    time_left_minutes: int | None = None
    light: str | None = None

    def limit_dict(self) -> dict | None:
        if self.limit is None:
            return None
        return {"amount": float(self.limit.amount), "unit": self.limit.unit, "stage": self.stage}


def compute(case: Case, events, tables: Tables, now: datetime | None = None) -> Status:
    try:
        return _compute(case, events, tables, now or timezone.now())
    except ValueError:
        # The clock found no end (a calendar with no working days for decades, broken hours): the
        # case shows no deadline, flagged, rather than failing every page it is on.
        log.exception("no deadline for case %s", case.number)
        return Status(calendar_known=False)


def _compute(case: Case, events, tables: Tables, now: datetime) -> Status:
    line = read_log(events, case.state)
    if line is None:
        return Status()
    status = Status(
        stage=line.stage,
        started_at=line.start,
        paused=line.paused,
        extension_pending=line.request_since is not None,
    )
    row = tables.limit_row(line.stage, case.case_class_id, case.severity)
    if row is None:
        return status
    status.limit = row
    unit = Unit(row.unit)
    # Handling runs on the unit's hours; the desk (dispatch) and grid workers (verify) on the default.
    hours = tables.hours_of(case.assigned_org_id if line.stage == Stage.HANDLE else None)
    common = {"pauses": line.pauses, "hours": hours, "calendar": tables.calendar, "now": now}
    found = clock.deadline_detail(line.start, Limit(row.amount, unit), **common)
    due, known = found.at, found.calendar_known
    # An approved 延期 adds its amount after the deadline it extends, in its own unit.
    for extension in line.extensions:
        found = clock.deadline_detail(due, extension, **common)
        due, known = found.at, known and found.calendar_known
        status.extended_by.append(extension)
    running = clock.elapsed_working(line.start, due, line.pauses, hours, tables.calendar, now=now, working=unit.working)
    before_warning = running * (1 - float(row.warn_fraction))
    minutes = Unit.WORKING_MINUTES if unit.working else Unit.CALENDAR_MINUTES
    status.warn_at = clock.deadline(line.start, Limit(Decimal(str(before_warning)), minutes), **common)
    status.due_at, status.calendar_known = due, known
    left = clock.time_left(now, due, line.pauses, hours, tables.calendar, working=unit.working)
    status.time_left_minutes = int(left // 1) if left < 0 else int(left)
    status.light = clock.RED if now > due else clock.YELLOW if now >= status.warn_at else clock.GREEN
    return status


@dataclass(frozen=True)
class _Extension:
    amount: Decimal
    unit: str


@dataclass(frozen=True)
class _Step:
    """The fields of an event the clock reads: plain tuples are several times cheaper to load than
    model instances, and a page of cases reads hundreds of events."""

    at: datetime
    action: str
    from_state: str
    to_state: str
    extension: _Extension | None


def _events(case_ids) -> dict:
    by_case = {pk: [] for pk in case_ids}
    rows = (
        CaseEvent.objects.filter(case_id__in=case_ids)
        .order_by("case", "at", "id")
        .values_list("case_id", "at", "action", "from_state", "to_state", "extension__amount", "extension__unit")
    )
    for case_id, at, action, from_state, to_state, amount, unit in rows:
        extension = _Extension(amount, unit) if amount is not None else None
        by_case[case_id].append(_Step(at, action, from_state, to_state, extension))
    return by_case


def statuses(cases, now: datetime | None = None, tables: Tables | None = None) -> dict:
    """{case pk: Status} for a page of cases: three queries for the tables, one for the events."""
    now = now or timezone.now()
    cases = list(cases)
    if not cases:
        return {}
    # A closed or void case has no clock: its log is not read (most of a list's first page).
    events = _events([c.pk for c in cases if c.state in STAGE_OF_STATE])
    if tables is None:
        starts = [c.created_at for c in cases if c.created_at] + [now]
        tables = load_tables(min(clock.local(s) for s in starts).date())
    return {c.pk: compute(c, events.get(c.pk, ()), tables, now) for c in cases}


def status_of(case: Case, now: datetime | None = None) -> Status:
    return statuses([case], now)[case.pk]


def light_of(case: Case, now: datetime | None = None) -> str | None:
    """green / yellow (黄灯) / red (红灯), or None when the case has no clock (closed, void, no limit)."""
    return status_of(case, now).light


def time_left_minutes(case: Case, now: datetime | None = None) -> int | None:
    """Working minutes (wall minutes for calendar limits) to the deadline; negative when overdue."""
    return status_of(case, now).time_left_minutes


FIELDS = ("due_at", "warn_at", "stage_started_at", "calendar_known")


def _apply(case: Case, status: Status) -> bool:
    values = {
        "due_at": status.due_at,
        "warn_at": status.warn_at,
        "stage_started_at": status.started_at,
        "calendar_known": status.calendar_known,
    }
    changed = any(getattr(case, k) != v for k, v in values.items())
    for k, v in values.items():
        setattr(case, k, v)
    return changed


def refresh(case: Case, now: datetime | None = None, tables: Tables | None = None) -> Case:
    """Writes the case's current deadline fields from its log (closed or void: no deadline). A paused
    case's deadline is as of `now` (it moves on while the pause lasts; recompute_open keeps it fresh)."""
    status = statuses([case], now, tables)[case.pk]
    if _apply(case, status):
        # update(), not save(): the clock is derived data, not a change anyone made to the case.
        Case.objects.filter(pk=case.pk).update(**{f: getattr(case, f) for f in FIELDS})
    return case


def recompute_open(now: datetime | None = None, cases=None) -> int:
    """Re-computes every open case (or those of `cases`) from its log and the current tables; returns
    how many changed."""
    now = now or timezone.now()
    changed = 0
    open_cases = (cases if cases is not None else Case.objects).filter(state__in=OPEN_STATES)
    open_cases = open_cases.select_related("case_class__parent__parent")
    first = open_cases.order_by("created_at").values_list("created_at", flat=True).first()
    if first is None:
        return 0
    tables = load_tables(clock.local(first).date())
    last_pk = 0
    while True:
        batch = list(open_cases.filter(pk__gt=last_pk).order_by("pk")[:RECOMPUTE_BATCH])
        if not batch:
            return changed
        last_pk = batch[-1].pk
        found = statuses(batch, now, tables)
        dirty = [c for c in batch if _apply(c, found[c.pk])]
        if dirty:
            with transaction.atomic():
                Case.objects.bulk_update(dirty, list(FIELDS))
            changed += len(dirty)


def refresh_paused(now: datetime | None = None) -> int:
    """A paused case's deadline moves on with the pause: refresh the parked ones and those with a 延期
    request since their last step (run every few minutes by beat; others change only with events)."""
    waiting = Case.objects.filter(state=State.ON_HOLD) | Case.objects.filter(
        state__in=[State.DISPATCHED, State.HANDLING], events__action=Action.REQUEST_EXTENSION
    )
    return recompute_open(now, Case.objects.filter(pk__in=waiting.values("pk")))
