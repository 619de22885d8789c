"""Names shared by the WFS operations."""

from layers import catalogue

from .exceptions import OWSException

NS = "https://gridcity.example/ns/gridcity"
PREFIX = "gridcity"
GML32 = "http://www.opengis.net/gml/3.2"
GML = "http://www.opengis.net/gml"
XSD_TYPES = {
    "string": "string",
    "int": "int",
    "integer": "integer",
    "long": "long",
    "double": "double",
    "float": "double",
    "decimal": "decimal",
    "date": "date",
    "dateTime": "dateTime",
    "boolean": "boolean",
}


def layer_for(typename: str, locator: str = "typeName"):
    name = (typename or "").strip()
    if name.startswith("{"):
        name = name.split("}", 1)[-1]
    name = name.rsplit(":", 1)[-1]
    layer = catalogue.get(name) if name else None
    if layer is None:
        raise OWSException(f"unknown feature type {typename!r}", locator=locator)
    return layer


def layers_for(value: str, locator: str = "typeName"):
    value = (value or "").strip().strip("()")
    if not value:
        raise OWSException("a feature type name is required", code="MissingParameterValue", locator=locator)
    return [layer_for(t, locator) for t in value.replace(")(", ",").split(",") if t.strip()]


def gml_ns(version: str) -> str:
    return GML32 if version == "2.0.0" else GML


def service_url(request) -> str:
    return request.build_absolute_uri(request.path)


def format_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
