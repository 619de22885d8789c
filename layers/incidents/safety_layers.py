"""The 平安指数 choropleth layers (group 事件): base grids and communities coloured by score,
read-only over WFS and WMS, their tiles dropped whenever safety_index.refresh() rebuilds the table."""

from components import roles
from layers.catalogue import Layer, Property, Tiles, register

from .reports_models import SafetyIndex
from .safety_index import BASE_LEVEL, COMMUNITY_LEVEL, safety_index_changed

PROPERTIES = (
    Property("grid_code", "grid_code", "string", "网格代码", nullable=False),
    Property("name", "name", "string", "名称"),
    Property("score", "score", "double", "平安指数"),
    Property("population", "population", "int", "人口"),
    Property("cases", "cases", "int", "案件数"),
    Property("weighted_cases", "weighted_cases", "double", "加权案件数"),
    Property("rate_per_1000", "rate_per_1000", "double", "每千人加权案件数"),
    Property("window_days", "window_days", "int", "统计天数"),
    Property("computed_at", "computed_at", "dateTime", "计算时间"),
)

# Red (less safe) through amber to green; grey where no population gives no score.
SCORE = ["coalesce", ["get", "score"], -1]
FILL = [
    "case",
    ["<", SCORE, 0],
    "#cbd5e1",
    ["interpolate", ["linear"], SCORE, 0, "#b91c1c", 40, "#f97316", 70, "#facc15", 90, "#4ade80", 100, "#15803d"],
]


def _scope(user):
    return ("all", "TRUE", []) if roles.can_read(user) else None


def _rows(level: int):
    def queryset(user):
        qs = SafetyIndex.objects.filter(level=level)
        return qs if roles.can_read(user) else qs.none()

    return queryset


for layer_id, level, title_zh, title_en, minzoom in (
    ("safety_index", BASE_LEVEL, "平安指数(网格)", "Safety index by base grid", 11),
    ("safety_index_community", COMMUNITY_LEVEL, "平安指数(社区)", "Safety index by community", 0),
):
    register(
        Layer(
            id=layer_id,
            title_zh=title_zh,
            title_en=title_en,
            abstract="平安指数: weighted cases per 1,000 residents over a rolling window, 0-100 (docs/incidents-reports.md).",
            queryset=_rows(level),
            geometry_field="geom",
            geometry_type="MultiPolygon",
            properties=PROPERTIES,
            keywords=("平安指数", "safety index", "choropleth"),
            extra={"level": level},
            tiles=Tiles(
                table="incidents_safetyindex",
                columns=(("grid_code", "grid_code"), ("name", "name"), ("score", "score"), ("cases", "cases")),
                where=f"level = {level}",
                scope=_scope,
                minzoom=minzoom,
                simplify_px=0.5,
                changes=safety_index_changed,
                max_age=300,
                style=(
                    {"id": "fill", "type": "fill", "paint": {"fill-color": FILL, "fill-opacity": 0.55}},
                    {"id": "outline", "type": "line", "paint": {"line-color": "#ffffff", "line-width": 0.6}},
                ),
                raster_style={"fill": "#f97316", "fill_opacity": 0.35, "stroke": "#ffffff", "label": "score"},
            ),
            group="事件",
        )
    )
