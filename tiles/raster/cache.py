"""Rendered PNG tiles in Redis, keyed per layer / scope / filters / z / x / y under a generation
number per change feed (components | grids): bump() after a change makes every older tile of that
feed unreachable at once (they expire on their own), with no key scans.

To be folded into the lead's tiles/cache.py helpers when they land; the interface stays get/put/bump."""
import hashlib
import os

import redis
from django.conf import settings

PREFIX = "gridcity:png"
_client = None


def client() -> redis.Redis:
    global _client
    if _client is None:
        url = os.environ.get("REDIS_URL") or settings.CELERY_BROKER_URL
        _client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return _client


def generation(changes: str) -> int:
    try:
        return int(client().get(f"{PREFIX}:gen:{changes}") or 0)
    except redis.RedisError:
        return -1  # Redis is down: callers render without the cache


def bump(changes: str) -> None:
    try:
        client().incr(f"{PREFIX}:gen:{changes}")
    except redis.RedisError:
        pass


def tile_key(layer_id: str, gen: int, variant: str, z: int, x: int, y: int) -> str:
    return f"{PREFIX}:{layer_id}:{gen}:{variant}:{z}/{x}/{y}"


def variant(scope_part: str, filters) -> str:
    """Scope and filters folded into one short key part ('all' when neither narrows the layer)."""
    parts = [scope_part or ""] + [f"{f.param}={value!r}" for f, value in sorted(filters, key=lambda fv: fv[0].param)]
    text = "|".join(parts)
    return "all" if text in ("", "all") else hashlib.sha1(text.encode()).hexdigest()[:16]


def get(key: str) -> bytes | None:
    try:
        return client().get(key)
    except redis.RedisError:
        return None


def put_many(items: dict[str, bytes], seconds: int) -> None:
    try:
        pipe = client().pipeline(transaction=False)
        for key, value in items.items():
            pipe.set(key, value, ex=seconds)
        pipe.execute()
    except redis.RedisError:
        pass


def lock(key: str, seconds: int = 30) -> bool:
    """True for the one request that renders a metatile; the others wait for its tiles."""
    try:
        return bool(client().set(f"{key}:lock", b"1", nx=True, ex=seconds))
    except redis.RedisError:
        return True


def unlock(key: str) -> None:
    try:
        client().delete(f"{key}:lock")
    except redis.RedisError:
        pass
