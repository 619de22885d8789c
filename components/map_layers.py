"""The components' map layers (found by layers.catalogue): all components, and one layer per major
class of the class table. WFS, tiles, WMS, TileJSON, the style and the viewer's tree come from here."""

import re

from layers.catalogue import Layer, Property, StoredCells, Tiles, register, register_provider

from . import selectors as component_selectors
from . import visibility
from .signals import components_changed
from .tile_filters import COMPONENT_FILTERS, component_scope

COMPONENT_PROPERTIES = (
    Property("code", "code", "string", "标识码", nullable=False),
    Property("class_code", "component_class__code", "string", "部件小类代码"),
    Property("class_name", "component_class__name", "string", "部件小类"),
    Property("major_code", "component_class__major_code", "string", "部件大类代码"),
    Property("name", "name", "string", "名称"),
    Property("admin_code", "admin_code", "string", "区县代码"),
    Property("street_code", "street_code", "string", "街道代码"),
    Property("community_code", "community_code", "string", "社区代码"),
    Property("grid_code", "grid_code", "string", "单元网格代码"),
    Property("department", "department__name", "string", "主管部门"),
    Property("owner", "owner__name", "string", "权属单位"),
    Property("owner_uscc", "owner__uscc", "string", "权属单位代码"),
    Property("maintainer", "maintainer__name", "string", "养护单位"),
    Property("maintainer_uscc", "maintainer__uscc", "string", "养护单位代码"),
    Property("state", "state_id", "string", "状态代码"),
    Property("state_name", "state__name", "string", "状态"),
    Property("census_date", "census_date", "date", "初始日期"),
    Property("change_date", "change_date", "date", "变更日期"),
)

MAJOR_COLOURS = {"01": "#2563eb", "02": "#ea580c", "03": "#0d9488", "04": "#16a34a", "05": "#9333ea", "06": "#64748b"}
COMPONENT_COLOUR = ["match", ["get", "major_code"], *[v for kv in MAJOR_COLOURS.items() for v in kv], "#475569"]
HAS_COUNT = ["has", "count"]


# States drawn differently from 完好 (the states table, components_componentstate): a coloured ring and
# a paler fill, so a dispatcher sees damaged and lost assets at a glance. A state added locally later
# (e.g. 占用) gets the generic ring until it is named here.
STATE_RINGS = {
    "intact": ("#ffffff", 1.0),
    "damaged": ("#f59e0b", 2.5),
    "lost": ("#dc2626", 3.0),
    "occupied": ("#7c3aed", 2.5),
    "abandoned": ("#4b5563", 2.5),
    "removed": ("#4b5563", 2.5),
}
OTHER_STATE_RING = ("#db2777", 2.5)
STATE = ["get", "state"]
RING_COLOUR = ["match", STATE, *[v for code, (c, _) in STATE_RINGS.items() for v in (code, c)], OTHER_STATE_RING[0]]
RING_WIDTH = ["match", STATE, *[v for code, (_, w) in STATE_RINGS.items() for v in (code, w)], OTHER_STATE_RING[1]]
FADED_STATES = ["lost", "abandoned", "removed"]  # no longer there: drawn paler
COUNT = ["get", "count"]
# 1234 -> "1.2k", 56789 -> "57k": a cluster's label stays short.
COUNT_TEXT = [
    "case",
    [">=", COUNT, 10000],
    ["concat", ["to-string", ["round", ["/", COUNT, 1000]]], "k"],
    [">=", COUNT, 1000],
    ["concat", ["to-string", ["/", ["round", ["/", COUNT, 100]], 10]], "k"],
    ["to-string", COUNT],
]


def component_style(colour) -> tuple[dict, ...]:
    """Clusters as circles sized by count with the count written on them below the cluster zoom,
    then each component by its geometry, points ringed by state. The count needs no glyph server:
    a style without `glyphs` makes MapLibre draw text with the browser's fonts (its GlyphManager
    draws every glyph locally when there is no glyphs URL), so nothing comes from the internet."""
    return (
        {
            "id": "clusters",
            "type": "circle",
            "filter": HAS_COUNT,
            "paint": {
                "circle-color": colour,
                "circle-opacity": 0.6,
                "circle-stroke-color": "#ffffff",
                "circle-stroke-width": 1.5,
                "circle-radius": ["interpolate", ["linear"], COUNT, 1, 7, 10, 9, 100, 12, 1000, 16, 10000, 22],
            },
        },
        {
            "id": "cluster-count",
            "type": "symbol",
            "filter": ["all", HAS_COUNT, [">", COUNT, 1]],
            "layout": {
                "text-field": COUNT_TEXT,
                "text-font": ["Noto Sans CJK SC"],
                "text-size": 11,
                "text-allow-overlap": True,
                "text-ignore-placement": True,
            },
            "paint": {"text-color": "#ffffff", "text-halo-color": "rgba(0,0,0,0.45)", "text-halo-width": 1},
        },
        {
            "id": "areas",
            "type": "fill",
            "filter": ["all", ["!", HAS_COUNT], ["==", ["geometry-type"], "Polygon"]],
            "paint": {"fill-color": colour, "fill-opacity": 0.35, "fill-outline-color": RING_COLOUR},
        },
        {
            "id": "lines",
            "type": "line",
            "filter": ["all", ["!", HAS_COUNT], ["==", ["geometry-type"], "LineString"]],
            "paint": {"line-color": ["match", STATE, "intact", colour, RING_COLOUR], "line-width": 2.5},
        },
        {
            "id": "points",
            "type": "circle",
            "filter": ["all", ["!", HAS_COUNT], ["==", ["geometry-type"], "Point"]],
            "paint": {
                "circle-color": colour,
                "circle-opacity": ["match", STATE, FADED_STATES, 0.45, 1],
                # >= 5 px from z16 (where clusters end), growing as the map closes in.
                "circle-radius": ["interpolate", ["linear"], ["zoom"], 16, 5, 18, 7, 20, 9],
                "circle-stroke-color": RING_COLOUR,
                "circle-stroke-width": RING_WIDTH,
            },
        },
    )


def component_tiles(where: str = "NOT retired", major: str | None = None, colour=COMPONENT_COLOUR) -> Tiles:
    return Tiles(
        # A join, not a sub-select per row: a dense z16 tile drops from ~23 ms to ~4 ms.
        table="components_component t JOIN components_componentclass k ON k.id = t.component_class_id",
        id_column="t.id",
        columns=(
            ("code", "t.code"),
            ("class_code", "k.code"),
            ("major_code", "k.major_code"),
            ("state", "t.state_code"),
        ),
        where=where,
        scope=component_scope,
        clusters_below=16,
        cells=StoredCells("tiles_componentcell", group_column="major", group=major),
        feature_limit=20_000,
        filters=COMPONENT_FILTERS,
        changes=components_changed,
        style=component_style(colour),
        raster_style={"marker_fill": colour if isinstance(colour, str) else "#2563eb", "marker_size": 6},
    )


register(
    Layer(
        id="components",
        title_zh="全部部件",
        title_en="All components",
        abstract="全部在用城市部件（只读），按大类着色，非完好状态以色环标出。",
        queryset=lambda user: component_selectors.visible_components(user).filter(retired=False),
        geometry_field="geom",
        geometry_type="Geometry",
        properties=COMPONENT_PROPERTIES,
        keywords=("部件", "components"),
        tiles=component_tiles(),
        group="部件",
        visible=True,
    )
)


@register_provider
def major_class_layers():
    """One layer per major class (GB/T 30428; the 47678 scheme reuses the same two-digit majors), as
    the class table holds them."""
    from .models import ComponentClass

    majors = ComponentClass.objects.order_by("major_code").values_list("major_code", "major_name").distinct()
    # The code is pasted into the tile SQL: only two ASCII digits are taken.
    return [_major_layer(major, name) for major, name in majors if re.fullmatch(r"[0-9]{2}", major)]


def _major_layer(major: str, major_name: str) -> Layer:
    return Layer(
        id=f"components_{major}",
        title_zh=major_name,
        title_en=f"Components, major class {major}",
        abstract=f"{major_name}类（大类 {major}）城市部件（只读）。",
        queryset=lambda user: component_selectors.visible_components(user).filter(
            retired=False, component_class__major_code=major
        ),
        geometry_field="geom",
        geometry_type="Geometry",
        properties=COMPONENT_PROPERTIES,
        keywords=("部件", major_name),
        tiles=component_tiles(f"NOT retired AND k.major_code = '{major}'", major, MAJOR_COLOURS.get(major, "#475569")),
        group="部件",
    )


def _counts_scope(user):
    """Whole-district counts only: a unit-only account sees its own components, not every grid's sum."""
    scope = visibility.scope_sql(user)
    return ("all", "TRUE", []) if scope is not None and scope[0] == "all" else None


def _grids_with_counts(user):
    from django.db.models import Count, IntegerField, OuterRef, Subquery
    from django.db.models.functions import Coalesce

    from layers.models import Grid

    from .models import Component

    if _counts_scope(user) is None:
        return Grid.objects.none()
    counts = (
        Component.objects.filter(grid_code=OuterRef("code"), retired=False)
        .order_by()
        .values("grid_code")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Grid.objects.filter(level_id=4).annotate(
        components=Coalesce(Subquery(counts, output_field=IntegerField()), 0)
    )


# Counts per base grid as a choropleth (issue 13): how many components each grid holds, so a dispatcher
# sees at a glance where the assets are. The count is per tile row, from the component_grid_idx index.
COUNT_COLOUR = [
    "interpolate", ["linear"], ["get", "components"],
    0, "#f8fafc", 10, "#dbeafe", 50, "#93c5fd", 150, "#3b82f6", 400, "#1e3a8a",
]  # fmt: skip
register(
    Layer(
        id="grid_component_counts",
        title_zh="网格部件数量",
        title_en="Components per base grid",
        abstract="每个基础网格内在用部件的数量，按数量深浅着色（分级设色图）。",
        queryset=_grids_with_counts,
        geometry_field="geom",
        geometry_type="MultiPolygon",
        properties=(
            Property("code", "code", "string", "网格代码", nullable=False),
            Property("name", "name", "string", "名称"),
            Property("components", "components", "int", "部件数"),
        ),
        keywords=("部件", "网格", "统计", "choropleth"),
        tiles=Tiles(
            table="layers_grid g",
            id_column="g.id",
            geometry="g.geom_3857",
            where="g.level_id = 4",
            columns=(
                ("code", "g.code"),
                ("name", "g.name"),
                (
                    "components",
                    "(SELECT count(*) FROM components_component c WHERE c.grid_code = g.code AND NOT c.retired)",
                ),
            ),
            scope=_counts_scope,
            minzoom=11,
            simplify_px=0.5,
            changes=components_changed,
            max_age=60,
            cache_seconds=300,  # a grid's count sits in every tile it crosses; a change names only its own box
            style=(
                {"id": "fill", "type": "fill", "paint": {"fill-color": COUNT_COLOUR, "fill-opacity": 0.6}},
                {"id": "outline", "type": "line", "paint": {"line-color": "#1e3a8a", "line-width": 0.4}},
            ),
            raster_style={"fill": "#3b82f6", "fill_opacity": 0.35, "stroke": "#1e3a8a", "stroke_width": 0.4},
        ),
        group="部件",
    )
)
