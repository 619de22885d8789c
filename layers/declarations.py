"""The layers, declared once: WFS feature types, vector and raster tiles, WMS layers, TileJSON and
the viewer's style and layer tree all come from here."""
import csv
from pathlib import Path

from components import roles
from components import selectors as component_selectors

from .catalogue import Layer, Property, Tiles, register
from .tile_scopes import COMPONENT_FILTERS, component_scope, grid_scope
from .grids import selectors as grid_selectors
from .grids import wfs_adapters

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

# GB/T 30428 major classes (the 47678 scheme reuses the same two-digit majors).
MAJORS = {}
with open(Path(__file__).resolve().parent.parent / "fixtures/data/component_classes_gbt30428.csv", encoding="utf-8") as f:
    for row in csv.DictReader(f):
        MAJORS.setdefault(row["major_code"], row["major_name"])
MAJOR_COLOURS = {"01": "#2563eb", "02": "#ea580c", "03": "#0d9488", "04": "#16a34a", "05": "#9333ea", "06": "#64748b"}
COMPONENT_COLOUR = ["match", ["get", "major_code"], *[v for kv in MAJOR_COLOURS.items() for v in kv], "#475569"]
HAS_COUNT = ["has", "count"]


def component_style(colour) -> tuple[dict, ...]:
    """Clusters as circles sized by count below the cluster zoom, then each component by its geometry."""
    return (
        {"id": "clusters", "type": "circle", "filter": HAS_COUNT, "paint": {
            "circle-color": colour, "circle-opacity": 0.55, "circle-stroke-color": "#ffffff", "circle-stroke-width": 1,
            "circle-radius": ["interpolate", ["linear"], ["get", "count"], 1, 3, 10, 5, 100, 9, 1000, 14, 10000, 20]}},
        {"id": "areas", "type": "fill", "filter": ["all", ["!", HAS_COUNT], ["==", ["geometry-type"], "Polygon"]],
         "paint": {"fill-color": colour, "fill-opacity": 0.35}},
        {"id": "lines", "type": "line", "filter": ["all", ["!", HAS_COUNT], ["==", ["geometry-type"], "LineString"]],
         "paint": {"line-color": colour, "line-width": 2}},
        {"id": "points", "type": "circle", "filter": ["all", ["!", HAS_COUNT], ["==", ["geometry-type"], "Point"]],
         "paint": {"circle-color": colour, "circle-radius": ["interpolate", ["linear"], ["zoom"], 16, 3, 19, 6],
                   "circle-stroke-color": "#ffffff", "circle-stroke-width": 1}},
    )


def component_tiles(where: str = "NOT retired", major: str | None = None, colour=COMPONENT_COLOUR) -> Tiles:
    return Tiles(
        # A join, not a sub-select per row: a dense z16 tile drops from ~23 ms to ~4 ms.
        table="components_component t JOIN components_componentclass k ON k.id = t.component_class_id",
        id_column="t.id",
        columns=(("code", "t.code"), ("class_code", "k.code"), ("major_code", "k.major_code"), ("state", "t.state_code")),
        where=where,
        scope=component_scope,
        clusters_below=16,
        cluster_major=major,
        feature_limit=20_000,
        filters=COMPONENT_FILTERS,
        changes="components",
        style=component_style(colour),
        raster_style={"marker_fill": colour if isinstance(colour, str) else "#2563eb", "marker_size": 6},
    )


register(Layer(
    id="components",
    title_zh="全部部件",
    title_en="All components",
    abstract="All registered components (部件), read-only.",
    queryset=lambda user: component_selectors.visible_components(user).filter(retired=False),
    geometry_field="geom",
    geometry_type="Geometry",
    properties=COMPONENT_PROPERTIES,
    keywords=("部件", "components"),
    tiles=component_tiles(),
    group="部件",
    visible=True,
))

for major, major_name in MAJORS.items():
    register(Layer(
        id=f"components_{major}",
        title_zh=major_name,
        title_en=f"Components, major class {major}",
        abstract=f"Components of major class {major} ({major_name}), read-only.",
        queryset=(lambda m: lambda user: component_selectors.visible_components(user).filter(
            retired=False, component_class__major_code=m))(major),
        geometry_field="geom",
        geometry_type="Geometry",
        properties=COMPONENT_PROPERTIES,
        keywords=("部件", major_name),
        tiles=component_tiles(
            f"NOT retired AND k.major_code = '{major}'",
            major, MAJOR_COLOURS.get(major, "#475569")),
        group="部件",
    ))

GRID_PROPERTIES = (
    Property("code", "code", "string", "网格代码", editable=True, nullable=False),
    Property("name", "name", "string", "名称", editable=True, nullable=False),
    Property("parent_code", "parent_code", "string", "上级网格代码", editable=True),
    Property("area_m2", "area_m2", "double", "面积(平方米)"),
    Property("organisation", "organisation__name", "string", "责任单位"),
    Property("population", "population", "int", "人口", editable=True),
    Property("households", "households", "int", "户数", editable=True),
    Property("version", "version", "int", "版本"),
)

GRID_COLUMNS = (("code", "code"), ("name", "name"), ("level", "level_id"), ("parent_code", "parent_code"))
# Zooms at which each level's names are written: one level at a time, finer levels as the map closes in.
GRID_LABEL_ZOOMS = {1: (9, 12), 2: (12, 14), 3: (14, 16), 4: (16, 24), 5: (17.5, 24)}


def grid_label(level: int, colour: str) -> dict:
    """Grid names. The style has no `glyphs`: MapLibre (>= 5.11) draws the text with the browser's own
    fonts, so labels need no glyph server and nothing from the internet."""
    low, high = GRID_LABEL_ZOOMS[level]
    return {"id": "label", "type": "symbol", "minzoom": low, "maxzoom": high,
            "layout": {"text-field": ["get", "name"], "text-font": ["Noto Sans CJK SC"], "text-size": 12 + 2 * (level < 3)},
            "paint": {"text-color": colour, "text-halo-color": "#ffffff", "text-halo-width": 1.5}}

for level, slug, title_zh, title_en, minzoom, colour, width in (
    (1, "district", "区级网格", "District grids", 0, "#b91c1c", 3.0),
    (2, "street", "街道网格", "Street grids", 0, "#c2410c", 2.2),
    (3, "community", "社区网格", "Community grids", 9, "#7c3aed", 1.5),
    (4, "base", "基础网格", "Base grids", 12, "#0f766e", 0.8),
    (5, "micro", "微网格", "Micro grids", 15, "#0369a1", 0.6),
):
    register(Layer(
        id=f"{slug}_grids",
        title_zh=title_zh,
        title_en=title_en,
        abstract=f"Level {level} grids (网格), one feature type per level.",
        queryset=(lambda lvl: lambda user: grid_selectors.visible_grids(user).filter(level_id=lvl))(level),
        geometry_field="geom",
        geometry_type="MultiPolygon",
        properties=GRID_PROPERTIES,
        insert=wfs_adapters.inserter(level),
        update=wfs_adapters.update,
        delete=wfs_adapters.delete,
        can_edit=lambda user: roles.GIS_EDITOR in roles.roles_of(user) or roles.ADMINISTRATOR in roles.roles_of(user),
        keywords=("网格", "grids"),
        extra={"level": level},
        tiles=Tiles(
            table="layers_grid",
            columns=GRID_COLUMNS,
            where=f"level_id = {level}",
            scope=grid_scope,
            minzoom=minzoom,
            simplify_px=0.5,
            changes="grids",
            max_age=60,
            style=(
                {"id": "fill", "type": "fill", "paint": {"fill-color": colour, "fill-opacity": 0.04}},
                {"id": "outline", "type": "line", "paint": {"line-color": colour, "line-width": width}},
                grid_label(level, colour),
            ),
            raster_style={"fill": colour, "fill_opacity": 0.04, "stroke": colour, "stroke_width": width},
        ),
        group="网格",
        visible=level < 5,
    ))

register(Layer(
    id="grid_gaps",
    title_zh="网格覆盖缺口",
    title_en="Grid coverage gaps",
    abstract="Area of each parent grid that its children do not cover (read-only; empty when the grids tile).",
    queryset=lambda user: grid_selectors.visible_gaps(user),
    geometry_field="geom",
    geometry_type="MultiPolygon",
    properties=(
        Property("code", "code", "string", "上级网格代码", nullable=False),
        Property("name", "name", "string", "名称"),
        Property("level", "level_id", "int", "层级"),
        Property("gap_area_m2", "gap_area_m2", "double", "缺口面积(平方米)"),
    ),
    keywords=("网格", "缺口", "coverage"),
    tiles=Tiles(
        table="layers_grid_gaps",
        bbox_column="parent_geom_3857",
        columns=(("code", "code"), ("name", "name"), ("level", "level_id"), ("gap_area_m2", "round(gap_area_m2)")),
        scope=grid_scope,
        minzoom=8,
        changes="grids",
        max_age=60,
        style=(
            {"id": "fill", "type": "fill", "paint": {"fill-color": "#dc2626", "fill-opacity": 0.45}},
            {"id": "outline", "type": "line", "paint": {"line-color": "#dc2626", "line-width": 1.5}},
        ),
        raster_style={"fill": "#dc2626", "fill_opacity": 0.45, "stroke": "#dc2626", "stroke_width": 1.5},
    ),
    group="网格",
    visible=True,
))
