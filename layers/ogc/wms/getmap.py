"""GetMap: one PNG of the requested layers, bottom first, rendered by mapnik in a render process
from one bbox-filtered SQL per layer (tiles.raster); geographic CRSs are reprojected by mapnik."""

from django.http import HttpResponse

from tiles.raster.render import render_map

from .params import parse_map


def get_map(request, params, user) -> HttpResponse:
    req = parse_map(params, user)
    png = render_map(
        req.layers,
        req.bbox_3857,
        req.width,
        req.height,
        srs=req.srs,
        bbox=req.bbox,
        scopes=req.scopes,
        transparent=req.transparent,
        background=req.background,
    )
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=30"
    return response
