"""The vector tile service: `GET /tiles/{layers}/{z}/{x}/{y}.mvt` as a plain WSGI application.

A cold tile is ~0.3-1 ms of SQL; on 2 cores every microsecond of Python around it is taken from
PostgreSQL. So this path builds no Django request or response, runs no middleware and no URL
resolver: a small request object over the WSGI environ (headers, cookies, query, the lazily read
session), the catalogue, the one request parser (tiles.requests), the cache (tiles.cache), the SQL
(tiles.sql via tiles.render) and the auth helpers, then (status, headers, body).

It is the only tile code path: `answer()` serves the Django view (tiles.views.mvt_response, for the
test client and any request that reaches Django), `tiles.fastpath` (gis_core.wsgi, what `make up`
runs) and this module's `application` (a tile-only process, docs/tiles.md: granian runs it behind deploy/nginx).
Errors are JSON {message, field}; a database or Redis that does not answer is a 503; never a trace."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from http import HTTPStatus
from importlib import import_module

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.db import OperationalError, close_old_connections
from django.http import HttpRequest, QueryDict, parse_cookie

from gis_core.auth import WWW_AUTHENTICATE, challenge_wanted
from gis_core.unavailable import RETRY_AFTER_SECONDS, UNAVAILABLE, UNAVAILABLE_MESSAGE
from layers.ogc.exceptions import Unauthorized

from .cache import Entry, gzip_of
from .render import BadTileRequest, vector_tiles
from .requests import confirm_session, parse_tile_request

log = logging.getLogger(__name__)
MVT = "application/vnd.mapbox-vector-tile"
JSON = "application/json"
TILE_PATH = re.compile(r"^/tiles/(?P<layers>[^/]+)/(?P<z>[^/]+)/(?P<x>[^/]+)/(?P<y>[^/]+)\.mvt$")
# Tiles depend on who asks (a maintenance unit sees its own components): never in shared caches.
VARY = "Cookie, Authorization, Accept-Encoding"
STATUS_LINES = {s.value: f"{s.value} {s.phrase}" for s in HTTPStatus}
_EMPTY_QUERY = QueryDict("")


class TileHttpRequest(HttpRequest):
    """What the tile path reads of a request (META, COOKIES, GET, session, get_host), over the WSGI
    environ, without WSGIRequest's body stream, path decoding and QueryDict/MultiValueDict set-up."""

    def __init__(self, environ: dict):  # noqa: D107 - HttpRequest.__init__ builds what is not needed
        self.META = environ
        self.environ = environ
        self.method = "GET"
        self.path = self.path_info = environ.get("PATH_INFO", "")
        cookie = environ.get("HTTP_COOKIE")
        self.COOKIES = parse_cookie(cookie) if cookie else {}
        query = environ.get("QUERY_STRING")
        self.GET = QueryDict(query) if query else _EMPTY_QUERY
        self._session = None

    def _get_scheme(self):
        return self.environ.get("wsgi.url_scheme", "http")

    @property
    def session(self):
        # Read only when the per-process session hint misses (gis_core.request_user).
        if self._session is None:
            self._session = _session_store()(self.COOKIES.get(settings.SESSION_COOKIE_NAME))
        return self._session

    @session.setter
    def session(self, value):
        self._session = value


_store_class = None


def _session_store():
    global _store_class
    if _store_class is None:
        _store_class = import_module(settings.SESSION_ENGINE).SessionStore
    return _store_class


# --- the answer ------------------------------------------------------------------------------------


def error(
    message: str, field: str | None, status: int, request=None, retry_after: int | None = None
) -> tuple[int, list, bytes]:
    """JSON {message, field}, with the Basic challenge on a 401 (when the client wants one,
    gis_core.auth.challenge_wanted) and Retry-After on 429/503."""
    body = json.dumps({"message": message, "field": field}, ensure_ascii=False).encode()
    headers = [("Content-Type", JSON)]
    if status == 401 and challenge_wanted(request):
        headers.append(("WWW-Authenticate", WWW_AUTHENTICATE))
    if status in (429, 503) and retry_after:
        headers.append(("Retry-After", str(retry_after)))
    return status, headers, body


def unavailable() -> tuple[int, list, bytes]:
    return error(UNAVAILABLE_MESSAGE, None, 503, retry_after=RETRY_AFTER_SECONDS)


def answer(request, layers: str, z: str, x: str, y: str) -> tuple[int, list, bytes]:
    """One or several layers' tile for `request` (a Django HttpRequest or a TileHttpRequest):
    (status, headers, body). Raises only what means Redis is unavailable (gis_core.unavailable)."""
    try:
        # The session user's check that the session still exists rides on the tile cache's round trip.
        ask = parse_tile_request(request, layers, z, x, y, defer_session_check=True)
        for layer in ask.layers:
            if layer.tiles.image is not None:
                confirm_session(request, ask)
                raise BadTileRequest(f"layer {layer.id} is a raster layer: ask for .png tiles", "layer", 404)
        parts = vector_tiles(
            zip(ask.layers, ask.scopes, strict=True), ask.z, ask.x, ask.y, ask.raw_filters, ask.session_check
        )
        if parts is None:  # the session is gone from the cache: ask who is asking the long way
            ask = parse_tile_request(request, layers, z, x, y)
            parts = vector_tiles(zip(ask.layers, ask.scopes, strict=True), ask.z, ask.x, ask.y, ask.raw_filters)
    except BadTileRequest as exc:
        return error(str(exc), exc.field, exc.status)
    except Unauthorized as exc:
        return error(str(exc), None, exc.status, request, exc.retry_after)
    except OperationalError as exc:
        # A statement cut by the timeout, or PostgreSQL not answering: the client may try again.
        log.warning("tile %s/%s/%s/%s: %s", layers, z, x, y, str(exc).strip()[:200])
        return error("the tile took too long or the database is unavailable; try again", None, 503)
    entry = parts[0] if len(parts) == 1 else combine(parts)
    max_age = min(layer.tiles.max_age for layer in ask.layers)
    return respond(request.META, entry, max_age)


def combine(parts: list[Entry]) -> Entry:
    # An MVT is a list of layers: tiles of different layers concatenate into one valid tile.
    raw = b"".join(p.raw for p in parts)
    etag = hashlib.blake2b("".join(p.etag for p in parts).encode(), digest_size=12).hexdigest()
    return Entry(etag, gzip_of(raw), raw)


def respond(meta, entry: Entry, max_age: int) -> tuple[int, list, bytes]:
    etag = f'"{entry.etag}"'
    common = [("ETag", etag), ("Cache-Control", f"private, max-age={max_age}"), ("Vary", VARY)]
    match = meta.get("HTTP_IF_NONE_MATCH")
    if match and etag in [t.strip() for t in match.split(",")]:
        return 304, common, b""
    if entry.gz and "gzip" in meta.get("HTTP_ACCEPT_ENCODING", ""):
        return 200, [("Content-Type", MVT), ("Content-Encoding", "gzip"), *common], entry.gz
    return 200, [("Content-Type", MVT), *common], entry.raw


# --- WSGI ------------------------------------------------------------------------------------------


def handle(environ: dict, layers: str, z: str, x: str, y: str) -> tuple[int, list, bytes]:
    """answer() for a WSGI environ, with what Django's request cycle would add: ALLOWED_HOSTS, the
    database connection's age and health (CONN_MAX_AGE), and no stack trace whatever happens."""
    close_old_connections()
    request = TileHttpRequest(environ)
    try:
        request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware would check
        return answer(request, layers, z, x, y)
    except DisallowedHost:
        return error("host not allowed", None, 400)
    except UNAVAILABLE:
        log.warning("tile request %s: a server is unavailable", environ.get("PATH_INFO"), exc_info=True)
        return unavailable()
    except Exception:  # noqa: BLE001 - never a stack trace to the client
        log.exception("tile request %s failed", environ.get("PATH_INFO"))
        return error("internal error", None, 500)
    finally:
        close_old_connections()


def send(start_response, status: int, headers: list, body: bytes) -> list[bytes]:
    if status != 304:  # a 304's Content-Length would have to be the 200's (RFC 9110 8.6): none
        headers.append(("Content-Length", str(len(body))))
    headers.append(("X-Content-Type-Options", "nosniff"))
    start_response(STATUS_LINES[status], headers)
    return [body]


def application(environ, start_response):
    """The tile-only WSGI application: tiles, and a JSON 404/405 for anything else."""
    match = TILE_PATH.match(environ.get("PATH_INFO", ""))
    if match is None:
        status, headers, body = error("not found: this server answers /tiles/{layers}/{z}/{x}/{y}.mvt", None, 404)
    elif environ.get("REQUEST_METHOD") != "GET":
        status, headers, body = error("tiles answer GET only", None, 405)
        headers.append(("Allow", "GET"))
    else:
        status, headers, body = handle(environ, *match.groups())
    return send(start_response, status, headers, body)
