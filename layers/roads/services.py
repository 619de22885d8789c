"""The one write path for roads: `import_roads` reads any OGR layer (GeoPackage, Shapefile, GeoJSON ...)
with pyogrio, checks every row, and writes all of them or none (a row-level report says why not).
With replace=True the whole network is swapped in the same transaction."""

from dataclasses import dataclass, field
from pathlib import Path

import pyogrio
import shapely
from django.db import connection, transaction
from pyogrio.errors import DataLayerError, DataSourceError
from shapely.errors import GEOSException

from gis_core.errors import ServiceError

from .models import Road
from .signals import roads_changed

NAME_FIELDS = ("name", "名称", "NAME", "road_name")
LEVEL_FIELDS = ("level", "等级", "LEVEL", "class", "fclass")
WIDTH_FIELDS = ("width_m", "width", "宽度", "WIDTH")
MAX_ROWS = 500_000


@dataclass
class RowError:
    row: int
    field: str
    reason: str


@dataclass
class RoadImport:
    rows: int = 0
    created: int = 0
    deleted: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "created": self.created,
            "deleted": self.deleted,
            "ok": self.ok,
            "errors": [e.__dict__ for e in self.errors[:200]],
        }


def _pick(columns, candidates):
    return next((c for c in candidates if c in columns), None)


def _srid(crs: str | None) -> int:
    if not crs:
        raise ServiceError({"crs": "the layer declares no coordinate system"})
    from pyproj import CRS

    epsg = CRS.from_user_input(crs).to_epsg()
    if epsg is None:
        raise ServiceError({"crs": f"not an EPSG coordinate system: {crs[:80]}"})
    return epsg


def read_layer(path: Path | str, layer: str | None = None) -> tuple[list[dict], list[RowError], int]:
    """(rows {name, level, width_m, wkb}, errors, srid) of the layer; nothing written."""
    path = Path(path)
    if not path.exists():
        raise ServiceError({"file": f"no such file: {path.name}"})
    try:
        info = pyogrio.read_info(path, layer=layer)
    except (DataSourceError, DataLayerError) as exc:  # GDAL's message names the problem
        raise ServiceError({"layer" if layer else "file": f"cannot read {path.name}: {exc}"}) from None
    if info["features"] > MAX_ROWS:
        raise ServiceError({"file": f"{info['features']:,} features; at most {MAX_ROWS:,}"})
    srid = _srid(info["crs"])
    meta, _, geoms, values = pyogrio.raw.read(path, layer=layer)
    columns = list(meta["fields"])
    name_c, level_c, width_c = (_pick(columns, c) for c in (NAME_FIELDS, LEVEL_FIELDS, WIDTH_FIELDS))
    col = {c: values[columns.index(c)] for c in (name_c, level_c, width_c) if c}
    rows, errors = [], []
    for i, wkb in enumerate(geoms):
        n = i + 1
        if wkb is None:
            errors.append(RowError(n, "geometry", "empty geometry"))
            continue
        try:
            g = shapely.from_wkb(wkb)
        except GEOSException:
            errors.append(RowError(n, "geometry", "unreadable geometry"))
            continue
        if g.geom_type == "LineString":
            g = shapely.MultiLineString([g])
        if g.geom_type != "MultiLineString":
            errors.append(RowError(n, "geometry", f"a line is needed, not a {g.geom_type}"))
            continue
        if g.is_empty or g.length == 0:
            errors.append(RowError(n, "geometry", "a line of zero length"))
            continue
        width = None
        if width_c:
            raw = col[width_c][i]
            try:
                width = None if raw is None or raw == "" else float(raw)
            except (TypeError, ValueError):
                errors.append(RowError(n, width_c, f"a width in metres, not {raw!r}"))
                continue
            if width is not None and not 0 <= width <= 200:
                errors.append(RowError(n, width_c, "a width between 0 and 200 m"))
                continue
        name = str(col[name_c][i] or "")[:100] if name_c else ""
        level = str(col[level_c][i] or "")[:30] if level_c else ""
        rows.append({"name": name, "level": level, "width_m": width, "wkb": shapely.to_wkb(g, include_srid=False)})
    return rows, errors, srid


def import_roads(path: Path | str, layer: str | None = None, *, replace: bool = False) -> RoadImport:
    """Reads and checks every row; writes all of them (after deleting every road when `replace`) or,
    if any row is wrong, nothing. Coordinates are transformed to EPSG:4490 in the database."""
    rows, errors, srid = read_layer(path, layer)
    report = RoadImport(rows=len(rows) + len(errors), errors=errors)
    if errors:
        return report
    source = f"{Path(path).name}:{layer or ''}"[:200]
    with transaction.atomic():
        if replace:
            report.deleted, _ = Road.objects.all().delete()
        with connection.cursor() as cur:
            cur.execute(
                """
                INSERT INTO roads_road (name, level, width_m, geom, source)
                SELECT r.name, r.level, r.width_m,
                       ST_Multi(ST_Transform(ST_SetSRID(ST_GeomFromWKB(r.wkb), %s), 4490)), %s
                FROM unnest(%s::text[], %s::text[], %s::float8[], %s::bytea[]) AS r(name, level, width_m, wkb)
                """,
                [
                    srid,
                    source,
                    [r["name"] for r in rows],
                    [r["level"] for r in rows],
                    [r["width_m"] for r in rows],
                    [r["wkb"] for r in rows],
                ],
            )
            report.created = cur.rowcount
        transaction.on_commit(lambda: roads_changed.send(sender=Road, bbox=None))
    return report
