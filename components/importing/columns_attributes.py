"""The attributes column: JSON text per row, checked against its class's attribute schema
(components.attributes) once per distinct (text, class) pair."""

from __future__ import annotations

import numpy as np

from components.attributes import attribute_errors, attributes_from_json_array

from .results import RowError


def attribute_columns(
    cols: dict, class_of: np.ndarray, class_id: np.ndarray, errors: list, class_inv: np.ndarray | None = None
) -> dict[str, list]:
    """{"attributes": canonical JSON text per row ('' keeps the stored value)} when the file gives the
    column; without it, rows of a class with required attributes are reported. `class_inv` (each
    row's index among the distinct classes, as identity_columns gives it) spares a look at every row's
    class."""
    n = len(class_of)
    if "attributes" not in cols:
        _required_missing(class_of, class_id, errors)
        return {}
    if class_inv is not None and n:
        # Per distinct class, then spread to the rows.
        _, first = np.unique(class_inv, return_index=True)
        lut_schema = np.full(int(class_inv.max()) + 1, None, dtype=object)
        lut_key = np.zeros(int(class_inv.max()) + 1, dtype=np.int64)
        for i in first.tolist():
            cls = class_of[i]
            if cls is not None:
                lut_schema[class_inv[i]], lut_key[class_inv[i]] = cls.attribute_schema, cls.pk
        schemas, keys = lut_schema[class_inv], lut_key[class_inv]
    else:
        schemas = np.array([None if cls is None else cls.attribute_schema for cls in class_of.tolist()], dtype=object)
        keys = np.fromiter((0 if cls is None else cls.pk for cls in class_of.tolist()), dtype=np.int64, count=n)
    parsed = attributes_from_json_array(cols["attributes"], schemas, keys)
    attrs = parsed.tolist()
    for i, hit in enumerate(attrs):
        if isinstance(hit, dict):
            errors.extend(RowError(i + 1, f, r) for f, r in hit.items())
            attrs[i] = None
    return {"attributes": attrs}


def _required_missing(class_of: np.ndarray, class_id: np.ndarray, errors: list) -> None:
    """Without the column, the rows of a usable class (class_id set) that requires attributes are
    reported, every row with a class then, as before."""
    usable = set(class_id.tolist())
    classes = {cls.pk: cls for cls in class_of.tolist() if cls is not None and cls.pk in usable}
    if not any(any(r.get("required") for r in cls.attribute_schema.values()) for cls in classes.values()):
        return
    for i, cls in enumerate(class_of):
        if cls is not None:
            for f, r in attribute_errors(cls.attribute_schema, {}).items():
                errors.append(RowError(i + 1, f"attributes.{f}", r))
