"""Roads are public reference data: everyone with a role may read them."""

from components import roles

from .models import Road


def visible_roads(user):
    return Road.objects.all() if roles.can_read(user) else Road.objects.none()


def scope_sql(user, alias: str = "t") -> tuple[str, str, list] | None:
    return ("all", "TRUE", []) if roles.can_read(user) else None
