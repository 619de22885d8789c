"""The layers, declared once. WFS feature types (and later tiles, TileJSON and styles) come from here."""
from components import roles
from components import selectors as component_selectors

from .catalogue import Layer, Property, register
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

register(Layer(
    id="components",
    title_zh="城市部件",
    title_en="City components",
    abstract="All registered components (部件), read-only.",
    queryset=lambda user: component_selectors.visible_components(user).filter(retired=False),
    geometry_field="geom",
    geometry_type="Geometry",
    properties=COMPONENT_PROPERTIES,
    keywords=("部件", "components"),
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

for level, slug, title_zh, title_en in (
    (1, "district", "区级网格", "District grids"),
    (2, "street", "街道网格", "Street grids"),
    (3, "community", "社区网格", "Community grids"),
    (4, "base", "基础网格", "Base grids"),
    (5, "micro", "微网格", "Micro grids"),
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
))
