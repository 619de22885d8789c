"""The change history of a camera, from the pghistory event table (cameras_cameraevent): each event
is a full snapshot written by a database trigger, so every write is there, even one made outside
the service. The changes are the differences between consecutive snapshots; who and which action
come from the pghistory context the service attaches (none: a raw SQL write, action "sql")."""

from django.contrib.auth import get_user_model

from components.history import _plain, _same
from components.models import Organisation
from gis_core.text import is_ascii_digits

from .models import CameraEvent

_SKIP = {"pgh_id", "pgh_created_at", "pgh_label", "pgh_obj", "pgh_context", "id", "created_at"}
_LABEL_ACTION = {"insert": "create", "update": "update", "delete": "delete"}
# Only these readers see the stream URL (selectors.may_see_stream); others get its changes blanked.
PRIVATE = {"stream_url"}


def camera_history(camera_id: int, *, with_stream: bool) -> list[dict]:
    """Every change, newest first: {event_id, at, user, action, label, changes: {field: [old, new]}}.
    Organisations by USCC and name, the position as WKT."""
    fields = [f for f in CameraEvent._meta.concrete_fields if f.name not in _SKIP]
    events = list(CameraEvent.objects.filter(pgh_obj_id=camera_id).select_related("pgh_context").order_by("pgh_id"))
    org_ids = {getattr(e, f.attname) for e in events for f in fields if f.is_relation} - {None}
    orgs = {
        pk: f"{uscc} {name}"
        for pk, uscc, name in Organisation.objects.filter(pk__in=org_ids).values_list("pk", "uscc", "name")
    }
    meta = [(e.pgh_context.metadata if e.pgh_context_id and e.pgh_context else None) for e in events]
    user_ids = {int(m["user"]) for m in meta if m and is_ascii_digits(str(m.get("user", "")))}
    User = get_user_model()
    names = dict(User.objects.filter(pk__in=user_ids).values_list("pk", User.USERNAME_FIELD))

    def shown(field, value):
        if field.name in PRIVATE and not with_stream:
            return "***" if value else value
        if field.is_relation and value is not None:
            return orgs.get(value, value)
        return _plain(value)

    out, previous = [], None
    for event, context in zip(events, meta, strict=True):
        changes = {}
        if event.pgh_label != "delete":
            for f in fields:
                new = getattr(event, f.attname)
                old = getattr(previous, f.attname) if previous is not None else None
                if previous is None and new in (None, ""):
                    continue
                if previous is not None and _same(old, new):
                    continue
                changes[f.name] = [shown(f, old), shown(f, new)]
        user = (context or {}).get("user")
        out.append(
            {
                "event_id": event.pgh_id,
                "at": event.pgh_created_at,
                "user": names.get(int(user)) if user is not None and is_ascii_digits(str(user)) else None,
                "action": "sql" if context is None else context.get("action") or _LABEL_ACTION.get(event.pgh_label),
                "label": event.pgh_label,
                "changes": changes,
            }
        )
        previous = event
    return out[::-1]
