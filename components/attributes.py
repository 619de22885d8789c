"""Per-class extension attributes, checked against the class's attribute_schema."""

_TYPES = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
}


def attribute_errors(schema: dict, values: dict) -> dict[str, str]:
    """{attribute: reason} for every way `values` breaks `schema`; empty when they fit."""
    if not isinstance(values, dict):
        return {"attributes": "must be an object"}
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
