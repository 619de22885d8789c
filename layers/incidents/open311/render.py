"""One answer, two formats. XML is the spec's schemaless form; JSON follows the Spark convention the
spec names (a list element becomes an array of its items, a leaf element its value). Both are built
from the same Python values, so they cannot drift apart."""

import json
import xml.etree.ElementTree as ET

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse

from gis_core.text import xml_safe

FORMATS = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
# The element each item of a list is wrapped in, by the list's element name.
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return xml_safe(str(value))


def _fill(element: ET.Element, value) -> None:
    if value is None:
        return  # an empty element, as the spec's examples write a null
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(ET.SubElement(element, key), item)
    elif isinstance(value, list):
        tag = ITEM_TAGS[element.tag]
        for item in value:
            _fill(ET.SubElement(element, tag), item)
    else:
        element.text = _text(value)


def to_xml(root: str, value) -> bytes:
    element = ET.Element(root)
    _fill(element, value)
    ET.indent(element)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="unicode").encode()


def to_json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, cls=DjangoJSONEncoder).encode()


def answer(fmt: str, root: str, value, status: int = 200) -> HttpResponse:
    body = to_xml(root, value) if fmt == "xml" else to_json(value)
    return HttpResponse(body, status=status, content_type=FORMATS[fmt])


def errors(fmt: str, status: int, descriptions: list[str], code: int | None = None) -> HttpResponse:
    """The spec's error list: one {code, description} per problem, code = the HTTP status."""
    items = [{"code": code or status, "description": d} for d in descriptions]
    return answer(fmt, "errors", items, status=status)
