"""The user behind a tile or map request, without two database queries per tile.

A map view fires dozens of tile requests a second; Django's session middleware reads the session
and the user from the database on each. Here the session comes from the cache (cached_db sessions)
and the user from a short per-process cache, like roles (components.roles), so a deactivation or
password change applies within USER_CACHE_SECONDS; a logout or an expired session at once."""

import threading
import time
from importlib import import_module

import redis
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.core.cache import cache
from django.utils.crypto import constant_time_compare

USER_CACHE_SECONDS = 30
MAX_ENTRIES = 10_000
_users: dict[str, tuple[object, float]] = {}


def cached_user(pk):
    now = time.monotonic()
    hit = _users.get(str(pk))
    if hit is not None and hit[1] > now:
        user = hit[0]
    else:
        user = get_user_model().objects.filter(pk=pk, is_active=True).select_related("profile__organisation").first()
        if user is not None:
            # An HMAC of the password hash: the same for this cached copy, so computed once, not per tile.
            user._gridcity_session_hash = user.get_session_auth_hash()
        if len(_users) >= MAX_ENTRIES:
            _users.clear()
        _users[str(pk)] = (user, now + USER_CACHE_SECONDS)
    if user is not None:
        user.__dict__.pop("_gridcity_roles", None)  # roles keep their own cache
    return user


def forget_users() -> None:
    _users.clear()
    _sessions.clear()


# Session key -> (user pk, session auth hash, until, session_cache_key). Only a hint: every use asks Redis whether the
# session is still there before answering (one EXISTS on a raw client, ~1/3 of a read through Django's
# cache; tiles ask in the same round trip as their cache lookup), so a logout or an expired session
# ends access on every worker at once.
_sessions: dict[str, tuple[object, str, float]] = {}
_local = threading.local()
_CACHED_SESSION_ENGINES = ("django.contrib.sessions.backends.cached_db", "django.contrib.sessions.backends.cache")


def _redis():
    client = getattr(_local, "client", None)
    if client is None:
        client = _local.client = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    return client


def session_cache_key(key: str) -> str:
    """The Redis key of the session's cache entry; logout (flush) and expiry remove it."""
    return cache.make_key(import_module(settings.SESSION_ENGINE).KEY_PREFIX + key)


def session_user_unconfirmed(request) -> tuple[object | None, str | None]:
    """session_user() without its Redis round trip when the user comes from the per-process hint:
    (user, key), where `key` is the Redis key (session_cache_key) whose existence the caller must
    confirm in a round trip of its own (tiles.cache.lookup_many asks together with the tile) before
    answering anything that depends on the user; when it is gone, the caller asks session_user()
    again, which reads the session itself. (user, None) when the session was read here."""
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME) if hasattr(request, "COOKIES") else None
    now = time.monotonic()
    hit = _sessions.get(key) if key and settings.SESSION_ENGINE in _CACHED_SESSION_ENGINES else None
    if hit is not None and hit[2] > now:
        pk, auth_hash, check = hit[0], hit[1], hit[3]
    else:
        _sessions.pop(key, None)
        session = getattr(request, "session", None)
        pk = session.get(SESSION_KEY) if session is not None else None
        if pk is None:
            return None, None
        auth_hash, check = session.get(HASH_SESSION_KEY, ""), None
        if key:
            if len(_sessions) >= MAX_ENTRIES:
                _sessions.clear()
            # The Redis key to confirm is kept with the hint: building it costs more than the tile's lookup.
            _sessions[key] = (pk, auth_hash, now + USER_CACHE_SECONDS, session_cache_key(key))
    user = cached_user(pk)
    if user is None or not constant_time_compare(
        auth_hash, getattr(user, "_gridcity_session_hash", None) or user.get_session_auth_hash()
    ):
        return None, None
    return user, check


def session_user(request):
    """The logged-in user of the request's session, or None; checks the session's password hash."""
    user, check = session_user_unconfirmed(request)
    if check is not None and not _redis().exists(check):
        # Gone from the cache (logout, expiry, or a flushed cache with the row still in the database):
        # forget the hint and read the session itself.
        _sessions.pop(request.COOKIES.get(settings.SESSION_COOKIE_NAME), None)
        user, check = session_user_unconfirmed(request)
    return user
