"""GetMap: one PNG of the requested layers, bottom first, rendered by mapnik in a render process
from one bbox-filtered SQL per layer (tiles.raster); geographic CRSs are reprojected by mapnik.
Layers drawn by a callable (Tiles.image) are drawn by it and laid over the mapnik images in order;
their filters are read from vendor parameters named like their tile filters (e.g. &FROM=&WORKER=)."""

import io

from django.http import HttpResponse

from gis_core.errors import ClientError
from tiles.raster.render import callable_image, render_map

from .errors import WMSError
from .params import MapRequest, parse_map


def get_map(request, params, user) -> HttpResponse:
    png = map_image(parse_map(params, user), params)
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=30"
    return response


def map_image(req: MapRequest, params, scale_factor: float = 1.0) -> bytes:
    """The PNG of a parsed GetMap request (also a print's map, at its scale factor)."""
    if any(layer.tiles.image is not None for layer in req.layers):
        return _composed(req, params, scale_factor)
    return _mapnik(req, req.layers, req.transparent, scale_factor)


def _mapnik(req: MapRequest, layers, transparent: bool, scale_factor: float = 1.0) -> bytes:
    return render_map(
        layers,
        req.bbox_3857,
        req.width,
        req.height,
        srs=req.srs,
        bbox=req.bbox,
        scopes=req.scopes,
        transparent=transparent,
        background=req.background,
        scale_factor=scale_factor,
    )


def _filters(layer, params) -> dict:
    out = {}
    for f in layer.tiles.filters:
        raw = params.get(f.param.upper())
        values = [v.strip() for v in (raw or "").split(",") if v.strip()]
        if values:
            out[f.param] = sorted(set(values))
    return out


def _composed(req: MapRequest, params, scale_factor: float = 1.0) -> bytes:
    from PIL import Image  # noqa: PLC0415

    canvas = Image.new("RGBA", (req.width, req.height), (0, 0, 0, 0) if req.transparent else req.background)
    run = []  # consecutive mapnik layers, rendered as one image

    def flush():
        if run:
            canvas.alpha_composite(Image.open(io.BytesIO(_mapnik(req, list(run), True, scale_factor))).convert("RGBA"))
            run.clear()

    for layer in req.layers:
        if layer.tiles.image is None:
            run.append(layer)
            continue
        flush()
        sql, values = req.scopes[layer.id]
        try:
            png = callable_image(
                layer,
                ("wms", sql, values),
                _filters(layer, params),
                req.bbox_3857,
                req.width,
                req.height,
                req.srs,
                req.bbox,
            )
        except ClientError as exc:
            raise WMSError(exc.message, "InvalidParameterValue", (exc.field or "").upper()) from None
        canvas.alpha_composite(Image.open(io.BytesIO(png)).convert("RGBA"))
    flush()
    out = io.BytesIO()
    canvas.save(out, "PNG", compress_level=1)
    return out.getvalue()
