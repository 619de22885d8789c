"""Layer preview (like GeoServer's): one page listing every catalogue layer with what serves it (MVT and
TileJSON, PNG tiles, WMS GetMap, WFS GetFeature as GeoJSON), and a map page per layer drawing that layer
alone from the catalogue's own style. Generated from the catalogue: a new layer declaration appears here
with nothing else to write. Names no domain."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import catalogue

WMS_SIZE = 768


def _links(layer) -> dict:
    west, south, east, north = settings.GRIDCITY_DISTRICT_BBOX
    links = {
        "wfs": "/wfs?"
        + urlencode(
            {
                "SERVICE": "WFS",
                "VERSION": "2.0.0",
                "REQUEST": "GetFeature",
                "TYPENAMES": layer.id,
                "COUNT": "50",
                "OUTPUTFORMAT": "application/json",
            }
        ),
        "describe": "/wfs?"
        + urlencode({"SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "DescribeFeatureType", "TYPENAMES": layer.id}),
    }
    t = layer.tiles
    if t is not None:
        height = round(WMS_SIZE * (north - south) / (east - west) * 1.23)  # ~1/cos(35.5°): square pixels on the ground
        links["wms"] = "/wms?" + urlencode(
            {
                "SERVICE": "WMS",
                "VERSION": "1.3.0",
                "REQUEST": "GetMap",
                "LAYERS": layer.id,
                "STYLES": "",
                "CRS": "EPSG:4490",
                "BBOX": f"{south},{west},{north},{east}",  # EPSG:4490 in WMS 1.3.0: latitude first
                "WIDTH": str(WMS_SIZE),
                "HEIGHT": str(height),
                "FORMAT": "image/png",
                "TRANSPARENT": "TRUE",
            }
        )
        links["tilejson"] = f"/tiles/{layer.id}.json"
        links["png"] = f"/tiles/{layer.id}/{{z}}/{{x}}/{{y}}.png"
        if t.image is None:
            links["mvt"] = f"/tiles/{layer.id}/{{z}}/{{x}}/{{y}}.mvt"
    return links


def _row(layer) -> dict:
    t = layer.tiles
    return {
        "id": layer.id,
        "title": layer.title_zh,
        "title_en": layer.title_en,
        "abstract": layer.abstract,
        "group": layer.group or "—",
        "geometry_type": layer.geometry_type,
        "kind": "栅格" if t is not None and t.image is not None else ("矢量瓦片" if t is not None else "仅 WFS"),
        "zooms": f"{t.minzoom}–{t.maxzoom}" if t is not None else "",
        "editable": layer.editable,
        "properties": [p.name for p in layer.properties],
        "links": _links(layer),
    }


@require_GET
@login_required
def preview_list(request):
    rows = sorted((_row(layer) for layer in catalogue.layers()), key=lambda r: (r["group"], r["id"]))
    return render(request, "layers/preview_list.html", {"rows": rows})


@require_GET
@login_required
def preview_layer(request, layer_id: str):
    layer = catalogue.get(layer_id)
    if layer is None:
        raise Http404(f"没有图层 {layer_id}")
    row = _row(layer)
    t = layer.tiles
    west, south, east, north = settings.GRIDCITY_DISTRICT_BBOX
    return render(
        request,
        "layers/preview.html",
        {
            "layer": row,
            "mode": "raster" if t is not None and t.image is not None else ("tiles" if t is not None else "wfs"),
            "minzoom": t.minzoom if t is not None else 0,
            "bounds": f"{west},{south},{east},{north}",
        },
    )
