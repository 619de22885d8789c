"""Reminders (催办): 黄灯 when a case's warning time has come, 红灯 once it is past its deadline, to the
assigned unit's users and the grid staff answering for the case (its base grid up to the level it has
been escalated to). Sent only in working time (clock.is_working_time); a reminder missed at night is
sent in the next working period. Once per case, kind and stage (Notification's unique constraint).

At city scale thousands of cases can be overdue at once, and the task runs every few minutes: who
works where is read once per run, and each batch of cases costs two queries (what was already sent,
and the new rows), not a few per case."""

from collections import defaultdict
from datetime import datetime
from itertools import islice

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from . import deadlines, notify
from .clock import is_working_time
from .escalation import RUNNING_STATES, _with_times, stage_from
from .escalation_models import GridStaff, Notification
from .models import Case

WARNING, OVERDUE = Notification.Kind.WARNING, Notification.Kind.OVERDUE
BATCH = 500


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


class Directory:
    """Active users per organisation and active staff logins per (level, grid code), read once."""

    def __init__(self):
        self.units = defaultdict(list)
        users = get_user_model().objects.filter(is_active=True, profile__organisation__isnull=False)
        for user_id, org_id in users.values_list("pk", "profile__organisation_id"):
            self.units[org_id].append(user_id)
        self.staff = defaultdict(list)
        rows = GridStaff.objects.filter(active=True, user__isnull=False, user__is_active=True)
        for level, code, user_id in rows.values_list("level", "grid_code", "user_id"):
            self.staff[(level, code)].append(user_id)

    def recipients(self, case) -> list[int]:
        codes = notify.staff_codes(case)
        ids = list(self.units.get(case.assigned_org_id, ()))
        for level in range(case.escalation_level + 1):
            if level in codes:
                ids += self.staff.get((level, codes[level]), ())
        return list(dict.fromkeys(ids))


def _batches(iterable, size: int):
    it = iter(iterable)
    while batch := list(islice(it, size)):
        yield batch


def send_reminders(now: datetime | None = None) -> int:
    """New reminders sent now; 0 outside working time."""
    now = now or timezone.now()
    tables = deadlines.load_tables(since=now.date())
    if not is_working_time(now, tables.hours_of(None), tables.calendar):  # the DB calendar: 调休 Saturdays too
        return 0
    qs = (
        Case.objects.filter(state__in=RUNNING_STATES)
        .filter(Q(due_at__lte=now) | Q(warn_at__lte=now))
        .select_related("case_class")
        .order_by("id")
    )
    directory = Directory()
    sent = 0
    for cases in _batches(_with_times(qs).iterator(chunk_size=BATCH), BATCH):
        already = set(
            Notification.objects.filter(case__in=cases, kind__in=[WARNING, OVERDUE]).values_list(
                "case_id", "kind", "stage_key", "recipient_id"
            )
        )
        new = []
        for case in cases:
            kind = kind_of(case, now)
            if kind is None:
                continue
            key, text = stage_key(case), message(case, kind)[: notify.MESSAGE_MAX]
            for user_id in directory.recipients(case):
                if (case.pk, kind, key, user_id) not in already:
                    new.append(Notification(recipient_id=user_id, case=case, kind=kind, stage_key=key, message=text))
        # A concurrent run may have sent some of these since: the unique constraint keeps one of each.
        Notification.objects.bulk_create(new, ignore_conflicts=True)
        sent += len(new)
    return sent
