"""Drops exactly the cached tiles an edit touched, once the edit has committed.

Every write path announces its changes after commit by the signal its layers declare
(`Tiles.changes`), with the extent of the old and new shapes; here that extent becomes the tiles whose
buffered envelope meets it, for every layer fed by that signal."""

import logging

import mercantile

from gis_core.mercator import MAX_LAT
from layers import catalogue

from . import cache, disk

log = logging.getLogger(__name__)

# Beyond this many tiles at one zoom a change drops the whole zoom (a new generation) instead.
MAX_TILES_PER_ZOOM = 256
# Clusters sit at their cell's mean point, up to one cell (1/32 tile) from the changed component:
# widen by that, which also covers the tile buffer (1/64 tile).
MARGIN_OF_TILE = 1 / 32


def _tile_range(bbox, z: int):
    west, south, east, north = bbox
    pad = 360 / 2**z * MARGIN_OF_TILE
    ul = mercantile.tile(max(west - pad, -180.0), min(north + pad, MAX_LAT), z)
    lr = mercantile.tile(min(east + pad, 180.0), max(south - pad, -MAX_LAT), z)
    return ul, lr


def affected_tiles(bbox, z: int, tile_range=None) -> list[tuple[int, int, int]]:
    """(z, x, y) of the tiles at zoom z whose margin-widened envelope meets bbox (lon/lat)."""
    ul, lr = tile_range or _tile_range(bbox, z)
    return [(z, x, y) for x in range(ul.x, lr.x + 1) for y in range(ul.y, lr.y + 1)]


def invalidate(feed, bbox, parts=None) -> dict:
    """Returns {layer: tiles dropped one by one, or -1 per zoom dropped whole} for logs and tests.
    parts: what the change touched, when its signal says (see Tiles.changes_part); layers drawing
    another part keep their tiles."""
    report, plan = {}, []
    ranges = {}  # z -> tile range: the layers fed by one signal mostly share their zooms
    for layer in catalogue.layers():
        spec = layer.tiles
        if spec is None or spec.changes is None or spec.changes is not feed:
            continue
        if parts is not None and spec.changes_part is not None and spec.changes_part not in parts:
            continue
        if bbox is None:
            plan.append((layer, [], list(range(spec.minzoom, spec.maxzoom + 1))))
            report[layer.id] = "all"
            continue
        named, whole = [], []
        for z in range(spec.minzoom, spec.maxzoom + 1):
            if z not in ranges:
                ranges[z] = _tile_range(bbox, z)
            ul, lr = ranges[z]
            if (lr.x - ul.x + 1) * (lr.y - ul.y + 1) > MAX_TILES_PER_ZOOM:
                whole.append(z)
            else:
                named.extend(affected_tiles(bbox, z, ranges[z]))
        plan.append((layer, named, whole))
        report[layer.id] = {"tiles": len(named), "whole_zooms": whole}
    cache.invalidate_many(plan)
    # The files after the stamps moved (see tiles.disk).
    for layer, named, whole in plan:
        for z in whole:
            disk.drop_zoom(layer, z)
        disk.drop_tiles(layer, named)
    return report


def _on_change(sender, signal=None, bbox=None, parts=None, **kwargs):
    _safely(signal, bbox, parts)


def _safely(feed, bbox, parts=None):
    # Runs after commit: a cache outage must not turn a committed edit into an error for its caller;
    # the tiles then age out after their Cache-Control and cache lifetimes.
    try:
        invalidate(feed, bbox, parts)
    except Exception:  # noqa: BLE001
        log.exception("tile cache invalidation failed for %s", bbox)


def connect():
    catalogue.listen_for_changes(_on_change)
