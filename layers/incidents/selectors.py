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


def possible_duplicates(user, case: Case, radius_m: float | None = None, hours: int | None = None) -> QuerySet:
    """Open cases of the same class within `radius_m` metres reported in the last `hours` hours
    (FixMyStreet's "known problems here"), that the user may see, nearest first. Defaults:
    GRIDCITY_INCIDENT_DUPLICATE_METRES and _HOURS."""
    from datetime import timedelta

    from django.conf import settings

    from .workflow import OPEN_STATES

    radius_m = settings.GRIDCITY_INCIDENT_DUPLICATE_METRES if radius_m is None else radius_m
    hours = settings.GRIDCITY_INCIDENT_DUPLICATE_HOURS if hours is None else hours

    lon, lat = case.geom.coords
    geog = "ST_SetSRID(ST_MakePoint(%s, %s), 4490)::geography"
    return (
        visible_cases(user)
        .exclude(pk=case.pk)
        .filter(
            case_class=case.case_class, state__in=OPEN_STATES, created_at__gte=case.created_at - timedelta(hours=hours)
        )
        .extra(where=[f"ST_DWithin(incidents_case.geom::geography, {geog}, %s)"], params=[lon, lat, radius_m])
        .extra(
            select={"distance_m": f"ST_Distance(incidents_case.geom::geography, {geog})"},
            select_params=[lon, lat],
            order_by=["distance_m"],
        )
    )
