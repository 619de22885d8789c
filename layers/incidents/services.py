"""The one write path of cases: report, and one function per workflow action. Each validates,
checks the acting user's role against the workflow table (workflow.TRANSITIONS), writes the event
row and the state change in one transaction, and announces the change after commit."""

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from components import roles
from components.models import Component, Organisation
from gis_core.crs import CRSError, parse_crs, storage_point
from gis_core.errors import ServiceError
from gis_core.text import bad_character
from layers.grids.lookup import grids_at

from . import deadlines, extensions, notify, workflow
from .models import Case, CaseClass, CaseEvent, RoutingRule, Severity, Source
from .photos import attach as attach_photos
from .reporters import record_report
from .signals import incidents_changed
from .workflow import Action, State

DESCRIPTION_MAX = 2000
NOTE_MAX = 1000
STREET_LEVEL, COMMUNITY_LEVEL, BASE_LEVEL = 2, 3, 4
REPORTERS = frozenset({roles.GRID_WORKER, roles.DISPATCHER, roles.MAINTENANCE_UNIT, roles.ADMINISTRATOR})
# Who reports is where the report came from, unless the caller says (a dispatcher typing a 12345 call).
_SOURCE_OF_ROLE = (
    (roles.GRID_WORKER, Source.GRID_WORKER),
    (roles.DISPATCHER, Source.DISPATCHER),
    (roles.MAINTENANCE_UNIT, Source.UNIT_PATROL),
    (roles.ADMINISTRATOR, Source.DISPATCHER),
)


class TransitionRefused(ServiceError):
    """The action is not allowed from the case's state (409); `allowed` lists the next actions that are."""

    status = 409

    def __init__(self, message: str, allowed: list[str]):
        self.allowed = allowed
        super().__init__({"action": f"{message}; allowed next actions: {', '.join(allowed) or 'none'}"})


class RoleRefused(ServiceError):
    """The action exists from this state, but not for the acting user (403)."""

    status = 403


def snap_radius_m() -> float:
    return float(getattr(settings, "GRIDCITY_INCIDENT_SNAP_METRES", 50))


def _acting(user):
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def _announce(case: Case) -> None:
    x, y = case.geom.coords
    number = case.number
    transaction.on_commit(lambda: incidents_changed.send(sender=Case, numbers=[number], bbox=(x, y, x, y)))


def _text(value, field: str, limit: int, multiline: bool = True) -> str:
    value = "" if value is None else value
    if not isinstance(value, str):
        raise ServiceError({field: "must be text"})
    reason = bad_character(value, multiline=multiline)
    if reason:
        raise ServiceError({field: reason})
    if len(value) > limit:
        raise ServiceError({field: f"at most {limit} characters"})
    return value.strip()


def allocate_number(day=None) -> str:
    """Date + 6-digit serial. One UPSERT: its row lock serialises concurrent reports of the same day,
    and the counter only grows, so a number is never given twice."""
    day = day or timezone.localdate()
    with connection.cursor() as cur:
        cur.execute(
            """INSERT INTO incidents_casenumbercounter (day, last_serial) VALUES (%s, 1)
               ON CONFLICT (day) DO UPDATE SET last_serial = incidents_casenumbercounter.last_serial + 1
               RETURNING last_serial""",
            [day],
        )
        (serial,) = cur.fetchone()
    if serial > 999_999:
        raise ServiceError({"number": f"no case numbers left for {day}"})
    return f"{day:%Y%m%d}{serial:06d}"


def find_class(class_code: str) -> CaseClass:
    cls = (
        (
            CaseClass.objects.select_related("component_class")
            .filter(code=class_code, active=True)
            .order_by("-version")
            .first()
        )
        if isinstance(class_code, str)
        else None
    )
    if cls is None:
        raise ServiceError({"class_code": f"no active case class {class_code!r}"})
    return cls


def _point(point, crs) -> Point:
    try:
        srid = parse_crs(crs)
    except CRSError as exc:
        raise ServiceError({"crs": str(exc)}) from exc
    try:
        x, y = (float(v) for v in point)
        lon, lat = storage_point(x, y, srid)
    except (TypeError, ValueError) as exc:
        raise ServiceError({"point": str(exc) if isinstance(exc, CRSError) else "must be two numbers: x, y"}) from exc
    minx, miny, maxx, maxy = settings.GRIDCITY_DISTRICT_BBOX
    if not (minx <= lon <= maxx and miny <= lat <= maxy):
        raise ServiceError({"point": f"({lon:.6f}, {lat:.6f}) lies outside the district"})
    return Point(lon, lat, srid=4490)


def nearest_component(component_class, point: Point, radius_m: float | None = None) -> Component | None:
    """The nearest live component of `component_class` within `radius_m` metres (geodesic), or None."""
    radius_m = snap_radius_m() if radius_m is None else radius_m
    geog = "ST_SetSRID(ST_MakePoint(%s, %s), 4490)::geography"
    lon, lat = point.coords
    return (
        Component.objects.filter(component_class=component_class, retired=False)
        .extra(where=[f"ST_DWithin(components_component.geom::geography, {geog}, %s)"], params=[lon, lat, radius_m])
        .extra(
            select={"distance_m": f"ST_Distance(components_component.geom::geography, {geog})"},
            select_params=[lon, lat],
            order_by=["distance_m"],
        )
        .select_related("maintainer", "owner")
        .first()
    )


def _asset(cls: CaseClass, point: Point, component_code) -> Component | None:
    if component_code:
        component = Component.objects.filter(code=component_code, retired=False).first()
        if component is None:
            raise ServiceError({"component_code": f"no live component {component_code}"})
        if cls.component_class_id is not None and component.component_class_id != cls.component_class_id:
            raise ServiceError({"component_code": f"{component_code} is not a {cls.component_class.name}"})
        return component
    if cls.component_class_id is None:
        return None
    component = nearest_component(cls.component_class, point)
    if component is None and cls.requires_asset:
        raise ServiceError(
            {
                "component_code": f"no {cls.component_class.name} within {snap_radius_m():g} m of the "
                "point: name the component or report from nearer"
            }
        )
    return component


def _grid_codes(point: Point) -> dict:
    by_level = {g.level_id: g.code for g in grids_at(*point.coords)}
    return {
        "grid_code": by_level.get(BASE_LEVEL, ""),
        "community_code": by_level.get(COMMUNITY_LEVEL, ""),
        "street_code": by_level.get(STREET_LEVEL, ""),
    }


def _event(case: Case, user, action: str, from_state: str, note: str = "", organisation=None) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        actor=_acting(user),
        action=action,
        from_state=from_state,
        to_state=case.state,
        note=note,
        organisation=organisation,
    )


@transaction.atomic
def report_case(
    user,
    class_code: str,
    point,
    crs="EPSG:4490",
    description: str = "",
    component_code=None,
    source: str | None = None,
    severity: str = Severity.NORMAL,
    client_token: str | None = None,
    photos=None,
    reporter_name: str = "",
    reporter_phone: str = "",
) -> Case:
    """A new case in 待受理. `point` is (x, y) in `crs` (any CRS gis_core.crs accepts, GCJ-02 and BD-09
    included). A class about an asset snaps to the nearest live component of its component class within
    the snap radius (or takes `component_code`); base grid, community and street codes are fixed now.
    A report repeating the same user's `client_token` returns the case made the first time, marked
    `repeated`, and writes nothing. `photos`: ids of the user's unattached uploads; `reporter_name` and
    `reporter_phone`: the caller, when a desk types in a call (layers/incidents/reporters.py)."""
    held = roles.roles_of(user)
    # An Open311 client's account holds no role: it relays citizens' reports and nothing else.
    if _acting(user) is not None and not held & REPORTERS and not hasattr(user, "open311_client"):
        raise RoleRefused({"role": "your role may not report cases"})
    token = _token(client_token) if _acting(user) is not None else ""
    if token:
        earlier = Case.objects.filter(reporter=user, client_token=token).first()
        if earlier is not None:
            earlier.repeated = True
            return earlier
    cls = find_class(class_code)
    if cls.children.exists():
        raise ServiceError({"class_code": f"{class_code} is a major class: choose one of its sub-classes"})
    geom = _point(point, crs)
    description = _text(description, "description", DESCRIPTION_MAX)
    if severity not in Severity.values:
        raise ServiceError({"severity": f"one of {', '.join(Severity.values)}"})
    if source is None:
        source = next((s for role, s in _SOURCE_OF_ROLE if role in held), Source.DISPATCHER)
    elif source not in Source.values:
        raise ServiceError({"source": f"one of {', '.join(Source.values)}"})
    component = _asset(cls, geom, component_code)
    try:
        with transaction.atomic():
            case = Case.objects.create(
                number=allocate_number(),
                source=source,
                case_class=cls,
                severity=severity,
                description=description,
                geom=geom,
                component=component,
                state=State.REPORTED,
                reporter=_acting(user),
                client_token=token,
                **_grid_codes(geom),
            )
            event = _event(case, user, Action.REPORT, "")
            record_report(case, user, event, photos, reporter_name, reporter_phone)
            deadlines.refresh(case)
    except IntegrityError as exc:
        if not token or "case_client_token_unique" not in str(exc):
            raise
        # The same report raced in on another connection and committed first: that case is the answer.
        earlier = Case.objects.get(reporter=user, client_token=token)
        earlier.repeated = True
        return earlier
    case.repeated = False
    _announce(case)
    return case


def _token(value) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or len(value) > 64 or not value.isascii() or not value.isprintable():
        raise ServiceError({"client_token": "at most 64 printable ASCII characters"})
    return value


def route(case: Case) -> Organisation | None:
    """Who answers for the case: the asset's maintainer, else its owner; otherwise the routing table,
    the most specific grid first (base grid, community, street, everywhere), the class before its parents."""
    if case.component_id is not None:
        return case.component.maintainer or case.component.owner
    grids = [c for c in (case.grid_code, case.community_code, case.street_code) if c] + [""]
    classes, cls = [], case.case_class
    while cls is not None and len(classes) < 10:
        classes.append(cls.pk)
        cls = cls.parent
    rules = {
        (r.case_class_id, r.grid_code): r.organisation
        for r in RoutingRule.objects.filter(case_class_id__in=classes, grid_code__in=grids).select_related(
            "organisation"
        )
    }
    return next((rules[(c, g)] for g in grids for c in classes if (c, g) in rules), None)


def _verified_since_handled(case: Case) -> bool:
    last = (
        case.events.filter(action__in=[Action.HANDLE, Action.SELF_HANDLE, Action.REWORK, Action.VERIFY])
        .order_by("-at", "-id")
        .values_list("action", flat=True)
        .first()
    )
    return last == Action.VERIFY


def _check_role(user, case: Case, step: workflow.Transition, action: str) -> None:
    if _acting(user) is None:
        return  # system steps (tasks, shell) are not role-checked
    held = roles.roles_of(user)
    allowing = held & step.roles
    if not allowing:
        raise RoleRefused({"action": f"{action} is for {', '.join(sorted(step.roles))}, not your role"})
    if allowing == {roles.MAINTENANCE_UNIT}:
        org = roles.organisation_of(user)
        if org is None or org.pk != case.assigned_org_id:
            raise RoleRefused({"action": "the case is not assigned to your organisation"})


@transaction.atomic
def act(
    user,
    case: Case,
    action: str,
    note: str = "",
    organisation: Organisation | None = None,
    photos=None,
    target=None,
    extension=None,
) -> Case:
    """Takes one workflow step. Refused (nothing written) when the step is unknown (400), not allowed
    from the case's state (409, naming the allowed next actions), or not for the user's role (403).
    `photos`: ids of the user's unattached uploads, attached to the step; `target`: merge's case kept;
    `extension` is the {amount, unit} of a 延期 request or approval; the case's clock is refreshed."""
    if action not in workflow.ACTIONS:
        raise ServiceError({"action": f"unknown action {action!r}: one of {', '.join(workflow.ACTIONS)}"})
    if action == Action.MERGE:
        from .merging import merge

        return merge(user, case, target, note, photos)
    if target is not None:
        raise ServiceError({"target": f"{action} takes no target case"})
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("component__maintainer", "component__owner", "case_class")
        .get(pk=case.pk)
    )
    step = workflow.transition(case.state, action)
    if step is None:
        raise TransitionRefused(f"cannot {action} a case in state {case.state}", workflow.next_actions(case.state))
    _check_role(user, case, step, action)
    note = _text(note, "note", NOTE_MAX)
    if step.note_required and not note:
        raise ServiceError({"note": f"{action} needs a reason"})
    if step.requires_verify and not _verified_since_handled(case):
        raise TransitionRefused(
            "close needs an on-site verification since the case was handled", [Action.VERIFY, Action.REWORK]
        )
    granted = extensions.prepare(case, action, extension)
    sent_to = None
    if step.routes:
        sent_to = organisation or route(case)
        if sent_to is None:
            raise ServiceError({"organisation": "no unit answers for this case: name the organisation"})
        if action == Action.REASSIGN and sent_to.pk == case.assigned_org_id:
            raise ServiceError({"organisation": "the case is already with that unit"})
        case.assigned_org = sent_to
    elif organisation is not None:
        raise ServiceError({"organisation": f"{action} sends the case to no unit"})
    if action == Action.RETURN:
        case.assigned_org = None  # back on the dispatcher's desk, for 改派
    from_state = case.state
    case.state = step.to
    case.save(update_fields=["state", "assigned_org", "updated_at"])
    event = _event(case, user, action, from_state, note, sent_to)
    extensions.record(event, granted)
    attach_photos(user, case, event, photos)
    deadlines.refresh(case)
    if sent_to is not None:
        notify.assigned(case, event)  # the unit's users hear of their new case
    _announce(case)
    return case


def dispatch(user, case, note="", organisation=None):
    """立案派遣: to the asset's maintainer (else owner), or the unit of the routing table."""
    return act(user, case, Action.DISPATCH, note, organisation)


def reassign(user, case, organisation, note=""):
    """改派: to another unit."""
    return act(user, case, Action.REASSIGN, note, organisation)


def accept(user, case, note=""):
    return act(user, case, Action.ACCEPT, note)


def return_case(user, case, note):
    """回退: not ours, with the reason."""
    return act(user, case, Action.RETURN, note)


def handle(user, case, note=""):
    return act(user, case, Action.HANDLE, note)


def self_handle(user, case, note=""):
    """自行处置: the reporter fixed it on the spot."""
    return act(user, case, Action.SELF_HANDLE, note)


def verify(user, case, note=""):
    """核查: checked on site that it is fixed."""
    return act(user, case, Action.VERIFY, note)


def rework(user, case, note):
    """返工: not fixed, back to the unit."""
    return act(user, case, Action.REWORK, note)


def close(user, case, note=""):
    return act(user, case, Action.CLOSE, note)


def void(user, case, note):
    return act(user, case, Action.VOID, note)


def hold(user, case, note):
    """挂账: parked (the clock pauses)."""
    return act(user, case, Action.HOLD, note)


def resume(user, case, note=""):
    return act(user, case, Action.RESUME, note)


def supervise(user, case, note):
    """督查."""
    return act(user, case, Action.SUPERVISE, note)


def release(user, case, note=""):
    return act(user, case, Action.RELEASE, note)


def request_extension(user, case, note, amount, unit):
    """延期申请: the unit asks for `amount` `unit` more (the clock pauses until decided)."""
    return act(user, case, Action.REQUEST_EXTENSION, note, extension={"amount": amount, "unit": unit})


def approve_extension(user, case, note="", amount=None, unit=None):
    """延期批准: grants the requested amount, or `amount` `unit` when given."""
    return act(user, case, Action.APPROVE_EXTENSION, note, extension={"amount": amount, "unit": unit})


def reject_extension(user, case, note):
    return act(user, case, Action.REJECT_EXTENSION, note)
