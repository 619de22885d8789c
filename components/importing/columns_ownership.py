"""The ownership columns: department, owner and maintainer, each a registered organisation's USCC."""

from __future__ import annotations

from components.models import Organisation

from .columns import per_distinct
from .results import RowError

OWNERSHIP_FIELDS = ("department_uscc", "owner_uscc", "maintainer_uscc")


def ownership_columns(cols: dict, errors: list) -> dict[str, list]:
    """{field: organisation pk per row (None: empty cell, -1: unknown, reported)} for the fields given."""
    values = {}
    if not any(name in cols for name in OWNERSHIP_FIELDS):
        return values
    orgs = dict(Organisation.objects.values_list("uscc", "pk"))
    for name in OWNERSHIP_FIELDS:
        if name not in cols:
            continue
        found, inverse = per_distinct(cols[name], lambda v: None if not v else orgs.get(v.upper(), -1))
        ids = found[inverse].tolist()
        for i in [i for i, v in enumerate(ids) if v == -1] if any(v == -1 for v in found.tolist()) else ():
            errors.append(RowError(i + 1, name, f"organisation USCC {cols[name][i]!r} is not registered"))
        values[name] = ids
    return values
