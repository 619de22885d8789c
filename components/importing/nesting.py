"""Geometry text and WKB checked for nesting before GEOS reads them.

GEOS reads nested collections recursively: a GEOMETRYCOLLECTION nested ~20,000 deep (under 1 MB of
WKT or WKB, which a GeoPackage hands through GDAL unread) overflows the C stack and kills the worker
process. The accepted types (point, line, polygon and their multis) nest two deep; anything past
MAX_NESTING is refused here with its row, before GEOS sees it."""

from __future__ import annotations

import re
import struct

import numpy as np

MAX_NESTING = 8
# A blob or text this short cannot nest deep enough to hurt GEOS (9 bytes per WKB level, ~1,000 levels
# at most; GEOS copes with ten times that): the common case is never walked.
_SMALL_WKB = 9 * 1000
_NOT_PAREN = re.compile(r"[^()]+")


class _TooDeep(Exception):
    pass


def wkt_too_deep(texts: list) -> np.ndarray:
    """Per text: True where its brackets nest deeper than MAX_NESTING or do not balance."""
    out = np.zeros(len(texts), dtype=bool)
    for i, text in enumerate(texts):
        if not text or text.count("(") <= MAX_NESTING:
            continue
        parens = _NOT_PAREN.sub("", text)
        for _ in range(MAX_NESTING):  # each pass removes the innermost level
            shorter = parens.replace("()", "")
            if shorter == parens:
                break
            parens = shorter
        out[i] = parens != ""
    return out


def wkb_too_deep(blobs) -> np.ndarray:
    """Per WKB blob (None allowed): True where collections nest deeper than MAX_NESTING, or the
    blob is too broken to tell (GEOS would refuse it as malformed anyway)."""
    out = np.zeros(len(blobs), dtype=bool)
    for i, blob in enumerate(blobs):
        if blob is None or len(blob) <= _SMALL_WKB:
            continue
        try:
            _walk(memoryview(bytes(blob)), 0, 0)
        except (_TooDeep, struct.error, IndexError, ValueError):
            out[i] = True
    return out


_FLAG_Z, _FLAG_M, _FLAG_SRID = 0x80000000, 0x40000000, 0x20000000


def _walk(b, off: int, depth: int) -> int:
    """Reads one geometry's header at off, skips its coordinates, walks its parts; returns the offset
    after it. Raises _TooDeep past MAX_NESTING."""
    if depth > MAX_NESTING:
        raise _TooDeep
    order = b[off]
    if order not in (0, 1):
        raise ValueError("byte order")
    u32 = struct.Struct("<I" if order == 1 else ">I")
    code = u32.unpack_from(b, off + 1)[0]
    off += 5
    if code & _FLAG_SRID:
        off += 4
    dims = 2 + bool(code & _FLAG_Z) + bool(code & _FLAG_M)
    base = code & 0x0FFFFFFF
    dims += (0, 1, 1, 2)[min(base // 1000, 3)]
    base %= 1000
    if base == 1:
        off += 8 * dims
    elif base == 2:
        off += 4 + u32.unpack_from(b, off)[0] * 8 * dims
    elif base == 3:
        rings = u32.unpack_from(b, off)[0]
        off += 4
        for _ in range(rings):
            off += 4 + u32.unpack_from(b, off)[0] * 8 * dims
            if off > len(b):
                raise ValueError("truncated")
    elif base in (4, 5, 6, 7):
        parts = u32.unpack_from(b, off)[0]
        off += 4
        if parts > len(b):
            raise ValueError("more parts than bytes")
        for _ in range(parts):
            off = _walk(b, off, depth + 1)
    else:
        raise ValueError("not a point, line, polygon or collection")
    if off > len(b):
        raise ValueError("truncated")
    return off
