"""Public pages: the component ID card (部件身份证) people reach by scanning the label, and its QR codes."""

from __future__ import annotations

import hashlib
import math
from urllib.parse import urlencode

from django.contrib.gis.geos import GEOSException, GEOSGeometry
from django.http import HttpResponse, HttpResponseNotModified
from django.shortcuts import render
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from gis_core.mercator import EARTH_RADIUS
from gis_core.text import is_ascii_digits

from . import visibility
from .history import component_history
from .models import Component, ComponentState, DataSource
from .qr import card_url, qr_png, qr_svg, qr_svg_inline

# Field labels for the history table.
FIELD_LABELS = {
    "code": "标识码",
    "component_class": "部件类别",
    "name": "名称",
    "geom": "空间位置",
    "admin_code": "行政区划代码",
    "street_code": "街道代码",
    "community_code": "社区代码",
    "grid_code": "单元网格代码",
    "location_desc": "位置描述",
    "department": "主管部门",
    "owner": "权属单位",
    "maintainer": "养护单位",
    "state": "状态",
    "census_date": "普查日期",
    "change_date": "变更日期",
    "data_source": "数据来源",
    "note": "备注",
    "attributes": "扩展属性",
    "retired": "已注销",
    "retired_at": "注销时间",
    "retired_reason": "注销原因",
}
ACTION_LABELS = {
    "create": "登记",
    "update": "修改",
    "change_state": "状态变更",
    "transfer": "权属移交",
    "retire": "注销",
    "import": "批量导入",
    "sql": "数据库直接修改",
    "delete": "删除",
}
QR_MAX_AGE = 24 * 3600


def _component(code: str):
    if not is_ascii_digits(code) or len(code) > 17:
        return None
    return (
        Component.objects.select_related(
            "component_class", "component_class__scheme", "state", "department", "owner", "maintainer"
        )
        .filter(code=code)
        .first()
    )


def _not_found(request, code):
    response = render(request, "components/card_404.html", {"code": code}, status=404)
    patch_cache_control(response, no_cache=True)
    return response


def can_see_history(user, component) -> bool:
    """The change history follows the API's visibility rule: a maintenance unit sees only the
    history of its own organisation's components (the record itself is public)."""
    return visibility.can_see(user, component)


def _coordinates(geom):
    """(lon, lat, kind): the point itself, or a point on the surface of a line or area."""
    if geom is None:
        return None
    point = geom if geom.geom_type == "Point" else geom.point_on_surface
    return {
        "lon": f"{point.x:.6f}",
        "lat": f"{point.y:.6f}",
        "type": geom.geom_type,
        "is_point": geom.geom_type == "Point",
    }


def _attribute_rows(component):
    schema = component.component_class.attribute_schema or {}
    rows = []
    for key, value in (component.attributes or {}).items():
        spec = schema.get(key) or {}
        if isinstance(value, bool):
            value = "是" if value else "否"
        rows.append({"label": spec.get("label") or key, "value": value})
    return rows


def _history_rows(component):
    words = HistoryWords(component)
    rows = []
    for entry in component_history(component):
        rows.append(
            {
                **entry,
                "action_label": ACTION_LABELS.get(entry["action"], entry["action"] or ""),
                "change_rows": [
                    {
                        "field": FIELD_LABELS.get(name, name),
                        "old": _short(words.say(name, old)),
                        "new": _short(words.say(name, new)),
                    }
                    for name, (old, new) in entry["changes"].items()
                ],
            }
        )
    return rows


class HistoryWords:
    """History values as people read them: state names (破损, not damaged), attributes with their
    labels, a point as coordinates, yes/no, the data source's name; never a Python dict or WKT."""

    def __init__(self, component):
        self.states = dict(ComponentState.objects.values_list("code", "name"))
        self.schema = component.component_class.attribute_schema or {}
        self.sources = dict(DataSource.choices)

    def say(self, field: str, value):
        if value is None or value == "" or value == {}:
            return None
        if field == "state":
            return self.states.get(value, value)
        if field == "data_source":
            return self.sources.get(value, value)
        if field == "retired" or isinstance(value, bool):
            return "是" if value else "否"
        if field == "geom":
            return _place(value)
        if field == "retired_at" and isinstance(value, str):
            return value[:16].replace("T", " ")
        if isinstance(value, dict):
            return "；".join(f"{self._label(k)}：{self.say(k, v) or '—'}" for k, v in value.items())
        if isinstance(value, list):
            return "、".join(str(v) for v in value)
        return value

    def _label(self, key: str) -> str:
        return (self.schema.get(key) or {}).get("label") or FIELD_LABELS.get(key, key)


def _place(wkt: str) -> str:
    try:
        geom = GEOSGeometry(wkt)
    except (ValueError, GEOSException):
        return "空间位置"
    if geom.geom_type == "Point":
        return f"经度 {geom.x:.6f}，纬度 {geom.y:.6f}"
    point = geom.point_on_surface
    kind = {"LineString": "线", "MultiLineString": "线", "Polygon": "面", "MultiPolygon": "面"}.get(geom.geom_type, "")
    return f"{kind}（经度 {point.x:.6f}，纬度 {point.y:.6f} 附近）"


def _short(value, limit=80):
    if value is None or value == "":
        return "—"
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# The small map on the card: our own WMS (grids and components) around the spot, about 300 m across.
MAP_LAYERS = "base_grids,components"
MAP_HALF_WIDTH_M = 160
MAP_SIZE = (480, 270)


def _small_map(coords) -> str | None:
    """The WMS GetMap URL of a small map centred on the component (EPSG:3857, so it is square to the
    eye); the page marks the centre. Drawn with the reader's session: only for those who may see it."""
    if coords is None:
        return None
    lon, lat = float(coords["lon"]), float(coords["lat"])
    x = math.radians(lon) * EARTH_RADIUS
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * EARTH_RADIUS
    # Mercator metres grow with latitude: widen the box so it stays ~320 m on the ground.
    half_w = MAP_HALF_WIDTH_M / math.cos(math.radians(lat))
    half_h = half_w * MAP_SIZE[1] / MAP_SIZE[0]
    params = {
        "SERVICE": "WMS",
        "VERSION": "1.3.0",
        "REQUEST": "GetMap",
        "LAYERS": MAP_LAYERS,
        "STYLES": "",
        "CRS": "EPSG:3857",
        "BBOX": f"{x - half_w:.1f},{y - half_h:.1f},{x + half_w:.1f},{y + half_h:.1f}",
        "WIDTH": str(MAP_SIZE[0]),
        "HEIGHT": str(MAP_SIZE[1]),
        "FORMAT": "image/png",
        "TRANSPARENT": "FALSE",
    }
    return "/wms?" + urlencode(params)


def _viewer_links(component, coords) -> dict:
    """The map viewer at this component (its hash is zoom/lat/lon), and its 上报问题 form for it."""
    view = f"#18/{coords['lat']}/{coords['lon']}" if coords else ""
    return {
        "map_url": f"/?component={component.code}{view}",
        "report_url": f"/?component={component.code}&action=report{view}",
    }


@require_safe
def component_card(request, code: str):
    """部件身份证: the public page at /c/<code>. Readers who may see the component through the API
    also see its change history."""
    component = _component(code)
    if component is None:
        return _not_found(request, code)
    show_history = can_see_history(request.user, component)
    coords = _coordinates(component.geom)
    context = {
        "c": component,
        "cls": component.component_class,
        "coords": coords,
        # The map and the viewer links need a login that sees the component (the WMS asks for it).
        "small_map": _small_map(coords) if show_history else None,
        **_viewer_links(component, coords),
        "attributes": _attribute_rows(component),
        "card_url": card_url(component.code),
        "qr_svg": mark_safe(qr_svg_inline(component.code)),  # generated by segno from digits only
        "show_history": show_history,
        "history": _history_rows(component) if show_history else [],
        "data_source": component.get_data_source_display(),
    }
    response = render(request, "components/card.html", context)
    # Staff see private history; everybody may see a changed record at once.
    patch_cache_control(response, no_cache=True, **({"private": True} if show_history else {}))
    patch_vary_headers(response, ["Cookie"])
    return response


def _qr_response(request, code: str, kind: str):
    component = _component(code)
    if component is None:
        return _not_found(request, code)
    etag = '"%s"' % hashlib.sha256(f"{kind}:{card_url(component.code)}".encode()).hexdigest()[:32]
    if etag in (request.headers.get("If-None-Match") or ""):
        response = HttpResponseNotModified()
    elif kind == "svg":
        response = HttpResponse(qr_svg(component.code), content_type="image/svg+xml")
        response["Content-Disposition"] = f'inline; filename="{component.code}.svg"'
    else:
        response = HttpResponse(qr_png(component.code), content_type="image/png")
        response["Content-Disposition"] = f'inline; filename="{component.code}.png"'
    response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=QR_MAX_AGE)
    return response


@require_safe
def component_qr_svg(request, code: str):
    return _qr_response(request, code, "svg")


@require_safe
def component_qr_png(request, code: str):
    return _qr_response(request, code, "png")
