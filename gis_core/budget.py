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


class Slot:
    def __init__(self, key: str | None):
        self._key = key

    def release(self) -> None:
        key, self._key = self._key, None
        if key is None:
            return
        try:
            if cache.decr(key) < 0:
                cache.set(key, 0, SLOT_TTL_SECONDS)
        except ValueError:
            pass  # expired meanwhile: nothing left to give back
        except Exception:  # noqa: BLE001 - Redis down: the count expires by itself
            log.warning("request budget: could not release %s", key, exc_info=True)


def acquire(client: str, limit: int | None = None) -> Slot:
    """A slot for one running request of `client`; OverBudget when it already has `limit` running."""
    limit = int(settings.GRIDCITY_OGC_CONCURRENT_PER_CLIENT if limit is None else limit)
    if limit <= 0:
        return Slot(None)
    key = _key(client)
    try:
        cache.add(key, 0, SLOT_TTL_SECONDS)
        try:
            running = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, SLOT_TTL_SECONDS)
            running = 1
        cache.touch(key, SLOT_TTL_SECONDS)
    except Exception:  # noqa: BLE001 - see the module docstring
        log.warning("request budget: Redis unavailable, not enforced", exc_info=True)
        return Slot(None)
    slot = Slot(key)
    if running > limit:
        slot.release()
        raise OverBudget(limit)
    return slot


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
