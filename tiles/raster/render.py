"""The Django side of raster rendering: one bbox-filtered SQL per layer (on the GiST-indexed
geom_3857, no per-row transform), drawn by mapnik in a render process. PNG tiles are rendered as
metatiles (META x META tiles plus a buffer, so labels and markers are not cut at tile edges), cut
there, and every piece is cached.

Where the rows come from (layer_source):
 - normally the render process runs the layer's SQL itself, through mapnik's PostGIS plugin (WKB,
   read in C++): the geometries never pass through Python or between processes. The SQL is written
   here, its values bound by psycopg (client-side binding, as every Django query here), with
   mapnik's !bbox! and !pixel_width! tokens left for the render process to fill in, so one text
   per layer, scope and filters is reused by the render process across maps.
 - inside an open transaction (tests; anything not yet committed is invisible to another
   connection) the rows are read here as one GeoJSON text and sent along instead."""

import math
import os
import time

import psycopg
from django.db import connection

from gis_core.errors import ClientError
from gis_core.mercator import HALF_WORLD as WORLD
from tiles import cache
from tiles.render import BadTileRequest, bound_filters, variant
from tiles.where import index_column, layer_conditions

from . import pool
from .styles import label_column, style_key

TILE = 256
META = max(1, int(os.environ.get("GRIDCITY_RASTER_META", "4")))
BUFFER_PX = 64
MAX_FEATURES = 250_000  # per layer and render: a memory bound, far above any sane map
PNG = "png8:m=h"  # palette PNG with alpha: a third of the size of RGBA, same look for these styles
# WMS images are not cached: zlib level 1 halves the encoding time (1024 px: ~90 -> ~50 ms) for ~10 % more
# bytes, and the run-length strategy takes another ~15 % off (1024 px components: 56 -> 46 ms) and is smaller.
PNG_FAST = "png8:m=h:z=1:s=rle"
# mapnik fills these in itself (query box with the map's buffer, metres per pixel in EPSG:3857).
TOKENS = ("!bbox!", "!pixel_width!", "!pixel_height!", "!scale_denominator!")


def features_geojson(layer, bbox, res: float, scope_sql: str = "TRUE", scope_params=(), filters=()) -> str:
    """The layer's features meeting bbox (EPSG:3857) as a GeoJSON FeatureCollection text in EPSG:3857,
    filters being tiles.render.bound_filters() pairs (SQL with %s, values),
    coordinates rounded to a fraction of a pixel (res = metres per pixel). Points closer than a pixel
    are drawn as one (GROUP BY the snapped geometry) unless they carry labels."""
    t = layer.tiles
    digits = 0 if res >= 1 else min(6, math.ceil(-math.log10(res)) + 1)
    geom = t.geometry
    if t.simplify_px:
        geom = f"ST_Simplify({geom}, %(tol)s, true)"
    label = label_column(layer)
    show_label = label and res <= _res_for_scale(layer)
    label_expr = dict(t.columns).get(label, label) if show_label else None
    kind = (layer.geometry_type or "").lower()
    thin = not show_label and kind in ("point", "multipoint", "geometry")
    conditions, params = _named(*layer_conditions(layer, scope_sql, scope_params, filters), "w")
    where = [f"{index_column(layer)} && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 3857)", conditions]
    params.update(
        {
            "x0": bbox[0],
            "y0": bbox[1],
            "x1": bbox[2],
            "y1": bbox[3],
            "tol": res * t.simplify_px,
            "digits": digits,
            "grid": res,
            "limit": MAX_FEATURES,
        }
    )
    if thin:
        rows = (
            f"SELECT ST_AsGeoJSON(ST_SnapToGrid({geom}, %(grid)s), %(digits)s) AS g FROM {t.table} "
            f"WHERE {' AND '.join(where)} GROUP BY 1 LIMIT %(limit)s"
        )
        feature = """'{"type":"Feature","properties":{},"geometry":' || g || '}'"""
    else:
        # the style's TextSymbolizer reads [<label>]; the name is a constant of the catalogue
        props = f"json_build_object('{label}', {label_expr})::text" if label_expr else "'{}'"
        rows = (
            f"SELECT ST_AsGeoJSON({geom}, %(digits)s) AS g, {props} AS p FROM {t.table} "
            f"WHERE {' AND '.join(where)} LIMIT %(limit)s"
        )
        feature = """'{"type":"Feature","properties":' || p || ',"geometry":' || g || '}'"""
    sql = (
        f"""SELECT count(*), '{{"type":"FeatureCollection","features":[' || """
        f"""coalesce(string_agg({feature}, ','), '') || ']}}' FROM ({rows}) s WHERE g IS NOT NULL"""
    )
    with connection.cursor() as cur:
        cur.execute(sql, params)
        count, text = cur.fetchone()
    return text if count else ""


def _named(sql: str, params: list, prefix: str) -> tuple[str, dict]:
    """A condition written with %s placeholders -> named ones, so several mix in one query."""
    parts = sql.split("%s")
    if len(parts) - 1 != len(params):
        raise ValueError(f"{len(parts) - 1} placeholders for {len(params)} parameters in {sql!r}")
    out, named = parts[0], {}
    for i, part in enumerate(parts[1:]):
        named[f"{prefix}{i}"] = params[i]
        out += f"%({prefix}{i})s" + part
    return out, named


def _res_for_scale(layer) -> float:
    """Metres per pixel at the coarsest zoom that shows labels."""
    minzoom = (layer.tiles.raster_style or {}).get("label_minzoom", 14)
    return 2 * WORLD / TILE / (2 ** (minzoom - 0.5))


def postgis_subquery(layer, res: float, scope_sql: str = "TRUE", scope_params=(), filters=()) -> str | None:
    """The layer's rows as a subquery for mapnik's PostGIS plugin: "(SELECT geom[, label] ...) AS q",
    values bound, !bbox! / !pixel_width! left to mapnik. None when a bound value would itself read as
    one of mapnik's tokens (mapnik replaces them anywhere in the text, quoted or not)."""
    t = layer.tiles
    geom = t.geometry
    if t.simplify_px:
        geom = f"ST_Simplify({geom}, !pixel_width! * {float(t.simplify_px)!r}, true)"
    label = label_column(layer)
    label_expr = dict(t.columns).get(label, label) if label and res <= _res_for_scale(layer) else None
    # the style's TextSymbolizer reads [<label>]; the name is a constant of the catalogue
    columns = f', ({label_expr})::text AS "{label}"' if label_expr else ""
    conditions, params = layer_conditions(layer, scope_sql, scope_params, filters)
    where = [f"{index_column(layer)} && !bbox!", conditions]
    text = f"(SELECT {geom} AS geom{columns} FROM {t.table} WHERE {' AND '.join(where)} LIMIT {MAX_FEATURES}) AS q"
    connection.ensure_connection()
    sql = psycopg.ClientCursor(connection.connection).mogrify(text, params)
    if any(sql.lower().count(token) != text.lower().count(token) for token in TOKENS):
        return None
    return sql


def database() -> dict:
    """Django's connection settings, for the render processes' own connections (the same statement
    timeout, through libpq's PGOPTIONS)."""
    s = connection.settings_dict
    out = {
        "host": s.get("HOST"),
        "port": str(s.get("PORT") or ""),
        "dbname": s.get("NAME"),
        "user": s.get("USER"),
        "password": s.get("PASSWORD"),
        "options": (s.get("OPTIONS") or {}).get("options"),
    }
    return {k: v for k, v in out.items() if v}


def layer_source(layer, bbox, res: float, scope_sql: str = "TRUE", scope_params=(), filters=()) -> dict:
    """Where a render process reads a layer's rows: {"postgis": subquery, "db": settings} (it queries
    itself), or {"geojson": text} read here (in an open transaction, or see postgis_subquery)."""
    if not connection.in_atomic_block:
        sql = postgis_subquery(layer, res, scope_sql, scope_params, filters)
        if sql is not None:
            return {"postgis": sql, "db": database()}
    return {"geojson": features_geojson(layer, bbox, res, scope_sql, scope_params, filters)}


def job_layers(layers, bbox, res, scopes, filters_by_layer=None) -> list:
    """(style name, style XML, source) per layer, bottom first. scopes: layer id -> (sql, params)."""
    out = []
    for layer in layers:
        name, xml = style_key(layer)
        scope_sql, scope_params = scopes[layer.id]
        source = layer_source(layer, bbox, res, scope_sql, scope_params, (filters_by_layer or {}).get(layer.id, ()))
        out.append((name, xml, source))
    return out


def render_map(
    layers,
    bbox_3857,
    width,
    height,
    srs="epsg:3857",
    bbox=None,
    scopes=None,
    transparent=True,
    background="#ffffff",
    fmt=PNG_FAST,
    buffer_px=32,
    scale_factor=1.0,
) -> bytes:
    """One image of several layers (a WMS GetMap). bbox_3857 selects the rows; bbox (in srs, x/y
    order) frames the image when srs is not EPSG:3857 (mapnik reprojects the vertices). scale_factor:
    symbols and labels that many times larger (a print at print resolution)."""
    res = max((bbox_3857[2] - bbox_3857[0]) / width, (bbox_3857[3] - bbox_3857[1]) / height)
    pad = res * buffer_px
    query_box = (bbox_3857[0] - pad, bbox_3857[1] - pad, bbox_3857[2] + pad, bbox_3857[3] + pad)
    job = {
        "width": width,
        "height": height,
        "srs": srs,
        "bbox": tuple(bbox or bbox_3857),
        "buffer": buffer_px,
        "background": None if transparent else background,
        "format": fmt,
        "scale_factor": scale_factor,
        "layers": job_layers(layers, query_box, res, scopes),
    }
    return pool.render(job)


def tile_bounds(z: int, x: int, y: int, n: int = 1) -> tuple[float, float, float, float]:
    size = 2 * WORLD / (2**z)
    minx = -WORLD + x * size
    maxy = WORLD - y * size
    return minx, maxy - n * size, minx + n * size, maxy


def png_tile(layer, z: int, x: int, y: int, scope, raw_filters: dict) -> cache.Entry:
    """One 256 px PNG tile from the tile cache (variant "png|scope|filters" beside the vector tile,
    so the same invalidation drops both), else its whole metatile rendered, cut and stored."""
    if layer.tiles.image is not None:
        return cache.Entry.of(callable_image(layer, scope, raw_filters, tile_bounds(z, x, y), TILE, TILE))
    scope_key, scope_sql, scope_params = scope
    kind = variant("png", scope_key, raw_filters)
    entry, slot = cache.lookup(layer, z, x, y, kind)
    if entry is not None:
        return entry
    if z < layer.tiles.minzoom:
        return cache.Entry.of(empty_png())
    n = min(META, 2**z)
    mx, my = x - x % n, y - y % n
    lock = f"pnglock:{layer.id}:{kind}:{z}/{mx}/{my}"
    if not cache.client().set(lock, b"1", nx=True, ex=int(pool.RENDER_TIMEOUT) + 5):
        # Another request renders this metatile right now: wait for its tiles rather than render twice.
        deadline = time.monotonic() + pool.RENDER_TIMEOUT
        while time.monotonic() < deadline:
            time.sleep(0.05)
            entry, slot = cache.lookup(layer, z, x, y, kind)
            if entry is not None:
                return entry
    try:
        # Stamps are read before the database, so tiles rendered from data older than a commit
        # that invalidates them are not stored (tiles.cache.store checks).
        slots = {(c, r): cache.lookup(layer, z, mx + c, my + r, kind)[1] for c in range(n) for r in range(n)}
        bbox = tile_bounds(z, mx, my, n)
        res = (bbox[2] - bbox[0]) / (n * TILE)
        pad = res * BUFFER_PX
        query_box = (bbox[0] - pad, bbox[1] - pad, bbox[2] + pad, bbox[3] + pad)
        name, xml = style_key(layer)
        source = layer_source(layer, query_box, res, scope_sql, scope_params, bound_filters(layer, raw_filters))
        job = {
            "width": n * TILE,
            "height": n * TILE,
            "srs": "epsg:3857",
            "bbox": bbox,
            "buffer": BUFFER_PX,
            "background": None,
            "format": PNG,
            "cut": TILE,
            "layers": [(name, xml, source)],
        }
        pieces = pool.render(job)
        mine = None
        for pos, png in pieces.items():
            piece = cache.Entry.of(png)
            cache.store(slots[pos], piece)
            if pos == (x - mx, y - my):
                mine = piece
        return mine
    finally:
        cache.client().delete(lock)


def callable_image(layer, scope, raw_filters: dict, bbox_3857, width: int, height: int, srs="epsg:3857", bbox=None):
    """A layer drawn by its Tiles.image callable; its ClientErrors become BadTileRequests."""
    try:
        return layer.tiles.image(scope, raw_filters, bbox_3857, width, height, srs, bbox)
    except BadTileRequest:
        raise
    except ClientError as exc:
        raise BadTileRequest(exc.message, exc.field, exc.status) from None


_EMPTY = {}


def empty_png() -> bytes:
    """A transparent 256 px tile (made once per process, by a render process)."""
    if "png" not in _EMPTY:
        _EMPTY["png"] = pool.render(
            {
                "width": TILE,
                "height": TILE,
                "srs": "epsg:3857",
                "bbox": tile_bounds(0, 0, 0),
                "format": PNG,
                "layers": [],
            }
        )
    return _EMPTY["png"]


def render_tile_png(layer, z: int, x: int, y: int, scope, raw_filters: dict) -> bytes:
    """One 256 px PNG tile. scope: the layer's tiles.scope(user) (cache key, SQL, params);
    raw_filters: tiles.render.parse_filters() output."""
    return png_tile(layer, z, x, y, scope, raw_filters).raw
