"""Reminders (催办): 黄灯 when a case's warning time has come, 红灯 once it is past its deadline, to the
assigned unit's users and the grid staff answering for the case (its base grid up to the level it has
been escalated to). Sent only in working time (clock.is_working_time); a reminder missed at night is
sent in the next working period. Once per case, kind and stage (Notification's unique constraint)."""

from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from . import notify
from .clock import is_working_time
from .escalation import RUNNING_STATES, _with_times, stage_from
from .escalation_models import Notification
from .models import Case

WARNING, OVERDUE = Notification.Kind.WARNING, Notification.Kind.OVERDUE


def stage_key(case) -> str:
    """The state and when it began: a rework or a re-dispatch is a new stage with its own reminders."""
    began = stage_from(case)
    return f"{case.state}@{began.isoformat() if began else '-'}"


def kind_of(case, now: datetime) -> str | None:
    if case.due_at is not None and case.due_at <= now:
        return OVERDUE
    if case.warn_at is not None and case.warn_at <= now:
        return WARNING
    return None


def message(case, kind: str) -> str:
    what = "已超过处置时限" if kind == OVERDUE else "即将到期"
    return f"案件 {case.number}（{case.case_class.name}）{what}，时限 {notify.when(case.due_at)}，请尽快处置"


def recipients(case) -> list:
    staff = notify.staff_of(case, range(case.escalation_level + 1))
    return notify.unit_users(case.assigned_org) + [s.user for s in staff if s.user_id]


def send_reminders(now: datetime | None = None) -> int:
    """New reminders sent now; 0 outside working time."""
    now = now or timezone.now()
    if not is_working_time(now):
        return 0
    qs = (
        Case.objects.filter(state__in=RUNNING_STATES)
        .filter(Q(due_at__lte=now) | Q(warn_at__lte=now))
        .select_related("case_class", "assigned_org")
        .order_by("id")
    )
    sent = 0
    for case in _with_times(qs).iterator(chunk_size=500):
        kind = kind_of(case, now)
        if kind is not None:
            sent += notify.send(recipients(case), case, kind, stage_key(case), message(case, kind))
    return sent
