"""The free-text columns (name, location, codes typed by people, note): the shared text rule
(components.validation.text_errors_array) and nothing more; the values are stored as given."""

from __future__ import annotations

from components.validation import TEXT_FIELDS, text_errors_array

from .columns import report


def text_columns(cols: dict, errors: list) -> dict[str, list]:
    values = {}
    for name in TEXT_FIELDS:
        if name in cols:
            report(errors, name, text_errors_array(name, cols[name]))
            values[name] = cols[name]  # the file's array, whose Arrow twin the COPY reuses
    return values
