"""Raster (PNG) tiles and WMS images rendered by mapnik in separate render processes.

The Django side (this package minus worker.py) queries PostGIS and builds render jobs; mapnik
runs only in the processes of tiles.raster.pool. Entry points: render_tile_png (one 256 px tile,
rendered as part of a metatile and cached) and render_map (a WMS GetMap image)."""


def render_tile_png(layer, z, x, y, scope, filters):
    from .render import render_tile_png as impl

    return impl(layer, z, x, y, scope, filters)
