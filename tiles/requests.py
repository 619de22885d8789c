"""The one tile-request parser, for vector (MVT) and PNG tiles: layers, z/x/y, filters and who is
asking, each checked with an error naming the parameter."""

from dataclasses import dataclass

from django.conf import settings

from layers import catalogue
from layers.catalogue import Layer
from layers.ogc.auth import basic_or_session_user, basic_or_session_user_unconfirmed
from layers.ogc.exceptions import Unauthorized

from .render import BadTileRequest, parse_filters, parse_tile

MAX_LAYERS_PER_TILE = 20


@dataclass(frozen=True)
class TileAsk:
    layers: tuple[Layer, ...]
    z: int
    x: int
    y: int
    raw_filters: dict  # {param: sorted values}, checked against the layers' declared filters
    scopes: tuple  # per layer: its Tiles.scope(user), (cache key part, SQL, params)
    # With defer_session_check: the session key whose existence must be confirmed before answering
    # (tiles.render.vector_tiles does it in its cache round trip; confirm_session otherwise), or None.
    session_check: str | None = None


def tile_layer_or_404(layer_id: str) -> Layer:
    layer = catalogue.get(layer_id)
    if layer is None or layer.tiles is None:
        raise BadTileRequest(f"no tile layer {layer_id[:60]!r}", "layer", 404)
    return layer


def tile_user(request):
    user = basic_or_session_user(request)
    if user is None:
        raise Unauthorized("log in to see map tiles")
    return user


def confirm_session(request, ask: TileAsk) -> None:
    """Before a refusal that depends on the user: Unauthorized if the deferred session check fails."""
    if ask.session_check is not None:
        tile_user(request)


def parse_tile_request(
    request,
    layer_ids: str,
    z: str,
    x: str,
    y: str,
    max_layers: int = MAX_LAYERS_PER_TILE,
    *,
    defer_session_check: bool = False,
) -> TileAsk:
    ids = layer_ids.split(",")
    if len(ids) > max_layers or len(set(ids)) != len(ids):
        raise BadTileRequest(f"1-{max_layers} different layers, comma-separated", "layer")
    chosen = tuple(tile_layer_or_404(i) for i in ids)
    z, x, y = parse_tile(z, x, y)
    for layer in chosen:
        if z > layer.tiles.maxzoom:
            raise BadTileRequest(
                f"layer {layer.id} is served at z {layer.tiles.minzoom}-{layer.tiles.maxzoom}; clients overzoom beyond",
                "z",
            )
    raw_filters = parse_filters(list(chosen), request.GET)
    if defer_session_check and settings.CACHES["default"].get("LOCATION") == settings.REDIS_URL:
        # (The check can ride on the tile cache's round trip only when sessions live in that Redis.)
        user, check = basic_or_session_user_unconfirmed(request)
        if user is None:
            raise Unauthorized("log in to see map tiles")
    else:
        user, check = tile_user(request), None
    # A combined tile leaves out the layers this user may not see (a viewer groups whatever the catalogue
    # lists; refusing the whole tile would blank every layer in it); a tile of only such layers is a 403.
    seen = [(layer, layer.tiles.scope(user)) for layer in chosen]
    seen = [(layer, scope) for layer, scope in seen if scope is not None]
    if not seen:
        if check is not None:
            tile_user(request)  # a session that ended is a 401, as without the deferral
        hidden = ", ".join(layer.id for layer in chosen)
        raise BadTileRequest(f"your account may not see layer {hidden}", "layer", 403)
    return TileAsk(tuple(layer for layer, _ in seen), z, x, y, raw_filters, tuple(scope for _, scope in seen), check)
