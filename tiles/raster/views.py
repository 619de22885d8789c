"""/tiles/{layer}/{z}/{x}/{y}.png: the raster twin of the vector tile view, with the same checks,
permissions (tiles.scope(user)), filters and cache invalidation."""

import logging

from django.db import OperationalError
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from layers.ogc.exceptions import Unauthorized
from tiles.render import BadTileRequest
from tiles.requests import parse_tile_request
from tiles.views import error_response

from .pool import RenderTimeout
from .render import png_tile as render_png_tile

log = logging.getLogger(__name__)


@require_GET
def png_tile(request, layer_id: str, z: str, x: str, y: str):
    try:
        ask = parse_tile_request(request, layer_id, z, x, y, max_layers=1)
        layer = ask.layers[0]
        entry = render_png_tile(layer, ask.z, ask.x, ask.y, ask.scopes[0], ask.raw_filters)
    except BadTileRequest as exc:
        return error_response(str(exc), exc.field, exc.status)
    except Unauthorized as exc:
        return error_response(str(exc), None, exc.status, request, exc.retry_after)
    except (OperationalError, RenderTimeout):
        log.exception("png tile %s/%s/%s/%s failed", layer_id, z, x, y)
        return error_response("the tile took too long or the database is unavailable; try again", None, 503)
    etag = f'"{entry.etag}"'
    if etag in [t.strip() for t in request.META.get("HTTP_IF_NONE_MATCH", "").split(",")]:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(entry.raw, content_type="image/png")  # PNG is compressed already
    response["ETag"] = etag
    # Tiles depend on who asks (a maintenance unit sees its own components): never in shared caches.
    response["Cache-Control"] = f"private, max-age={layer.tiles.max_age}"
    response["Vary"] = "Cookie, Authorization"
    return response
