"""The geometry columns: WKB from a GIS file, or wkt / x,y from a CSV, decoded without handing GEOS
what could crash it, moved to storage coordinates and checked by the shared rule
(gis_core.geometry.geometry_errors_array)."""

from __future__ import annotations

import re

import numpy as np
import shapely

from gis_core.crs import CRSError, parse_crs, to_storage_geometry
from gis_core.geometry import ALLOWED_TYPE_IDS, GEOMETRY_MISSING, district_bbox, geometry_errors_array

from .nesting import MAX_NESTING, wkb_too_deep, wkt_too_deep
from .readers import FileProblem, Source
from .results import ImportResult, RowError

_EWKT_RE = re.compile(r"^\s*SRID=([0-9]+)\s*;\s*", re.I)


def geometry_columns(source: Source, cols: dict, result: ImportResult) -> tuple[np.ndarray, tuple | None]:
    """(shapely geometries in storage coordinates, bbox of the good rows). Sets result.crs."""
    if source.kind == "csv":
        geoms, missing = _csv_geometry(cols, source.n, result.errors)
        crs = _csv_crs(cols, source.crs)
    else:
        geoms, missing = _wkb_geometry(source.wkb, result.errors)
        crs = source.crs
    result.crs = f"EPSG:{crs}" if isinstance(crs, int) else crs
    geoms = _to_storage(geoms, missing, crs)
    reasons = geometry_errors_array(np.where(missing, None, geoms), district_bbox(), result.crs)
    ok = np.equal(reasons, None)  # noqa: E711 - elementwise
    for i in np.flatnonzero(~ok & ~missing).tolist():  # missing and malformed rows are reported already
        result.errors.append(RowError(i + 1, "geometry", reasons[i]))
    bbox = None
    if ok.any():
        b = shapely.bounds(geoms[ok])
        bbox = (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max()))
    return geoms, bbox


def _to_storage(geoms: np.ndarray, missing: np.ndarray, crs) -> np.ndarray:
    """Only rows of an accepted type that hold something are moved to storage coordinates (2-D); the
    rule then looks at every row, in storage coordinates, as the services do."""
    movable = ~missing & np.isin(shapely.get_type_id(geoms), ALLOWED_TYPE_IDS) & ~shapely.is_empty(geoms)
    if shapely.has_z(geoms[movable]).any():
        geoms = np.where(movable, shapely.force_2d(geoms), geoms)
    if movable.any():
        idx = np.flatnonzero(movable)
        moved = to_storage_geometry(geoms[idx], crs)
        geoms = geoms.copy()
        geoms[idx] = moved
    return geoms


def _wkb_geometry(raw: np.ndarray, errors: list) -> tuple[np.ndarray, np.ndarray]:
    """(geometries, rows missing or malformed), each such row reported."""
    n = len(raw)
    missing = np.equal(raw, None) if raw.dtype == object else np.zeros(n, bool)  # noqa: E711
    missing = np.asarray(missing, dtype=bool)
    deep = wkb_too_deep(raw)
    if deep.any():  # never handed to GEOS: see nesting.py
        raw = np.array(raw, dtype=object)
        raw[deep] = None
    geoms = shapely.from_wkb(raw, on_invalid="ignore")
    bad = (geoms == None) & ~missing  # noqa: E711 - elementwise
    for i in np.flatnonzero(bad):
        errors.append(
            RowError(
                int(i) + 1,
                "geometry",
                f"geometry nests collections deeper than {MAX_NESTING} levels or is malformed"
                if deep[i]
                else "malformed geometry (cannot be decoded)",
            )
        )
    for i in np.flatnonzero(missing):
        errors.append(RowError(int(i) + 1, "geometry", GEOMETRY_MISSING))
    return geoms, missing | bad


def _csv_crs(cols: dict, crs):
    """The CSV's coordinate system: the srid option, or the one SRID= prefix the wkt column carries."""
    if "wkt" in cols:
        srids = _ewkt_srids(cols["wkt"])
        if len(srids) > 1:
            raise FileProblem(
                f"the wkt column mixes {', '.join('SRID=' + s for s in sorted(srids)[:5])}: "
                "one file, one coordinate system",
                field="wkt",
            )
        if srids:
            try:
                declared = parse_crs(sorted(srids)[0])
            except CRSError as exc:
                raise FileProblem(f"wkt: {exc}", field="wkt") from None
            if crs is not None and crs != declared:
                raise FileProblem(f"srid {crs} contradicts the SRID={declared} in the wkt column", field="srid")
            crs = declared
    if crs is None:
        raise FileProblem(
            "a CSV file carries no coordinate system: give srid (e.g. 4490, 4326, 4527, GCJ02, BD09)", field="srid"
        )
    return crs


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
