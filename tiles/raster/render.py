"""The Django side of raster rendering: one bbox-filtered SQL per layer (on the GiST-indexed
geom_3857, no per-row transform) returns the features as one GeoJSON text, which a render process
draws with mapnik. PNG tiles are rendered as metatiles (META x META tiles plus a buffer, so labels
and markers are not cut at tile edges), cut there, and every piece is cached."""
import math
import os
import time

from django.db import connection

from . import cache, pool
from .styles import label_column, scale_for_zoom, style_key

WORLD = 20037508.342789244  # half the Web Mercator world width, metres
TILE = 256
META = max(1, int(os.environ.get("GRIDCITY_RASTER_META", "4")))
BUFFER_PX = 64
MAX_FEATURES = 250_000  # per layer and render: a memory bound, far above any sane map
PNG = "png8:m=h"  # palette PNG with alpha: a third of the size of RGBA, same look for these styles


def features_geojson(layer, bbox, res: float, scope_sql: str = "TRUE", scope_params=(), filters=()) -> str:
    """The layer's features meeting bbox (EPSG:3857) as a GeoJSON FeatureCollection text in EPSG:3857,
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
    scope_named, params = _named(scope_sql, scope_params, "s")
    where = [f"{t.geometry} && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 3857)", f"({t.where})",
             f"({scope_named})"]
    params.update({"x0": bbox[0], "y0": bbox[1], "x1": bbox[2], "y1": bbox[3], "tol": res * t.simplify_px,
                   "digits": digits, "grid": res, "limit": MAX_FEATURES})
    for i, (f, value) in enumerate(filters):
        sql, named = _named(f.sql, [value], f"f{i}_")
        where.append(f"({sql})")
        params.update(named)
    if thin:
        rows = (f"SELECT ST_AsGeoJSON(ST_SnapToGrid({geom}, %(grid)s), %(digits)s) AS g FROM {t.table} "
                f"WHERE {' AND '.join(where)} GROUP BY 1 LIMIT %(limit)s")
        feature = """'{"type":"Feature","properties":{},"geometry":' || g || '}'"""
    else:
        # the style's TextSymbolizer reads [<label>]; the name is a constant of the catalogue
        props = f"json_build_object('{label}', {label_expr})::text" if label_expr else "'{}'"
        rows = (f"SELECT ST_AsGeoJSON({geom}, %(digits)s) AS g, {props} AS p FROM {t.table} "
                f"WHERE {' AND '.join(where)} LIMIT %(limit)s")
        feature = """'{"type":"Feature","properties":' || p || ',"geometry":' || g || '}'"""
    sql = (f"""SELECT count(*), '{{"type":"FeatureCollection","features":[' || """
           f"""coalesce(string_agg({feature}, ','), '') || ']}}' FROM ({rows}) s WHERE g IS NOT NULL""")
    with connection.cursor() as cur:
        cur.execute(sql, params)
        count, text = cur.fetchone()
    return text if count else ""


def _named(sql: str, params, prefix: str) -> tuple[str, dict]:
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


def job_layers(layers, bbox, res, scopes, filters_by_layer=None) -> list:
    """(style name, style XML, GeoJSON) per layer, bottom first. scopes: layer id -> (sql, params)."""
    out = []
    for layer in layers:
        name, xml = style_key(layer)
        scope_sql, scope_params = scopes[layer.id]
        geojson = features_geojson(layer, bbox, res, scope_sql, scope_params,
                                   (filters_by_layer or {}).get(layer.id, ()))
        out.append((name, xml, geojson))
    return out


def render_map(layers, bbox_3857, width, height, srs="epsg:3857", bbox=None, scopes=None, transparent=True,
               background="#ffffff", fmt="png", buffer_px=32) -> bytes:
    """One image of several layers (a WMS GetMap). bbox_3857 selects the rows; bbox (in srs, x/y
    order) frames the image when srs is not EPSG:3857 (mapnik reprojects the vertices)."""
    res = max((bbox_3857[2] - bbox_3857[0]) / width, (bbox_3857[3] - bbox_3857[1]) / height)
    pad = res * buffer_px
    query_box = (bbox_3857[0] - pad, bbox_3857[1] - pad, bbox_3857[2] + pad, bbox_3857[3] + pad)
    job = {"width": width, "height": height, "srs": srs, "bbox": tuple(bbox or bbox_3857), "buffer": buffer_px,
           "background": None if transparent else background, "format": fmt,
           "layers": job_layers(layers, query_box, res, scopes)}
    return pool.render(job)


def tile_bounds(z: int, x: int, y: int, n: int = 1) -> tuple[float, float, float, float]:
    size = 2 * WORLD / (2 ** z)
    minx = -WORLD + x * size
    maxy = WORLD - y * size
    return minx, maxy - n * size, minx + n * size, maxy


def render_tile_png(layer, z: int, x: int, y: int, scope, filters=()) -> bytes:
    """One 256 px PNG tile. scope: the layer's tiles.scope(user) tuple (cache part, SQL, params);
    filters: [(TileFilter, parsed value)]. The whole metatile around it is rendered and cached."""
    scope_part, scope_sql, scope_params = scope
    gen = cache.generation(layer.tiles.changes)
    variant = cache.variant(scope_part, filters)
    key = cache.tile_key(layer.id, gen, variant, z, x, y)
    if gen >= 0:
        hit = cache.get(key)
        if hit is not None:
            return hit
    n = min(META, 2 ** z)
    mx, my = x - x % n, y - y % n
    meta_key = cache.tile_key(layer.id, gen, variant, z, mx, my) + ":meta"
    locked = gen >= 0 and cache.lock(meta_key)
    if gen >= 0 and not locked:
        # Another request renders this metatile right now: wait briefly for its tiles.
        deadline = time.monotonic() + pool.RENDER_TIMEOUT
        while time.monotonic() < deadline:
            time.sleep(0.05)
            hit = cache.get(key)
            if hit is not None:
                return hit
    try:
        bbox = tile_bounds(z, mx, my, n)
        res = (bbox[2] - bbox[0]) / (n * TILE)
        pad = res * BUFFER_PX
        query_box = (bbox[0] - pad, bbox[1] - pad, bbox[2] + pad, bbox[3] + pad)
        name, xml = style_key(layer)
        geojson = features_geojson(layer, query_box, res, scope_sql, scope_params, filters)
        job = {"width": n * TILE, "height": n * TILE, "srs": "epsg:3857", "bbox": bbox, "buffer": BUFFER_PX,
               "background": None, "format": PNG, "cut": TILE, "layers": [(name, xml, geojson)]}
        pieces = pool.render(job)
        if gen >= 0:
            cache.put_many({cache.tile_key(layer.id, gen, variant, z, mx + c, my + r): png
                            for (c, r), png in pieces.items()}, layer.tiles.cache_seconds)
        return pieces[(x - mx, y - my)]
    finally:
        if locked:
            cache.unlock(meta_key)


__all__ = ["render_tile_png", "render_map", "features_geojson", "tile_bounds", "scale_for_zoom"]
