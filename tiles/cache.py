"""Tiles cached in Redis under versioned keys, invalidated exactly after commit.

Layout, per layer L and tile z/x/y:
  tile:{L}:{spec}:{gen}:{z}/{x}/{y}  a hash: field "_v" (the tile's invalidation stamp) and one field
                                     per (scope, filters, format) variant holding etag + gzip bytes
  tilegen:{L}                        a hash z -> generation, bumped when a change touches too many
                                     tiles of that zoom to name them one by one
{spec} is a digest of the layer's declaration, so a changed declaration never serves old tiles.
A miss reads the stamp before the database; the rendered tile is stored only if the stamp is still the
same, so a tile rendered from a snapshot older than a commit cannot outlive its invalidation."""

import gzip
import hashlib
import threading

import redis
from django.conf import settings
from django.db import connection

from layers.catalogue import Layer

_local = threading.local()

# ARGV: a key whose existence to report ('' for none: then 1), then per tile: gen hash, z, key prefix,
# key suffix, field. Returns {exists, then per tile gen, stamp, value}: every tile of a request and the
# session check of its user in one round trip.
_LOOKUP = """
local out = {1}
if ARGV[1] ~= '' then out[1] = redis.call('EXISTS', ARGV[1]) end
for i = 2, #ARGV, 5 do
  local g = redis.call('HGET', ARGV[i], ARGV[i + 1]) or '0'
  local v = redis.call('HMGET', ARGV[i + 2] .. g .. ARGV[i + 3], '_v', ARGV[i + 4])
  out[#out + 1] = g
  out[#out + 1] = v[1] or '0'
  out[#out + 1] = v[2] or ''
end
return out
"""
# KEYS: tile key. ARGV: expected stamp, field, value, ttl.
_STORE = """
if (redis.call('HGET', KEYS[1], '_v') or '0') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return 1
"""
# KEYS: tile keys. ARGV: ttl. Drops every variant and moves each stamp on.
_INVALIDATE = """
for i, k in ipairs(KEYS) do
  local v = tonumber(redis.call('HGET', k, '_v') or '0') + 1
  redis.call('DEL', k)
  redis.call('HSET', k, '_v', v)
  redis.call('EXPIRE', k, tonumber(ARGV[1]))
end
return #KEYS
"""
# ARGV, per layer: its generation hash, key prefix, ttl, its named tiles ("z/x/y z/x/y ...") and its
# whole zooms ("z z ..."): few arguments however many tiles (packing one per tile cost more than the
# script). invalidate_many's plan in ONE round trip: each named tile is dropped as _INVALIDATE does,
# under the generation of its zoom, then the whole zooms move to a new generation.
_INVALIDATE_MANY = """
local dropped = 0
for i = 1, #ARGV, 5 do
  local gens_key, prefix, ttl = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local gens = {}
  for tile in string.gmatch(ARGV[i + 3], '%S+') do
    local z = string.match(tile, '^(%d+)/')
    local g = gens[z]
    if g == nil then
      g = redis.call('HGET', gens_key, z) or '0'
      gens[z] = g
    end
    local k = prefix .. g .. ':' .. tile
    local v = tonumber(redis.call('HGET', k, '_v') or '0') + 1
    redis.call('DEL', k)
    redis.call('HSET', k, '_v', v)
    redis.call('EXPIRE', k, ttl)
    dropped = dropped + 1
  end
  for z in string.gmatch(ARGV[i + 4], '%S+') do
    redis.call('HINCRBY', gens_key, z, 1)
  end
end
return dropped
"""


def client() -> redis.Redis:
    c = getattr(_local, "client", None)
    if c is None:
        c = _local.client = redis.Redis.from_url(settings.REDIS_URL)
        _local.scripts = {
            name: c.register_script(src)
            for name, src in (
                ("lookup", _LOOKUP),
                ("store", _STORE),
                ("invalidate", _INVALIDATE),
                ("invalidate_many", _INVALIDATE_MANY),
            )
        }
    return c


def _script(name):
    client()
    return _local.scripts[name]


_spec_digests: dict[str, str] = {}


def spec_digest(layer: Layer) -> str:
    d = _spec_digests.get(layer.id)
    if d is None:
        t = layer.tiles
        text = repr(
            (
                t.table,
                t.columns,
                t.where,
                t.geometry,
                t.bbox_column,
                t.id_column,
                t.minzoom,
                t.maxzoom,
                t.simplify_px,
                t.geometry_by_zoom,
                t.clusters_below,
                t.cells,
                t.feature_limit,
                [(f.param, f.sql) for f in t.filters],
                settings.TILE_CACHE_VERSION,
                # One Redis may serve several databases (development, tests): never each other's tiles.
                connection.settings_dict["NAME"],
                connection.settings_dict.get("PORT"),
            )
        )
        d = _spec_digests[layer.id] = hashlib.sha1(text.encode()).hexdigest()[:10]
    return d


def _prefix(layer: Layer) -> str:
    return f"tile:{layer.id}:{spec_digest(layer)}:"


def etag_of(raw: bytes) -> str:
    return hashlib.blake2b(raw, digest_size=12).hexdigest()


class Entry:
    """A cached tile: its strong ETag and gzip bytes; `raw` decompresses when a client lacks gzip (a tile
    just rendered keeps its raw bytes, so such a client's miss costs no round trip through zlib)."""

    __slots__ = ("etag", "gz", "_raw")

    def __init__(self, etag: str, gz: bytes, raw: bytes | None = None):
        self.etag, self.gz, self._raw = etag, gz, raw

    @property
    def raw(self) -> bytes:
        if self._raw is None:
            self._raw = gzip.decompress(self.gz) if self.gz else b""
        return self._raw

    def pack(self) -> bytes:
        return self.etag.encode() + b"\n" + self.gz

    @classmethod
    def unpack(cls, packed: bytes) -> "Entry":
        etag, _, gz = packed.partition(b"\n")
        return cls(etag.decode(), gz)

    @classmethod
    def of(cls, raw: bytes) -> "Entry":
        # Level 1: 2.5x faster than 6 on real tiles for 7% more bytes; the cold path is what it costs.
        return cls(etag_of(raw), gzip.compress(raw, 1, mtime=0) if raw else b"", raw)


class Slot:
    """Where one tile variant lives in the cache, with the stamp read before rendering."""

    __slots__ = ("key", "field", "stamp", "ttl")

    def __init__(self, key, field, stamp, ttl):
        self.key, self.field, self.stamp, self.ttl = key, field, stamp, ttl


def lookup_many(tiles, must_exist: str | None = None) -> tuple[bool, list[tuple[Entry | None, Slot]]]:
    """The cached entries and slots of `tiles`, (layer, z, x, y, variant) each, in one round trip, with
    whether the key `must_exist` (a session's, gis_core.request_user) exists (True when not given)."""
    args = [must_exist or ""]
    for layer, z, x, y, variant in tiles:
        args += [f"tilegen:{layer.id}", z, _prefix(layer), f":{z}/{x}/{y}", variant]
    reply = _script("lookup")(keys=[], args=args)
    out = []
    for i, (layer, z, x, y, variant) in enumerate(tiles):
        gen, stamp, value = reply[1 + 3 * i : 4 + 3 * i]
        slot = Slot(f"{_prefix(layer)}{gen.decode()}:{z}/{x}/{y}", variant, stamp, layer.tiles.cache_seconds)
        out.append(((Entry.unpack(value) if value else None), slot))
    return bool(reply[0]), out


def lookup(layer: Layer, z: int, x: int, y: int, variant: str) -> tuple[Entry | None, Slot]:
    return lookup_many([(layer, z, x, y, variant)])[1][0]


def store(slot: Slot, entry: Entry) -> bool:
    return bool(_script("store")(keys=[slot.key], args=[slot.stamp, slot.field, entry.pack(), slot.ttl]))


def still_current(layer: Layer, z: int, slot: Slot) -> bool:
    """True while neither the tile's stamp nor its zoom's generation moved since `slot` was read."""
    c = client()
    gen = (c.hget(f"tilegen:{layer.id}", z) or b"0").decode()
    if not slot.key.startswith(f"{_prefix(layer)}{gen}:"):
        return False
    return (c.hget(slot.key, "_v") or b"0") == (
        slot.stamp if isinstance(slot.stamp, bytes) else str(slot.stamp).encode()
    )


def invalidate_tiles(layer: Layer, tiles) -> int:
    """Drops every variant of the given (z, x, y) tiles of the layer, now."""
    gens = client().hgetall(f"tilegen:{layer.id}")
    keys = [f"{_prefix(layer)}{gens.get(str(z).encode(), b'0').decode()}:{z}/{x}/{y}" for z, x, y in tiles]
    n = 0
    for i in range(0, len(keys), 500):
        n += _script("invalidate")(keys=keys[i : i + 500], args=[layer.tiles.cache_seconds])
    return n


def invalidate_many(plan) -> int:
    """invalidate_tiles and invalidate_zoom for several layers in ONE Redis round trip (one edit feeds
    several layers, e.g. every grid level: a round trip each was most of a WFS-T update's after-commit
    time). plan: [(layer, [(z, x, y), ...], [whole zoom, ...]), ...]."""
    args: list = []
    for layer, tiles, whole in plan:
        if tiles or whole:
            named = " ".join(f"{z}/{x}/{y}" for z, x, y in tiles)
            args += [f"tilegen:{layer.id}", _prefix(layer), layer.tiles.cache_seconds, named, " ".join(map(str, whole))]
    if not args:
        return 0
    return int(_script("invalidate_many")(keys=[], args=args))


def invalidate_zoom(layer: Layer, z: int) -> None:
    """Drops every tile of one zoom at once (old entries expire on their own)."""
    client().hincrby(f"tilegen:{layer.id}", z, 1)


def invalidate_layer(layer: Layer) -> None:
    for z in range(layer.tiles.minzoom, layer.tiles.maxzoom + 1):
        invalidate_zoom(layer, z)
