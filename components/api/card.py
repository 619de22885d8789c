"""What a component's card shows beyond the record itself (GET /api/components/{code}/ only, not the
lists): the class attributes with their Chinese labels in the class's own order, and the grid the
component lies in, by code and name, so the viewer can make it a link."""

from django.apps import apps

from ..models import ComponentClass


def _shown(value):
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


def attribute_rows(class_code: str, attributes: dict | None) -> list[dict]:
    """[{key, label, value}] in the order of the class's attribute schema, then any other keys."""
    attributes = attributes or {}
    schema = ComponentClass.objects.filter(code=class_code).values_list("attribute_schema", flat=True).first() or {}
    keys = [k for k in schema if k in attributes] + [k for k in attributes if k not in schema]
    return [{"key": k, "label": (schema.get(k) or {}).get("label") or k, "value": _shown(attributes[k])} for k in keys]


def grid_of(grid_code: str) -> dict | None:
    """{code, name, level, level_name} of the component's grid. The grids live in the layers app,
    read through the app registry (components does not import the map domains)."""
    if not grid_code:
        return None
    try:
        grid_model = apps.get_model("layers", "Grid")
    except LookupError:
        return {"code": grid_code, "name": None, "level": None, "level_name": None}
    found = grid_model.objects.filter(code=grid_code).values("name", "level_id", "level__name").first()
    if found is None:
        return {"code": grid_code, "name": None, "level": None, "level_name": None}
    return {"code": grid_code, "name": found["name"], "level": found["level_id"], "level_name": found["level__name"]}


def with_card(feature: dict) -> dict:
    props = feature["properties"]
    props["attribute_rows"] = attribute_rows(props["class_code"], props.get("attributes"))
    props["grid"] = grid_of(props.get("grid_code") or "")
    return feature
