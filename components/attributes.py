"""Per-class extension attributes, checked against the class's attribute_schema: attribute_errors()
for a dict (the services), attributes_from_json() for JSON text (one import cell) and
attributes_from_json_array() for a column of them."""

import json

import numpy as np

from gis_core import arrow_strings

NOT_AN_OBJECT = "must be a JSON object"

_TYPES = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
}


def attribute_errors(schema: dict, values: dict) -> dict[str, str]:
    """{attribute: reason} for every way `values` breaks `schema`; empty when they fit."""
    if not isinstance(values, dict):
        return {"attributes": NOT_AN_OBJECT}
    errors: dict[str, str] = {}
    for name in values.keys() - schema.keys():
        errors[name] = "not an attribute of this class"
    for name, rule in schema.items():
        if name not in values or values[name] in (None, ""):
            if rule.get("required"):
                errors[name] = "required"
            continue
        value = values[name]
        kind = rule.get("type", "string")
        ok_types = _TYPES.get(kind, (str,))
        if isinstance(value, bool) and kind != "boolean" or not isinstance(value, ok_types):
            errors[name] = f"must be a {kind}"
            continue
        if "enum" in rule and value not in rule["enum"]:
            errors[name] = f"must be one of {', '.join(map(str, rule['enum']))}"
        elif "min" in rule and value < rule["min"]:
            errors[name] = f"must be at least {rule['min']}"
        elif "max" in rule and value > rule["max"]:
            errors[name] = f"must be at most {rule['max']}"
        elif "max_length" in rule and len(value) > rule["max_length"]:
            errors[name] = f"must be at most {rule['max_length']} characters"
    return errors


def attributes_from_json(text: str, schema: dict | None) -> str | dict[str, str]:
    """JSON text -> its canonical text ('' for an empty cell: keep what is stored), or {field: reason}
    (attribute names prefixed "attributes.", as component_errors names them). `schema` None: the
    class is unknown, only the JSON is checked."""
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
        return {"attributes": NOT_AN_OBJECT}
    if schema is not None:
        errs = attribute_errors(schema, value)
        if errs:
            return {f"attributes.{k}": v for k, v in errs.items()}
    if not text:
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def attributes_from_json_array(texts: np.ndarray, schemas: np.ndarray, schema_keys: np.ndarray) -> np.ndarray:
    """attributes_from_json() for a column: an object array of canonical text or {field: reason} per
    row. `schemas` holds each row's schema (None: unknown class) and `schema_keys` an int per row
    naming it (the class pk, say), so each distinct (text, schema) pair is decoded once."""
    texts = np.asarray(texts, dtype=object)
    n = len(texts)
    out = np.empty(n, dtype=object)
    if n == 0:
        return out
    text_inv = _distinct_index(texts)
    _, key_inv = np.unique(np.asarray(schema_keys, dtype=np.int64), return_inverse=True)
    pair = text_inv.reshape(-1).astype(np.int64) * (int(key_inv.max()) + 1) + key_inv.reshape(-1)
    _, first, pair_inv = np.unique(pair, return_index=True, return_inverse=True)
    results = np.empty(len(first), dtype=object)
    for k, i in enumerate(first.tolist()):
        results[k] = attributes_from_json(texts[i], schemas[i])
    out[:] = results[pair_inv.reshape(-1)]
    return out


def _distinct_index(values: np.ndarray) -> np.ndarray:
    """An int per row, equal for equal values (Arrow's dictionary encoding; a dict for odd values)."""
    import pyarrow as pa

    try:
        encoded = arrow_strings.strings(values).dictionary_encode()
        if not encoded.null_count:
            return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    seen: dict = {}
    return np.fromiter((seen.setdefault(v, len(seen)) for v in values.tolist()), dtype=np.int64, count=len(values))
