"""The components' map layers (found by layers.catalogue): all components, and one layer per major
class of the class table. WFS, tiles, WMS, TileJSON, the style and the viewer's tree come from here."""

import re

from layers.catalogue import Layer, Property, StoredCells, Tiles, register, register_provider

from . import selectors as component_selectors
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


def component_style(colour) -> tuple[dict, ...]:
    """Clusters as circles sized by count below the cluster zoom, then each component by its geometry."""
    return (
        {
            "id": "clusters",
            "type": "circle",
            "filter": HAS_COUNT,
            "paint": {
                "circle-color": colour,
                "circle-opacity": 0.55,
                "circle-stroke-color": "#ffffff",
                "circle-stroke-width": 1,
                "circle-radius": [
                    "interpolate",
                    ["linear"],
                    ["get", "count"],
                    1,
                    3,
                    10,
                    5,
                    100,
                    9,
                    1000,
                    14,
                    10000,
                    20,
                ],
            },
        },
        {
            "id": "areas",
            "type": "fill",
            "filter": ["all", ["!", HAS_COUNT], ["==", ["geometry-type"], "Polygon"]],
            "paint": {"fill-color": colour, "fill-opacity": 0.35},
        },
        {
            "id": "lines",
            "type": "line",
            "filter": ["all", ["!", HAS_COUNT], ["==", ["geometry-type"], "LineString"]],
            "paint": {"line-color": colour, "line-width": 2},
        },
        {
            "id": "points",
            "type": "circle",
            "filter": ["all", ["!", HAS_COUNT], ["==", ["geometry-type"], "Point"]],
            "paint": {
                "circle-color": colour,
                "circle-radius": ["interpolate", ["linear"], ["zoom"], 16, 3, 19, 6],
                "circle-stroke-color": "#ffffff",
                "circle-stroke-width": 1,
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
        abstract="All registered components (部件), read-only.",
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
        abstract=f"Components of major class {major} ({major_name}), read-only.",
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
