"""Checks on request text that Python's str methods get subtly wrong for our purposes."""

import math
import re
import unicodedata

NUL = "\x00"


def is_ascii_digits(s) -> bool:
    """True for '0'-'9' only: str.isdigit() also accepts '¹²' and other Unicode digits that int() refuses."""
    return isinstance(s, str) and s.isascii() and s.isdigit()


def has_nul(s) -> bool:
    """PostgreSQL refuses NUL in text, so a NUL in a parameter must be refused before any query."""
    return isinstance(s, str) and NUL in s


def finite_float(text) -> float:
    """float(text) for a finite number; ValueError for nan, inf and anything not a number."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def nul_parameter(query=None, kwargs=None, data=None) -> str | None:
    """The name of the first path argument, query parameter or body field holding a NUL, or None."""
    for name, value in (kwargs or {}).items():
        if has_nul(value):
            return name
    if query is not None:
        for name in query:
            if has_nul(name):
                return name.replace(NUL, "\\x00")[:40]
            if any(has_nul(v) for v in query.getlist(name)):
                return name
    return _nul_in(data, "")


def _nul_in(value, path) -> str | None:
    if isinstance(value, str):
        return (path or "body") if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if has_nul(key):
                return name.replace(NUL, "\\x00")[:60]
            found = _nul_in(item, name)
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for item in value:
            found = _nul_in(item, path)
            if found:
                return found
    return None


# Line breaks and tabs, allowed in multi-line text (notes) only.
_MULTILINE_ALLOWED = frozenset("\t\n\r")


def bad_character(s, multiline: bool = False) -> str | None:
    """A description of the first character no free text may hold, or None: control characters
    (Unicode category Cc: NUL, BEL, ESC, ...) and format characters (Cf: U+202E RIGHT-TO-LEFT
    OVERRIDE and the other bidirectional controls, zero-width characters, BOM), which can make a
    name read differently from what is stored. `multiline` allows tab, CR and LF."""
    if not isinstance(s, str):
        return None
    for ch in s:
        if unicodedata.category(ch) in ("Cc", "Cf") and not (multiline and ch in _MULTILINE_ALLOWED):
            return f"control or format character U+{ord(ch):04X} is not allowed"
    return None


# Characters XML 1.0 cannot carry at all (not even escaped): C0 controls but tab/LF/CR, surrogates, FFFE/FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(s: str) -> str:
    """Text for an XML document that may echo a client's value: what XML cannot hold is written as
    \\xNN (or \\uNNNN), so an exception report stays well-formed and still shows what was sent."""
    return _NOT_XML.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", s
    )
