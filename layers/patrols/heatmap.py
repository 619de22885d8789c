"""Patrol heat maps: time spent per grid cell, from the fixes, for a range of local days.

Each fix is weighted by the time to the same worker's next fix, capped at MAX_INTERVAL_S (60 s): a
worker standing still is counted for the minutes they stood, a phone that went silent for an hour is
not (the last fix of a worker in the range weighs nothing). Time spent, not fix counts, because
phones report at different rates (5 s, 10 s, 30 s) and a count would favour the chatty ones.

The sums are made in PostGIS (one GROUP BY of floor()ed EPSG:3857 coordinates, set-based), then
smoothed in numpy by a small normalised Gaussian (the total is kept), then either
 - written as a Cloud-Optimised GeoTIFF by rasterio (float32, minutes per cell, EPSG:3857), cached on
   disk under STATE_DIR/heatmaps keyed by the filters and a stamp of the fixes of those days, or
 - reprojected by rasterio to a map image (tile or WMS, EPSG:3857 or 4490), coloured in minutes per
   hectare of ground (RAMP) and encoded as a transparent PNG by Pillow.

mapnik never enters this module: importing it in the same process breaks rasterio's PROJ (see
docs/architecture.md); the images here are drawn in the web process, not in the mapnik pool."""

import datetime as dt
import hashlib
import io
import json
import math
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from components.models import Organisation
from gis_core.errors import ClientError
from gis_core.mercator import EARTH_RADIUS, HALF_WORLD

from .selectors import scope_sql

LOCAL = ZoneInfo("Asia/Shanghai")
MAX_INTERVAL_S = 60
MAX_DAYS = 31
DEFAULT_CELL_M = 10.0  # EPSG:3857 metres (about 8 m on the ground at 35.5°N)
CELL_RANGE = (5.0, 1000.0)
MAX_CELLS = 16_000_000  # per raster: 64 MB of float32 at most
SIGMA_CELLS = 1.0  # the smoothing kernel's standard deviation, in cells
KERNEL_RADIUS = 2  # 5 x 5 kernel
PAD_CELLS = KERNEL_RADIUS + 1
CACHE_VERSION = "1"  # bump when the raster's meaning or encoding changes
# Colour ramp in minutes per hectare of ground: transparent below the first stop.
# (value, (r, g, b, alpha)); a walked street at 1 m/s reads ~5-20, a five-minute stop ~100 and above.
RAMP = (
    (1.0, (255, 255, 178, 90)),
    (5.0, (254, 217, 118, 150)),
    (20.0, (254, 178, 76, 190)),
    (60.0, (253, 141, 60, 215)),
    (150.0, (240, 59, 32, 235)),
    (400.0, (189, 0, 38, 250)),
)


class HeatmapError(ClientError):
    pass


@dataclass(frozen=True)
class HeatQuery:
    first: dt.date  # local days, inclusive
    last: dt.date
    workers: tuple[int, ...] = ()
    grids: tuple[str, ...] = ()
    units: tuple[int, ...] = ()
    cell: float = DEFAULT_CELL_M

    def key(self) -> dict:
        return {
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "workers": sorted(self.workers),
            "grids": sorted(self.grids),
            "units": sorted(self.units),
            "cell": self.cell,
        }


# ---------------------------------------------------------------- parameters


def _values(raw) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        raw = [raw]
    return [v.strip() for v in ",".join(raw).split(",") if v.strip()]


def _date(raw, name: str) -> dt.date | None:
    values = _values(raw)
    if not values:
        return None
    if len(values) > 1:
        raise HeatmapError(f"{name}: one date as YYYY-MM-DD", field=name)
    try:
        return dt.date.fromisoformat(values[0])
    except ValueError:
        raise HeatmapError(f"{name}: a date as YYYY-MM-DD, not {values[0][:20]!r}", field=name) from None


def parse_query(get, with_cell: bool = True) -> HeatQuery:
    """`get(name)` -> raw value(s) or None, for from, to, worker, grid, unit (comma-separated lists)
    and cell. Missing dates mean today (local); the range is at most MAX_DAYS days."""
    today = dt.datetime.now(LOCAL).date()
    first = _date(get("from"), "from")
    last = _date(get("to"), "to")
    first = first or last or today
    last = last or first
    if last < first:
        raise HeatmapError("to: must not be before from", field="to")
    if (last - first).days + 1 > MAX_DAYS:
        raise HeatmapError(f"to: at most {MAX_DAYS} days from 'from'", field="to")
    workers = _values(get("worker"))
    found = dict(get_user_model().objects.filter(username__in=workers).values_list("username", "pk"))
    unknown = [w for w in workers if w not in found]
    if unknown:
        raise HeatmapError(f"worker: no worker {', '.join(unknown[:5])}", field="worker")
    units = _values(get("unit"))
    orgs = dict(Organisation.objects.filter(uscc__in=units).values_list("uscc", "pk"))
    unknown = [u for u in units if u not in orgs]
    if unknown:
        raise HeatmapError(f"unit: no organisation with USCC {', '.join(unknown[:5])}", field="unit")
    grids = _values(get("grid"))
    if any(len(g) > 64 for g in grids) or len(grids) > 200 or len(workers) > 200 or len(units) > 200:
        raise HeatmapError("at most 200 values of at most 64 characters per filter", field="grid")
    cell = DEFAULT_CELL_M
    if with_cell and get("cell") not in (None, ""):
        try:
            cell = float(get("cell"))
        except (TypeError, ValueError):
            cell = -1.0
        if not (math.isfinite(cell) and CELL_RANGE[0] <= cell <= CELL_RANGE[1]):
            raise HeatmapError(f"cell: metres from {CELL_RANGE[0]:g} to {CELL_RANGE[1]:g}", field="cell")
    return HeatQuery(first, last, tuple(sorted(found.values())), tuple(sorted(set(grids))), tuple(orgs.values()), cell)


# ---------------------------------------------------------------- SQL


def _conditions(query: HeatQuery, scope: tuple[str, list]) -> tuple[str, list]:
    """WHERE over patrols_patrolfix t for the local days, the filters and the viewer's scope."""
    t0 = dt.datetime.combine(query.first, dt.time(), LOCAL)
    t1 = dt.datetime.combine(query.last + dt.timedelta(days=1), dt.time(), LOCAL)
    sql = ["t.fix_time >= %s", "t.fix_time < %s", scope[0]]
    params = [t0, t1, *scope[1]]
    if query.workers:
        sql.append("t.worker_id = ANY(%s)")
        params.append(list(query.workers))
    if query.units:
        sql.append(
            "EXISTS (SELECT 1 FROM components_userprofile p WHERE p.user_id = t.worker_id "
            "AND p.organisation_id = ANY(%s))"
        )
        params.append(list(query.units))
    if query.grids:
        # the worker's assigned grid on the fix's local day
        sql.append(
            "EXISTS (SELECT 1 FROM patrols_patrolassignment a WHERE a.worker_id = t.worker_id "
            "AND a.grid_code = ANY(%s) AND a.valid_from <= (t.fix_time AT TIME ZONE 'Asia/Shanghai')::date "
            "AND (a.valid_to IS NULL OR a.valid_to >= (t.fix_time AT TIME ZONE 'Asia/Shanghai')::date))"
        )
        params.append(list(query.grids))
    return " AND ".join(sql), params


def _weighted(where: str) -> str:
    """Fixes with their weight w (seconds to the worker's next fix in the selection, capped)."""
    # LEAST ignores NULLs: the last fix (no next one) is dropped before capping, not capped to 60 s.
    # The spherical Mercator formulas, not ST_Transform: the same numbers (CGCS2000 and WGS 84 differ
    # by centimetres, PROJ applies no shift between them) at a fraction of the cost per fix.
    return (
        f"SELECT lon * {HALF_WORLD!r} / 180 AS x, {EARTH_RADIUS!r} * ln(tan(pi() / 4 + radians(lat) / 2)) AS y, "
        f"LEAST(gap, {MAX_INTERVAL_S}) AS w FROM ("
        "SELECT ST_X(t.geom) AS lon, ST_Y(t.geom) AS lat, EXTRACT(EPOCH FROM "
        "lead(t.fix_time) OVER (PARTITION BY t.worker_id ORDER BY t.fix_time) - t.fix_time) AS gap "
        f"FROM patrols_patrolfix t WHERE {where}) f WHERE gap > 0"
    )


def cell_sums(query: HeatQuery, scope, x0: float, y1: float, nx: int, ny: int, cell: float) -> np.ndarray:
    """Seconds spent per cell of the grid whose top-left corner is (x0, y1) in EPSG:3857, rows
    from the north. Fixes are read within the grid only (GiST on geom), so a fix whose next fix lies
    outside the grid is weighted to its next fix inside it (at most 60 s, at the grid's padded edge)."""
    where, params = _conditions(query, scope)
    where += " AND t.geom && ST_Transform(ST_MakeEnvelope(%s, %s, %s, %s, 3857), 4490)"
    params += [x0, y1 - ny * cell, x0 + nx * cell, y1]
    sql = (
        f"SELECT cx, cy, sum(w) FROM (SELECT floor((x - %s) / %s)::int AS cx, floor((%s - y) / %s)::int AS cy, w "
        f"FROM ({_weighted(where)}) s) c WHERE cx >= 0 AND cx < %s AND cy >= 0 AND cy < %s GROUP BY 1, 2"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [x0, cell, y1, cell, *params, nx, ny])
        rows = cur.fetchall()
    grid = np.zeros((ny, nx), dtype=np.float32)
    if rows:
        a = np.array(rows, dtype=np.float64)
        grid[a[:, 1].astype(int), a[:, 0].astype(int)] = a[:, 2]
    return grid


def extent(query: HeatQuery, scope) -> tuple[float, float, float, float] | None:
    where, params = _conditions(query, scope)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT "
            f"ST_Extent(t.geom)::geometry AS e FROM patrols_patrolfix t WHERE {where}) s",
            params,
        )
        row = cur.fetchone()
    if not row or row[0] is None:
        return None
    return (*mercator(row[0], row[1]), *mercator(row[2], row[3]))  # Mercator keeps boxes boxes


def mercator(lon: float, lat: float) -> tuple[float, float]:
    return lon * HALF_WORLD / 180, EARTH_RADIUS * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def stamp(query: HeatQuery) -> str:
    """Changes whenever fixes of those days are added or removed (late backlogs included: their ids
    are new). Unscoped and unfiltered: cheap, and any change of the days drops the cached raster."""
    t0 = dt.datetime.combine(query.first, dt.time(), LOCAL)
    t1 = dt.datetime.combine(query.last + dt.timedelta(days=1), dt.time(), LOCAL)
    with connection.cursor() as cur:
        cur.execute("SELECT count(*), max(id) FROM patrols_patrolfix WHERE fix_time >= %s AND fix_time < %s", [t0, t1])
        n, top = cur.fetchone()
    return f"{n}-{top}"


# ---------------------------------------------------------------- numpy


def _kernel() -> np.ndarray:
    r = np.arange(-KERNEL_RADIUS, KERNEL_RADIUS + 1, dtype=np.float64)
    k = np.exp(-(r**2) / (2 * SIGMA_CELLS**2))
    return k / k.sum()


def smooth(grid: np.ndarray) -> np.ndarray:
    """Separable normalised Gaussian: the total is kept (up to what spills over the outer edge,
    which callers pad so nothing does)."""
    k = _kernel()
    out = grid
    for axis in (0, 1):
        padded = np.pad(out, [(KERNEL_RADIUS, KERNEL_RADIUS) if a == axis else (0, 0) for a in (0, 1)])
        n = out.shape[axis]
        acc = np.zeros_like(out)
        for i, weight in enumerate(k):
            acc += weight * (padded[i : i + n, :] if axis == 0 else padded[:, i : i + n])
        out = acc
    return out


def _snap_down(v: float, cell: float) -> float:
    return math.floor(v / cell) * cell


def _snap_up(v: float, cell: float) -> float:
    return math.ceil(v / cell) * cell


def raster(query: HeatQuery, scope, bbox_3857, cell: float) -> tuple[np.ndarray, float, float]:
    """Smoothed seconds per cell over bbox (padded by the kernel), on a grid aligned to multiples
    of `cell` (so neighbouring tiles agree). -> (array, x0, y1)."""
    pad = PAD_CELLS * cell
    x0 = _snap_down(max(-HALF_WORLD, bbox_3857[0] - pad), cell)
    y0 = _snap_down(max(-HALF_WORLD, bbox_3857[1] - pad), cell)
    x1 = _snap_up(min(HALF_WORLD, bbox_3857[2] + pad), cell)
    y1 = _snap_up(min(HALF_WORLD, bbox_3857[3] + pad), cell)
    nx, ny = max(1, round((x1 - x0) / cell)), max(1, round((y1 - y0) / cell))
    if nx * ny > MAX_CELLS:
        raise HeatmapError(
            f"cell: {nx} x {ny} cells is over {MAX_CELLS:,}; use larger cells or fewer days/workers", field="cell"
        )
    return smooth(cell_sums(query, scope, x0, y1, nx, ny, cell)), x0, y1


# ---------------------------------------------------------------- COG


def _cache_dir() -> Path:
    path = Path(settings.STATE_DIR) / "heatmaps"
    path.mkdir(parents=True, exist_ok=True)
    return path


def cog(query: HeatQuery, scope_key: str, scope) -> Path:
    """The COG for the query as the scope sees it: from the disk cache, else computed and stored."""
    key = json.dumps({"q": query.key(), "scope": scope_key, "stamp": stamp(query), "v": CACHE_VERSION}, sort_keys=True)
    path = _cache_dir() / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.tif"
    if path.exists():
        try:
            os.utime(path)  # its mtime is its last use: prune_cache() drops the least recently used first
        except FileNotFoundError:  # pruned meanwhile: made again below
            pass
        else:
            return path
    box = extent(query, scope)
    if box is None:  # nothing to see: one empty cell at the district's centre keeps the file valid
        west, south, east, north = settings.GRIDCITY_DISTRICT_BBOX
        cx, cy = mercator((west + east) / 2, (south + north) / 2)
        box = (cx, cy, cx, cy)
    minutes, x0, y1 = raster(query, scope, box, query.cell)
    write_cog(path, (minutes / 60.0).astype(np.float32), x0, y1, query)
    return path


_CACHED = re.compile(r"[0-9a-f]{32}\.tif")
_TEMP = re.compile(r"tmp.*\.tif")


def prune_cache(max_age_days: float | None = None, max_bytes: int | None = None, now: float | None = None) -> dict:
    """Deletes cached COGs not used for `max_age_days`, then the least recently used until the folder
    holds at most `max_bytes` (defaults: settings GRIDCITY_PATROL_HEATMAP_CACHE_DAYS / _MB), and
    temporary files of writes that died more than an hour ago. Only names this module writes are
    touched. Returns {"deleted", "freed_bytes", "kept", "kept_bytes"}. A file deleted while a request
    is sending it is still sent (POSIX keeps an open file); one requested again is made again."""
    max_age_days = settings.GRIDCITY_PATROL_HEATMAP_CACHE_DAYS if max_age_days is None else max_age_days
    if max_bytes is None:
        max_bytes = int(settings.GRIDCITY_PATROL_HEATMAP_CACHE_MB * 1024 * 1024)
    now = time.time() if now is None else now
    files, deleted, freed = [], 0, 0

    def drop(path: Path, size: int):
        nonlocal deleted, freed
        try:
            path.unlink()
        except FileNotFoundError:
            return
        deleted, freed = deleted + 1, freed + size

    for entry in os.scandir(_cache_dir()):
        try:
            st = entry.stat()
        except FileNotFoundError:
            continue
        if _TEMP.fullmatch(entry.name):
            if now - st.st_mtime > 3600:
                drop(Path(entry.path), st.st_size)
        elif _CACHED.fullmatch(entry.name):
            if now - st.st_mtime > max_age_days * 86400:
                drop(Path(entry.path), st.st_size)
            else:
                files.append((st.st_mtime, st.st_size, Path(entry.path)))
    files.sort()  # oldest use first
    total = sum(size for _, size, _ in files)
    while files and total > max_bytes:
        _, size, path = files.pop(0)
        drop(path, size)
        total -= size
    return {"deleted": deleted, "freed_bytes": freed, "kept": len(files), "kept_bytes": total}


def write_cog(path: Path, data: np.ndarray, x0: float, y1: float, query: HeatQuery):
    import rasterio  # noqa: PLC0415 - GDAL loads only where rasters are made
    from rasterio.transform import from_origin  # noqa: PLC0415

    fd, tmp = tempfile.mkstemp(suffix=".tif", dir=path.parent)
    os.close(fd)
    try:
        with rasterio.open(
            tmp,
            "w",
            driver="COG",
            width=data.shape[1],
            height=data.shape[0],
            count=1,
            dtype="float32",
            crs="EPSG:3857",
            transform=from_origin(x0, y1, query.cell, query.cell),
            nodata=-1.0,
            compress="DEFLATE",
            predictor=3,
            level=1,  # half the time of the default level for ~5 % more bytes (mostly empty cells)
            blocksize=256,
            overview_resampling="average",
        ) as dst:
            dst.write(data, 1)
            dst.update_tags(
                DATE_FROM=query.first.isoformat(),
                DATE_TO=query.last.isoformat(),
                UNIT="minutes spent per cell (each fix weighted by the time to the next, at most 60 s)",
                CELL_SIZE=f"{query.cell:g} m (EPSG:3857)",
                SMOOTHING=f"Gaussian sigma {SIGMA_CELLS:g} cell, radius {KERNEL_RADIUS} cells",
                WORKERS=",".join(map(str, query.workers)),
                GRIDS=",".join(query.grids),
            )
            dst.set_band_description(1, "minutes")
        os.replace(tmp, path)  # readers never see a half-written file
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def filename(query: HeatQuery) -> str:
    span = query.first.isoformat() if query.first == query.last else f"{query.first}_{query.last}"
    return f"patrol-heatmap-{span}.tif"


# ---------------------------------------------------------------- map images


def map_cell(res_3857: float) -> float:
    """Cell size for an image of res_3857 metres per pixel: DEFAULT_CELL_M times a power of two, at
    least a pixel, so each zoom has one grid and tiles of one zoom share it."""
    steps = max(0, math.ceil(math.log2(max(res_3857, DEFAULT_CELL_M) / DEFAULT_CELL_M) - 1e-9))
    return DEFAULT_CELL_M * 2**steps


def per_hectare(seconds: np.ndarray, cell: float, y_centre: float) -> np.ndarray:
    """Seconds per cell -> minutes per hectare of ground (EPSG:3857 scale at the image's centre)."""
    lat = 2 * math.atan(math.exp(y_centre / EARTH_RADIUS)) - math.pi / 2
    ground_ha = (cell * math.cos(lat)) ** 2 / 10_000
    return seconds / 60.0 / ground_ha


def colour(values: np.ndarray) -> np.ndarray:
    """Minutes per hectare -> RGBA uint8 along RAMP; transparent under its first stop."""
    stops = np.array([v for v, _ in RAMP])
    colours = np.array([c for _, c in RAMP], dtype=np.float64)
    x = np.log(np.clip(values, stops[0], stops[-1]))
    rgba = np.stack([np.interp(x, np.log(stops), colours[:, i]) for i in range(4)], axis=-1)
    rgba[values < stops[0]] = 0
    return rgba.round().astype(np.uint8)


def png(rgba: np.ndarray) -> bytes:
    from PIL import Image  # noqa: PLC0415

    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(out, "PNG", optimize=False, compress_level=6)
    return out.getvalue()


def image(scope, filters: dict, bbox_3857, width: int, height: int, srs: str = "epsg:3857", bbox=None) -> bytes:
    """The catalogue's raster hook (layers.catalogue.Tiles.image): a transparent PNG of the heat map
    over bbox (in srs; bbox_3857 selects the fixes), filters as {param: [values]}."""
    from rasterio.crs import CRS  # noqa: PLC0415
    from rasterio.transform import from_bounds, from_origin  # noqa: PLC0415
    from rasterio.warp import Resampling, reproject  # noqa: PLC0415

    query = parse_query(lambda name: filters.get(name), with_cell=False)
    res = max((bbox_3857[2] - bbox_3857[0]) / width, (bbox_3857[3] - bbox_3857[1]) / height)
    cell = map_cell(res)
    seconds, x0, y1 = raster(query, (scope[1], scope[2]), bbox_3857, cell)
    if not seconds.any():
        return png(np.zeros((height, width, 4), dtype=np.uint8))
    values = per_hectare(seconds, cell, (bbox_3857[1] + bbox_3857[3]) / 2).astype(np.float32)
    out = np.zeros((height, width), dtype=np.float32)
    frame = bbox or bbox_3857
    reproject(
        values,
        out,
        src_transform=from_origin(x0, y1, cell, cell),
        src_crs=CRS.from_epsg(3857),
        dst_transform=from_bounds(*frame, width, height),
        dst_crs=CRS.from_string(srs.upper()),
        resampling=Resampling.bilinear if cell > res else Resampling.average,
        src_nodata=None,
        dst_nodata=0,
    )
    return png(colour(out))


def legend() -> dict:
    return {
        "title": "巡查热力图：停留时间",
        "unit": "minutes per hectare",
        "unit_zh": "分钟/公顷",
        "weighting": f"each fix counts the time to the same worker's next fix, at most {MAX_INTERVAL_S} s",
        "stops": [
            {"value": value, "colour": "#{:02x}{:02x}{:02x}".format(*rgba[:3]), "opacity": round(rgba[3] / 255, 2)}
            for value, rgba in RAMP
        ],
    }


def scope_of(user):
    """(cache key part, SQL, params) of the user's patrol visibility, or None (sees nothing)."""
    return scope_sql(user)
