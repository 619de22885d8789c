"""import_file(): any accepted file -> validated rows -> one set-based upsert, or nothing at all.

Pipeline: read (readers: pyogrio / csv) -> map columns to the native layout (columns) -> validate
every column group vectorised (columns_geometry, columns_identity, columns_ownership, columns_status,
columns_dates, columns_attributes, columns_text), each calling the array form of the rule the
services apply one component at a time (gis_core.geometry, components.ids, components.validation,
components.attributes) -> if any row is bad, report every (row, field, reason) and write nothing ->
else COPY into a staging table and INSERT .. ON CONFLICT (code) DO UPDATE .. WHERE IS DISTINCT FROM,
in one transaction (components.services.bulk); into an empty registry, a fresh table built and
swapped in instead, as pg_restore would (components.services.initial_load).

Rows are numbered from 1 in file order (the first feature, or the first data line under a CSV
header, is row 1). `field` is the native field name (or the option: srid, encoding, file, mapping)."""

from __future__ import annotations

import time

import numpy as np
import shapely
from django.conf import settings

from components.services.bulk import upsert_prepared

from .columns import CSV_GEOMETRY_FIELDS, NATIVE_FIELDS, apply_mapping, cell_errors  # noqa: F401 - NATIVE_FIELDS, CSV_GEOMETRY_FIELDS re-exported
from .columns_attributes import attribute_columns
from .columns_dates import date_columns
from .columns_geometry import geometry_columns
from .columns_identity import identity_columns
from .columns_ownership import ownership_columns
from .columns_status import status_columns
from .columns_text import text_columns
from .errors import no_paths
from .readers import FileProblem, Source, read_source
from .results import ImportFailed, ImportResult, Prepared, RowError  # noqa: F401 - the package's names


def import_file(
    path,
    *,
    srid=None,
    encoding=None,
    mapping=None,
    dry_run=False,
    user=None,
    job=None,
    progress=None,
    name: str | None = None,
    mode: str = "auto",
) -> ImportResult:
    """Imports one file of components. Returns an ImportResult; never half-writes: when any row is
    bad, every bad row is in .errors and nothing was written. `name` is the file's name as the client
    knows it (an upload's original name): errors and warnings name it, never a path on this server.
    `mode`: "auto" (an initial load into a fresh table when the registry is empty, else the upsert),
    "upsert", "initial" (refused unless the registry is empty) or "replace" (the file becomes the
    whole registry); see components.services.bulk."""
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
        upsert_prepared(prepared, result, user=user, job=job, progress=progress, dry_run=dry_run, mode=mode)
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


def prepare(source: Source, mapping: dict, result: ImportResult) -> Prepared | None:
    """Every column group parsed and checked (each reports its bad rows into result.errors);
    the storage-ready columns when no row is bad, else None."""
    errors = result.errors
    errors.extend(RowError(row, fld, reason) for row, fld, reason in source.row_errors)
    cols = apply_mapping(source, mapping, result)
    bad_cells = cell_errors(cols)
    if bad_cells:
        # A NUL or a cell of a megabyte is no value to validate further: these rows are reported alone.
        errors.extend(bad_cells)
        return None
    geoms, bbox = geometry_columns(source, cols, result)
    ident = identity_columns(cols, source.n, errors)
    values = {
        **ownership_columns(cols, errors),
        **status_columns(cols, errors),
        **date_columns(cols, errors),
        **attribute_columns(cols, ident.class_of, ident.class_id, errors, ident.class_inv),
        **text_columns(cols, errors),
    }
    if errors:
        return None
    return Prepared(
        n=source.n,
        present=set(cols) & set(NATIVE_FIELDS),
        code=ident.code,
        class_id=ident.class_id,
        class_code=ident.class_text,
        admin_code=ident.admin,
        geom_hex=_hex_wkb(geoms),
        bbox=bbox,
        values=values,
        serial_max=ident.serial_max,
        spatial_order=_z_order(geoms),
    )


# Two hex digits (upper case, as shapely writes them) per byte value.
_HEX_DIGITS = np.frombuffer(b"".join(f"{i:02X}".encode() for i in range(256)), dtype=np.uint8).reshape(256, 2)


def _hex_wkb(geoms):
    """shapely.to_wkb(geoms, hex=True, include_srid=False) as one Arrow (large) string array, hexed in
    one numpy pass over the WKB buffer rather than a Python string per row made and then read into
    Arrow again for the COPY."""
    import pyarrow as pa

    wkb = pa.array(shapely.to_wkb(geoms, include_srid=False), type=pa.large_binary())
    validity, offsets, data = wkb.buffers()
    offsets = np.frombuffer(offsets, dtype=np.int64)[wkb.offset : wkb.offset + len(wkb) + 1]
    data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
    return pa.LargeStringArray.from_buffers(
        len(wkb),
        pa.py_buffer(np.ascontiguousarray(offsets * 2)),
        pa.py_buffer(_HEX_DIGITS[data].ravel()),
        validity,
        wkb.null_count,
    )


def _z_order(geoms) -> np.ndarray:
    """Row indexes sorted along a Z-order (Morton) curve of the geometries' bbox centres: a load in
    this order keeps neighbours on neighbouring pages, as ORDER BY geom does, without a sort in
    the database."""
    bounds = shapely.bounds(geoms)
    x = (bounds[:, 0] + bounds[:, 2]) / 2
    y = (bounds[:, 1] + bounds[:, 3]) / 2
    keys = np.zeros(len(x), dtype=np.uint64)
    for v, shift in ((x, 0), (y, 1)):
        lo, hi = np.nanmin(v, initial=np.inf), np.nanmax(v, initial=-np.inf)
        q = np.nan_to_num((v - lo) / ((hi - lo) or 1.0) * 65535).astype(np.uint64)
        for bit in range(16):
            keys |= ((q >> np.uint64(bit)) & np.uint64(1)) << np.uint64(2 * bit + shift)
    return np.argsort(keys, kind="stable")


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
