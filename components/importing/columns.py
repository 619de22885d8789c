"""Column helpers every column group uses: the file's columns mapped to native fields, the cells no
field may hold, and evaluation once per distinct value (a column of a million rows has few)."""

from __future__ import annotations

import re

import numpy as np
from django.conf import settings

from gis_core import arrow_strings

from .readers import FileProblem, Source
from .results import ImportResult, RowError

NATIVE_FIELDS = [
    "code",
    "class_code",
    "name",
    "admin_code",
    "street_code",
    "community_code",
    "grid_code",
    "location_desc",
    "department_uscc",
    "owner_uscc",
    "maintainer_uscc",
    "state",
    "census_date",
    "change_date",
    "data_source",
    "note",
    "attributes",
    "retired",
]
CSV_GEOMETRY_FIELDS = ["wkt", "x", "y"]
# Shapefile (dBase) column names are cut to 10 characters.
_ALIASES = {n[:10]: n for n in NATIVE_FIELDS if len(n) > 10}
_IGNORED = {"fid", "ogc_fid", "objectid", "id", "geom", "geometry", "shape"}


def apply_mapping(source: Source, mapping: dict, result: ImportResult) -> dict[str, np.ndarray]:
    if not isinstance(mapping, dict):
        raise FileProblem("mapping must be an object {native_field: file_column}", field="mapping")
    known = set(NATIVE_FIELDS) | set(CSV_GEOMETRY_FIELDS)
    cols = {}
    taken = set()
    for native, column in mapping.items():
        if native not in known:
            raise FileProblem(
                f"mapping names unknown field {native!r}; fields are {', '.join(NATIVE_FIELDS)}", field="mapping"
            )
        if column not in source.columns:
            raise FileProblem(f"mapping: the file has no column {column!r} (for {native})", field=native)
        cols[native] = source.columns[column]
        taken.add(column)
    for column, values in source.columns.items():
        if column in taken:
            continue
        low = column.strip().lower()
        native = low if low in known else _ALIASES.get(low)
        if native is None:
            if low not in _IGNORED:
                result.warnings.append(
                    f"column {column[:80]!r} is not a component field and was not imported "
                    f"(map it with mapping={{field: {column[:80]!r}}})"
                )
            continue
        if native in cols:
            raise FileProblem(f"two columns give {native}: {column!r} and another", field=native)
        cols[native] = values
    return cols


def per_distinct(col: np.ndarray, fn) -> tuple[np.ndarray, np.ndarray]:
    """(fn of each distinct value, index of each row's value among them)."""
    uniques, inverse = factorize(col)
    results = np.empty(len(uniques), dtype=object)
    for k, v in enumerate(uniques):
        results[k] = fn(v)
    return results, inverse


def checked(col: np.ndarray, fn, name: str, errors: list) -> list:
    """fn of each row (a ValueError for a bad value, reported), looking at each distinct value once when none is bad."""
    results, inverse = per_distinct(col, fn)
    parsed = results[inverse].tolist()
    if any(isinstance(v, ValueError) for v in results.tolist()):
        check(parsed, name, errors)
    return parsed


def factorize(col) -> tuple[list, np.ndarray]:
    """(distinct values in order of first appearance, index of each row's value among them)."""
    import pyarrow as pa

    col = np.asarray(col, dtype=object)
    if len(col) == 0:
        return [], np.zeros(0, dtype=np.int64)
    try:
        encoded = arrow_strings.strings(col).dictionary_encode()
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        encoded = None
    if encoded is None or isinstance(encoded, pa.ChunkedArray) or encoded.null_count:
        # not all text (None stays a distinct value of its own), or too much for one Arrow array
        cache = {}
        inverse = np.fromiter((cache.setdefault(v, len(cache)) for v in col.tolist()), dtype=np.int64, count=len(col))
        return list(cache), inverse
    return encoded.dictionary.to_pylist(), encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)


def combine(*inverses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows keyed by several factorized columns -> (a row index per distinct key, index of each row's key)."""
    key = np.asarray(inverses[0], dtype=np.int64)
    for inv in inverses[1:]:
        width = int(inv.max()) + 1 if len(inv) else 1
        _, key = np.unique(key * width + inv, return_inverse=True)  # renumbered densely: no overflow
        key = key.reshape(-1).astype(np.int64)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


def check(parsed: list, name: str, errors: list) -> list:
    for i, v in enumerate(parsed):
        if isinstance(v, ValueError):
            errors.append(RowError(i + 1, name, str(v)))
    return parsed


def report(errors: list, name: str, reasons: np.ndarray) -> None:
    """A RowError for each row whose reason (an object array from a rule's *_array form) is not None."""
    for i in np.flatnonzero(np.not_equal(reasons, None)).tolist():  # noqa: E711 - elementwise
        errors.append(RowError(i + 1, name, reasons[i]))


# Characters no cell may hold: C0 controls but tab and line breaks, DEL, and the bidirectional
# embeddings/overrides/isolates that make text display other than it reads (U+202E and kin).
_FORBIDDEN = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
_FORBIDDEN_RE2 = rf"[{_FORBIDDEN}\x{{202a}}-\x{{202e}}\x{{2066}}-\x{{2069}}]"  # RE2 syntax (Arrow)
_FORBIDDEN_RE = re.compile(rf"[{_FORBIDDEN}\u202a-\u202e\u2066-\u2069]")


def _bytes_may_hold_forbidden(arr) -> bool:
    """Whether the UTF-8 bytes of an Arrow string array hold any forbidden character, looked for in
    the whole data buffer at once (a superset of the rows': a slice's neighbours count too): almost
    no file has one, and this scan is ten times cheaper than the regex per row it spares."""
    data = arr.buffers()[2]
    if data is None:  # no characters at all
        return False
    b = np.frombuffer(data, dtype=np.uint8)
    if not len(b):
        return False
    # One pass for the minimum: most columns hold no byte below 0x20 at all, and then need no mask.
    if b.min() < 0x20 and ((b < 0x20) & (b != 0x09) & (b != 0x0A) & (b != 0x0D)).any():
        return True
    if (b == 0x7F).any():
        return True
    # U+202A-U+202E is E2 80 AA-AE in UTF-8, U+2066-U+2069 is E2 81 A6-A9.
    lead = np.flatnonzero(b[:-2] == 0xE2)
    if len(lead) == 0:
        return False
    b1, b2 = b[lead + 1], b[lead + 2]
    return bool((((b1 == 0x80) & (b2 >= 0xAA) & (b2 <= 0xAE)) | ((b1 == 0x81) & (b2 >= 0xA6) & (b2 <= 0xA9))).any())


def cell_errors(cols: dict[str, np.ndarray]) -> list[RowError]:
    """Row errors for cells too long for their field or holding a forbidden character, any column."""
    import pyarrow as pa
    import pyarrow.compute as pc

    errors = []
    for name, values in cols.items():
        limit = settings.GRIDCITY_IMPORT_MAX_WKT_CHARS if name == "wkt" else settings.GRIDCITY_IMPORT_MAX_CELL_CHARS
        try:
            arr = arrow_strings.strings(values)
            lengths = np.asarray(pc.utf8_length(arr).to_numpy(zero_copy_only=False))
            if _bytes_may_hold_forbidden(arr):
                odd = np.asarray(
                    pc.match_substring_regex(arr, _FORBIDDEN_RE2).to_numpy(zero_copy_only=False), dtype=bool
                )
            else:
                odd = np.zeros(len(arr), dtype=bool)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            texts = ["" if v is None else str(v) for v in values.tolist()]
            lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
            odd = np.fromiter((_FORBIDDEN_RE.search(t) is not None for t in texts), dtype=bool, count=len(texts))
        for i in np.flatnonzero(lengths > limit).tolist():
            errors.append(
                RowError(i + 1, name, f"is {int(lengths[i]):,} characters long; at most {limit:,} are accepted")
            )
        for i in np.flatnonzero(odd & ~(lengths > limit)).tolist():
            found = _FORBIDDEN_RE.search(str(values[i]))
            char = found.group(0) if found else "\x00"
            what = "NUL character" if char == "\x00" else f"control character U+{ord(char):04X}"
            errors.append(RowError(i + 1, name, f"holds a {what}: remove it"))
    return errors
