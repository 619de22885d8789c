"""Distance and area in metres, measured in the CGCS2000 3-degree Gauss-Krueger zone of the shape
(the zone whose central meridian is nearest the shape's centre: EPSG:4534 + (CM - 75) / 3, the same
rule as the database's gridcity_gk_srid), never in degrees or Web Mercator. Within a zone (±1.5° of
the central meridian) the GK scale error is under 0.04 %, well inside what a user measuring on a web
map can click.

GET /api/measure/?kind=line|area&coords=lon,lat;lon,lat;... (CGCS2000 degrees, EPSG:4490)."""

from __future__ import annotations

import math
from functools import lru_cache

from django.http import JsonResponse
from django.views.decorators.http import require_GET
from pyproj import CRS, Transformer
from shapely.geometry import LineString, Polygon

MAX_VERTICES = 1000


class MeasureError(ValueError):
    def __init__(self, field, message):
        super().__init__(message)
        self.field = field


def gk_srid(lon: float) -> int:
    """The CGCS2000 3-degree GK zone (no zone prefix) whose central meridian is nearest `lon`."""
    return 4534 + (round(lon / 3) * 3 - 75) // 3


@lru_cache(maxsize=32)
def _to_gk(srid: int) -> Transformer:
    return Transformer.from_crs(CRS.from_epsg(4490), CRS.from_epsg(srid), always_xy=True)


def parse_coords(text: str) -> list[tuple[float, float]]:
    if not text or not text.strip():
        raise MeasureError("coords", "须给出坐标：lon,lat;lon,lat;…")
    pairs = text.strip().strip(";").split(";")
    if len(pairs) > MAX_VERTICES:
        raise MeasureError("coords", f"最多 {MAX_VERTICES} 个点")
    out = []
    for i, pair in enumerate(pairs):
        parts = pair.split(",")
        try:
            lon, lat = (float(v) for v in parts)
        except ValueError:
            raise MeasureError("coords", f"第 {i + 1} 个点须为 经度,纬度") from None
        if not (math.isfinite(lon) and math.isfinite(lat)) or not (73 <= lon <= 136 and 3 <= lat <= 54):
            raise MeasureError("coords", f"第 {i + 1} 个点不在中国范围内（CGCS2000 经纬度）")
        out.append((lon, lat))
    return out


def measure(kind: str, coords: list[tuple[float, float]]) -> dict:
    if kind not in ("line", "area"):
        raise MeasureError("kind", "须为 line 或 area")
    need = 2 if kind == "line" else 3
    if len(coords) < need:
        raise MeasureError("coords", f"{'测距' if kind == 'line' else '测面积'}至少需要 {need} 个点")
    lons = [c[0] for c in coords]
    srid = gk_srid((min(lons) + max(lons)) / 2)
    xs, ys = _to_gk(srid).transform(lons, [c[1] for c in coords])
    points = list(zip(xs, ys))
    result = {"kind": kind, "crs": f"EPSG:{srid}", "central_meridian": 75 + (srid - 4534) * 3}
    if kind == "line":
        result["length_m"] = round(LineString(points).length, 3)
        result["segments_m"] = [round(math.dist(a, b), 3) for a, b in zip(points, points[1:])]
    else:
        ring = Polygon(points)
        result["area_m2"] = round(abs(ring.area), 3)
        result["perimeter_m"] = round(ring.exterior.length, 3)
        if not ring.is_valid:
            result["warning"] = "边界自相交，面积按各部分代数和计算，可能不准"
    return result


@require_GET
def measure_view(request):
    if not request.user.is_authenticated:  # an API: 401 (the viewer then says 登录已过期), not a redirect
        return JsonResponse({"message": "请先登录", "field": None}, status=401)
    try:
        body = measure(request.GET.get("kind", "line"), parse_coords(request.GET.get("coords", "")))
    except MeasureError as e:
        return JsonResponse({"message": f"{e.field}: {e}", "field": e.field}, status=400)
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "private, max-age=3600"
    return response
