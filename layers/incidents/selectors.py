"""Which cases a user may see: a maintenance-unit-only account the cases assigned to its
organisation; every other reading role all cases; anyone else none. One rule, as an ORM filter and
as SQL for the tiles."""
from django.db.models import QuerySet

from components import roles

from .models import Case


def visible_cases(user) -> QuerySet:
    qs = Case.objects.select_related("case_class", "assigned_org", "component")
    if not roles.can_read(user):
        return qs.none()
    if roles.is_unit_only(user):
        org = roles.organisation_of(user)
        return qs.filter(assigned_org=org) if org is not None else qs.none()
    return qs


def scope_sql(user, alias: str = "t") -> tuple[str, str, list] | None:
    """(cache key part, SQL condition, params) for raw SQL over incidents_case as `alias`."""
    if not roles.can_read(user):
        return None
    if roles.is_unit_only(user):
        org = roles.organisation_of(user)
        return (f"org{org.pk}", f"{alias}.assigned_org_id = %s", [org.pk]) if org is not None else None
    return "all", "TRUE", []


def case_with_events(user, number: str) -> Case | None:
    return visible_cases(user).filter(number=number).prefetch_related("events__actor", "events__organisation").first()
