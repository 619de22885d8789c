"""Hardened XML parsing, before any other code sees a document: a bounded size, no DTD (so no
entities, external or expanding), bounded nesting depth, element count and token sizes.

Why tokens are bounded: expat before 2.6 (Debian 12 ships 2.5) re-parses a token that does not end
in the buffer it was fed from its start each time more data arrives (CVE-2023-52425). ElementTree's
iterparse feeds 16 KB at a time, so one 20 MB text node or attribute was re-scanned ~1,300 times:
cost quadratic in the token's size. Here every token is measured first in one linear pass (the
longest stretch between two '<', and comments and CDATA sections, which may contain '<'), and the
document is fed in chunks larger than the longest token allowed, so no token is re-parsed more than
once: parse time is linear in the body's size."""

import re
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from .exceptions import OWSException

MAX_BYTES = 20 * 1024 * 1024  # the body limits per operation (limits.py) are far below this
MAX_DEPTH = 64
MAX_ELEMENTS = 200_000
MAX_TOKEN_BYTES = 1024 * 1024  # a text node, a tag with its attributes, a comment or CDATA section
MAX_NAME_CHARS = 256  # element and attribute names (with their namespace)
MAX_ATTRIBUTE_CHARS = 64 * 1024
FEED_BYTES = 2 * MAX_TOKEN_BYTES
_LONG_SECTIONS = re.compile(rb"<!--|<!\[CDATA\[")


def _longest_token(data: bytes) -> int:
    longest = max(map(len, data.split(b"<")))
    pos = 0
    while (m := _LONG_SECTIONS.search(data, pos)) is not None:
        end = data.find(b"-->" if m.group() == b"<!--" else b"]]>", m.end())
        end = len(data) if end < 0 else end
        longest = max(longest, end - m.start())
        pos = end  # a section's inside is never searched twice
    return longest


class _Chunks:
    """A file for iterparse that hands out FEED_BYTES at a time, whatever size it asks for."""

    def __init__(self, data: bytes):
        self._data, self._pos = data, 0

    def read(self, _size=-1) -> bytes:
        chunk = self._data[self._pos : self._pos + FEED_BYTES]
        self._pos += len(chunk)
        return chunk


def _check_start(elem, locator: str) -> None:
    if len(elem.tag) > MAX_NAME_CHARS:
        raise OWSException(f"XML element name longer than {MAX_NAME_CHARS} characters", locator=locator)
    for name, value in elem.attrib.items():
        if len(name) > MAX_NAME_CHARS:
            raise OWSException(f"XML attribute name longer than {MAX_NAME_CHARS} characters", locator=locator)
        if len(value) > MAX_ATTRIBUTE_CHARS:
            raise OWSException(
                f"XML attribute {name[:60]!r} longer than {MAX_ATTRIBUTE_CHARS} characters", locator=locator
            )


def parse(data: bytes, locator: str = "request"):
    if len(data) > MAX_BYTES:
        raise OWSException(f"XML body larger than {MAX_BYTES} bytes", locator=locator, status=413)
    if not data.strip():
        raise OWSException("empty XML document", locator=locator)
    if _longest_token(data) > MAX_TOKEN_BYTES:
        raise OWSException(
            f"XML has a text, tag, comment or CDATA section longer than {MAX_TOKEN_BYTES} bytes", locator=locator
        )
    depth = count = 0
    root = None
    try:
        for event, elem in iterparse(
            _Chunks(data), events=("start", "end"), forbid_dtd=True, forbid_entities=True, forbid_external=True
        ):
            if event == "start":
                depth += 1
                count += 1
                if root is None:
                    root = elem
                if depth > MAX_DEPTH:
                    raise OWSException(f"XML nested deeper than {MAX_DEPTH} levels", locator=locator)
                if count > MAX_ELEMENTS:
                    raise OWSException(f"XML has more than {MAX_ELEMENTS} elements", locator=locator)
                _check_start(elem, locator)
            else:
                depth -= 1
    except DefusedXmlException as exc:
        raise OWSException(
            f"XML refused: DTDs and entities are not allowed ({type(exc).__name__})", locator=locator
        ) from None
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
