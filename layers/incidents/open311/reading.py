"""GET requests: the public read side. Open311 service requests are public by the spec, so every case
is readable here, but only through the fields the spec defines plus the detailed state; never who
reported it, their contact details or the internal notes of the workflow."""

import datetime as dt
import re
from functools import lru_cache

from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from pyproj import Transformer

from gis_core.errors import ServiceError

from .. import workflow
from ..models import Case, CaseEvent
from ..workflow import Action, State
from . import catalogue

FIX_PROMISED = frozenset({State.DISPATCHED, State.HANDLING, State.SUPERVISION})

MAX_REQUESTS = 1000  # the spec's default volume
MAX_DAYS = 90  # the spec's default and widest span
CLOSED_STATES = frozenset({State.CLOSED, State.VOID})
STATUSES = ("open", "closed")
CASE_NUMBER = re.compile(r"^[0-9]{14}$")
# "+08:00" in a query string arrives as " 08:00" when the client did not percent-encode the '+'.
_LOST_PLUS = re.compile(r" (\d{2}:?\d{2})$")


@lru_cache(maxsize=1)
def _to_wgs84() -> Transformer:
    return Transformer.from_crs("EPSG:4490", "EPSG:4326", always_xy=True)


def public_cases():
    """Every case, with what an Open311 answer needs; the note that closed or voided it (the only
    workflow note written for the reporter) as `closing_note`."""
    closing = CaseEvent.objects.filter(case=OuterRef("pk"), action__in=[Action.CLOSE, Action.VOID]).order_by(
        "-at", "-id"
    )
    return Case.objects.select_related("case_class", "assigned_org", "component", "open311").annotate(
        closing_note=Subquery(closing.values("note")[:1])
    )


def status_of(case: Case) -> str:
    return "closed" if case.state in CLOSED_STATES else "open"


def _w3(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value is not None else None


def as_request(case: Case) -> dict:
    number, name = workflow.STATES[case.state]
    lon, lat = _to_wgs84().transform(*case.geom.coords)
    extra = getattr(case, "open311", None) if hasattr(case, "open311") else None
    notes = getattr(case, "closing_note", None) if case.state in CLOSED_STATES else None
    return {
        "service_request_id": case.number,
        "status": status_of(case),
        "status_notes": f"{name}: {notes}" if notes else name,
        "service_name": case.case_class.name,
        "service_code": case.case_class.code,
        "description": case.description,
        "agency_responsible": case.assigned_org.name if case.assigned_org_id else None,
        "service_notice": None,
        "requested_datetime": _w3(case.created_at),
        "updated_datetime": _w3(case.updated_at),
        # Only a unit's deadline promises a fix; before dispatch due_at is the desk's 1-hour limit.
        "expected_datetime": _w3(case.due_at) if case.state in FIX_PROMISED else None,
        "address": extra.address_string or None if extra is not None else None,
        "address_id": None,
        "zipcode": None,
        "lat": round(lat, 8),
        "long": round(lon, 8),
        "media_url": extra.media_url or None if extra is not None else None,
        # The workflow's own state, which open/closed cannot tell (FixMyStreet's extension fields).
        "extended_attributes": {
            "detailed_status": case.state,
            "detailed_status_code": number,
            "detailed_status_name": name,
            "severity": case.severity,
            "component_id": case.component.code if case.component_id else None,
        },
    }


def _list(params, name: str) -> list[str] | None:
    values = [v.strip() for text in params.getlist(name) for v in text.split(",")]
    values = [v for v in values if v]
    return values or None


def parse_w3(text: str, name: str, end: bool = False) -> dt.datetime:
    """A W3C date/time: with a zone (Z or +hh:mm) as the spec asks; a bare date is the whole local day
    (its start, or its end for end_date); a time without a zone is local time."""
    text = _LOST_PLUS.sub(r"+\1", text.strip())
    try:
        value = parse_datetime(text)
        if value is None:
            day = parse_date(text)
            if day is None:
                raise ValueError
            value = dt.datetime.combine(day, dt.time.max if end else dt.time.min)
    except ValueError:
        raise ServiceError({name: f"{text!r} is not a W3C date/time such as 2026-01-01T00:00:00+08:00"}) from None
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def search(params, now=None) -> list[Case]:
    """The spec's GET requests: service_request_id (overrides everything else), else service_code,
    status and a date range of at most 90 days (default the last 90), newest first, at most 1,000
    (`page_size`, and `page` from 1, to page through them)."""
    qs = public_cases().order_by("-created_at", "-id")
    ids = _list(params, "service_request_id")
    if ids:
        bad = next((i for i in ids if not CASE_NUMBER.match(i)), None)
        if bad is not None:
            raise ServiceError({"service_request_id": f"{bad!r} is not a service request id (14 digits)"})
        return list(qs.filter(number__in=ids[:MAX_REQUESTS]))
    codes = _list(params, "service_code")
    if codes:
        known = {cls.code for cls in catalogue.leaf_classes()}
        unknown = next((c for c in codes if c not in known), None)
        if unknown is not None:
            raise ServiceError({"service_code": f"no service {unknown!r}: see services.json"})
        qs = qs.filter(case_class__code__in=codes)
    statuses = _list(params, "status")
    if statuses:
        unknown = next((s for s in statuses if s not in STATUSES), None)
        if unknown is not None:
            raise ServiceError({"status": f"unknown status {unknown!r}: open or closed"})
        if set(statuses) == {"open"}:
            qs = qs.exclude(state__in=CLOSED_STATES)
        elif set(statuses) == {"closed"}:
            qs = qs.filter(state__in=CLOSED_STATES)
    start_text, end_text = (params.get("start_date") or "").strip(), (params.get("end_date") or "").strip()
    span = dt.timedelta(days=MAX_DAYS)
    start = parse_w3(start_text, "start_date") if start_text else None
    end = parse_w3(end_text, "end_date", end=True) if end_text else None
    if start is None and end is None:
        end = now or timezone.now()
    try:
        start = end - span if start is None else start
        end = start + span if end is None else end
    except OverflowError:
        raise ServiceError({"start_date" if end is None else "end_date": "outside the years a date can have"}) from None
    if end < start:
        raise ServiceError({"end_date": "is before start_date"})
    if end - start > span:
        raise ServiceError({"end_date": f"the range may span at most {MAX_DAYS} days"})
    qs = qs.filter(created_at__gte=start, created_at__lte=end)
    page, size = _positive(params, "page", 1, 10_000), _positive(params, "page_size", MAX_REQUESTS, MAX_REQUESTS)
    return list(qs[(page - 1) * size : page * size])


def _positive(params, name: str, default: int, most: int) -> int:
    """The pagination extension most GeoReport servers implement (wiki: GeoReport v2 Extensions)."""
    text = (params.get(name) or "").strip()
    if not text:
        return default
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= most:
        raise ServiceError({name: f"a whole number from 1 to {most}"})
    return int(text)


def by_id(request_id: str) -> Case | None:
    if not CASE_NUMBER.match(request_id or ""):
        return None
    return public_cases().filter(number=request_id).first()
