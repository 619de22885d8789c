"""The tile catalogue entries, TileJSON 3.0 and the MapLibre style, each from the layer declarations."""

from django.conf import settings

from layers.catalogue import Layer

BACKGROUND = "#f4f1ea"
# Basemap layers first; then polygons, lines, points, so components are never hidden under grids.
TYPE_ORDER = {"fill": 0, "line": 1, "circle": 2, "symbol": 3}
GEOMETRY_ORDER = {"polygon": 0, "linestring": 1, "line": 1, "point": 2}


def draw_order(layers: list[Layer]) -> list[Layer]:
    """Layers bottom first as the viewer draws them: basemap layers under all others, then by the
    geometry drawn (polygons, lines, points), the catalogue order kept within each (a print uses it)."""

    def key(layer):
        kind = (layer.geometry_type or "").lower().removeprefix("multi")
        return (not layer.basemap, GEOMETRY_ORDER.get(kind, 1))

    return sorted(layers, key=key)


def _urls(layer: Layer, base: str) -> dict:
    png = [f"{base}{layer.id}/{{z}}/{{x}}/{{y}}.png"]
    return {
        "tilejson": f"{base}{layer.id}.json",
        # a layer drawn by a callable (Tiles.image) has PNG tiles only
        "tiles": png if layer.tiles.image is not None else [f"{base}{layer.id}/{{z}}/{{x}}/{{y}}.mvt"],
        "png": png,
    }


def catalogue_entry(layer: Layer, base: str) -> dict:
    t = layer.tiles
    return {
        "id": layer.id,
        "title_zh": layer.title_zh,
        "title_en": layer.title_en,
        "abstract": layer.abstract,  # the viewer's tooltip (Chinese)
        "group": layer.group,
        "geometry_type": layer.geometry_type,
        "minzoom": t.minzoom,
        "maxzoom": t.maxzoom,
        "visible": layer.visible,
        "basemap": layer.basemap,
        "raster": layer.tiles.image is not None,
        "clusters_below": t.clusters_below,
        **_urls(layer, base),
        "filters": [{"param": f.param, "title": f.title} for f in t.filters],
    }


def tilejson(layer: Layer, base: str) -> dict:
    t = layer.tiles
    west, south, east, north = settings.GRIDCITY_DISTRICT_BBOX
    fields = {name: name for name, _ in t.columns}
    if t.clusters_below is not None:
        fields.update(count="cluster size (features below the cluster zoom)", cluster="true on clusters")
    return {
        "tilejson": "3.0.0",
        "name": layer.title_zh,
        "description": layer.abstract or layer.title_zh,
        "version": "1.0.0",
        "scheme": "xyz",
        "tiles": _urls(layer, base)["tiles"],
        "minzoom": t.minzoom,
        "maxzoom": t.maxzoom,
        "bounds": [west, south, east, north],
        "center": [round((west + east) / 2, 5), round((south + north) / 2, 5), 12],
        "vector_layers": [
            {
                "id": layer.id,
                "description": layer.title_zh,
                "minzoom": t.minzoom,
                "maxzoom": t.maxzoom,
                "fields": fields,
            }
        ],
    }


def style_layers(layer: Layer) -> list[dict]:
    out = []
    for n, declared in enumerate(layer.tiles.style):
        suffix = declared.get("id", str(n))
        entry = {k: v for k, v in declared.items() if k != "id"}
        entry.update(
            {
                "id": f"{layer.id}-{suffix}",
                "source": layer.id,
                "metadata": {
                    "gridcity:layer": layer.id,
                    "gridcity:group": layer.group,
                    "gridcity:title": layer.title_zh,
                    "gridcity:abstract": layer.abstract,
                    "gridcity:basemap": layer.basemap,
                },
            }
        )
        if layer.tiles.image is None:
            entry["source-layer"] = layer.id
        entry.setdefault("layout", {})["visibility"] = "visible" if layer.visible else "none"
        out.append(entry)
    return out


def _source(layer: Layer, base: str, bounds: list) -> dict:
    source = {
        "type": "vector",
        "tiles": _urls(layer, base)["tiles"],
        "minzoom": layer.tiles.minzoom,
        "maxzoom": layer.tiles.maxzoom,
        "bounds": bounds,
    }
    if layer.tiles.image is not None:
        source.update(type="raster", tileSize=256)
    return source


def style(layers: list[Layer], base: str) -> dict:
    west, south, east, north = settings.GRIDCITY_DISTRICT_BBOX
    drawn = [sl for layer in draw_order(layers) for sl in style_layers(layer)]
    drawn.sort(key=lambda sl: (not sl["metadata"]["gridcity:basemap"], TYPE_ORDER.get(sl["type"], 1)))
    sources, online = online_basemap()
    return {
        "version": 8,
        "name": "网格化城市管理 gridcity",
        "center": [round((west + east) / 2, 5), round((south + north) / 2, 5)],
        "zoom": 11,
        "sources": {**sources, **{layer.id: _source(layer, base, [west, south, east, north]) for layer in layers}},
        "layers": [
            {"id": "background", "type": "background", "paint": {"background-color": BACKGROUND}},
            *online,
            *drawn,
        ],
    }


def online_basemap() -> tuple[dict, list]:
    """(sources, style layers) of GRIDCITY_BASEMAP_URL, under everything; none when it is not set. The
    browser fetches these tiles, never the server; prints leave them out (they draw our own layers)."""
    from django.core.exceptions import ImproperlyConfigured

    from gis_core.online_basemap import templates

    try:
        urls = templates(settings.GRIDCITY_BASEMAP_URL)
    except ImproperlyConfigured:  # refused at start-up; only settings changed since get here
        return {}, []
    sources, drawn = {}, []
    for n, url in enumerate(urls):
        sid = f"online-basemap-{n}"
        sources[sid] = {"type": "raster", "tiles": [url], "tileSize": 256, "maxzoom": 18}
        if settings.GRIDCITY_BASEMAP_ATTRIBUTION:
            sources[sid]["attribution"] = settings.GRIDCITY_BASEMAP_ATTRIBUTION
        drawn.append({"id": sid, "type": "raster", "source": sid, "metadata": {"gridcity:online-basemap": True}})
    return sources, drawn
