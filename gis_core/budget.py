"""How many expensive requests one client may have running at once (per user, or per address for a
client not logged in), counted in Redis so the limit holds across every worker and process. Without
it a single client (three GetFeature bodies at once) could hold every worker and stall the site.

A slot is taken before the work and given back when the answer is complete (for a streamed answer,
when the stream ends or is closed). Slots expire after SLOT_TTL_SECONDS, longer than the worker
timeout, so a worker killed mid-request cannot hold one for ever. If Redis is unreachable the budget
is not enforced: it protects the service, it must not become a way for it to fail."""

import logging

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)

SLOT_TTL_SECONDS = 120
RETRY_AFTER_SECONDS = 5


class OverBudget(Exception):
    def __init__(self, limit: int, retry_after: int = RETRY_AFTER_SECONDS):
        super().__init__(f"at most {limit} requests of this kind at once per client; wait for one to finish")
        self.text = str(self)
        self.limit = limit
        self.retry_after = retry_after


def client_key(request, user=None) -> str:
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    return f"addr:{request.META.get('REMOTE_ADDR', '')}"


def _key(client: str) -> str:
    return f"budget:running:{client}"


# KEYS: the count. ARGV: limit, ttl. Takes a slot and renews the count's lifetime, or gives it
# straight back when the client already has `limit` running: 1 (taken) or 0, in one round trip.
_ACQUIRE = """
local n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
if n > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[1])
  return 0
end
return 1
"""
# KEYS: the count. Gives a slot back; never below 0 (the count may have expired and restarted meanwhile).
_RELEASE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = redis.call('DECR', KEYS[1])
if n < 0 then redis.call('SET', KEYS[1], 0, 'KEEPTTL') end
return n
"""


def _scripts():
    from .request_user import _redis

    client = _redis()
    scripts = getattr(client, "_gridcity_budget", None)
    if scripts is None:
        scripts = client._gridcity_budget = (client.register_script(_ACQUIRE), client.register_script(_RELEASE))
    return scripts


class Slot:
    def __init__(self, key: str | None):
        self._key = key

    def release(self) -> None:
        key, self._key = self._key, None
        if key is None:
            return
        try:
            _scripts()[1](keys=[cache.make_key(key)])
        except Exception:  # noqa: BLE001 - Redis down: the count expires by itself
            log.warning("request budget: could not release %s", key, exc_info=True)


def acquire(client: str, limit: int | None = None) -> Slot:
    """A slot for one running request of `client`; OverBudget when it already has `limit` running.
    One Redis round trip to take it, one to give it back (the count is Django's cache key, so
    running() reads it through the cache)."""
    limit = int(settings.GRIDCITY_OGC_CONCURRENT_PER_CLIENT if limit is None else limit)
    if limit <= 0:
        return Slot(None)
    key = _key(client)
    try:
        taken = _scripts()[0](keys=[cache.make_key(key)], args=[limit, SLOT_TTL_SECONDS])
    except Exception:  # noqa: BLE001 - see the module docstring
        log.warning("request budget: Redis unavailable, not enforced", exc_info=True)
        return Slot(None)
    if not taken:
        raise OverBudget(limit)
    return Slot(key)


def running(client: str) -> int:
    return int(cache.get(_key(client)) or 0)


class _Releasing:
    """A streamed answer's content that gives the slot back when it ends or is closed."""

    def __init__(self, content, slot: Slot):
        self._it, self._slot = iter(content), slot

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return next(self._it)
        except BaseException:
            self._slot.release()
            raise

    def close(self):
        close = getattr(self._it, "close", None)
        try:
            if close is not None:
                close()
        finally:
            self._slot.release()


def hold_until_sent(response, slot: Slot):
    """The response, its slot given back once it is complete."""
    if getattr(response, "streaming", False):
        response.streaming_content = _Releasing(response.streaming_content, slot)
    else:
        slot.release()
    return response


def run(client: str, work):
    """work() within a slot of `client`; raises OverBudget."""
    slot = acquire(client)
    try:
        response = work()
    except BaseException:
        slot.release()
        raise
    return hold_until_sent(response, slot)
