"""GET /api/print/?bbox=&width=&height=&scale=&layers=&title=&format=png|pdf: the current view as a
page (title, map, legend, scale bar, north arrow, date), the map rendered by our own WMS path (mapnik
in its render processes, Tiles.image layers by their callables) at `scale` times the screen's pixels.

Only layers the user may see are drawn: a layer the catalogue has but this user may not see is left
out and named in X-GridCity-Omitted-Layers; an unknown name is a 400. Every refusal is JSON
{message, field}; sizes are bounded before anything is rendered."""

import logging
import math
import re
from urllib.parse import quote

from django.db import OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from gis_core import budget
from gis_core.errors import ClientError
from gis_core.mercator import HALF_WORLD
from layers import catalogue
from layers.ogc.auth import basic_or_session_user
from layers.ogc.exceptions import Unauthorized
from layers.ogc.wms.getmap import map_image
from layers.ogc.wms.params import LAYER_LIMIT, MapRequest, mercator
from tiles.raster.pool import RenderTimeout
from tiles.style import BACKGROUND, draw_order

from . import layout

log = logging.getLogger(__name__)

MAX_SIDE = 4096  # output map pixels per side (the WMS limit)
MAX_PIXELS = 12_000_000  # output map pixels in all (~3500 x 3500)
MIN_SIDE = 64
MAX_TITLE = 60
FORMATS = {"png": "image/png", "pdf": "application/pdf"}
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class BadPrint(ClientError):
    pass


def _number(params, name: str, low: float, high: float, default=None, integer=True):
    raw = params.get(name)
    if raw is None or raw.strip() == "":
        if default is None:
            raise BadPrint(f"{name} is required", field=name)
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        kind = "an integer" if integer else "a number"
        raise BadPrint(f"{name} must be {kind}, not {raw[:20]!r}", field=name) from None
    if not (math.isfinite(value) and low <= value <= high):
        raise BadPrint(f"{name} must be {low:g}-{high:g}, not {value:g}", field=name)
    return value


def _bbox(params) -> tuple[float, float, float, float]:
    raw = params.get("bbox", "")
    try:
        values = [float(v) for v in raw.split(",")]
    except ValueError:
        values = []
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise BadPrint("bbox must be four numbers: minlon,minlat,maxlon,maxlat (EPSG:4490)", field="bbox")
    lon0, lat0, lon1, lat1 = values
    if not (-180 <= lon0 < lon1 <= 180 and -85 <= lat0 < lat1 <= 85):
        raise BadPrint("bbox must be minlon,minlat,maxlon,maxlat with min < max, in degrees", field="bbox")
    return lon0, lat0, lon1, lat1


def _layers(params, user) -> tuple[list, dict, list[str]]:
    names = [n.strip() for n in params.get("layers", "").split(",") if n.strip()]
    if not names:
        raise BadPrint("layers must name at least one layer (comma-separated ids of /tiles/)", field="layers")
    if len(names) > LAYER_LIMIT:
        raise BadPrint(f"at most {LAYER_LIMIT} layers per print", field="layers")
    chosen, scopes, omitted = [], {}, []
    for name in dict.fromkeys(names):
        layer = catalogue.get(name)
        if layer is None or layer.tiles is None:
            raise BadPrint(f"no layer {name[:60]!r} (see /tiles/)", field="layers")
        scope = layer.tiles.scope(user)
        if scope is None:
            omitted.append(name)  # the catalogue lists it to everyone; its rows are not this user's
            continue
        chosen.append(layer)
        scopes[layer.id] = (scope[1], scope[2])
    return draw_order(chosen), scopes, omitted


def _fit(bbox_3857, width: int, height: int) -> tuple[float, float, float, float]:
    """The box grown on its short side to the image's aspect, about its centre (no stretched maps)."""
    x0, y0, x1, y1 = bbox_3857
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    res = max((x1 - x0) / width, (y1 - y0) / height)
    return cx - res * width / 2, cy - res * height / 2, cx + res * width / 2, cy + res * height / 2


def _legend_entry(layer) -> tuple[str, str, str]:
    style = layer.tiles.raster_style or {}
    kind = (layer.geometry_type or "").lower().removeprefix("multi")
    if kind == "linestring":
        return layer.title_zh, "line", style.get("legend") or style.get("stroke", "#1d4ed8")
    if kind == "point" or (kind not in ("polygon",) and "marker_fill" in style):
        return layer.title_zh, "point", style.get("legend") or style.get("marker_fill", "#e4572e")
    return layer.title_zh, "polygon", style.get("legend") or style.get("fill", "#3b82f6")


def parse(params, user) -> dict:
    lon0, lat0, lon1, lat1 = _bbox(params)
    width = _number(params, "width", MIN_SIDE, MAX_SIDE)
    height = _number(params, "height", MIN_SIDE, MAX_SIDE)
    scale = _number(params, "scale", 1, 4, default=2.0, integer=False)
    out_w, out_h = round(width * scale), round(height * scale)
    if max(out_w, out_h) > MAX_SIDE or out_w * out_h > MAX_PIXELS:
        raise BadPrint(
            f"width x height x scale^2 = {out_w} x {out_h} px; at most {MAX_SIDE} px a side and "
            f"{MAX_PIXELS:,} px in all: lower scale or the size",
            field="scale" if "scale" in params else "width",
        )
    fmt = (params.get("format") or "png").strip().lower()
    if fmt not in FORMATS:
        raise BadPrint(f"format must be png or pdf, not {fmt[:20]!r}", field="format")
    title = (params.get("title") or "城市网格地图").strip() or "城市网格地图"
    if len(title) > MAX_TITLE or CONTROL.search(title):
        raise BadPrint(f"title must be at most {MAX_TITLE} characters without control characters", field="title")
    layers, scopes, omitted = _layers(params, user)
    x0, y0 = mercator(lon0, lat0)
    x1, y1 = mercator(lon1, lat1)
    if x1 - x0 < 1 or y1 - y0 < 1:
        raise BadPrint("bbox is smaller than a metre", field="bbox")
    bbox_3857 = _fit((x0, y0, x1, y1), out_w, out_h)
    if max(abs(v) for v in bbox_3857) > 3 * HALF_WORLD:
        raise BadPrint("bbox is out of range", field="bbox")
    return {
        "request": MapRequest(
            version="1.3.0",
            layers=layers,
            crs="EPSG:3857",
            srs="epsg:3857",
            bbox=bbox_3857,
            bbox_3857=bbox_3857,
            width=out_w,
            height=out_h,
            transparent=False,
            background=BACKGROUND,
            scopes=scopes,
        ),
        "scale": scale,
        "format": fmt,
        "title": title,
        "omitted": omitted,
        "centre_lat": (lat0 + lat1) / 2,
    }


def error(message: str, field: str | None, status: int, retry_after: int | None = None) -> JsonResponse:
    response = JsonResponse(
        {"message": message, "field": field}, status=status, json_dumps_params={"ensure_ascii": False}
    )
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def render_print(job: dict) -> bytes:
    req = job["request"]
    png = map_image(req, {}, job["scale"])
    metres_per_pixel = (req.bbox_3857[2] - req.bbox_3857[0]) / req.width * math.cos(math.radians(job["centre_lat"]))
    note = "未打印的图层（无权查看）：" + "、".join(job["omitted"]) if job["omitted"] else ""
    page = layout.compose(
        png,
        title=job["title"],
        legend=[_legend_entry(layer) for layer in req.layers],
        metres_per_pixel=metres_per_pixel,
        scale=job["scale"],
        note=note[:60],
    )
    return layout.encode(page, job["format"], job["scale"], job["title"])


@require_GET
def print_view(request):
    try:
        user = basic_or_session_user(request)
    except Unauthorized as exc:
        return error(str(exc), None, exc.status, exc.retry_after)
    if user is None:
        return error("log in first", None, 401)
    try:
        job = parse(request.GET, user)
        # one slot of the client's budget of expensive requests, shared with WMS GetMap (gis_core.budget)
        return budget.run(budget.client_key(request, user), lambda: _answer(job))
    except budget.OverBudget as exc:
        return error(exc.text, None, 429, exc.retry_after)
    except ClientError as exc:  # also a Tiles.image layer refusing its parameters (a WMSError)
        return error(exc.message, (exc.field or "").lower() or None, exc.status, exc.retry_after)
    except (OperationalError, RenderTimeout):
        log.exception("print took too long")
        return error("the map took too long or the database is unavailable; try again", None, 503, 10)


def _answer(job: dict) -> HttpResponse:
    response = HttpResponse(render_print(job), content_type=FORMATS[job["format"]])
    stamp = "".join(c for c in job["title"] if c.isalnum())[:30] or "map"
    name = f"{stamp}-{timezone.localdate().isoformat()}.{job['format']}"
    response["Content-Disposition"] = (
        f"attachment; filename=\"gridcity-print.{job['format']}\"; filename*=UTF-8''{quote(name, safe='')}"
    )
    response["Cache-Control"] = "no-store"
    if job["omitted"]:
        response["X-GridCity-Omitted-Layers"] = ",".join(job["omitted"])
    return response
