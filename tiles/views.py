"""Vector tiles, the tile catalogue, TileJSON and the MapLibre style, all read from the layer catalogue."""

import gzip
import hashlib
import logging

from django.db import OperationalError
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from gis_core.auth import add_auth_headers, challenge_wanted
from layers import catalogue
from layers.ogc.exceptions import Unauthorized

from . import style as styles
from .cache import Entry
from .render import BadTileRequest, vector_tiles
from .requests import confirm_session, parse_tile_request, tile_layer_or_404, tile_user

log = logging.getLogger(__name__)
MVT = "application/vnd.mapbox-vector-tile"


def error_response(
    message: str, field: str | None, status: int, request=None, retry_after: int | None = None
) -> JsonResponse:
    response = JsonResponse(
        {"message": message, "field": field}, status=status, json_dumps_params={"ensure_ascii": False}
    )
    return add_auth_headers(response, retry_after, challenge_wanted(request))


def _tile_layers() -> list:
    return [layer for layer in catalogue.layers() if layer.tiles is not None]


@require_GET
def tile_catalogue(request):
    base = request.build_absolute_uri("/tiles/")
    return JsonResponse(
        {"layers": [styles.catalogue_entry(layer, base) for layer in _tile_layers()]},
        json_dumps_params={"ensure_ascii": False},
    )


@require_GET
def tilejson(request, layer_id: str):
    try:
        layer = tile_layer_or_404(layer_id)
    except BadTileRequest as exc:
        return error_response(str(exc), exc.field, exc.status)
    return JsonResponse(
        styles.tilejson(layer, request.build_absolute_uri("/tiles/")), json_dumps_params={"ensure_ascii": False}
    )


@require_GET
def style_json(request):
    return JsonResponse(
        styles.style(_tile_layers(), request.build_absolute_uri("/tiles/")), json_dumps_params={"ensure_ascii": False}
    )


def mvt_response(request, layers: str, z: str, x: str, y: str) -> HttpResponse:
    """One or several layers' tile; also answered by tiles.fastpath without the middleware."""
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
        return error_response(str(exc), exc.field, exc.status)
    except Unauthorized as exc:
        return error_response(str(exc), None, exc.status, request, exc.retry_after)
    except OperationalError:
        log.exception("tile %s/%s/%s/%s failed", layers, z, x, y)
        return error_response("the tile took too long or the database is unavailable; try again", None, 503)
    entry = parts[0] if len(parts) == 1 else _combine(parts)
    return _respond(request, entry, min(layer.tiles.max_age for layer in ask.layers))


mvt = require_GET(mvt_response)


@require_GET
def tile_auth(request, layer_id: str):
    """For nginx's auth_request in front of the disk tiles (deploy/nginx/): may this request's user
    see the layer, and from which scope folder? 200 with X-Tile-Scope, or the error."""
    try:
        layer = tile_layer_or_404(layer_id)
        scope = layer.tiles.scope(tile_user(request))
        if scope is None:
            raise BadTileRequest(f"your account may not see layer {layer.id}", "layer", 403)
    except BadTileRequest as exc:
        return error_response(str(exc), exc.field, exc.status)
    except Unauthorized as exc:
        return error_response(str(exc), None, exc.status, request, exc.retry_after)
    response = HttpResponse(b"")
    response["X-Tile-Scope"] = scope[0]
    return response


def _combine(parts: list[Entry]) -> Entry:
    # An MVT is a list of layers: tiles of different layers concatenate into one valid tile.
    raw = b"".join(p.raw for p in parts)
    etag = hashlib.blake2b("".join(p.etag for p in parts).encode(), digest_size=12).hexdigest()
    return Entry(etag, gzip.compress(raw, 1, mtime=0) if raw else b"", raw)


def _respond(request, entry: Entry, max_age: int) -> HttpResponse:
    etag = f'"{entry.etag}"'
    if etag in [t.strip() for t in request.META.get("HTTP_IF_NONE_MATCH", "").split(",")]:
        response = HttpResponse(status=304)
    elif entry.gz and "gzip" in request.META.get("HTTP_ACCEPT_ENCODING", ""):
        response = HttpResponse(entry.gz, content_type=MVT)
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(entry.raw, content_type=MVT)
    response["ETag"] = etag
    # Tiles depend on who asks (a maintenance unit sees its own components): never in shared caches.
    response["Cache-Control"] = f"private, max-age={max_age}"
    response["Vary"] = "Cookie, Authorization, Accept-Encoding"
    return response
