"""The attributes column: JSON text per row, checked against its class's attribute schema
(components.attributes) once per distinct (text, class) pair."""
from __future__ import annotations

import json

import numpy as np

from components.attributes import attribute_errors

from .columns import combine, factorize
from .results import RowError


def attribute_columns(cols: dict, class_of: np.ndarray, class_inv: np.ndarray, class_id: np.ndarray,
                      errors: list) -> dict[str, list]:
    """{"attributes": canonical JSON text per row ('' keeps the stored value)} when the file gives the
    column; without it, rows of a class with required attributes are reported."""
    n = len(class_of)
    if "attributes" not in cols:
        _required_missing(class_of, class_id, errors)
        return {}
    attrs = []
    cache = {}
    attr_values, attr_inv = factorize(cols["attributes"])
    key_rows, key_inv = combine(attr_inv, class_inv) if n else (np.zeros(0, int), np.zeros(0, int))
    hits = np.empty(len(key_rows), dtype=object)
    for k, i in enumerate(key_rows.tolist()):
        hits[k] = _attributes(attr_values[attr_inv[i]], class_of[i], attribute_errors)
    for i, hit in zip(key_rows.tolist(), hits.tolist()):
        cls = class_of[i]
        cache[(attr_values[attr_inv[i]], cls.pk if cls else None)] = hit
    if not any(isinstance(hit, dict) for hit in hits.tolist()):
        attrs = hits[key_inv].tolist()
    for i, (text, cls) in enumerate(zip(cols["attributes"].tolist(), class_of) if len(attrs) != n else ()):
        key = (text, cls.pk if cls else None)
        hit = cache.get(key)
        if hit is None:
            hit = cache[key] = _attributes(text, cls, attribute_errors)
        if isinstance(hit, dict):
            for f, r in hit.items():
                errors.append(RowError(i + 1, f, r))
            attrs.append(None)
        else:
            attrs.append(hit)
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


def _attributes(text: str, cls, attribute_errors):
    """JSON text -> canonical JSON text, or {field: reason}."""
    if not text:
        value = {}
    else:
        try:
            value = json.loads(text)
        except ValueError as exc:
            return {"attributes": f"is not valid JSON: {exc.msg} at character {exc.pos}"}
        except RecursionError:
            return {"attributes": "is not valid JSON here: arrays or objects nested too deeply"}
    if not isinstance(value, dict):
        return {"attributes": "must be a JSON object"}
    if cls is not None:
        errs = attribute_errors(cls.attribute_schema, value)
        if errs:
            return {f"attributes.{k}": v for k, v in errs.items()}
    if not text:
        return ""  # empty cell: keep what is stored ({} for new components)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
