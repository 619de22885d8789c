"""The date columns: census and change date, parsed once per distinct value, and their order
(components.validation, the rule the services apply)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from components.validation import CHANGE_BEFORE_CENSUS, date_order_errors_array

from .columns import checked, combine, factorize
from .results import RowError

DATE_FIELDS = ("census_date", "change_date")


def date_columns(cols: dict, errors: list) -> dict[str, list]:
    """{field: date, None (empty) or ValueError (reported) per row} for the date fields given."""
    values = {name: checked(cols[name], _parse_date, name, errors) for name in DATE_FIELDS if name in cols}
    if len(values) == 2 and len(values["census_date"]):
        # Compared once per distinct pair of texts (equal texts parse equal), then spread to the rows.
        first, inverse = combine(factorize(cols["census_date"])[1], factorize(cols["change_date"])[1])
        census, change = values["census_date"], values["change_date"]
        rows = first.tolist()
        bad = date_order_errors_array([census[i] for i in rows], [change[i] for i in rows])[inverse]
        for i in np.flatnonzero(bad).tolist():
            errors.append(RowError(i + 1, "change_date", CHANGE_BEFORE_CENSUS))
    return values


def _parse_date(value: str):
    if not value:
        return None
    text = value.strip()
    for cut in (10,):
        try:
            return dt.date.fromisoformat(text[:cut].replace("/", "-"))
        except ValueError:
            pass
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return ValueError(f"{value!r} is not a date (use YYYY-MM-DD)")
