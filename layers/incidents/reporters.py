"""Who reported a case: one CaseReporter row per person, written with the report; merging a duplicate
copies its reporters onto the case kept, so nobody who reported the problem drops out of it."""

import re

from gis_core.errors import ServiceError

from . import photos
from .intake_models import CaseReporter

NAME_MAX = 50
_PHONE = re.compile(r"^[0-9+() -]{3,20}$")


def _caller(name, phone) -> tuple[str, str]:
    from .services import _text

    name = _text(name, "reporter_name", NAME_MAX, multiline=False)
    phone = "" if phone is None else phone
    if not isinstance(phone, str) or (phone and not _PHONE.match(phone)):
        raise ServiceError({"reporter_phone": "a phone number: 3-20 digits, spaces, +, -, ( )"})
    return name, phone.strip()


def record_report(case, user, event, photo_ids=None, name="", phone="") -> CaseReporter:
    """The report's own reporter (the caller's name and phone when a desk types in a 12345 call, else the
    signed-in user) and the photos the report names. Runs inside report_case's transaction."""
    name, phone = _caller(name, phone)
    acting = user if user is not None and getattr(user, "is_authenticated", False) else None
    if not name and acting is not None:
        name = (acting.get_full_name() or acting.get_username())[:NAME_MAX]
    photos.attach(acting, case, event, photo_ids)
    return CaseReporter.objects.create(
        case=case, user=acting, name=name, phone=phone, source=case.source, reported_at=case.created_at
    )


def reporters_of(case) -> list[CaseReporter]:
    """The case's reporters; a case reported before reporters were kept counts its own reporter."""
    rows = list(case.reporters.select_related("user", "from_case"))
    if not any(r.from_case_id is None for r in rows):
        user = case.reporter
        own = CaseReporter(
            case=case,
            user=user,
            name=(user.get_full_name() or user.get_username()) if user is not None else "",
            source=case.source,
            reported_at=case.created_at,
        )
        rows.insert(0, own)
    return rows
