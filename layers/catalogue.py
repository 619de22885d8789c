"""The layer catalogue: one declaration per layer drives WFS feature types, vector tiles, raster
tiles, WMS layers, TileJSON and the MapLibre style. Adding a layer is one `register(Layer(...))`."""
from dataclasses import dataclass, field
from typing import Callable

from django.db.models import QuerySet


@dataclass(frozen=True)
class Property:
    """An exposed attribute. `source` is the ORM path behind the public name (the allow-list that
    filters and property names are checked against); `type` is the XSD type."""

    name: str
    source: str
    type: str = "string"  # string, int, long, double, date, dateTime, boolean
    title: str = ""
    editable: bool = False
    nullable: bool = True


@dataclass(frozen=True)
class TileFilter:
    """A tile query parameter. `parse` turns the raw comma-separated values into the list of values
    bound to the placeholders of `sql`, raising ValueError with a message saying what is wrong."""

    param: str
    title: str
    parse: Callable[[list[str]], list]
    sql: str


@dataclass(frozen=True)
class Tiles:
    """How a layer is drawn as tiles. SQL fragments here are constants written by us, never user
    input; user input reaches the query only as bound parameters (filters, scope, tile envelope)."""

    table: str  # a table or view holding `geometry` in EPSG:3857, indexed
    columns: tuple[tuple[str, str], ...]  # (attribute name in the tile, SQL expression)
    scope: Callable[[object], tuple[str, str, list] | None]  # user -> (cache part, SQL condition, params) or None
    where: str = "TRUE"
    geometry: str = "geom_3857"
    bbox_column: str | None = None  # indexed column the tile envelope is matched against (default: geometry)
    id_column: str = "id"
    minzoom: int = 0
    maxzoom: int = 18  # deepest zoom served; clients overzoom beyond it
    simplify_px: float = 0.0  # polygons: simplification tolerance in screen pixels (of 256) at each zoom
    clusters_below: int | None = None  # zooms under this serve counted clusters instead of features
    cluster_major: str | None = None  # clusters of one major class only (per-class layers)
    feature_limit: int = 20_000  # a tile never carries more; clustering keeps real tiles far below
    filters: tuple[TileFilter, ...] = ()
    changes: str = "components"  # which change feed invalidates these tiles: components | grids
    max_age: int = 30  # Cache-Control max-age for clients
    cache_seconds: int = 7 * 86400  # lifetime of a cached tile on the server
    style: tuple[dict, ...] = ()  # MapLibre style layers (id, source and source-layer are added)
    raster_style: dict = field(default_factory=dict)  # mapnik: {"fill", "stroke", "stroke_width", "marker", ...}

    def filter(self, param: str) -> TileFilter | None:
        return next((f for f in self.filters if f.param == param), None)


@dataclass(frozen=True)
class Layer:
    id: str  # also the WFS feature type name (in the gridcity namespace)
    title_zh: str
    title_en: str
    queryset: Callable[[object], QuerySet]  # user -> rows the user may see (a selector)
    geometry_field: str
    geometry_type: str  # Point, MultiPolygon, Geometry ...
    properties: tuple[Property, ...]
    pk: str = "id"
    srid: int = 4490
    abstract: str = ""
    # Write side: callables taking (user, values) / (user, obj, values) / (user, obj); None = read-only.
    insert: Callable | None = None
    update: Callable | None = None
    delete: Callable | None = None
    can_edit: Callable[[object], bool] = lambda user: False
    keywords: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)
    # Map side: None = not drawn as tiles (WFS only). `group` places it in the viewer's layer tree.
    tiles: Tiles | None = None
    group: str = ""
    visible: bool = False  # shown when the viewer opens

    @property
    def editable(self) -> bool:
        return self.insert is not None or self.update is not None or self.delete is not None

    def property(self, name: str) -> Property | None:
        return next((p for p in self.properties if p.name == name), None)


_LAYERS: dict[str, Layer] = {}


def register(layer: Layer) -> Layer:
    if layer.id in _LAYERS:
        raise ValueError(f"layer {layer.id} is declared twice")
    _LAYERS[layer.id] = layer
    return layer


def layers() -> list[Layer]:
    _load()
    return list(_LAYERS.values())


def get(layer_id: str) -> Layer | None:
    _load()
    return _LAYERS.get(layer_id)


def _load():
    # Declarations live beside their models; importing them registers them.
    from . import declarations  # noqa: F401
