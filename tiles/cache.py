"""Tiles cached in Redis under versioned keys, invalidated exactly after commit.

Layout, per layer L and tile z/x/y:
  tile:{L}:{spec}:{gen}:{z}/{x}/{y}  a hash: field "_v" (the tile's invalidation stamp) and one field
                                     per (scope, filters, format) variant holding etag + gzip bytes
  tilegen:{L}                        a hash z -> generation, bumped when a change touches too many
                                     tiles of that zoom to name them one by one
{spec} is a digest of the layer's declaration, so a changed declaration never serves old tiles.
A miss reads the stamp before the database; the rendered tile is stored only if the stamp is still the
same, so a tile rendered from a snapshot older than a commit cannot outlive its invalidation."""

import hashlib
import logging
import threading

import redis
from django.conf import settings
from django.db import connection
from hiredis import pack_command

from layers.catalogue import Layer

try:
    # ISA-L's deflate (python-isal): the same gzip format, 2-3x faster than zlib at level 1 on the
    # benchmark's tiles (8-14 against 24-33 us a tile, +0.5% bytes); zlib when it is not installed.
    from isal.igzip import compress as _gzip
    from isal.igzip import decompress as _gunzip
except ImportError:  # pragma: no cover - isal is a dependency; a bare environment still serves tiles
    from gzip import compress as _gzip
    from gzip import decompress as _gunzip

log = logging.getLogger(__name__)
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


def gzip_of(raw: bytes) -> bytes:
    """The tile as sent to gzip clients and cached: level 1 (2.5x faster than 6 on real tiles for 7%
    more bytes; the cold path is what it costs), no timestamp, so the same tile is the same bytes."""
    return _gzip(raw, 1, mtime=0) if raw else b""


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
            self._raw = _gunzip(self.gz) if self.gz else b""
        return self._raw

    def pack(self) -> bytes:
        return self.etag.encode() + b"\n" + self.gz

    @classmethod
    def unpack(cls, packed: bytes) -> "Entry":
        etag, _, gz = packed.partition(b"\n")
        return cls(etag.decode(), gz)

    @classmethod
    def of(cls, raw: bytes) -> "Entry":
        return cls(etag_of(raw), gzip_of(raw), raw)


class Slot:
    """Where one tile variant lives in the cache, with the stamp read before rendering."""

    __slots__ = ("key", "field", "stamp", "ttl")

    def __init__(self, key, field, stamp, ttl):
        self.key, self.field, self.stamp, self.ttl = key, field, stamp, ttl


def _command(*args) -> bytes:
    """One Redis command in RESP, packed by hiredis (C): redis-py's general packer was a sixth of a cold
    tile's Python time (it encodes each argument through several layers)."""
    return pack_command(args)


_LOOKUP_SHA = hashlib.sha1(_LOOKUP.encode()).hexdigest()


def _run_lookup(args: list) -> list:
    """The lookup script on this thread's own connection: EVALSHA, EVAL once if Redis lost the script;
    once more on a new connection if the kept one was closed under us (a Redis restart, an idle timeout)."""
    for attempt in (1, 2):
        conn = getattr(_local, "reader", None)
        kept = conn is not None
        try:
            if conn is None:
                conn = _local.reader = client().connection_pool.make_connection()
                conn.connect()
            conn.send_packed_command([_command("EVALSHA", _LOOKUP_SHA, 0, *args)], check_health=False)
            try:
                return conn.read_response()
            except redis.exceptions.NoScriptError:
                conn.send_packed_command([_command("EVAL", _LOOKUP, 0, *args)], check_health=False)
                return conn.read_response()
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            _local.reader = None
            if conn is not None:
                conn.disconnect()
            if attempt == 2 or not kept:
                raise
    raise AssertionError("unreachable")


def lookup_many(tiles, must_exist: str | None = None) -> tuple[bool, list[tuple[Entry | None, Slot]]]:
    """The cached entries and slots of `tiles`, (layer, z, x, y, variant) each, in one round trip, with
    whether the key `must_exist` (a session's, gis_core.request_user) exists (True when not given)."""
    args = [must_exist or ""]
    prefixes = []
    for layer, z, x, y, variant in tiles:
        prefix = _prefix(layer)
        prefixes.append(prefix)
        args += [f"tilegen:{layer.id}", z, prefix, f":{z}/{x}/{y}", variant]
    reply = _run_lookup(args)
    out = []
    for i, (layer, z, x, y, variant) in enumerate(tiles):
        gen, stamp, value = reply[1 + 3 * i : 4 + 3 * i]
        slot = Slot(f"{prefixes[i]}{gen.decode()}:{z}/{x}/{y}", variant, stamp, layer.tiles.cache_seconds)
        out.append(((Entry.unpack(value) if value else None), slot))
    return bool(reply[0]), out


def lookup(layer: Layer, z: int, x: int, y: int, variant: str) -> tuple[Entry | None, Slot]:
    return lookup_many([(layer, z, x, y, variant)])[1][0]


def store(slot: Slot, entry: Entry) -> bool:
    return bool(_script("store")(keys=[slot.key], args=[slot.stamp, slot.field, entry.pack(), slot.ttl]))


def store_nowait(slot: Slot, entry: Entry) -> None:
    """store() without waiting for Redis's answer: a cold tile then costs one round trip (the lookup),
    not two. Sent on this thread's own connection with CLIENT REPLY OFF, before the thread's next
    lookup (Redis handles them in that order). Still exact: the script compares the stamp when it runs,
    so a store that lands after an invalidation is refused there. A store that is lost (Redis gone
    between the lookup and here) is only a tile not cached, so it is logged, not raised."""
    conn = getattr(_local, "sender", None)
    try:
        if conn is None:
            conn = client().connection_pool.make_connection()  # outside the pool: it never answers
            conn.connect()
            conn.send_command("CLIENT", "REPLY", "OFF")
            _local.sender = conn
        # EVAL, not EVALSHA: with no reply, a script missing after a Redis restart would fail unseen.
        conn.send_packed_command(
            [_command("EVAL", _STORE, 1, slot.key, slot.stamp, slot.field, entry.pack(), slot.ttl)], check_health=False
        )
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        _local.sender = None
        if conn is not None:
            conn.disconnect()
        log.warning("tile cache store not sent: %s", exc)


def still_current(layer: Layer, z: int, slot: Slot) -> bool:
    """True while neither the tile's stamp nor its zoom's generation moved since `slot` was read."""
    with client().pipeline(transaction=False) as pipe:  # one round trip: the disk copy is on the cold path
        pipe.hget(f"tilegen:{layer.id}", z)
        pipe.hget(slot.key, "_v")
        gen, stamp = pipe.execute()
    if not slot.key.startswith(f"{_prefix(layer)}{(gen or b'0').decode()}:"):
        return False
    return (stamp or b"0") == (slot.stamp if isinstance(slot.stamp, bytes) else str(slot.stamp).encode())


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
