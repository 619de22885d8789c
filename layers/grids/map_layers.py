"""The grids' map layers (found by layers.catalogue through layers.map_layers): one editable feature
type per grid level, and the coverage gaps."""

from components import roles

from ..catalogue import Layer, Property, Tiles, register
from . import selectors as grid_selectors
from . import wfs_adapters
from .signals import grids_changed


def grid_scope(user):
    return ("all", "TRUE", []) if roles.can_read(user) else None


def can_edit(user) -> bool:
    return bool({roles.GIS_EDITOR, roles.ADMINISTRATOR} & set(roles.roles_of(user)))


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


IS_LABEL_POINT = ["==", ["geometry-type"], "Point"]
IS_AREA = ["!=", ["geometry-type"], "Point"]


def grid_label(level: int, colour: str) -> dict:
    """Grid names, written once per grid at its label point (the tiles carry one point per grid, at
    the centre of its largest inscribed circle, in the one tile holding it), never along polygon
    pieces at tile edges. The style has no `glyphs`: MapLibre (>= 5.11) draws the text with the
    browser's own fonts, so labels need no glyph server and nothing from the internet."""
    low, high = GRID_LABEL_ZOOMS[level]
    return {
        "id": "label",
        "type": "symbol",
        "filter": IS_LABEL_POINT,
        "minzoom": low,
        "maxzoom": high,
        "layout": {"text-field": ["get", "name"], "text-font": ["Noto Sans CJK SC"], "text-size": 12 + 2 * (level < 3)},
        "paint": {"text-color": colour, "text-halo-color": "#ffffff", "text-halo-width": 1.5},
    }


for level, slug, title_zh, title_en, minzoom, colour, width in (
    (1, "district", "区级网格", "District grids", 0, "#b91c1c", 3.0),
    (2, "street", "街道网格", "Street grids", 0, "#c2410c", 2.2),
    (3, "community", "社区网格", "Community grids", 9, "#7c3aed", 1.5),
    (4, "base", "基础网格", "Base grids", 12, "#0f766e", 0.8),
    (5, "micro", "微网格", "Micro grids", 15, "#0369a1", 0.6),
):
    register(
        Layer(
            id=f"{slug}_grids",
            title_zh=title_zh,
            title_en=title_en,
            abstract=f"{title_zh}（第 {level} 级网格）边界与名称，每级一个要素类型，可编辑。",
            queryset=(lambda lvl: lambda user: grid_selectors.visible_grids(user).filter(level_id=lvl))(level),
            geometry_field="geom",
            geometry_type="MultiPolygon",
            properties=GRID_PROPERTIES,
            insert=wfs_adapters.inserter(level),
            update=wfs_adapters.update,
            delete=wfs_adapters.delete,
            can_edit=can_edit,
            edit_fields=wfs_adapters.EDIT_FIELDS,
            finish=wfs_adapters.finish,
            keywords=("网格", "grids"),
            extra={"level": level},
            tiles=Tiles(
                table="layers_grid",
                columns=GRID_COLUMNS,
                where=f"level_id = {level}",
                scope=grid_scope,
                minzoom=minzoom,
                simplify_px=0.5,
                label_points="label_3857",
                changes=grids_changed,
                changes_part=level,  # a level's tiles draw only its own grids
                max_age=60,
                style=(
                    {
                        "id": "fill",
                        "type": "fill",
                        "filter": IS_AREA,
                        "paint": {"fill-color": colour, "fill-opacity": 0.04},
                    },
                    {
                        "id": "outline",
                        "type": "line",
                        "filter": IS_AREA,
                        "paint": {"line-color": colour, "line-width": width},
                    },
                    grid_label(level, colour),
                ),
                raster_style={"fill": colour, "fill_opacity": 0.04, "stroke": colour, "stroke_width": width},
            ),
            group="网格",
            visible=level < 5,
        )
    )

register(
    Layer(
        id="grid_gaps",
        title_zh="网格覆盖缺口",
        title_en="Grid coverage gaps",
        abstract="上级网格中未被下级网格覆盖的区域（只读；网格完整覆盖时为空）。",
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
            changes=grids_changed,
            max_age=60,
            style=(
                {"id": "fill", "type": "fill", "paint": {"fill-color": "#dc2626", "fill-opacity": 0.45}},
                {"id": "outline", "type": "line", "paint": {"line-color": "#dc2626", "line-width": 1.5}},
            ),
            raster_style={"fill": "#dc2626", "fill_opacity": 0.45, "stroke": "#dc2626", "stroke_width": 1.5},
        ),
        group="网格",
        visible=True,
    )
)
