"""Fills the tile cache ahead of use, through the same cache-through path as requests."""

import mercantile
from django.conf import settings

from layers import catalogue

from .render import vector_tile

FULL_VIEW = ("all", "TRUE", [])  # what every reading role sees; maintenance units are rendered on demand


def plan(layer_ids: list[str], zooms: range, bbox=None) -> list[tuple[str, int, int, int]]:
    bbox = bbox or settings.GRIDCITY_DISTRICT_BBOX
    out = []
    for layer_id in layer_ids:
        layer = catalogue.get(layer_id)
        if layer is None or layer.tiles is None:
            raise ValueError(f"no tile layer {layer_id}")
        for z in zooms:
            if layer.tiles.minzoom <= z <= layer.tiles.maxzoom:
                out.extend((layer_id, t.z, t.x, t.y) for t in mercantile.tiles(*bbox, [z]))
    return out


def seed(layer_ids: list[str], zooms: range, bbox=None, progress=None) -> dict:
    tiles = plan(layer_ids, zooms, bbox)
    stored = 0
    for n, (layer_id, z, x, y) in enumerate(tiles, 1):
        entry = vector_tile(catalogue.get(layer_id), z, x, y, FULL_VIEW, {})
        stored += bool(entry.gz)
        if progress and (n % 50 == 0 or n == len(tiles)):
            progress(n, len(tiles))
    return {"tiles": len(tiles), "non_empty": stored}
