"""Cache-through vector tiles: one layer's tile for one user scope and filter set."""

import hashlib
import json

import psycopg
from django.db import OperationalError, connection

from gis_core.errors import ClientError
from gis_core.text import has_nul, is_ascii_digits
from layers.catalogue import Layer

from . import cache, disk
from .sql import MAX_ZOOM, TileRequest, tile_sql


class BadTileRequest(ClientError, ValueError):
    """A tile request the client must correct: `field` names the parameter, `status` the HTTP answer
    (rendered as JSON by tiles.views.error_response)."""

    def __init__(self, message: str, field: str | None, status: int = 400):
        super().__init__(message, field=field, status=status)


def parse_tile(z: str, x: str, y: str) -> tuple[int, int, int]:
    values = {}
    for name, raw in (("z", z), ("x", x), ("y", y)):
        if not is_ascii_digits(raw) or len(raw) > 8:
            raise BadTileRequest(f"{name} must be a non-negative integer, not {raw[:20]!r}", name)
        values[name] = int(raw)
    z, x, y = values["z"], values["x"], values["y"]
    if z > MAX_ZOOM:
        raise BadTileRequest(f"z must be 0-{MAX_ZOOM}", "z")
    for name, v in (("x", x), ("y", y)):
        if v >= 2**z:
            raise BadTileRequest(f"{name} must be below 2^z = {2**z} at z={z}", name)
    return z, x, y


def parse_filters(layers: list[Layer], query) -> dict[str, list[str]]:
    """Raw filter values per parameter, checked against what the requested layers declare."""
    allowed = {f.param for layer in layers for f in layer.tiles.filters}
    raw = {}
    for param in query:
        if has_nul(param) or any(has_nul(v) for v in query.getlist(param)):
            # Refused here: PostgreSQL cannot hold NUL in text and would fail the tile with a 500.
            raise BadTileRequest(f"{param[:40]!r} must not contain NUL characters", param.replace("\x00", "")[:40])
        if param not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise BadTileRequest(f"unknown parameter {param[:40]!r} (filters here: {known})", param[:40])
        values = [v.strip() for v in ",".join(query.getlist(param)).split(",") if v.strip()]
        if not values or len(values) > 200:
            raise BadTileRequest(f"{param} needs 1-200 comma-separated values", param)
        raw[param] = sorted(set(values))
    # Defaults join the raw values (and so the cache key: a default that moves, e.g. to a new day, is a new
    # variant). Only when every requested layer declaring the parameter gives a default: a combined tile
    # must not filter another layer by a default that is not its own.
    for layer in layers:
        for f in layer.tiles.filters:
            if f.default is None or f.param in raw:
                continue
            if all(g.default is not None for other in layers for g in other.tiles.filters if g.param == f.param):
                values = f.default()
                if values:
                    raw[f.param] = sorted(set(values))
    return raw


def bound_filters(layer: Layer, raw: dict[str, list[str]]) -> tuple[tuple[str, tuple], ...]:
    out = []
    for param, values in sorted(raw.items()):
        spec = layer.tiles.filter(param)
        if spec is None:
            continue
        try:
            out.append((spec.sql, tuple(spec.parse(values))))
        except ValueError as exc:
            raise BadTileRequest(f"{param}: {exc}", param) from None
    return tuple(out)


def variant(kind: str, scope_key: str, raw_filters: dict) -> str:
    if not raw_filters:
        return f"{kind}|{scope_key}"
    digest = hashlib.sha1(json.dumps(raw_filters, sort_keys=True).encode()).hexdigest()[:16]
    return f"{kind}|{scope_key}|{digest}"


def render(req: TileRequest) -> bytes:
    spec = req.layer.tiles
    if req.z < spec.minzoom:
        return b""
    sql, params = tile_sql(req)
    # Server-side binding on Django's own connection (so it sees the same transaction), prepared once
    # per connection: Django's client-side cursor would make PostgreSQL plan every tile again, which
    # on small tiles costs as much as running them (see prepare_threshold in gis_core/settings.py).
    # The bytea comes back in binary: in text it is hex, twice the size, encoded by the server and
    # decoded here.
    connection.ensure_connection()
    try:
        with psycopg.Cursor(connection.connection) as cur:
            cur.execute(sql, params, prepare=True, binary=True)
            row = cur.fetchone()
    except psycopg.Error as exc:
        # As Django's own cursors do: the next request start (close_old_connections) checks the
        # connection and replaces it if the error broke it (PostgreSQL restarted), instead of a 503
        # on every tile until CONN_MAX_AGE.
        connection.errors_occurred = True
        raise OperationalError(str(exc).strip()) from exc
    return bytes(row[0]) if row and row[0] else b""


def vector_tiles(
    layers_scopes, z: int, x: int, y: int, raw_filters: dict, session_key: str | None = None, *, wait: bool = False
) -> list[cache.Entry] | None:
    """Each (layer, scope)'s tile from the cache, or rendered, stored and returned; the lookups (and
    the check that `session_key` still exists, gis_core.request_user.session_user_unconfirmed) in one
    Redis round trip, the stores sent without waiting for Redis (cache.store_nowait) unless `wait` or
    tiles are mirrored to disk (which needs to know the store happened). None when the session key is
    gone: the caller must ask who is asking again."""
    layers_scopes = list(layers_scopes)
    variants = [variant("mvt", scope[0], raw_filters) for _, scope in layers_scopes]
    alive, found = cache.lookup_many(
        [(layer, z, x, y, v) for (layer, _), v in zip(layers_scopes, variants, strict=True)], session_key
    )
    if not alive:
        return None
    entries = []
    for (layer, (scope_key, scope_sql, scope_params)), (entry, slot) in zip(layers_scopes, found, strict=True):
        if entry is None:
            req = TileRequest(layer, z, x, y, scope_sql, tuple(scope_params), bound_filters(layer, raw_filters))
            raw = render(req)
            entry = cache.Entry.of(raw)
            if not wait and (raw_filters or disk.root() is None):
                cache.store_nowait(slot, entry)
            elif cache.store(slot, entry) and not raw_filters:
                disk.mirror(layer, z, x, y, scope_key, raw, entry, slot)
        entries.append(entry)
    return entries


def vector_tile(layer: Layer, z: int, x: int, y: int, scope, raw_filters: dict) -> cache.Entry:
    """The tile from the cache, or rendered, stored and returned. `scope` is the layer's scope(user)."""
    return vector_tiles([(layer, scope)], z, x, y, raw_filters, wait=True)[0]
