"""The one SQL statement behind each vector tile, built from a layer's `Tiles` declaration.

Only constant SQL from the catalogue is pasted; the tile, the user's scope and every filter value are
bound parameters. The benchmark runs exactly these statements as its floor."""

from dataclasses import dataclass

import mercantile

from gis_core.mercator import HALF_WORLD
from layers.catalogue import Layer

from .cells import CELL_LEVELS, CLUSTER_MAX_ZOOM
from .where import index_column, layer_conditions

EXTENT = 4096
BUFFER = 64  # in tile units: symbols up to 1/64 of a tile across are not cut at edges
MAX_ZOOM = 22


@dataclass(frozen=True)
class TileRequest:
    layer: Layer
    z: int
    x: int
    y: int
    scope_sql: str = "TRUE"
    scope_params: tuple = ()
    filters: tuple[tuple[str, tuple], ...] = ()  # (SQL condition, bound values), already parsed

    @property
    def unfiltered(self) -> bool:
        return self.scope_sql == "TRUE" and not self.filters


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    b = mercantile.xy_bounds(x, y, z)
    return b.left, b.bottom, b.right, b.top


def tile_sql(req: TileRequest) -> tuple[str, list]:
    """(statement, parameters) returning one bytea: the layer's MVT for the tile (empty when none)."""
    spec = req.layer.tiles
    if spec.clusters_below is not None and req.z < min(spec.clusters_below, CLUSTER_MAX_ZOOM + 1):
        if req.unfiltered and spec.cells is not None:
            return _stored_clusters(req)
        return _live_clusters(req)
    return _features(req)


def _conditions(req: TileRequest) -> tuple[str, list]:
    return layer_conditions(req.layer, req.scope_sql, req.scope_params, req.filters)


def _envelopes(req: TileRequest) -> tuple[list, list]:
    minx, miny, maxx, maxy = tile_bounds(req.z, req.x, req.y)
    margin = (maxx - minx) * BUFFER / EXTENT
    return [minx, miny, maxx, maxy], [minx - margin, miny - margin, maxx + margin, maxy + margin]


def _features(req: TileRequest) -> tuple[str, list]:
    spec = req.layer.tiles
    tile, query = _envelopes(req)
    geom = next((expr for upto, expr in spec.geometry_by_zoom if req.z <= upto), spec.geometry)
    params: list = []
    if spec.simplify_px:
        geom = f"ST_Simplify({geom}, %s, true)"
        params.append(spec.simplify_px * 2 * HALF_WORLD / 256 / 2**req.z)
    columns = "".join(f", {expr} AS {name}" for name, expr in spec.columns)
    where, where_params = _conditions(req)
    if spec.label_points:
        labels, label_params = _label_points(req, columns, where, where_params)
        columns += ", NULL::boolean AS label"
    else:
        labels, label_params = "", []
    sql = (
        f"SELECT ST_AsMVT(q, %s, {EXTENT}, 'geom', 'fid') FROM (("
        f"SELECT {spec.id_column} AS fid, ST_AsMVTGeom({geom}, ST_MakeEnvelope(%s, %s, %s, %s, 3857), "
        f"{EXTENT}, {BUFFER}, true) AS geom{columns} "
        f"FROM {spec.table} "
        f"WHERE {index_column(req.layer)} && ST_MakeEnvelope(%s, %s, %s, %s, 3857) AND {where} "
        f"LIMIT {int(spec.feature_limit)}){labels}) q WHERE geom IS NOT NULL"
    )
    return sql, [req.layer.id, *params, *tile, *query, *where_params, *label_params]


def _label_points(req: TileRequest, columns: str, where: str, where_params: list) -> tuple[str, list]:
    """The label points lying in the tile itself: half-open bounds, so a point on a shared tile edge
    belongs to exactly one tile, and each name is written once across the map."""
    spec = req.layer.tiles
    tile, _ = _envelopes(req)
    minx, miny, maxx, maxy = tile
    point = spec.label_points
    sql = (
        f" UNION ALL (SELECT {spec.id_column} AS fid, ST_AsMVTGeom({point}, ST_MakeEnvelope(%s, %s, %s, %s, 3857), "
        f"{EXTENT}, 0, false) AS geom{columns}, true AS label "
        f"FROM {spec.table} "
        f"WHERE {point} && ST_MakeEnvelope(%s, %s, %s, %s, 3857) AND ST_X({point}) >= %s AND ST_X({point}) < %s "
        f"AND ST_Y({point}) > %s AND ST_Y({point}) <= %s AND {where} LIMIT {int(spec.feature_limit)})"
    )
    return sql, [*tile, *tile, minx, maxx, miny, maxy, *where_params]


def _cell_size(z: int) -> float:
    return 2 * HALF_WORLD / 2 ** (z + CELL_LEVELS)


def _stored_clusters(req: TileRequest) -> tuple[str, list]:
    """Clusters read from the counts the layer's triggers keep (its StoredCells table): no scan of rows."""
    spec = req.layer.tiles
    tile, _ = _envelopes(req)
    per_tile = 2**CELL_LEVELS
    # One ring of neighbouring cells: their centres may fall in the tile's buffer.
    x0, y0 = req.x * per_tile - 1, req.y * per_tile - 1
    cells = spec.cells
    group_sql, group_params = (f"AND {cells.group_column} = %s", [cells.group]) if cells.group else ("", [])
    sql = (
        f"SELECT ST_AsMVT(q, %s, {EXTENT}, 'geom') FROM ("
        f"SELECT ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(sx / n, sy / n), 3857), "
        f"ST_MakeEnvelope(%s, %s, %s, %s, 3857), {EXTENT}, {BUFFER}, true) AS geom, n AS count, true AS cluster "
        f"FROM (SELECT sum(n)::int AS n, sum(sx) AS sx, sum(sy) AS sy FROM {cells.table} "
        f"WHERE z = %s AND cx BETWEEN %s AND %s AND cy BETWEEN %s AND %s {group_sql} GROUP BY cx, cy) c "
        f"WHERE n > 0) q WHERE geom IS NOT NULL"
    )
    return sql, [req.layer.id, *tile, req.z, x0, x0 + per_tile + 1, y0, y0 + per_tile + 1, *group_params]


def _live_clusters(req: TileRequest) -> tuple[str, list]:
    """Clusters counted on the fly, for a scoped user or filtered request: the same cells as the
    stored ones, over only the rows the scope and filters let through."""
    spec = req.layer.tiles
    tile, query = _envelopes(req)
    cell = _cell_size(req.z)
    where, where_params = _conditions(req)
    sql = (
        f"SELECT ST_AsMVT(q, %s, {EXTENT}, 'geom') FROM ("
        f"SELECT ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(avg(px), avg(py)), 3857), "
        f"ST_MakeEnvelope(%s, %s, %s, %s, 3857), {EXTENT}, {BUFFER}, true) AS geom, count(*)::int AS count, "
        f"true AS cluster FROM ("
        f"SELECT ST_X(p) AS px, ST_Y(p) AS py FROM (SELECT ST_PointOnSurface({spec.geometry}) AS p "
        f"FROM {spec.table} WHERE {index_column(req.layer)} && ST_MakeEnvelope(%s, %s, %s, %s, 3857) "
        f"AND {where}) a) b "
        f"GROUP BY floor((px + {HALF_WORLD}) / %s), floor(({HALF_WORLD} - py) / %s)) q WHERE geom IS NOT NULL"
    )
    return sql, [req.layer.id, *tile, *query, *where_params, cell, cell]
