"""Vector tiles, the tile catalogue, TileJSON and the MapLibre style, all read from the layer catalogue."""

import logging

from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from gis_core.auth import add_auth_headers, challenge_wanted
from layers import catalogue
from layers.ogc.exceptions import Unauthorized

from . import service
from . import style as styles
from .render import BadTileRequest
from .requests import tile_layer_or_404, tile_user

log = logging.getLogger(__name__)


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
    """One or several layers' tile, through Django (the test client, a request that missed the WSGI
    front): the same answer as tiles.service, which the deployed application serves without Django's
    request cycle."""
    status, headers, body = service.answer(request, layers, z, x, y)
    response = HttpResponse(body, status=status)
    if not any(name == "Content-Type" for name, _ in headers):
        del response["Content-Type"]  # a 304 has no body to describe
    for name, value in headers:
        response[name] = value
    return response


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
