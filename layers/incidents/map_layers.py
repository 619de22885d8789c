"""The `incidents` layer (found by layers.catalogue): cases as points coloured by state, counted
clusters at low zoom, read-only over WFS, scoped per user like the API, and dropped from the tile
cache by `incidents_changed` after every report and step."""

from layers.catalogue import Layer, Property, TileFilter, Tiles, register

from . import escalation_map, selectors, workflow
from .models import CaseClass, Organisation, Source
from .signals import incidents_changed

PROPERTIES = (
    Property("number", "number", "string", "案件编号", nullable=False),
    Property("state", "state", "string", "状态"),
    Property("class_code", "case_class__code", "string", "案件类别代码"),
    Property("class_name", "case_class__name", "string", "案件类别"),
    Property("source", "source", "string", "来源"),
    Property("severity", "severity", "string", "严重程度"),
    Property("component_code", "component__code", "string", "部件标识码"),
    Property("grid_code", "grid_code", "string", "单元网格代码"),
    Property("community_code", "community_code", "string", "社区代码"),
    Property("street_code", "street_code", "string", "街道代码"),
    Property("unit", "assigned_org__name", "string", "处置单位"),
    Property("unit_uscc", "assigned_org__uscc", "string", "处置单位代码"),
    Property("due_at", "due_at", "dateTime", "处置时限"),
    Property("created_at", "created_at", "dateTime", "上报时间"),
    *escalation_map.PROPERTIES,
)

STATE_COLOURS = {
    workflow.State.REPORTED: "#f59e0b",
    workflow.State.DISPATCHED: "#2563eb",
    workflow.State.HANDLING: "#7c3aed",
    workflow.State.VERIFYING: "#0d9488",
    workflow.State.CLOSED: "#16a34a",
    workflow.State.VOID: "#94a3b8",
    workflow.State.ON_HOLD: "#64748b",
    workflow.State.SUPERVISION: "#dc2626",
}
STATE_COLOUR = ["match", ["get", "state"], *[v for kv in STATE_COLOURS.items() for v in kv], "#475569"]
HAS_COUNT = ["has", "count"]


def _known(values: list[str], allowed, what: str) -> list:
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValueError(f"no {what} {', '.join(unknown[:5])}")
    return [values]


def _classes(values: list[str]) -> list:
    rows = list(CaseClass.objects.filter(code__in=values).values_list("pk", "code"))
    _known(values, {code for _, code in rows}, "case class")
    pks = [pk for pk, _ in rows]
    return [pks + list(CaseClass.objects.filter(parent_id__in=pks).values_list("pk", flat=True))]


def _units(values: list[str]) -> list:
    found = dict(Organisation.objects.filter(uscc__in=values).values_list("uscc", "pk"))
    _known(values, found, "organisation with USCC")
    return [list(found.values())]


FILTERS = (
    TileFilter("state", "状态", lambda v: _known(v, workflow.STATES, "state"), "t.state = ANY(%s)"),
    TileFilter("class", "案件类别代码 (大类含其小类)", _classes, "t.case_class_id = ANY(%s)"),
    TileFilter("source", "来源", lambda v: _known(v, Source.values, "source"), "t.source = ANY(%s)"),
    TileFilter("unit", "处置单位统一社会信用代码", _units, "t.assigned_org_id = ANY(%s)"),
    *escalation_map.FILTERS,
)

register(
    Layer(
        id="incidents",
        title_zh="事件案件",
        title_en="Incidents",
        abstract="事件案件，按状态着色（只读）。",
        queryset=lambda user: escalation_map.with_lights(selectors.visible_cases(user)),
        geometry_field="geom",
        geometry_type="Point",
        properties=PROPERTIES,
        pk="id",
        keywords=("事件", "案件", "incidents"),
        tiles=Tiles(
            table="incidents_case t JOIN incidents_caseclass k ON k.id = t.case_class_id",
            id_column="t.id",
            geometry="t.geom_3857",
            columns=(
                ("number", "t.number"),
                ("state", "t.state"),
                ("class_code", "k.code"),
                ("class_name", "k.name"),
                ("source", "t.source"),
                ("severity", "t.severity"),
                *escalation_map.COLUMNS,
            ),
            scope=selectors.scope_sql,
            # bench incidents, city scale: at z12 one tile held ~100,000 cases' points (960 KB)
            clusters_below=14,
            filters=FILTERS,
            changes=incidents_changed,
            style=(
                {
                    "id": "clusters",
                    "type": "circle",
                    "filter": HAS_COUNT,
                    "paint": {
                        "circle-color": "#dc2626",
                        "circle-opacity": 0.6,
                        "circle-stroke-color": "#ffffff",
                        "circle-stroke-width": 1,
                        "circle-radius": ["interpolate", ["linear"], ["get", "count"], 1, 4, 10, 7, 100, 11, 1000, 16],
                    },
                },
                {
                    "id": "points",
                    "type": "circle",
                    "filter": ["!", HAS_COUNT],
                    "paint": {
                        "circle-color": STATE_COLOUR,
                        "circle-radius": ["interpolate", ["linear"], ["zoom"], 12, 4, 18, 8],
                        "circle-stroke-color": escalation_map.RING_COLOUR,
                        "circle-stroke-width": escalation_map.RING_WIDTH,
                    },
                },
            ),
            raster_style={"marker_fill": "#dc2626", "marker_size": 8},
        ),
        group="事件",
    )
)
from . import safety_layers  # noqa: E402,F401  (平安指数 layers, reports part)
