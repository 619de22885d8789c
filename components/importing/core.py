"""import_file(): any accepted file -> validated rows -> one set-based upsert, or nothing at all.

Pipeline: read (pyogrio / csv) -> map columns to the native layout -> validate every row vectorised
(shapely 2 array functions for geometry, dict lookups for classes/organisations/states, per distinct
value for dates, attributes and codes of the admin hierarchy) -> if any row is bad, report every
(row, field, reason) and write nothing -> else COPY into a staging table and INSERT .. ON CONFLICT
(code) DO UPDATE .. WHERE IS DISTINCT FROM, in one transaction (components.services.bulk).

Rows are numbered from 1 in file order (the first feature, or the first data line under a CSV
header, is row 1). `field` is the native field name (or the option: srid, encoding, file, mapping)."""
from __future__ import annotations

import datetime as dt
import json
import re
import time
from dataclasses import dataclass, field

import numpy as np
import shapely
from django.conf import settings

from components.attributes import attribute_errors
from components.ids import ID_FORMAT, id_errors_array
from components.models import ComponentClass, ComponentState, DataSource, Organisation
from components.validation import (
    ADMIN_CODE_FORMAT,
    CHANGE_BEFORE_CENSUS,
    CLASS_INACTIVE,
    COMMUNITY_CODE_FORMAT,
    REQUIRED,
    STATE_INACTIVE,
    STREET_CODE_FORMAT,
    TEXT_FIELDS,
    code_hierarchy_errors_array,
    date_order_errors_array,
    text_errors_array,
)
from gis_core.crs import CRSError, parse_crs, to_storage_geometry
from gis_core.geometry import ALLOWED_TYPE_IDS, GEOMETRY_MISSING, district_bbox, geometry_errors_array

from .errors import no_paths
from .nesting import MAX_NESTING, wkb_too_deep, wkt_too_deep
from .readers import FileProblem, Source, read_source

NATIVE_FIELDS = [
    "code", "class_code", "name", "admin_code", "street_code", "community_code", "grid_code", "location_desc",
    "department_uscc", "owner_uscc", "maintainer_uscc", "state", "census_date", "change_date", "data_source",
    "note", "attributes", "retired",
]
CSV_GEOMETRY_FIELDS = ["wkt", "x", "y"]
# Shapefile (dBase) column names are cut to 10 characters.
_ALIASES = {n[:10]: n for n in NATIVE_FIELDS if len(n) > 10}
_IGNORED = {"fid", "ogc_fid", "objectid", "id", "geom", "geometry", "shape"}
_TRUE = {"true", "t", "1", "yes", "y", "是", "已注销"}
_FALSE = {"false", "f", "0", "no", "n", "否", ""}
_EWKT_RE = re.compile(r"^\s*SRID=([0-9]+)\s*;\s*", re.I)


@dataclass(slots=True)
class RowError:
    row: int | None
    field: str | None
    reason: str

    def as_dict(self):
        return {"row": self.row, "field": self.field, "reason": self.reason}


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    seconds: float = 0.0
    timings: dict = field(default_factory=dict)
    encoding: str | None = None
    crs: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self, max_errors: int | None = None) -> dict:
        errors = self.errors if max_errors is None else self.errors[:max_errors]
        return {"ok": self.ok, "dry_run": self.dry_run, "rows": self.rows, "created": self.created,
                "updated": self.updated, "unchanged": self.unchanged, "error_count": len(self.errors),
                "errors": [e.as_dict() for e in errors], "warnings": self.warnings,
                "seconds": round(self.seconds, 3), "timings": {k: round(v, 3) for k, v in self.timings.items()},
                "encoding": self.encoding, "crs": self.crs}


class ImportFailed(Exception):
    """Raised only by callers that want an exception (e.g. the management command with --strict)."""

    def __init__(self, result: ImportResult):
        self.result = result
        first = result.errors[0] if result.errors else None
        super().__init__(f"row {first.row}, {first.field}: {first.reason}" if first else "import failed")


@dataclass
class Prepared:
    """Validated, storage-ready columns. `present` lists the native fields the file carries."""

    n: int
    present: set
    code: np.ndarray          # str, '' where a new ID is to be allocated
    class_id: np.ndarray      # int64
    class_code: np.ndarray    # str
    admin_code: np.ndarray    # str
    geom_hex: np.ndarray      # hex WKB in SRID 4490 (no SRID inside: the geometry(…, 4490) staging column adds it)
    bbox: tuple | None
    values: dict              # native field -> list of storage values (None = NULL / keep)


def import_file(path, *, srid=None, encoding=None, mapping=None, dry_run=False, user=None, job=None,
                progress=None, name: str | None = None) -> ImportResult:
    """Imports one file of components. Returns an ImportResult; never half-writes: when any row is
    bad, every bad row is in .errors and nothing was written. `name` is the file's name as the client
    knows it (an upload's original name): errors and warnings name it, never a path on this server."""
    started = time.perf_counter()
    result = ImportResult(dry_run=dry_run)
    source = None
    try:
        t = time.perf_counter()
        try:
            source = read_source(path, srid=srid, encoding=encoding)
        except FileProblem as exc:
            result.errors.append(RowError(exc.row, exc.field, exc.reason))
            return result
        result.timings["read"] = time.perf_counter() - t
        result.rows = source.n
        result.encoding = source.encoding
        if progress:
            progress(0, source.n)
        t = time.perf_counter()
        try:
            prepared = prepare(source, mapping or {}, result)
        except FileProblem as exc:
            result.errors.append(RowError(exc.row, exc.field, exc.reason))
            return result
        result.timings["validate"] = time.perf_counter() - t
        if result.errors or prepared is None:
            return result
        if source.n == 0:
            result.warnings.append("the file holds no rows")
            return result
        from components.services.bulk import upsert_prepared

        upsert_prepared(prepared, result, user=user, job=job, progress=progress, dry_run=dry_run)
        return result
    finally:
        if source is not None:
            source.cleanup()
        _scrub_paths(result, path, name)
        result.errors.sort(key=lambda e: (e.row is not None, e.row or 0))
        result.seconds = time.perf_counter() - started


def _scrub_paths(result: ImportResult, path, name: str | None) -> None:
    from pathlib import Path

    path = Path(path)
    shown = name or path.name
    replace = {str(path): shown, str(path.resolve()): shown, str(path.parent) + "/": "", str(settings.MEDIA_ROOT): ""}
    if name:
        replace[path.name] = name
    for e in result.errors:
        e.reason = no_paths(e.reason, replace=replace)
    result.warnings = [no_paths(w, replace=replace) for w in result.warnings]


# ---------------------------------------------------------------- mapping

def _apply_mapping(source: Source, mapping: dict, result: ImportResult) -> dict[str, np.ndarray]:
    if not isinstance(mapping, dict):
        raise FileProblem("mapping must be an object {native_field: file_column}", field="mapping")
    known = set(NATIVE_FIELDS) | set(CSV_GEOMETRY_FIELDS)
    cols = {}
    taken = set()
    for native, column in mapping.items():
        if native not in known:
            raise FileProblem(f"mapping names unknown field {native!r}; fields are {', '.join(NATIVE_FIELDS)}",
                              field="mapping")
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
                result.warnings.append(f"column {column[:80]!r} is not a component field and was not imported "
                                       f"(map it with mapping={{field: {column[:80]!r}}})")
            continue
        if native in cols:
            raise FileProblem(f"two columns give {native}: {column!r} and another", field=native)
        cols[native] = values
    return cols


# ---------------------------------------------------------------- validation

def _by_value(col: np.ndarray, fn):
    """Applies fn once per distinct value: returns the list of results per row."""
    results, inverse = _per_distinct(col, fn)
    return results[inverse].tolist()


def _per_distinct(col: np.ndarray, fn) -> tuple[np.ndarray, np.ndarray]:
    """(fn of each distinct value, index of each row's value among them)."""
    uniques, inverse = _factorize(col)
    results = np.empty(len(uniques), dtype=object)
    for k, v in enumerate(uniques):
        results[k] = fn(v)
    return results, inverse


def _checked(col: np.ndarray, fn, name: str, errors: list) -> list:
    """_check(_by_value(col, fn), name, errors), looking at each distinct value once when none is bad."""
    results, inverse = _per_distinct(col, fn)
    parsed = results[inverse].tolist()
    if any(isinstance(v, ValueError) for v in results.tolist()):
        _check(parsed, name, errors)
    return parsed


def _factorize(col) -> tuple[list, np.ndarray]:
    """(distinct values in order of first appearance, index of each row's value among them)."""
    import pyarrow as pa

    col = np.asarray(col, dtype=object)
    if len(col) == 0:
        return [], np.zeros(0, dtype=np.int64)
    try:
        encoded = pa.array(col, type=pa.string()).dictionary_encode()
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        encoded = None
    if encoded is None or isinstance(encoded, pa.ChunkedArray) or encoded.null_count:
        # not all text (None stays a distinct value of its own), or too much for one Arrow array
        cache = {}
        inverse = np.fromiter((cache.setdefault(v, len(cache)) for v in col.tolist()), dtype=np.int64, count=len(col))
        return list(cache), inverse
    return encoded.dictionary.to_pylist(), encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)


def _combine(*inverses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows keyed by several factorized columns -> (a row index per distinct key, index of each row's key)."""
    key = np.asarray(inverses[0], dtype=np.int64)
    for inv in inverses[1:]:
        width = int(inv.max()) + 1 if len(inv) else 1
        _, key = np.unique(key * width + inv, return_inverse=True)  # renumbered densely: no overflow
        key = key.reshape(-1).astype(np.int64)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


def _parse_date(value: str):
    if not value:
        return None
    text = value.strip()
    for cut in (10,):
        try:
            return dt.date.fromisoformat(text[:cut].replace("/", "-"))
        except ValueError:
            pass
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return ValueError(f"{value!r} is not a date (use YYYY-MM-DD)")


def prepare(source: Source, mapping: dict, result: ImportResult) -> Prepared | None:
    errors = result.errors
    for row, fld, reason in source.row_errors:
        errors.append(RowError(row, fld, reason))
    cols = _apply_mapping(source, mapping, result)
    n = source.n
    bad_cells = _cell_errors(cols)
    if bad_cells:
        # A NUL or a cell of a megabyte is no value to validate further: these rows are reported alone.
        errors.extend(bad_cells)
        return None
    present = set(cols) & set(NATIVE_FIELDS)
    empty = np.full(n, "", dtype=object)

    def col(name):
        return cols.get(name, empty)

    # -- geometry -------------------------------------------------------------
    crs = source.crs
    if source.kind == "csv":
        geoms, missing = _csv_geometry(cols, n, errors)
        if "wkt" in cols:
            srids = _ewkt_srids(cols["wkt"])
            if len(srids) > 1:
                raise FileProblem(f"the wkt column mixes {', '.join('SRID=' + s for s in sorted(srids)[:5])}: "
                                  "one file, one coordinate system", field="wkt")
            if srids:
                try:
                    declared = parse_crs(sorted(srids)[0])
                except CRSError as exc:
                    raise FileProblem(f"wkt: {exc}", field="wkt") from None
                if crs is not None and crs != declared:
                    raise FileProblem(f"srid {crs} contradicts the SRID={declared} in the wkt column", field="srid")
                crs = declared
        if crs is None:
            raise FileProblem("a CSV file carries no coordinate system: give srid (e.g. 4490, 4326, 4527, GCJ02, BD09)",
                              field="srid")
    else:
        raw = source.wkb
        missing = np.equal(raw, None) if raw.dtype == object else np.zeros(n, bool)  # noqa: E711
        missing = np.asarray(missing, dtype=bool)
        deep = wkb_too_deep(raw)
        if deep.any():  # never handed to GEOS: see nesting.py
            raw = np.array(raw, dtype=object)
            raw[deep] = None
        geoms = shapely.from_wkb(raw, on_invalid="ignore")
        bad = (geoms == None) & ~missing  # noqa: E711 - elementwise
        for i in np.flatnonzero(bad):
            errors.append(RowError(int(i) + 1, "geometry", f"geometry nests collections deeper than {MAX_NESTING} levels "
                                   "or is malformed" if deep[i] else "malformed geometry (cannot be decoded)"))
        missing_or_bad = missing | bad
        missing = missing_or_bad
        for i in np.flatnonzero(missing & ~bad):
            errors.append(RowError(int(i) + 1, "geometry", GEOMETRY_MISSING))
    result.crs = f"EPSG:{crs}" if isinstance(crs, int) else crs
    # Only rows of an accepted type that hold something are moved to storage coordinates; the rule
    # (gis_core.geometry) then looks at every row, in storage coordinates, as the services do.
    movable = ~missing & np.isin(shapely.get_type_id(geoms), ALLOWED_TYPE_IDS) & ~shapely.is_empty(geoms)
    if shapely.has_z(geoms[movable]).any():
        geoms = np.where(movable, shapely.force_2d(geoms), geoms)
    if movable.any():
        idx = np.flatnonzero(movable)
        moved = to_storage_geometry(geoms[idx], crs)
        geoms = geoms.copy()
        geoms[idx] = moved
    reasons = geometry_errors_array(np.where(missing, None, geoms), district_bbox(), result.crs)
    ok = np.equal(reasons, None)  # noqa: E711 - elementwise
    for i in np.flatnonzero(~ok & ~missing).tolist():  # missing and malformed rows are reported above
        errors.append(RowError(i + 1, "geometry", reasons[i]))
    bbox = None
    if ok.any():
        b = shapely.bounds(geoms[ok])
        bbox = (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max()))

    # -- class and code ---------------------------------------------------------
    classes = {c.code: c for c in ComponentClass.objects.select_related("scheme")}
    if "class_code" not in cols and "code" not in cols:
        raise FileProblem("the file has no class_code column (map one with mapping={'class_code': ...})",
                          field="class_code")
    code = col("code")
    class_text = col("class_code").copy()
    need_class = class_text == ""
    if need_class.any():  # an ID carries its class: 6 admin digits + 4 or 5 class digits
        for i in np.flatnonzero(need_class & (code != "")):
            c = code[i]
            class_text[i] = c[6:10] if len(c) == 16 else c[6:11]
    class_values, class_inv = _factorize(class_text)
    class_lut = np.empty(len(class_values), dtype=object)
    class_lut[:] = [classes.get(v) for v in class_values]
    class_of = class_lut[class_inv]
    class_id = np.zeros(n, dtype=np.int64)
    if all(cls is not None and cls.active for cls in class_lut):  # the common case: every row's class is fine
        class_id[:] = np.array([cls.pk for cls in class_lut], dtype=np.int64)[class_inv] if n else class_id
    else:
        for i, (text, cls) in enumerate(zip(class_text.tolist(), class_of)):
            if cls is None:
                if not text:
                    errors.append(RowError(i + 1, "class_code", REQUIRED))
                else:
                    hint = " (leading zero lost? store class codes as text)" if text.isdigit() and len(text) == 3 else ""
                    errors.append(RowError(i + 1, "class_code", f"unknown class {text!r}{hint}"))
            elif not cls.active:
                errors.append(RowError(i + 1, "class_code", CLASS_INACTIVE.format(code=cls.code)))
            else:
                class_id[i] = cls.pk

    default_admin = settings.GRIDCITY_ADMIN_CODE
    admin = col("admin_code").copy()
    no_admin = admin == ""
    if no_admin.any():
        admin[no_admin] = [c[:6] if c else default_admin for c in code[no_admin].tolist()]
    street, community = col("street_code"), col("community_code")
    bad_codes = code_hierarchy_errors_array(admin, street, community)
    for name, reason in (("admin_code", ADMIN_CODE_FORMAT), ("street_code", STREET_CODE_FORMAT),
                         ("community_code", COMMUNITY_CODE_FORMAT)):
        for i in np.flatnonzero(bad_codes[name]).tolist():
            errors.append(RowError(i + 1, name, reason))
    serial_max = _check_codes(code, class_of, admin, errors)

    # -- references -------------------------------------------------------------
    values: dict[str, list] = {}
    orgs = dict(Organisation.objects.values_list("uscc", "pk"))
    for name in ("department_uscc", "owner_uscc", "maintainer_uscc"):
        if name not in cols:
            continue
        found, inverse = _per_distinct(cols[name], lambda v: None if not v else orgs.get(v.upper(), -1))
        ids = found[inverse].tolist()
        for i in [i for i, v in enumerate(ids) if v == -1] if any(v == -1 for v in found.tolist()) else ():
            errors.append(RowError(i + 1, name, f"organisation USCC {cols[name][i]!r} is not registered"))
        values[name] = ids
    if "state" in cols:
        states = {}
        for s in ComponentState.objects.all():
            states[s.code] = states[s.name] = s
        def state_of(v):
            if not v:
                return None
            s = states.get(v) or states.get(v.lower())
            if s is None:
                return ValueError(f"unknown state {v!r}; use one of {', '.join(sorted(x.code for x in states.values()))}")
            if not s.active:
                return ValueError(STATE_INACTIVE.format(code=s.code))
            return s.code
        values["state"] = _checked(cols["state"], state_of, "state", errors)
    if "data_source" in cols:
        sources = {v: v for v in DataSource.values} | {label: v for v, label in DataSource.choices}
        values["data_source"] = _checked(cols["data_source"], lambda v: None if not v else sources.get(
            v, sources.get(v.lower(), ValueError(f"unknown data source {v!r}; use {', '.join(DataSource.values)}"))),
            "data_source", errors)
    for name in ("census_date", "change_date"):
        if name in cols:
            values[name] = _checked(cols[name], _parse_date, name, errors)
    if "census_date" in values and "change_date" in values:
        for i in np.flatnonzero(date_order_errors_array(values["census_date"], values["change_date"])).tolist():
            errors.append(RowError(i + 1, "change_date", CHANGE_BEFORE_CENSUS))
    if "retired" in cols:
        def flag(v):
            low = v.lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            return ValueError(f"{v!r} is not true/false")
        values["retired"] = _checked(cols["retired"], flag, "retired", errors)
    if "attributes" in cols:
        attrs = []
        cache = {}
        attr_values, attr_inv = _factorize(cols["attributes"])
        key_rows, key_inv = _combine(attr_inv, class_inv) if n else (np.zeros(0, int), np.zeros(0, int))
        hits = np.empty(len(key_rows), dtype=object)
        for k, i in enumerate(key_rows.tolist()):
            hits[k] = _attributes(attr_values[attr_inv[i]], class_of[i], attribute_errors)
        for i, hit in zip(key_rows.tolist(), hits.tolist()):
            cls = class_of[i]
            cache[(attr_values[attr_inv[i]], cls.pk if cls else None)] = hit
        if not any(isinstance(hit, dict) for hit in hits.tolist()):
            attrs = hits[key_inv].tolist()
        for i, (text, cls) in enumerate(zip(cols["attributes"].tolist(), class_of) if len(attrs) != n else ()):
            key = (text, cls.pk if cls else None)
            hit = cache.get(key)
            if hit is None:
                hit = cache[key] = _attributes(text, cls, attribute_errors)
            if isinstance(hit, dict):
                for f, r in hit.items():
                    errors.append(RowError(i + 1, f, r))
                attrs.append(None)
            else:
                attrs.append(hit)
        values["attributes"] = attrs
    elif any(cls is not None and any(r.get("required") for r in cls.attribute_schema.values()) for cls in classes.values()
             if cls.pk in set(class_id.tolist())):
        for i, cls in enumerate(class_of):
            if cls is not None:
                for f, r in attribute_errors(cls.attribute_schema, {}).items():
                    errors.append(RowError(i + 1, f"attributes.{f}", r))
    for name in TEXT_FIELDS:
        if name in cols:
            reasons = text_errors_array(name, cols[name])
            for i in np.flatnonzero(np.not_equal(reasons, None)).tolist():  # noqa: E711 - elementwise
                errors.append(RowError(i + 1, name, reasons[i]))
            values[name] = cols[name].tolist()
    if serial_max is None:
        serial_max = {}
    if errors:
        return None
    geom_hex = shapely.to_wkb(geoms, hex=True, include_srid=False)
    return Prepared(n=n, present=present, code=code, class_id=class_id, class_code=class_text, admin_code=admin,
                    geom_hex=geom_hex, bbox=bbox, values={**values, "_serial_max": serial_max})


# Characters no cell may hold: C0 controls but tab and line breaks, DEL, and the bidirectional
# embeddings/overrides/isolates that make text display other than it reads (U+202E and kin).
_FORBIDDEN = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
_FORBIDDEN_RE2 = rf"[{_FORBIDDEN}\x{{202a}}-\x{{202e}}\x{{2066}}-\x{{2069}}]"  # RE2 syntax (Arrow)
_FORBIDDEN_RE = re.compile(rf"[{_FORBIDDEN}\u202a-\u202e\u2066-\u2069]")


def _cell_errors(cols: dict[str, np.ndarray]) -> list[RowError]:
    """Row errors for cells too long for their field or holding a forbidden character, any column."""
    import pyarrow as pa
    import pyarrow.compute as pc

    errors = []
    for name, values in cols.items():
        limit = settings.GRIDCITY_IMPORT_MAX_WKT_CHARS if name == "wkt" else settings.GRIDCITY_IMPORT_MAX_CELL_CHARS
        try:
            arr = pa.array(np.asarray(values, dtype=object), type=pa.string())
            lengths = np.asarray(pc.utf8_length(arr).to_numpy(zero_copy_only=False))
            odd = np.asarray(pc.match_substring_regex(arr, _FORBIDDEN_RE2).to_numpy(zero_copy_only=False), dtype=bool)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            texts = ["" if v is None else str(v) for v in values.tolist()]
            lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
            odd = np.fromiter((_FORBIDDEN_RE.search(t) is not None for t in texts), dtype=bool, count=len(texts))
        for i in np.flatnonzero(lengths > limit).tolist():
            errors.append(RowError(i + 1, name, f"is {int(lengths[i]):,} characters long; at most {limit:,} are accepted"))
        for i in np.flatnonzero(odd & ~(lengths > limit)).tolist():
            found = _FORBIDDEN_RE.search(str(values[i]))
            char = found.group(0) if found else "\x00"
            what = "NUL character" if char == "\x00" else f"control character U+{ord(char):04X}"
            errors.append(RowError(i + 1, name, f"holds a {what}: remove it"))
    return errors


def _check_codes(code: np.ndarray, class_of: np.ndarray, admin: np.ndarray, errors: list) -> dict:
    """The given IDs: each well-formed for its class and admin code (components.ids) and none twice in
    the file. Returns the highest serial per (admin code, class pk), for the ID counters."""
    given = np.flatnonzero(code != "")
    serial_max: dict[tuple[str, int], int] = {}
    if not len(given):
        return serial_max
    codes = code[given]
    classes = class_of[given]
    known = np.not_equal(classes, None)  # noqa: E711 - elementwise
    class_codes = np.array([c.code if c is not None else "" for c in classes.tolist()], dtype=object)
    schemes = np.array([c.scheme.code if c is not None else "" for c in classes.tolist()], dtype=object)
    # The admin code is compared only where the class is known, as the row-by-row rule did.
    admins = np.where(known, admin[given], None)
    reasons = id_errors_array(codes, class_codes, schemes, admins)
    _, first, inverse = np.unique(codes.astype(str), return_index=True, return_inverse=True)
    first_row = given[first][inverse.reshape(-1)] + 1
    duplicate = first_row != given + 1
    for k in np.flatnonzero(np.not_equal(reasons, None) | duplicate).tolist():  # noqa: E711
        i = int(given[k])
        if reasons[k] == ID_FORMAT:  # the file's value, shown when it is not even an ID
            errors.append(RowError(i + 1, "code", f"{codes[k]!r} {ID_FORMAT}"))
        elif duplicate[k]:
            errors.append(RowError(i + 1, "code", f"duplicate ID {codes[k]}: also on row {int(first_row[k])}"))
        elif reasons[k] is not None and known[k]:
            errors.append(RowError(i + 1, "code", reasons[k]))
    good = np.equal(reasons, None) & ~duplicate & known  # noqa: E711
    if good.any():
        rows = np.flatnonzero(good)
        serials = np.fromiter((int(c[-6:]) for c in codes[rows].tolist()), dtype=np.int64, count=len(rows))
        pks = np.fromiter((c.pk for c in classes[rows].tolist()), dtype=np.int64, count=len(rows))
        admin_values, admin_inv = _factorize(admins[rows])
        _, pk_inv = np.unique(pks, return_inverse=True)
        first_of_key, key_inv = _combine(admin_inv, pk_inv.reshape(-1))
        best = np.zeros(len(first_of_key), dtype=np.int64)
        np.maximum.at(best, key_inv, serials)
        for j, s in zip(first_of_key.tolist(), best.tolist()):
            serial_max[(admin_values[admin_inv[j]], int(pks[j]))] = s
    return serial_max


def _check(parsed: list, name: str, errors: list) -> list:
    for i, v in enumerate(parsed):
        if isinstance(v, ValueError):
            errors.append(RowError(i + 1, name, str(v)))
    return parsed


def _attributes(text: str, cls, attribute_errors):
    """JSON text -> canonical JSON text, or {field: reason}."""
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
        return {"attributes": "must be a JSON object"}
    if cls is not None:
        errs = attribute_errors(cls.attribute_schema, value)
        if errs:
            return {f"attributes.{k}": v for k, v in errs.items()}
    if not text:
        return ""  # empty cell: keep what is stored ({} for new components)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _ewkt_srids(texts: np.ndarray) -> set[str]:
    """The distinct SRID= prefixes of a wkt column, every row looked at (Arrow finds the few that have one)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        flagged = pc.match_substring_regex(pa.array(texts, type=pa.string()), r"(?i)^\s*SRID=")
        rows = np.flatnonzero(np.asarray(flagged.to_numpy(zero_copy_only=False), dtype=bool))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        rows = range(len(texts))
    return {m.group(1) for m in (_EWKT_RE.match(texts[i]) for i in rows) if m}


_NUMBER_RE = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")


def _csv_geometry(cols: dict, n: int, errors: list):
    if "wkt" in cols:
        texts = cols["wkt"]
        missing = texts == ""
        stripped = np.array([_EWKT_RE.sub("", t) for t in texts.tolist()], dtype=object)
        deep = wkt_too_deep(stripped.tolist())
        stripped[missing | deep] = None  # too deep: never handed to GEOS (see nesting.py)
        geoms = shapely.from_wkt(stripped, on_invalid="ignore")
        bad = (geoms == None) & ~missing  # noqa: E711
        for i in np.flatnonzero(missing):
            errors.append(RowError(int(i) + 1, "wkt", GEOMETRY_MISSING))
        for i in np.flatnonzero(bad):
            why = f"brackets unbalanced or nested deeper than {MAX_NESTING} levels" if deep[i] else repr(texts[i][:60])
            errors.append(RowError(int(i) + 1, "wkt", f"malformed WKT: {why}"))
        return geoms, missing | bad
    if "x" in cols and "y" in cols:
        xs = np.full(n, np.nan)
        ys = np.full(n, np.nan)
        missing = np.zeros(n, bool)
        for name, target in (("x", xs), ("y", ys)):
            for i, v in enumerate(cols[name].tolist()):
                if v == "":
                    missing[i] = True
                    errors.append(RowError(i + 1, name, "coordinate is missing"))
                    continue
                # float() also takes '1_16.8', full-width digits, 'nan' and 'inf': a coordinate is plain ASCII decimal.
                if not _NUMBER_RE.match(v):
                    missing[i] = True
                    errors.append(RowError(i + 1, name, f"{v[:40]!r} is not a number (ASCII digits, e.g. 116.8231)"))
                    continue
                target[i] = float(v)
        geoms = shapely.points(xs, ys)
        geoms[missing] = None
        return geoms, missing
    raise FileProblem("a CSV file needs a wkt column or x and y columns (map them with mapping)", field="wkt")
