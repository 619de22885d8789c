"""HTTP Basic only (what QGIS, GDAL and OWSLib send); no sessions, no CSRF. Django's PBKDF2 check
costs ~100 ms, so a successful credential is remembered in-process for a short time, keyed by an
HMAC of the credential under a per-process random salt (the password itself is never kept)."""
import base64
import hashlib
import hmac
import secrets
import threading
import time

from django.contrib.auth import authenticate

from gis_core.request_user import cached_user, forget_users, session_user

from .exceptions import Unauthorized

TTL_SECONDS = 60
MAX_ENTRIES = 10_000
_SALT = secrets.token_bytes(32)
_cache: dict[bytes, tuple[int, float]] = {}
_lock = threading.Lock()


def _key(credential: bytes) -> bytes:
    return hmac.new(_SALT, credential, hashlib.sha256).digest()


def clear_cache():
    with _lock:
        _cache.clear()
    forget_users()


def basic_user(request):
    """The authenticated user, None when no credentials were sent; Unauthorized when they are wrong."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        raise Unauthorized("only HTTP Basic authentication is supported here")
    try:
        credential = base64.b64decode(value.strip(), validate=True)
        username, sep, password = credential.decode("utf-8").partition(":")
    except (ValueError, UnicodeError):
        raise Unauthorized("malformed Basic credentials") from None
    if not sep or not username:
        raise Unauthorized("malformed Basic credentials")
    key = _key(credential)
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
    if hit and hit[1] > now:
        user = cached_user(hit[0])
        if user is not None:
            return user
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        with _lock:
            _cache.pop(key, None)
        raise Unauthorized("wrong user name or password")
    with _lock:
        if len(_cache) >= MAX_ENTRIES:
            for k in [k for k, (_, exp) in _cache.items() if exp <= now] or list(_cache)[: MAX_ENTRIES // 2]:
                _cache.pop(k, None)
        _cache[key] = (user.pk, now + TTL_SECONDS)
    return user


def basic_or_session_user(request):
    """For map clients that may be either a GIS client (HTTP Basic) or the viewer in a browser (its
    session): the user, or None when neither is there; Unauthorized when Basic credentials are wrong."""
    return basic_user(request) or session_user(request)
