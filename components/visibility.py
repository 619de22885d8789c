"""Which components a user may see: the one rule, for the API, the ID card page, the history, tiles
and exports. Every role that reads sees every component; a maintenance-unit-only account sees only
the components its organisation is department, owner or maintainer of; anyone else sees none.

The rule is given in two forms that must stay the same rule: an ORM filter (`filter_visible`) and
an SQL fragment with bound parameters (`scope_sql`) for raw statements (tiles, exports)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from . import roles

ALL, NONE, UNIT = "all", "none", "unit"


def scope(user) -> tuple[str, object | None]:
    """("all", None), ("none", None) or ("unit", organisation)."""
    if not roles.can_read(user):
        return NONE, None
    if roles.is_unit_only(user):
        org = roles.organisation_of(user)
        return (UNIT, org) if org is not None else (NONE, None)
    return ALL, None


def unit_q(org, prefix: str = "") -> Q:
    return Q(**{f"{prefix}owner": org}) | Q(**{f"{prefix}maintainer": org}) | Q(**{f"{prefix}department": org})


def filter_visible(qs: QuerySet, user, prefix: str = "") -> QuerySet:
    """`qs` (of components, or of rows reaching a component through `prefix`, e.g. "component__")
    narrowed to what `user` may see."""
    kind, org = scope(user)
    if kind == NONE:
        return qs.none()
    if kind == UNIT:
        return qs.filter(unit_q(org, prefix))
    return qs


def scope_sql(user, alias: str = "") -> tuple[str, str, list] | None:
    """(cache key part, SQL condition, params) for raw SQL over components_component (as `alias`,
    if given), or None when the user sees nothing."""
    kind, org = scope(user)
    if kind == NONE:
        return None
    if kind == UNIT:
        a = f"{alias}." if alias else ""
        return f"org{org.pk}", f"({a}owner_id = %s OR {a}maintainer_id = %s OR {a}department_id = %s)", [org.pk] * 3
    return "all", "TRUE", []


def can_see(user, component) -> bool:
    """The same rule for one component already in hand."""
    kind, org = scope(user)
    if kind == NONE:
        return False
    if kind == UNIT:
        return org.pk in (component.owner_id, component.maintainer_id, component.department_id)
    return True


def sees_organisation_details(user, organisation) -> bool:
    """Contact details (phone) of an organisation: every role but a unit-only account, which sees
    only its own organisation's."""
    kind, org = scope(user)
    if kind == ALL:
        return True
    return kind == UNIT and organisation is not None and org.pk == organisation.pk
