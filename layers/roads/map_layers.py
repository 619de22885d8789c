"""The read-only `roads` layer: centre lines widened by level (tiles, WMS, WFS), drawn pale as part of
the basemap (white streets with a casing, under every other layer)."""

from layers.catalogue import Layer, Property, Tiles, register

from . import selectors
from .signals import roads_changed

LEVEL_COLOUR = ["match", ["get", "level"], "arterial", "#fdf3d3", "main", "#fffaf0", "#ffffff"]
LEVEL_WIDTH = ["match", ["get", "level"], "arterial", 2.0, "main", 1.5, 1.0]

register(
    Layer(
        id="roads",
        title_zh="道路",
        title_en="Roads",
        abstract="Road centre lines (imported from an OGR layer), read-only; the streets patrol coverage is measured on.",
        queryset=selectors.visible_roads,
        geometry_field="geom",
        geometry_type="MultiLineString",
        properties=(
            Property("name", "name", "string", "名称"),
            Property("level", "level", "string", "等级"),
            Property("width_m", "width_m", "double", "宽度(米)"),
            Property("source", "source", "string", "来源"),
        ),
        pk="id",
        keywords=("道路", "roads"),
        tiles=Tiles(
            table="roads_road t",
            id_column="t.id",
            geometry="t.geom_3857",
            columns=(("name", "t.name"), ("level", "t.level"), ("width_m", "t.width_m")),
            scope=selectors.scope_sql,
            minzoom=10,
            simplify_px=0.5,
            changes=roads_changed,
            max_age=300,
            style=(
                {
                    "id": "casing",
                    "type": "line",
                    "paint": {
                        "line-color": "#d6cfc2",
                        "line-width": [
                            "interpolate",
                            ["linear"],
                            ["zoom"],
                            12,
                            ["*", LEVEL_WIDTH, 2],
                            18,
                            ["*", LEVEL_WIDTH, 9],
                        ],
                    },
                },
                {
                    "id": "lines",
                    "type": "line",
                    "paint": {
                        "line-color": LEVEL_COLOUR,
                        "line-width": [
                            "interpolate",
                            ["linear"],
                            ["zoom"],
                            12,
                            ["*", LEVEL_WIDTH, 1],
                            18,
                            ["*", LEVEL_WIDTH, 6],
                        ],
                    },
                },
            ),
            raster_style={"stroke": "#cfc6b6", "stroke_width": 1.5, "legend": "#cfc6b6"},
        ),
        group="底图",
        visible=True,
        basemap=True,
    )
)
