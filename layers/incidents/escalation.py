"""Escalation (升级): a case left unclaimed or overdue moves up the grid levels, base grid (0) ->
community (1) -> street (2) -> district (3), one level per step, each step an `escalate` event.

When a case is due a step (all times are working time, clock.elapsed_working):
- unclaimed: 待受理 not dispatched, or 立案派遣 not accepted, GRIDCITY_ESCALATE_UNCLAIMED_HOURS (per
  state) after the last step anyone took (report, dispatch, 改派, back from 挂账 ...): a case sent to
  another unit or taken off hold gives its new holder the full time;
- overdue: open (not 挂账, whose clock is paused) and past due_at (written by the clock);
and then again every GRIDCITY_ESCALATE_STEP_HOURS after the last escalation while it stays so.
Level 3 is the top: the district answers, nothing more happens. Escalation does not change the state
or the deadline; it changes who answers for the case (GridStaff of the new level) and who is told."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone

from . import deadlines, notify
from .clock import elapsed_working
from .escalation_models import Level, Notification
from .models import Case, CaseEvent
from .services import _announce
from .signals import incidents_changed
from .workflow import OPEN_STATES, State

ESCALATE = "escalate"
TOP = Level.DISTRICT
OVERDUE, UNCLAIMED = "overdue", "unclaimed"
REASONS = {OVERDUE: "超期未办结", UNCLAIMED: "超时未受理"}
# Parked (挂账) cases wait on purpose: their clock is paused and nobody is late.
RUNNING_STATES = sorted(OPEN_STATES - {State.ON_HOLD})


def unclaimed_hours() -> dict[str, float]:
    default = {State.REPORTED: 2, State.DISPATCHED: 4}
    return {**default, **getattr(settings, "GRIDCITY_ESCALATE_UNCLAIMED_HOURS", {})}


def step_hours() -> float:
    # Never 0: a zero step would take a case from the grid to the district in three runs of the task.
    return max(0.25, float(getattr(settings, "GRIDCITY_ESCALATE_STEP_HOURS", 4)))


def level_name(level: int) -> str:
    return Level(level).label


def grid_staff(case: Case) -> list[dict]:
    """Who answers for the case: its base grid, community and street (and the district once the case
    has reached it), lowest level first. The API's `grid_staff`."""
    levels = range(max(int(Level.STREET), case.escalation_level) + 1)
    return [
        {"level": s.level, "level_name": level_name(s.level), "name": s.name, "phone": s.phone, "duty": s.duty}
        for s in notify.staff_of(case, levels)
    ]


def _with_times(qs):
    """Annotates `last_step_at` (the last event that was not an escalation) and `escalated_at` (the
    last escalation), both from the append-only log."""
    steps = CaseEvent.objects.filter(case=OuterRef("pk")).order_by("-at", "-id")
    return qs.annotate(
        last_step_at=Subquery(steps.exclude(action=ESCALATE).values("at")[:1]),
        escalated_at=Subquery(steps.filter(action=ESCALATE).values("at")[:1]),
    )


def stage_from(case) -> datetime | None:
    """When the current stage began: the clock's answer, else (no clock yet) the last step."""
    return case.stage_started_at or getattr(case, "last_step_at", None)


def reason_for(case, now: datetime, tables: deadlines.Tables | None = None) -> str | None:
    """Why the case is due a step up now, or None. `case` carries the _with_times annotations.
    Working time is the clock's: the DB calendar (holidays, 调休) and the assigned unit's hours."""
    if case.escalation_level >= TOP or case.state not in RUNNING_STATES:
        return None
    if case.due_at is not None and case.due_at < now:
        reason, since, first_wait = OVERDUE, case.due_at, 0.0
    elif case.state in unclaimed_hours() and case.last_step_at is not None:
        reason, since, first_wait = UNCLAIMED, case.last_step_at, float(unclaimed_hours()[case.state])
    else:
        return None
    wait = first_wait
    if case.escalated_at is not None and case.escalated_at >= since:
        # Escalated already for this: the next level waits a step from that escalation.
        since, wait = case.escalated_at, step_hours()
    if wait == 0:
        return reason if now > since else None
    tables = tables or deadlines.load_tables()
    hours = tables.hours_of(case.assigned_org_id)
    return reason if elapsed_working(since, now, hours=hours, calendar=tables.calendar) >= wait * 60 else None


@transaction.atomic
def escalate(case: Case, reason: str, expected_level: int | None = None) -> Case | None:
    """One level up: the event (from_state = to_state, a system step with no actor), the level, the
    new level's staff told, the map told after commit. None (nothing written) at the top level, once
    the case is closed or parked, or when its level is no longer `expected_level` (the level the caller
    decided on: overlapping runs must not step a case twice)."""
    case = Case.objects.select_for_update(of=("self",)).select_related("case_class").get(pk=case.pk)
    if case.escalation_level >= TOP or case.state not in RUNNING_STATES:
        return None
    if expected_level is not None and case.escalation_level != expected_level:
        return None  # another run stepped it since we looked: one step per decision
    case.escalation_level += 1
    case.save(update_fields=["escalation_level", "updated_at"])
    label = level_name(case.escalation_level)
    note = f"升级至{label}（{REASONS.get(reason, reason)}）"
    CaseEvent.objects.create(
        case=case, actor=None, action=ESCALATE, from_state=case.state, to_state=case.state, note=note
    )
    message = f"案件 {case.number}（{case.case_class.name}）{REASONS.get(reason, reason)}，已升级至{label}"
    users = [s.user for s in notify.staff_of(case, [case.escalation_level]) if s.user_id]
    notify.send(users, case, Notification.Kind.ESCALATED, f"level{case.escalation_level}", message)
    _announce(case)
    return case


def candidates(now: datetime):
    """Open cases that may be due a step: a cheap wall-time prefilter (working time never runs faster
    than wall time, so less wall time than the wait is never enough); the exact rule is reason_for()."""
    soonest = min(unclaimed_hours().values())
    unclaimed = Q(state__in=list(unclaimed_hours()), last_step_at__lte=now - timedelta(hours=soonest))
    qs = _with_times(Case.objects.filter(state__in=RUNNING_STATES, escalation_level__lt=TOP))
    return (
        qs.filter(Q(due_at__lt=now) | unclaimed)
        .filter(
            # Not escalated less than a step ago for what still holds (a new cause does not wait).
            Q(escalated_at__isnull=True)
            | Q(escalated_at__lte=now - timedelta(hours=step_hours()))
            | Q(due_at__gt=F("escalated_at"))
            | Q(last_step_at__gt=F("escalated_at"))
        )
        .order_by("id")
    )


def escalate_due(now: datetime | None = None) -> int:
    """Every case due a step goes up one level (one transaction per case); returns how many did.
    Running it twice at the same moment escalates nothing the second time."""
    now = now or timezone.now()
    done = 0
    tables = deadlines.load_tables()
    for case in candidates(now).iterator(chunk_size=500):
        reason = reason_for(case, now, tables)
        if reason is not None and escalate(case, reason, case.escalation_level) is not None:
            done += 1
    return done


def announce_lights(now: datetime | None = None, window: timedelta | None = None) -> int:
    """Cached tiles carry `overdue` and `warning` as they were when drawn; a case turns yellow or red
    by time alone, with no write to announce it. This announces the open cases whose warn_at or due_at
    fell in the last `window` (the beat interval, with margin), one by one so the tile cache drops only
    their tiles. Announcing a case twice costs a re-render, nothing more."""
    now = now or timezone.now()
    if window is None:
        window = timedelta(minutes=float(getattr(settings, "GRIDCITY_LIGHTS_ANNOUNCE_MINUTES", 30)))
    crossed = Q(due_at__gt=now - window, due_at__lte=now) | Q(warn_at__gt=now - window, warn_at__lte=now)
    rows = Case.objects.filter(crossed, state__in=sorted(OPEN_STATES)).values_list("number", "geom")
    count = 0
    for number, geom in rows.iterator(chunk_size=500):
        x, y = geom.coords
        incidents_changed.send(sender=Case, numbers=[number], bbox=(x, y, x, y))
        count += 1
    return count
