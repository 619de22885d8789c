"""The user behind a tile or map request, without two database queries per tile.

A map view fires dozens of tile requests a second; Django's session middleware reads the session
and the user from the database on each. Here the session comes from the cache (cached_db sessions)
and the user from a short per-process cache, like roles (components.roles), so a deactivation or
password change applies within USER_CACHE_SECONDS; a logout applies at once (the session is gone)."""
import time

from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
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
        if len(_users) >= MAX_ENTRIES:
            _users.clear()
        _users[str(pk)] = (user, now + USER_CACHE_SECONDS)
    if user is not None:
        user.__dict__.pop("_gridcity_roles", None)  # roles keep their own cache
    return user


def forget_users() -> None:
    _users.clear()


def session_user(request):
    """The logged-in user of the request's session, or None; checks the session's password hash.
    The session itself is read on every request (one Redis GET, cached_db), never kept in-process:
    a logout or an expired session must end access on every worker at once. Only the user row is
    cached (USER_CACHE_SECONDS), like roles."""
    session = getattr(request, "session", None)
    pk = session.get(SESSION_KEY) if session is not None else None
    if pk is None:
        return None
    user = cached_user(pk)
    if user is None or not constant_time_compare(session.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()):
        return None
    return user
