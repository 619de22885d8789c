"""The `tracks` layer (one line per worker per day, simplified per zoom), `patrol_positions`
(where each worker on duty was last seen) and `patrol_heatmap` (time spent per cell, a raster drawn
by layers.patrols.heatmap), all read-only and scoped like the playback API."""

import datetime as dt

from django.contrib.auth import get_user_model

from components.models import Organisation
from layers.catalogue import Layer, Property, TileFilter, Tiles, register

from . import heatmap, selectors, trackdays
from .signals import patrols_changed

GROUP = "巡查"


def _workers(values: list[str]) -> list:
    found = dict(get_user_model().objects.filter(username__in=values).values_list("username", "pk"))
    unknown = [v for v in values if v not in found]
    if unknown:
        raise ValueError(f"no worker {', '.join(unknown[:5])}")
    return [list(found.values())]


def _dates(values: list[str]) -> list:
    try:
        return [[dt.date.fromisoformat(v) for v in values]]
    except ValueError:
        raise ValueError("dates as YYYY-MM-DD") from None


def _units(values: list[str]) -> list:
    found = dict(Organisation.objects.filter(uscc__in=values).values_list("uscc", "pk"))
    unknown = [v for v in values if v not in found]
    if unknown:
        raise ValueError(f"no organisation with USCC {', '.join(unknown[:5])}")
    return [list(found.values())]


# A track belongs to a grid when its worker was assigned to that grid on that day.
IN_GRID = (
    "EXISTS (SELECT 1 FROM patrols_patrolassignment a WHERE a.worker_id = t.worker_id AND a.grid_code = ANY(%s) "
    "AND a.valid_from <= t.day AND (a.valid_to IS NULL OR a.valid_to >= t.day))"
)
IN_UNIT = (
    "EXISTS (SELECT 1 FROM components_userprofile p WHERE p.user_id = t.worker_id AND p.organisation_id = ANY(%s))"
)

TRACK_FILTERS = (
    TileFilter("worker", "网格员用户名", _workers, "t.worker_id = ANY(%s)"),
    TileFilter("date", "日期 (YYYY-MM-DD)", _dates, "t.day = ANY(%s)"),
    TileFilter("grid", "单元网格代码 (当日责任网格)", lambda v: [v], IN_GRID),
    TileFilter("unit", "所属单位统一社会信用代码", _units, IN_UNIT),
)

register(
    Layer(
        id="tracks",
        title_zh="巡查轨迹",
        title_en="Patrol tracks",
        abstract="网格员每日巡查轨迹（北京时间，按 GPS 定位生成，只读）。",
        queryset=selectors.visible_tracks,
        geometry_field="geom",
        geometry_type="LineString",
        properties=(
            Property("worker", "username", "string", "网格员", nullable=False),
            Property("day", "day", "date", "日期", nullable=False),
            Property("first_time", "first_time", "dateTime", "开始时间"),
            Property("last_time", "last_time", "dateTime", "结束时间"),
            Property("fix_count", "fix_count", "int", "定位点数"),
        ),
        pk="id",
        keywords=("巡查", "轨迹", "patrols", "tracks"),
        tiles=Tiles(
            table="patrols_track t",
            id_column="t.id",
            geometry="t.geom_3857",
            # Stored simplified copies (layers.patrols.trackdays): a low-zoom tile of the whole city
            # simplifies a few points per line, not every fix.
            geometry_by_zoom=((trackdays.LOW_ZOOM, "t.geom_3857_low"), (trackdays.MID_ZOOM, "t.geom_3857_mid")),
            bbox_column="t.geom_3857",
            columns=(
                ("worker", "t.username"),
                ("day", "t.day::text"),
                ("first_time", "t.first_time::text"),
                ("last_time", "t.last_time::text"),
                ("fix_count", "t.fix_count"),
            ),
            scope=selectors.scope_sql,
            simplify_px=0.5,
            filters=TRACK_FILTERS,
            changes=patrols_changed,
            max_age=30,
            cache_seconds=3600,
            style=(
                {
                    "id": "lines",
                    "type": "line",
                    "paint": {
                        "line-color": "#0ea5e9",
                        "line-width": ["interpolate", ["linear"], ["zoom"], 10, 1, 18, 4],
                        "line-opacity": 0.8,
                    },
                },
            ),
            raster_style={"stroke": "#0ea5e9", "stroke_width": 2},
        ),
        group=GROUP,
    )
)

register(
    Layer(
        id="patrol_positions",
        title_zh="网格员当前位置",
        title_en="Patrol positions",
        abstract="网格员最近 15 分钟内的最新位置（只读）。",
        queryset=selectors.visible_positions,
        geometry_field="geom",
        geometry_type="Point",
        properties=(
            Property("worker", "username", "string", "网格员", nullable=False),
            Property("fix_time", "fix_time", "dateTime", "定位时间"),
            Property("accuracy", "accuracy", "double", "精度(米)"),
            Property("speed", "speed", "double", "速度(米/秒)"),
            Property("heading", "heading", "double", "方向(度)"),
        ),
        pk="id",
        keywords=("巡查", "网格员", "patrols"),
        tiles=Tiles(
            table="patrols_position t",
            id_column="t.id",
            geometry="t.geom_3857",
            columns=(("worker", "t.username"), ("fix_time", "t.fix_time::text"), ("heading", "t.heading")),
            scope=selectors.scope_sql,
            filters=(TRACK_FILTERS[0], TRACK_FILTERS[3]),
            changes=patrols_changed,
            # Positions age out of the 15-minute window without any write: short caches, no signal needed.
            max_age=15,
            cache_seconds=60,
            style=(
                {
                    "id": "points",
                    "type": "circle",
                    "paint": {
                        "circle-color": "#0ea5e9",
                        "circle-radius": 6,
                        "circle-stroke-color": "#ffffff",
                        "circle-stroke-width": 2,
                    },
                },
            ),
            raster_style={"marker_fill": "#0ea5e9", "marker_size": 8},
        ),
        group=GROUP,
    )
)


def _checked_later(values: list[str]) -> list:
    return []  # an image layer's filters are read by its image callable (heatmap.parse_query)


HEAT_FILTERS = (
    TileFilter("from", "起始日期 (YYYY-MM-DD，默认今天)", _checked_later, "TRUE"),
    TileFilter("to", "结束日期 (YYYY-MM-DD，最多31天)", _checked_later, "TRUE"),
    TileFilter("worker", "网格员用户名", _checked_later, "TRUE"),
    TileFilter("grid", "单元网格代码 (当日责任网格)", _checked_later, "TRUE"),
    TileFilter("unit", "所属单位统一社会信用代码", _checked_later, "TRUE"),
)

register(
    Layer(
        id="patrol_heatmap",
        title_zh="巡查热力图",
        title_en="Patrol heat map",
        abstract=(
            "Time grid workers spent per cell (minutes per hectare), for a range of days (&from=&to=, default "
            "today), as PNG tiles and WMS; GetFeatureInfo and WFS answer with the tracks it is made of. "
            "Download as a Cloud-Optimised GeoTIFF: /api/patrols/heatmap.tif."
        ),
        queryset=selectors.visible_tracks,
        geometry_field="geom",
        geometry_type="LineString",
        properties=(
            Property("worker", "username", "string", "网格员", nullable=False),
            Property("day", "day", "date", "日期", nullable=False),
        ),
        pk="id",
        keywords=("巡查", "热力图", "patrols", "heatmap"),
        tiles=Tiles(
            table="patrols_track t",
            id_column="t.id",
            geometry="t.geom_3857",
            columns=(("worker", "t.username"), ("day", "t.day::text")),
            scope=selectors.scope_sql,
            filters=HEAT_FILTERS,
            image=heatmap.image,
            max_age=60,
            style=({"id": "heat", "type": "raster", "paint": {"raster-opacity": 0.9}},),
        ),
        group=GROUP,
    )
)


def _latest_day() -> list[str]:
    """The coverage layer without `date`: the latest day computed up to today (Asia/Shanghai). Today once
    the half-hourly refresh has run, until then yesterday; a demo database its demo day."""
    from django.db.models import Max
    from django.utils import timezone

    from .models import GridCoverage

    day = GridCoverage.objects.filter(day__lte=timezone.localdate()).aggregate(d=Max("day"))["d"]
    return [day.isoformat()] if day else []


# Street share: red (unwalked) -> amber -> green (all walked); grey where the grid has no street.
SHARE_COLOUR = [
    "case",
    ["==", ["get", "street_share"], None],
    "#94a3b8",
    ["interpolate", ["linear"], ["get", "street_share"], 0, "#dc2626", 0.5, "#f59e0b", 1, "#16a34a"],
]

register(
    Layer(
        id="patrol_coverage",
        title_zh="网格巡查覆盖率",
        title_en="Patrol coverage",
        abstract="基础网格按当日道路巡查覆盖率着色（过滤参数 date，YYYY-MM-DD，缺省为最近计算的一天；只读）。",
        queryset=selectors.visible_coverage_map,
        geometry_field="geom",
        geometry_type="MultiPolygon",
        properties=(
            Property("grid_code", "grid_code", "string", "网格代码", nullable=False),
            Property("grid_name", "grid_name", "string", "网格名称"),
            Property("day", "day", "date", "日期", nullable=False),
            Property("street_m", "street_m", "double", "道路长度(米)"),
            Property("walked_m", "walked_m", "double", "巡查道路(米)"),
            Property("street_share", "street_share", "double", "道路覆盖率"),
            Property("area_share", "area_share", "double", "面积覆盖率"),
            Property("minutes", "minutes", "double", "巡查时长(分钟)"),
            Property("workers", "workers", "string", "网格员"),
        ),
        pk="id",
        keywords=("巡查", "覆盖率", "patrols", "coverage"),
        tiles=Tiles(
            table="patrols_coverage_map t",
            id_column="t.id",
            geometry="t.geom_3857",
            columns=(
                ("grid_code", "t.grid_code"),
                ("grid_name", "t.grid_name"),
                ("day", "t.day::text"),
                ("street_share", "t.street_share"),
                ("area_share", "t.area_share"),
                ("minutes", "t.minutes"),
            ),
            scope=selectors.coverage_scope_sql,
            minzoom=10,
            simplify_px=0.5,
            filters=(
                TileFilter("date", "日期 (YYYY-MM-DD，缺省为最近计算的一天)", _dates, "t.day = ANY(%s)", _latest_day),
                TileFilter("grid", "单元网格代码", lambda v: [v], "t.grid_code = ANY(%s)"),
            ),
            max_age=60,
            cache_seconds=1800,  # recomputed every 30 minutes for today, nightly for yesterday
            style=(
                {"id": "fill", "type": "fill", "paint": {"fill-color": SHARE_COLOUR, "fill-opacity": 0.55}},
                {"id": "outline", "type": "line", "paint": {"line-color": "#334155", "line-width": 0.5}},
            ),
            raster_style={"fill": "#f59e0b", "fill_opacity": 0.5, "stroke": "#334155", "stroke_width": 0.5},
        ),
        group=GROUP,
    )
)
