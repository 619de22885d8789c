"""The change history of a component, read from the pghistory event table (components_componentevent).

Every row of the event table is a full snapshot written by a database trigger, so changes made
outside the service layer (a bulk ``QuerySet.update()``, a raw SQL ``UPDATE``, psql) are recorded
too. The changes are the differences between consecutive snapshots; who and why come from the
pghistory context attached to the event, when there is one.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import GEOSGeometry

from gis_core.text import is_ascii_digits

from .models import Component, ComponentClass, Organisation

# Snapshot columns that are bookkeeping, not part of the component's record.
_SKIP = {"pgh_id", "pgh_created_at", "pgh_label", "pgh_obj", "pgh_context", "id", "created_at"}
# The event labels of the trigger -> the action shown when the writer gave none.
_LABEL_ACTION = {"insert": "create", "update": "update", "delete": "delete"}
# Writes without any pghistory context: raw SQL, bulk ORM updates outside a request.
SQL_ACTION = "sql"


def _tracked_fields():
    event_model = apps.get_model("components", "ComponentEvent")
    fields = [f for f in event_model._meta.concrete_fields if f.name not in _SKIP]
    return event_model, fields


def _plain(value):
    """A JSON-safe value for the API and the template."""
    if isinstance(value, GEOSGeometry):
        return value.wkt
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    return value


def _same(a, b) -> bool:
    if isinstance(a, GEOSGeometry) and isinstance(b, GEOSGeometry):
        return a.srid == b.srid and a.equals_exact(b, 0)
    return a == b


def _labeller(events, fields):
    """Readable labels for foreign keys: organisation name, class code + name; state stays its code."""
    org_ids, class_ids = set(), set()
    for event in events:
        for f in fields:
            if not f.is_relation:
                continue
            value = getattr(event, f.attname)
            if value is None:
                continue
            if f.related_model is Organisation:
                org_ids.add(value)
            elif f.related_model is ComponentClass:
                class_ids.add(value)
    orgs = dict(Organisation.objects.filter(pk__in=org_ids).values_list("pk", "name"))
    classes = {
        pk: f"{code} {name}"
        for pk, code, name in ComponentClass.objects.filter(pk__in=class_ids).values_list("pk", "code", "name")
    }

    def label(field, value):
        if value is None or not field.is_relation:
            return _plain(value)
        if field.related_model is Organisation:
            return orgs.get(value, value)
        if field.related_model is ComponentClass:
            return classes.get(value, value)
        return value  # state: its code (the foreign key points at ComponentState.code)

    return label


def component_history(component: Component | int) -> list[dict]:
    """Every change of the component, newest first.

    Each entry: ``{"at": datetime, "user": username | None, "action": str, "changes": {field: [old, new]},
    "event_id": int, "label": "insert" | "update" | "delete", "context": dict}``.
    ``action`` is what the service layer recorded (create, update, change_state, transfer, retire,
    import, ...); for a write made with no context at all (raw SQL, a bulk update outside a request)
    it is ``"sql"``; for a write inside a request context without an action, the event label's verb.
    Foreign keys are shown by name (organisations), ``code name`` (class) or code (state); the
    geometry as WKT; dates as ISO strings. The first entry's changes are the initial values.
    """
    pk = component.pk if isinstance(component, Component) else component
    event_model, fields = _tracked_fields()
    events = list(event_model.objects.filter(pgh_obj_id=pk).select_related("pgh_context").order_by("pgh_id"))
    if not events:
        return []
    label = _labeller(events, fields)

    user_ids = set()
    for event in events:
        meta = event.pgh_context.metadata if event.pgh_context_id and event.pgh_context else {}
        if isinstance(meta.get("user"), (int, str)) and is_ascii_digits(str(meta.get("user"))):
            user_ids.add(int(meta["user"]))
    User = get_user_model()
    usernames = dict(User.objects.filter(pk__in=user_ids).values_list("pk", User.USERNAME_FIELD))

    history = []
    previous = None
    for event in events:
        changes = {}
        for f in fields:
            new = getattr(event, f.attname)
            old = getattr(previous, f.attname) if previous is not None else None
            if previous is None:
                if new in (None, "", {}, []) or new is False:
                    continue
            elif event.pgh_label != "delete" and _same(old, new):
                continue
            if event.pgh_label == "delete":
                continue
            changes[f.name] = [label(f, old), label(f, new)]
        context = event.pgh_context.metadata if event.pgh_context_id and event.pgh_context else None
        if context is None:
            action = SQL_ACTION
        else:
            action = context.get("action") or _LABEL_ACTION.get(event.pgh_label, event.pgh_label)
        user_id = (context or {}).get("user")
        user = usernames.get(int(user_id)) if user_id is not None and is_ascii_digits(str(user_id)) else None
        history.append(
            {
                "event_id": event.pgh_id,
                "at": event.pgh_created_at,
                "user": user,
                "action": action,
                "label": event.pgh_label,
                "changes": changes,
                "context": {k: _plain(v) for k, v in (context or {}).items() if k not in ("user",)},
            }
        )
        previous = event
    history.reverse()
    return history
