"""Exports in the native column layout (the one components.importing reads without mapping), so an
export imported again changes nothing. Geometry is written at full precision in EPSG:4490."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import shapely
from django.db import connection

from .importing.core import NATIVE_FIELDS

FORMATS = {"geojson": ".geojson", "csv": ".csv", "gpkg": ".gpkg"}
CONTENT_TYPES = {
    "geojson": "application/geo+json",
    "csv": "text/csv; charset=utf-8",
    "gpkg": "application/geopackage+sqlite3",
}

_SQL = """
SELECT c.code, cls.code, c.name, c.admin_code, c.street_code, c.community_code, c.grid_code, c.location_desc,
       d.uscc, o.uscc, m.uscc, c.state_code, c.census_date, c.change_date, c.data_source, c.note,
       c.attributes, c.retired, ST_AsBinary(c.geom)
FROM components_component c
JOIN components_componentclass cls ON cls.id = c.component_class_id
LEFT JOIN components_organisation d ON d.id = c.department_id
LEFT JOIN components_organisation o ON o.id = c.owner_id
LEFT JOIN components_organisation m ON m.id = c.maintainer_id
"""


def _rows(queryset):
    sql, params = _SQL, ()
    if queryset is not None:
        inner, params = queryset.order_by().values("pk").query.sql_with_params()
        sql += f" WHERE c.id IN ({inner})"
    sql += " ORDER BY c.code"
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def _columns(rows):
    """-> {native field: object array with None for NULL}, WKB array."""
    n = len(rows)
    cols = list(zip(*rows)) if n else [()] * 19
    out = {}
    for name, values in zip(NATIVE_FIELDS, cols[:18]):
        if name in ("census_date", "change_date"):
            arr = [v.isoformat() if v is not None else None for v in values]
        elif name == "attributes":
            arr = [_attributes_text(v) for v in values]
        elif name == "retired":
            out[name] = np.array(values, dtype=bool)
            continue
        else:
            arr = list(values)
        out[name] = np.array(arr, dtype=object) if n else np.array([], dtype=object)
    wkb = np.array([bytes(v) for v in cols[18]], dtype=object) if n else np.array([], dtype=object)
    return out, wkb


def _attributes_text(value) -> str:
    if isinstance(value, str):  # jsonb arrives as text through Django's psycopg setup
        value = json.loads(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""


def export_components(queryset, fmt: str, path) -> int:
    """Writes the components of `queryset` (all components when None) as geojson, csv or gpkg to `path`.
    Returns the number of components written."""
    fmt = (fmt or "").lower()
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: use {', '.join(FORMATS)}")
    path = Path(path)
    rows = _rows(queryset)
    cols, wkb = _columns(rows)
    if fmt == "csv":
        _write_csv(path, cols, wkb)
    else:
        _write_vector(path, fmt, cols, wkb)
    return len(rows)


def _write_csv(path: Path, cols: dict, wkb) -> None:
    geoms = shapely.from_wkb(wkb) if len(wkb) else np.array([], dtype=object)
    # EWKT at full precision: the SRID declares the CRS, so the file re-imports without a srid option.
    wkt = shapely.to_wkt(geoms, rounding_precision=-1, trim=True) if len(geoms) else []
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:  # BOM: Excel opens it as UTF-8
        w = csv.writer(fh)
        w.writerow([*NATIVE_FIELDS, "wkt"])
        retired = cols["retired"]
        table = [cols[f] for f in NATIVE_FIELDS]
        for i in range(len(wkt)):
            row = ["" if col[i] is None else col[i] for col in table]
            row[NATIVE_FIELDS.index("retired")] = "true" if retired[i] else "false"
            row.append(f"SRID=4490;{wkt[i]}")
            w.writerow(row)


def _write_vector(path: Path, fmt: str, cols: dict, wkb) -> None:
    import pyogrio

    path.unlink(missing_ok=True)
    types = {shapely.from_wkb(w).geom_type for w in wkb[:1]} if len(wkb) else set()
    if len(wkb):
        type_ids = set(np.unique(shapely.get_type_id(shapely.from_wkb(wkb))).tolist())
        names = {0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon"}
        types = {names.get(t, "Unknown") for t in type_ids}
    geometry_type = types.pop() if len(types) == 1 else "Unknown"
    driver = "GPKG" if fmt == "gpkg" else "GeoJSON"
    kwargs = {"layer": "components"} if fmt == "gpkg" else {"layer_options": {"RFC7946": "NO", "WRITE_NAME": "NO"}}
    pyogrio.raw.write(
        str(path),
        geometry=wkb,
        field_data=list(cols.values()),
        fields=list(cols),
        crs="EPSG:4490",
        geometry_type=geometry_type,
        driver=driver,
        encoding="UTF-8" if fmt == "geojson" else None,
        **kwargs,
    )
