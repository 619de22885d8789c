"""Messages to users about cases (the inbox of GET /api/incidents/notifications/). Each message is
unique per (recipient, case, kind, stage): sending it again is a no-op, so the tasks may run twice."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from .clock import local
from .escalation_models import GridStaff, Notification

MESSAGE_MAX = 300


def staff_codes(case) -> dict[int, str]:
    """The grid code answering at each level (0 base grid .. 3 district), as fixed at registration.
    The district is the 6-digit admin code that every grid code starts with."""
    district = (case.street_code or case.community_code or case.grid_code)[:6] or settings.GRIDCITY_ADMIN_CODE
    codes = {0: case.grid_code, 1: case.community_code, 2: case.street_code, 3: district}
    return {level: code for level, code in codes.items() if code}


def staff_of(case, levels) -> list[GridStaff]:
    """Active staff of the case's grids at `levels`, lowest level first."""
    codes = staff_codes(case)
    wanted = [(level, codes[level]) for level in levels if level in codes]
    if not wanted:
        return []
    q = Q()
    for level, code in wanted:
        q |= Q(level=level, grid_code=code)
    return list(GridStaff.objects.filter(q, active=True).select_related("user").order_by("level", "name", "id"))


def unit_users(organisation) -> list:
    if organisation is None:
        return []
    return list(get_user_model().objects.filter(profile__organisation=organisation, is_active=True))


def send(users, case, kind: str, stage_key: str, message: str) -> int:
    """One message per user not yet told about this (case, kind, stage); returns how many were new."""
    created = 0
    seen = set()
    for user in users:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        try:
            with transaction.atomic():
                _, new = Notification.objects.get_or_create(
                    recipient=user,
                    case=case,
                    kind=kind,
                    stage_key=stage_key[:80],
                    defaults={"message": message[:MESSAGE_MAX]},
                )
        except IntegrityError:
            new = False  # the same message raced in from another worker: it exists, which is the point
        created += new
    return created


def when(moment) -> str:
    return f"{local(moment):%m-%d %H:%M}" if moment else "-"


def assigned(case, event) -> int:
    """The unit a case was dispatched or reassigned to hears of it (once per dispatch event)."""
    # No deadline in the text: the clock may set it after this step, and a stale one would mislead.
    message = f"新派遣案件 {case.number}（{case.case_class.name}），请及时受理"
    return send(unit_users(case.assigned_org), case, Notification.Kind.ASSIGNED, f"event{event.pk}", message)


def mark_read(user, pk: int) -> Notification | None:
    """The user's own message marked read (first time only); None if it is not theirs."""
    if not 0 < pk < 2**63:
        return None  # beyond the id column: no such message (the database would refuse the number)
    n = Notification.objects.filter(pk=pk, recipient=user).first()
    if n is not None and n.read_at is None:
        n.read_at = timezone.now()
        n.save(update_fields=["read_at"])
    return n
