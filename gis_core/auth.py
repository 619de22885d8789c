"""Logging in, for every door: the failed-login throttle, HTTP Basic credentials (DRF, WFS/WMS,
tiles) and the login forms (the viewer's and the admin's).

A password check costs ~370 ms of hashing, so a burst of wrong passwords slows everybody down and
lets an attacker guess at leisure. Failures are counted per account and per client address in
Redis (Django's cache, so every worker sees the same counts), and checked BEFORE any hashing: the
authentication backend (components.auth) asks `login_throttle.check` first and reports the outcome
after. Each door answers a throttled login in its own form with 429 and Retry-After."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import math
import secrets
import threading
import time
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication
from rest_framework import exceptions as drf_exceptions

from .request_user import cached_user

log = logging.getLogger(__name__)

# The one challenge every 401 carries (API, WFS/WMS, tiles).
WWW_AUTHENTICATE = 'Basic realm="GridCity", charset="UTF-8"'


class LoginRefused(Exception):
    status = 401
    retry_after: int | None = None


class BadCredentials(LoginRefused):
    pass


class LoginThrottled(LoginRefused):
    status = 429

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"too many failed logins; try again in {retry_after} s")


def add_auth_headers(response, retry_after: int | None = None, challenge: bool = True):
    """The headers a refusal needs: the Basic challenge on 401, Retry-After on 429 and 503."""
    if response.status_code == 401 and challenge:
        response["WWW-Authenticate"] = WWW_AUTHENTICATE
    if response.status_code in (429, 503) and retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def challenge_wanted(request) -> bool:
    """Ask for Basic credentials only from clients that are not browsing with a session (QGIS, GDAL,
    scripts): a browser whose session ran out goes back to the login page, without a password dialog."""
    if request is None:
        return True
    if "HTTP_AUTHORIZATION" in request.META:
        return True
    # The viewer's own scripts say who they are: a browser whose session cookie has expired (and is
    # gone) must not get the browser's password dialog either; the viewer sends it to the login page.
    if request.META.get("HTTP_X_REQUESTED_WITH") == "XMLHttpRequest":
        return False
    return settings.SESSION_COOKIE_NAME not in request.COOKIES


# --- the throttle -------------------------------------------------------------------------------


def client_address(request) -> str:
    """REMOTE_ADDR, or behind a trusted proxy (nginx) the last X-Forwarded-For hop it did not add."""
    meta = getattr(request, "META", None) or {}
    address = meta.get("REMOTE_ADDR", "")
    trusted = settings.LOGIN_THROTTLE_TRUSTED_PROXIES
    if address in trusted:
        for hop in reversed(meta.get("HTTP_X_FORWARDED_FOR", "").split(",")):
            hop = hop.strip()
            if hop and hop not in trusted:
                return hop[:100]
    return address


@dataclass(frozen=True)
class _Counter:
    count_key: str
    until_key: str
    limit: int


class LoginThrottle:
    """Failures counted in a window that opens at the first failure; at the limit, logins for that
    account or from that address are refused unhashed until the window closes."""

    PREFIX = "login-throttle"
    counted_since_forget = False  # for tests: whether anything may need forgetting

    def _counter(self, kind: str, value: str, limit: int) -> _Counter:
        digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return _Counter(f"{self.PREFIX}:{kind}:{digest}", f"{self.PREFIX}:{kind}:{digest}:until", limit)

    def _counters(self, username, request, account_only: bool = False) -> list[_Counter]:
        counters = []
        if username:
            # "Admin" and "admin" are one account to count, whatever the user model thinks of case.
            account = unicodedata.normalize("NFKC", str(username)).casefold()
            counters.append(self._counter("account", account, settings.LOGIN_THROTTLE_ACCOUNT_FAILURES))
        address = client_address(request)
        if address and not account_only:
            counters.append(self._counter("address", address, settings.LOGIN_THROTTLE_ADDRESS_FAILURES))
        return counters

    def check(self, username, request) -> None:
        """Raises LoginThrottled when the account or the address has failed too often; one Redis read."""
        counters = self._counters(username, request)
        try:
            values = cache.get_many([k for c in counters for k in (c.count_key, c.until_key)])
        except Exception:  # noqa: BLE001 - Redis down: logins still work, unthrottled, and we say so
            log.warning("login throttle unavailable (cache error); not throttling", exc_info=True)
            return
        now = time.time()
        waits = [
            (values.get(c.until_key) or now + settings.LOGIN_THROTTLE_WINDOW_SECONDS) - now
            for c in counters
            if (values.get(c.count_key) or 0) >= c.limit
        ]
        if waits:
            raise LoginThrottled(max(1, math.ceil(max(waits))))

    def failed(self, username, request) -> None:
        window = settings.LOGIN_THROTTLE_WINDOW_SECONDS
        self.counted_since_forget = True
        try:
            for counter in self._counters(username, request):
                if cache.add(counter.count_key, 1, window):
                    cache.set(counter.until_key, time.time() + window, window)
                    continue
                try:
                    cache.incr(counter.count_key)
                except ValueError:  # the window closed between add and incr: open a new one
                    cache.set_many({counter.count_key: 1, counter.until_key: time.time() + window}, window)
        except Exception:  # noqa: BLE001 - see check()
            log.warning("login throttle unavailable (cache error); failure not counted", exc_info=True)

    def succeeded(self, username, request) -> None:
        """A right password clears the account's count (not the address's: one success from an
        address must not buy it another round of guesses at other accounts)."""
        try:
            cache.delete_many(
                [k for c in self._counters(username, request, account_only=True) for k in (c.count_key, c.until_key)]
            )
        except Exception:  # noqa: BLE001 - see check()
            log.warning("login throttle unavailable (cache error)", exc_info=True)

    def forget_all(self) -> None:
        """Every count, gone (tests, or an operator after an incident)."""
        self.counted_since_forget = False
        client = getattr(cache, "_cache", None)
        if client is None or not hasattr(client, "get_client"):
            cache.clear()
            return
        redis = client.get_client(write=True)
        keys = list(redis.scan_iter(match=cache.make_key(f"{self.PREFIX}:*"), count=1000))
        if keys:
            redis.delete(*keys)


login_throttle = LoginThrottle()


# --- HTTP Basic ---------------------------------------------------------------------------------
# A good credential is remembered in-process for a short time, keyed by an HMAC of it under a
# per-process random salt (the password itself is never kept): QGIS sends it with every request.

CREDENTIAL_TTL_SECONDS = 60
MAX_CREDENTIALS = 10_000
_SALT = secrets.token_bytes(32)
_credentials: dict[bytes, tuple[int, float]] = {}
_lock = threading.Lock()


def forget_credentials() -> None:
    with _lock:
        _credentials.clear()


def _parse_basic(header: str) -> tuple[bytes, str, str]:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        raise BadCredentials("only HTTP Basic authentication is supported here")
    try:
        credential = base64.b64decode(value.strip(), validate=True)
        username, sep, password = credential.decode("utf-8").partition(":")
    except (ValueError, UnicodeError):
        raise BadCredentials("malformed Basic credentials") from None
    if not sep or not username:
        raise BadCredentials("malformed Basic credentials")
    return credential, username, password


def authenticate_basic(request):
    """The user of the request's HTTP Basic credentials; None when it sent none.
    Raises BadCredentials (401) or LoginThrottled (429)."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header:
        return None
    credential, username, password = _parse_basic(header)
    key = hmac.new(_SALT, credential, hashlib.sha256).digest()
    now = time.monotonic()
    with _lock:
        hit = _credentials.get(key)
    if hit and hit[1] > now:
        user = cached_user(hit[0])
        if user is not None:
            return user
    user = authenticate(request, username=username, password=password)  # the throttle is in the backend
    if user is None or not user.is_active:
        with _lock:
            _credentials.pop(key, None)
        raise BadCredentials("wrong user name or password")
    with _lock:
        if len(_credentials) >= MAX_CREDENTIALS:
            stale = [k for k, (_, expires) in _credentials.items() if expires <= now]
            for k in stale or list(_credentials)[: MAX_CREDENTIALS // 2]:
                _credentials.pop(k, None)
        _credentials[key] = (user.pk, now + CREDENTIAL_TTL_SECONDS)
    return user


class BasicAuthentication(authentication.BaseAuthentication):
    """DRF's door: first in DEFAULT_AUTHENTICATION_CLASSES, so anonymous answers are 401 with the
    Basic challenge (DRF takes the header from the first class). Other schemes are left to the next class."""

    def authenticate(self, request):
        if not request.META.get("HTTP_AUTHORIZATION", "").lower().startswith("basic"):
            return None
        try:
            user = authenticate_basic(request)
        except LoginThrottled as exc:
            throttled = drf_exceptions.Throttled(wait=exc.retry_after)  # DRF adds Retry-After from wait
            throttled.detail = drf_exceptions.ErrorDetail(str(exc), code="throttled")  # one sentence, ours
            raise throttled from None
        except BadCredentials as exc:
            raise drf_exceptions.AuthenticationFailed(str(exc)) from None
        return user, None

    def authenticate_header(self, request):
        return WWW_AUTHENTICATE


class BasicAuthenticationScheme(OpenApiAuthenticationExtension):
    """The API schema's name for it (drf-spectacular knows only DRF's own classes)."""

    target_class = "gis_core.auth.BasicAuthentication"
    name = "basicAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic"}


# --- the login forms ----------------------------------------------------------------------------


class ThrottledFormMixin:
    """A throttled login becomes the form's error (and `retry_after`, for the view's 429)."""

    retry_after: int | None = None

    def clean(self):
        try:
            return super().clean()
        except LoginThrottled as exc:
            self.retry_after = exc.retry_after
            raise ValidationError(
                "登录失败次数过多，请 %(minutes)d 分钟后再试。Too many failed logins: try again in %(minutes)d min.",
                code="throttled",
                params={"minutes": max(1, math.ceil(exc.retry_after / 60))},
            ) from None


class LoginForm(ThrottledFormMixin, AuthenticationForm):
    pass


class AdminLoginForm(ThrottledFormMixin, AdminAuthenticationForm):
    pass


def answers_throttled_logins_with_429(view):
    """Wraps a login view: a form refused by the throttle is shown again, with 429 and Retry-After."""

    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        form = (getattr(response, "context_data", None) or {}).get("form")
        retry_after = getattr(form, "retry_after", None)
        if retry_after:
            response.status_code = 429
            response["Retry-After"] = str(retry_after)
        return response

    wrapped.__name__ = getattr(view, "__name__", "login")
    wrapped.__doc__ = view.__doc__
    return wrapped


login_view = answers_throttled_logins_with_429(
    auth_views.LoginView.as_view(
        template_name="gis_core/login.html",
        authentication_form=LoginForm,
        redirect_authenticated_user=True,
        next_page="home",
    )
)
