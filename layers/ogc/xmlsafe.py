"""Hardened XML parsing, before any other code sees a document: a bounded size, no DTD (so no
entities, external or expanding), bounded nesting depth and element count. Parsing is incremental
so a hostile document is refused before it is built in memory."""
import io
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from .exceptions import OWSException

MAX_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 64
MAX_ELEMENTS = 500_000


def parse(data: bytes, locator: str = "request"):
    if len(data) > MAX_BYTES:
        raise OWSException(f"XML body larger than {MAX_BYTES} bytes", locator=locator, status=413)
    if not data.strip():
        raise OWSException("empty XML document", locator=locator)
    depth = count = 0
    root = None
    try:
        for event, elem in iterparse(io.BytesIO(data), events=("start", "end"),
                                     forbid_dtd=True, forbid_entities=True, forbid_external=True):
            if event == "start":
                depth += 1
                count += 1
                if root is None:
                    root = elem
                if depth > MAX_DEPTH:
                    raise OWSException(f"XML nested deeper than {MAX_DEPTH} levels", locator=locator)
                if count > MAX_ELEMENTS:
                    raise OWSException(f"XML has more than {MAX_ELEMENTS} elements", locator=locator)
            else:
                depth -= 1
    except DefusedXmlException as exc:
        raise OWSException(f"XML refused: DTDs and entities are not allowed ({type(exc).__name__})",
                           locator=locator) from None
    except (ParseError, ValueError, UnicodeError) as exc:
        raise OWSException(f"not well-formed XML: {exc}", locator=locator) from None
    if root is None:
        raise OWSException("empty XML document", locator=locator)
    return root


def local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def ns(tag) -> str:
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


def children(elem, name: str | None = None):
    return [c for c in elem if isinstance(c.tag, str) and (name is None or local(c.tag) == name)]


def child(elem, name: str):
    return next(iter(children(elem, name)), None)


def text(elem) -> str:
    return "".join(elem.itertext()) if elem is not None else ""
