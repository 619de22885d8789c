"""Pale colours per basemap kind: reference drawing that reads as background under the city's own
layers. One palette for the viewer (MapLibre style layers) and for WMS and prints (mapnik)."""

# kind -> (fill, outline / line colour, title for the legend)
PALETTE = {
    "water": ("#c9dcef", "#a9c4de"),
    "building": ("#e4ded4", "#d2c9bb"),
    "green": ("#dcead0", "#c5dbb4"),
    "road": ("#ffffff", "#d6cfc2"),
    "other": ("#e7e5e4", "#cfcac5"),
}
MINZOOM = {"building": 13}


def colours(kind: str) -> tuple[str, str]:
    return PALETTE.get(kind, PALETTE["other"])


def style(kind: str, geometry_type: str) -> tuple[dict, ...]:
    fill, line = colours(kind)
    geometry = (geometry_type or "").lower().removeprefix("multi")
    polygon = {"id": "fill", "type": "fill", "paint": {"fill-color": fill, "fill-outline-color": line}}
    lines = {
        "id": "line",
        "type": "line",
        "paint": {"line-color": line, "line-width": ["interpolate", ["linear"], ["zoom"], 12, 0.8, 18, 3]},
    }
    points = {
        "id": "point",
        "type": "circle",
        "paint": {
            "circle-color": line,
            "circle-radius": 2.5,
            "circle-stroke-color": "#ffffff",
            "circle-stroke-width": 0.5,
        },
    }
    if geometry == "polygon":
        return (polygon,)
    if geometry == "linestring":
        return (lines,)
    if geometry == "point":
        return (points,)
    only = lambda t: ["==", ["geometry-type"], t]  # noqa: E731
    return (
        {**polygon, "filter": only("Polygon")},
        {**lines, "filter": only("LineString")},
        {**points, "filter": only("Point")},
    )


def raster_style(kind: str) -> dict:
    fill, line = colours(kind)
    return {
        "fill": fill,
        "fill_opacity": 1.0,
        "stroke": line,
        "stroke_width": 0.6,
        "marker_fill": line,
        "marker_size": 4,
        "legend": fill if kind != "road" else line,
    }
