"""`cameras` (points with the azimuth, for a symbol rotated to where the camera looks) and
`camera_views` (the current view sectors, from z15), both styled by state. `cameras` is editable over
WFS-T by GIS editors through the service (wfs_adapters); `camera_views` is computed, read-only."""

from layers.catalogue import Layer, Property, TileFilter, Tiles, register

from . import selectors, wfs_adapters
from .models import Ptz, State
from .signals import cameras_changed

GROUP = "视频监控"
STATE_COLOURS = {State.ONLINE: "#16a34a", State.OFFLINE: "#94a3b8", State.FAULT: "#dc2626"}
STATE_COLOUR = ["match", ["get", "state"], *[v for kv in STATE_COLOURS.items() for v in kv], "#475569"]


def _known(values: list[str], allowed, what: str) -> list:
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValueError(f"no {what} {', '.join(unknown[:5])}")
    return [values]


FILTERS = (
    TileFilter("state", "状态", lambda v: _known(v, State.values, "state"), "t.state = ANY(%s)"),
    TileFilter("ptz", "云台类型", lambda v: _known(v, Ptz.values, "ptz type"), "t.ptz = ANY(%s)"),
    TileFilter("grid", "单元网格代码", lambda v: [v], "t.grid_code = ANY(%s)"),
)

PROPERTIES = (
    Property("device_id", "device_id", "string", "国标编码", nullable=False),
    Property("name", "name", "string", "名称"),
    Property("state", "state", "string", "状态"),
    Property("ptz", "ptz", "string", "云台类型"),
    Property("azimuth", "azimuth", "double", "朝向(度)"),
    Property("h_fov", "h_fov", "double", "水平视场角(度)"),
    Property("v_fov", "v_fov", "double", "垂直视场角(度)"),
    Property("range_m", "range_m", "double", "可视距离(米)"),
    Property("grid_code", "grid_code", "string", "单元网格代码"),
)
# Over WFS-T (the `cameras` layer only): position, azimuth, angles, range, and the ID and name a
# new camera needs. PTZ, organisations and the stream stay with the REST API.
EDITABLE = ("device_id", "name", "azimuth", "h_fov", "v_fov", "range_m")
EDITABLE_PROPERTIES = tuple(
    Property(p.name, p.source, p.type, p.title, editable=p.name in EDITABLE, nullable=p.nullable) for p in PROPERTIES
)
COLUMNS = (
    ("device_id", "t.device_id"),
    ("name", "t.name"),
    ("state", "t.state"),
    ("ptz", "t.ptz"),
    ("azimuth", "t.azimuth"),
)

register(
    Layer(
        id="cameras",
        title_zh="视频监控点",
        title_en="Cameras",
        abstract="视频监控点（GB/T 28181），按状态着色，符号按方位角（正北顺时针，度）旋转。",
        queryset=selectors.visible_cameras,
        geometry_field="geom",
        geometry_type="Point",
        properties=EDITABLE_PROPERTIES,
        insert=wfs_adapters.insert,
        update=wfs_adapters.update,
        delete=wfs_adapters.delete,
        can_edit=wfs_adapters.can_edit,
        pk="id",
        keywords=("视频监控", "摄像机", "cameras", "GB/T 28181"),
        tiles=Tiles(
            table="cameras_camera t",
            id_column="t.id",
            geometry="t.geom_3857",
            columns=COLUMNS,
            scope=selectors.scope_sql,
            minzoom=12,
            filters=FILTERS,
            changes=cameras_changed,
            style=(
                {
                    "id": "points",
                    "type": "circle",
                    "paint": {
                        "circle-color": STATE_COLOUR,
                        "circle-radius": ["interpolate", ["linear"], ["zoom"], 12, 3, 18, 7],
                        "circle-stroke-color": "#ffffff",
                        "circle-stroke-width": 1,
                    },
                },
                {
                    # The direction the lens points: a rotated arrow glyph, from z15.
                    "id": "heading",
                    "type": "symbol",
                    "minzoom": 15,
                    "layout": {
                        "text-field": "▲",
                        "text-size": 12,
                        "text-rotate": ["get", "azimuth"],
                        "text-rotation-alignment": "map",
                        "text-offset": [0, -1.2],
                        "text-allow-overlap": True,
                    },
                    "paint": {"text-color": STATE_COLOUR},
                },
            ),
            raster_style={"marker_fill": "#16a34a", "marker_size": 7},
        ),
        group=GROUP,
    )
)

register(
    Layer(
        id="camera_views",
        title_zh="摄像机视域",
        title_en="Camera views",
        abstract="摄像机当前视域：由位置、方位角、视场角和可视距离构成的扇形。",
        queryset=selectors.visible_cameras,
        geometry_field="view_geom",
        geometry_type="Polygon",
        properties=PROPERTIES,
        pk="id",
        keywords=("视频监控", "视域", "cameras"),
        tiles=Tiles(
            table="cameras_camera t",
            id_column="t.id",
            geometry="t.view_3857",
            columns=COLUMNS,
            scope=selectors.scope_sql,
            minzoom=15,
            filters=FILTERS,
            changes=cameras_changed,
            style=(
                {"id": "fill", "type": "fill", "paint": {"fill-color": STATE_COLOUR, "fill-opacity": 0.15}},
                {"id": "outline", "type": "line", "paint": {"line-color": STATE_COLOUR, "line-width": 1}},
            ),
            raster_style={"fill": "#16a34a", "fill_opacity": 0.15, "stroke": "#16a34a", "stroke_width": 1},
        ),
        group=GROUP,
    )
)
