"""What a user may see of the components on the map, as SQL for the tile statements, and the
component tile query filters.

Every value that comes from a request is checked here against the database and returned as bound
parameters; the SQL strings are constants."""

import re

from django.db.models import Q

from layers.catalogue import TileFilter
from layers.grids.models import Grid

from . import visibility
from .models import ComponentClass, ComponentState, Organisation


def component_scope(user):
    """(cache key part, SQL, params): the one visibility rule (components.visibility) as SQL."""
    return visibility.scope_sql(user)


def _classes(values: list[str]) -> list:
    bad = [code for code in values if not re.fullmatch(r"[0-9]{2}|[0-9]{4,5}", code)]
    if bad:
        raise ValueError(f"{bad[0]!r} is not a class code (2-digit major or 4/5-digit minor class)")
    majors, minors = [c for c in values if len(c) == 2], [c for c in values if len(c) > 2]
    # One query for all the values, however many were sent.
    rows = list(
        ComponentClass.objects.filter(Q(code__in=minors) | Q(major_code__in=majors)).values_list(
            "id", "code", "major_code"
        )
    )
    found = {code for _, code, _ in rows} | {major for _, _, major in rows}
    unknown = [c for c in values if c not in found]
    if unknown:
        raise ValueError(f"no component class {', '.join(unknown[:5])}")
    return [[pk for pk, _, _ in rows]]


def _states(values: list[str]) -> list:
    known = set(ComponentState.objects.filter(code__in=values).values_list("code", flat=True))
    unknown = [v for v in values if v not in known]
    if unknown:
        raise ValueError(f"no state {', '.join(unknown)}")
    return [values]


def _organisations(values: list[str]) -> list:
    found = dict(Organisation.objects.filter(uscc__in=values).values_list("uscc", "id"))
    unknown = [v for v in values if v not in found]
    if unknown:
        raise ValueError(f"no organisation with USCC {', '.join(unknown)}")
    return [list(found.values())]


def _grid(values: list[str]) -> list:
    if len(values) != 1:
        raise ValueError("one grid code")
    code = values[0]
    level = Grid.objects.filter(code=code).values_list("level_id", flat=True).first()
    if level is None:
        raise ValueError(f"no grid {code}")
    # The component columns that hold each level's code; the other three compare with NULL (false).
    return [code if level == n else None for n in (1, 2, 3, 4)]


COMPONENT_FILTERS = (
    TileFilter("class", "部件类别代码 (大类或小类)", _classes, "component_class_id = ANY(%s)"),
    TileFilter("state", "状态代码", _states, "state_code = ANY(%s)"),
    TileFilter("owner", "权属单位统一社会信用代码", _organisations, "owner_id = ANY(%s)"),
    TileFilter("maintainer", "养护单位统一社会信用代码", _organisations, "maintainer_id = ANY(%s)"),
    TileFilter(
        "grid",
        "网格代码 (任一层级)",
        _grid,
        "(admin_code = %s OR street_code = %s OR community_code = %s OR grid_code = %s)",
    ),
)
