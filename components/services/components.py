import datetime as dt

import pghistory
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.db import IntegrityError, transaction
from django.utils import timezone

from gis_core.text import bad_character

from .. import roles
from ..ids import allocate_ids, reserve_up_to, split_id
from ..models import Component, ComponentState, Organisation, OwnershipTransfer
from ..signals import components_changed
from ..validation import NOTE_MAX_LENGTH, ServiceError, component_errors, text_errors  # noqa: F401 - NOTE_MAX_LENGTH for serializers

EDITABLE_FIELDS = {
    "component_class",
    "name",
    "geom",
    "street_code",
    "community_code",
    "grid_code",
    "location_desc",
    "department",
    "owner",
    "maintainer",
    "state",
    "census_date",
    "change_date",
    "data_source",
    "note",
    "attributes",
}


OWNERSHIP_FIELDS = {"department", "owner", "maintainer"}
TRANSFER_ONLY = "changes only through an ownership transfer (POST /api/components/transfer/), which records it"
# Service field name -> the name the role matrix and the REST API use.
_MATRIX_NAME = {"geom": "geometry"}


def _refuse_unless(user, action: str, field: str) -> None:
    """The role matrix (components.roles.MATRIX) for an acting account; system writes (user None:
    imports, tasks, shell) are not role-checked."""
    if user is not None and getattr(user, "is_authenticated", False) and not roles.may(user, action):
        raise ServiceError({field: "your role may not change this"})


def history_user_id(user):
    """The user a history row names: the acting account, or None for system and anonymous writes."""
    return user.pk if user is not None and getattr(user, "is_authenticated", False) else None


def _announce(components, also=()):
    """After commit, tells listeners (tile caches, grid assignment) which IDs changed and where;
    `also` adds extents the components occupied before the change."""
    codes = [c.code for c in components]
    extents = [c.geom.extent for c in components if c.geom is not None] + list(also)
    bbox = None
    if extents:
        bbox = (
            min(e[0] for e in extents),
            min(e[1] for e in extents),
            max(e[2] for e in extents),
            max(e[3] for e in extents),
        )
    transaction.on_commit(lambda: components_changed.send(sender=Component, codes=codes, bbox=bbox))


def _as_geos(geom):
    if geom is None or isinstance(geom, GEOSGeometry):
        if geom is not None and geom.srid is None:
            geom.srid = 4490
        return geom
    return GEOSGeometry(memoryview(geom.wkb), srid=4490)  # shapely


def _save(component: Component) -> None:
    try:
        with transaction.atomic():
            component.save()
    except IntegrityError as exc:
        if "component_code" in str(exc) or "components_component_code" in str(exc):
            raise ServiceError({"code": f"ID {component.code} is already registered"}) from exc
        raise ServiceError({"non_field_errors": "the change breaks a database rule"}) from exc


@transaction.atomic
def create_component(*, user=None, code: str | None = None, admin_code: str | None = None, **fields) -> Component:
    unknown = fields.keys() - EDITABLE_FIELDS
    if unknown:
        raise ServiceError({name: "unknown field" for name in unknown})
    errors = text_errors(fields)
    if errors:
        raise ServiceError(errors)
    fields["geom"] = _as_geos(fields.get("geom"))
    fields.setdefault("state", ComponentState.objects.filter(code="intact").first())
    fields.setdefault("attributes", {})
    admin_code = admin_code or settings.GRIDCITY_ADMIN_CODE
    errors = component_errors({**fields, "code": code, "admin_code": admin_code})
    if errors:
        raise ServiceError(errors)
    cls = fields["component_class"]
    if code:
        if Component.objects.filter(code=code).exists():
            raise ServiceError({"code": f"ID {code} is already registered"})
        _, _, serial = split_id(code, len(cls.code))
        reserve_up_to({(admin_code, cls.pk): serial})
    else:
        code = allocate_ids(admin_code, cls, 1)[0]
    fields.setdefault("census_date", timezone.localdate())
    component = Component(code=code, admin_code=admin_code, **fields)
    with pghistory.context(user=history_user_id(user), action="create"):
        _save(component)
    _announce([component])
    return component


@transaction.atomic
def update_component(component: Component, *, user=None, **changes) -> Component:
    """Changes any editable field but the organisations (those move by `transfer_ownership`), each
    as the role matrix allows the acting user."""
    for name in changes.keys() - OWNERSHIP_FIELDS - {"component_class"}:
        field = _MATRIX_NAME.get(name, name)
        _refuse_unless(user, f"update.{field}", field)
    return _apply(component, user=user, action="update", **changes)


def _apply(component: Component, *, user, action: str, **changes) -> Component:
    unknown = changes.keys() - EDITABLE_FIELDS
    if unknown:
        raise ServiceError({name: "unknown field" for name in unknown})
    errors = text_errors(changes)
    if errors:
        raise ServiceError(errors)
    component = Component.objects.select_for_update().get(pk=component.pk)
    if component.retired:
        raise ServiceError({"code": f"component {component.code} is retired and cannot be changed"})
    if "geom" in changes:
        changes["geom"] = _as_geos(changes["geom"])
    if "component_class" in changes and changes["component_class"] != component.component_class:
        raise ServiceError(
            {"component_class": "the class is part of the ID: retire this component and register a new one"}
        )
    changed = {k: v for k, v in changes.items() if getattr(component, k) != v}
    moved = sorted(changed.keys() & OWNERSHIP_FIELDS)
    if moved:
        raise ServiceError({name: TRANSFER_ONLY for name in moved})
    if action == "change_state" and "state" not in changed:
        # Otherwise a state report could rewrite any component's note with the state unchanged.
        raise ServiceError({"state": f"is already {component.state_id}: a state report must change the state"})
    if not changed:
        return component
    before = [component.geom.extent] if "geom" in changed and component.geom is not None else []
    for name, value in changed.items():
        setattr(component, name, value)
    if "change_date" not in changes:
        component.change_date = timezone.localdate()
    errors = component_errors(
        {
            f.name: getattr(component, f.name)
            for f in component._meta.fields
            if f.name in EDITABLE_FIELDS | {"admin_code"}
        },
        check_code=False,
    )
    if errors:
        raise ServiceError(errors)
    with pghistory.context(user=history_user_id(user), action=action):
        _save(component)
    _announce([component], also=before)
    return component


@transaction.atomic
def change_state(component: Component, state: ComponentState | str, *, user=None, note: str = "") -> Component:
    """A state report (grid workers, units): the state must change; a note goes with it."""
    _refuse_unless(user, "change_state", "state")
    if isinstance(state, str):
        state = ComponentState.objects.filter(code=state).first()
        if state is None:
            raise ServiceError({"state": "unknown state"})
    changes = {"state": state}
    if note:
        changes["note"] = note
    return _apply(component, user=user, action="change_state", **changes)


@transaction.atomic
def transfer_ownership(
    components, *, role: str, to_org: Organisation, effective_date: dt.date | None = None, reason: str = "", user=None
) -> list[OwnershipTransfer]:
    """Moves the department, owner or maintainer of one or many components, dated and recorded."""
    if role not in OwnershipTransfer.Role.values:
        raise ServiceError({"role": f"must be one of {', '.join(OwnershipTransfer.Role.values)}"})
    _refuse_unless(user, "transfer", "role")
    if bad_character(reason):
        raise ServiceError({"reason": bad_character(reason)})
    effective_date = effective_date or timezone.localdate()
    locked = list(Component.objects.select_for_update().filter(pk__in=[c.pk for c in components]).order_by("pk"))
    if not locked:
        raise ServiceError({"components": "no components given"})
    retired = [c.code for c in locked if c.retired]
    if retired:
        raise ServiceError({"components": f"retired components cannot be transferred: {', '.join(retired[:10])}"})
    transfers = []
    with pghistory.context(
        user=history_user_id(user), action="transfer", reason=reason, effective_date=str(effective_date)
    ):
        for component in locked:
            current = getattr(component, role)
            if current == to_org:
                continue
            transfers.append(
                OwnershipTransfer(
                    component=component,
                    role=role,
                    from_org=current,
                    to_org=to_org,
                    effective_date=effective_date,
                    reason=reason,
                    recorded_by=user if history_user_id(user) else None,
                )
            )
            setattr(component, role, to_org)
            component.change_date = effective_date
            component.save(update_fields=[role, "change_date", "updated_at"])
        OwnershipTransfer.objects.bulk_create(transfers)
    _announce([t.component for t in transfers])
    return transfers


@transaction.atomic
def retire_component(component: Component, *, reason: str, at=None, user=None) -> Component:
    """Retires (注销) a component. Its ID is never handed out again: the serial counter only grows."""
    if not reason or not reason.strip():
        raise ServiceError({"reason": "a reason is required to retire a component"})
    _refuse_unless(user, "retire", "code")
    reason_error = bad_character(reason)
    if reason_error:
        raise ServiceError({"reason": reason_error})
    component = Component.objects.select_for_update().get(pk=component.pk)
    if component.retired:
        raise ServiceError({"code": f"component {component.code} is already retired"})
    component.retired = True
    component.retired_at = at or timezone.now()
    component.retired_reason = reason.strip()[:200]
    component.change_date = timezone.localdate(component.retired_at)
    with pghistory.context(user=history_user_id(user), action="retire"):
        component.save()
    _announce([component])
    return component
