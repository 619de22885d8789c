"""The layer catalogue: one declaration per layer drives WFS feature types, vector tiles, raster
tiles, WMS layers, TileJSON, the MapLibre style and the viewer's tree.

Each app that owns data declares its layers in its own `map_layers.py` (found at start-up the way
Django finds `admin.py`): `register(Layer(...))`, or `register_provider(fn)` for layers whose list
comes from the database. Nothing here or in tiles/ and layers/ogc/ names a domain."""

import logging
import threading
from dataclasses import dataclass, field
from typing import Callable, Iterable

from django.db.models import QuerySet
from django.dispatch import Signal

log = logging.getLogger(__name__)


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
    bound to the placeholders of `sql`, raising ValueError with a message saying what is wrong.
    `default`, when set, gives the raw values used when a tile request leaves the parameter out (read
    per request, so it may follow the data, e.g. the latest day computed); [] means no filter."""

    param: str
    title: str
    parse: Callable[[list[str]], list]
    sql: str
    default: Callable[[], list[str]] | None = None


@dataclass(frozen=True)
class StoredCells:
    """Low-zoom cluster counts kept by triggers in a cell table of the layer's own app, so a cluster
    tile reads counts instead of scanning the rows. The table has columns (z, cx, cy, n, sx, sy) and
    `group_column`; cell (cx, cy) at zoom z is the Web Mercator tile (z + CELL_LEVELS, cx, cy) and
    (sx, sy) the sums of the members' projected coordinates (see tiles.cells)."""

    table: str
    group_column: str | None = None  # e.g. the major class: per-group layers read their group only
    group: str | None = None


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
    # Pre-simplified copies for low zooms: ((up to zoom, SQL expression), ...) ascending; vector tiles at
    # a zoom read the first whose zoom is >= it, else `geometry`. Their boxes must lie within the
    # indexed column's (a Douglas-Peucker copy's does: its vertices are a subset).
    geometry_by_zoom: tuple[tuple[int, str], ...] = ()
    clusters_below: int | None = None  # zooms under this serve counted clusters instead of features
    # An indexed column of one label point per row (EPSG:3857): the tile then also carries, for each
    # row whose label point lies in the tile itself (not its buffer), a Point feature with label=true,
    # so a style writes each name once instead of at every tile edge a polygon crosses.
    label_points: str | None = None
    cells: StoredCells | None = None  # where unfiltered clusters are read from; None: counted on the fly
    feature_limit: int = 20_000  # a tile never carries more; clustering keeps real tiles far below
    filters: tuple[TileFilter, ...] = ()
    changes: Signal | None = None  # sent after commit with bbox=...: drops the tiles it touched
    # Which part of what `changes` reports this layer draws, for a signal shared by layers that each draw
    # a part of one table (one per grid level): a change sent with parts=(...) drops this layer's tiles
    # only when its part is among them. None, or a change sent without parts: every change drops them.
    changes_part: object = None
    max_age: int = 30  # Cache-Control max-age for clients
    cache_seconds: int = 7 * 86400  # lifetime of a cached tile on the server
    style: tuple[dict, ...] = ()  # MapLibre style layers (id, source and source-layer are added)
    raster_style: dict = field(default_factory=dict)  # mapnik: {"fill", "stroke", "stroke_width", "marker", ...}
    # A raster layer drawn by a callable instead of mapnik (PNG tiles and WMS GetMap; no vector tiles, a
    # MapLibre raster source): image(scope, filters, bbox_3857, width, height, srs, bbox) -> transparent
    # PNG, scope being scope(user), filters {param: [values]} of the declared `filters`, srs "epsg:3857"
    # or "epsg:4490" (bbox in it, x/y order). Bad filter values raise gis_core.errors.ClientError. Runs in
    # the web process: it must not import mapnik. Not cached on the server (clients get ETags).
    image: Callable | None = None

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
    # The fields `update` and `delete` read from the object they get (with the pk): a WFS-T then
    # loads only those for the rows its filter picks. Empty: the whole row, as the queryset reads it.
    edit_fields: tuple[str, ...] = ()
    # Run once after the last operation of a WFS transaction that edited this layer (deferred checks).
    finish: Callable[[object], None] | None = None
    keywords: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)
    # Map side: None = not drawn as tiles (WFS only). `group` places it in the viewer's layer tree.
    tiles: Tiles | None = None
    group: str = ""
    visible: bool = False  # shown when the viewer opens
    # Reference drawing (water, buildings, streets): under every other layer in the viewer's style and
    # in prints, whatever its geometry type.
    basemap: bool = False

    @property
    def editable(self) -> bool:
        return self.insert is not None or self.update is not None or self.delete is not None

    def property(self, name: str) -> Property | None:
        return next((p for p in self.properties if p.name == name), None)


_DECLARED: list = []  # Layer, or a provider: a callable returning Layers (read once, when first asked)
_LAYERS: dict[str, Layer] = {}
_LISTENERS: list = []  # receivers of every layer's change signal (see listen_for_changes)
_lock = threading.RLock()
_loaded = False


def register(layer: Layer) -> Layer:
    with _lock:
        if any(isinstance(d, Layer) and d.id == layer.id for d in _DECLARED):
            raise ValueError(f"layer {layer.id} is declared twice")
        _DECLARED.append(layer)
        _LAYERS.clear()
    return layer


def register_provider(provider: Callable[[], Iterable[Layer]]):
    """Layers whose list comes from the database (e.g. one per class in the class table). Read on
    first use, not at import, so start-up and migrations need no data."""
    with _lock:
        _DECLARED.append(provider)
        _LAYERS.clear()
    return provider


def layers() -> list[Layer]:
    return list(_catalogue().values())


def get(layer_id: str) -> Layer | None:
    return _catalogue().get(layer_id)


def reset():
    """Read the providers again (after the data they read has changed)."""
    with _lock:
        _LAYERS.clear()


def _catalogue() -> dict[str, Layer]:
    _discover()
    if _LAYERS:
        return _LAYERS
    with _lock:
        if _LAYERS:
            return _LAYERS
        built, complete = {}, True
        for entry in _DECLARED:
            try:
                found = [entry] if isinstance(entry, Layer) else list(entry())
            except Exception:  # noqa: BLE001 - no data yet (fresh database): serve the static layers
                log.warning("layer provider %r failed; its layers are left out for now", entry, exc_info=True)
                complete = False
                continue
            for layer in found:
                if layer.id in built:
                    raise ValueError(f"layer {layer.id} is declared twice")
                built[layer.id] = layer
        for layer in built.values():
            _connect(layer)
        if complete:
            _LAYERS.update(built)
        return built


def listen_for_changes(receiver):
    """Connect `receiver(sender, signal, bbox, **kwargs)` to the change signal of every layer, those
    declared now and those a provider adds later. No database access: safe in AppConfig.ready()."""
    _discover()
    with _lock:
        _LISTENERS.append(receiver)
        for entry in _DECLARED:
            if isinstance(entry, Layer):
                _connect(entry)


def _connect(layer: Layer):
    signal = layer.tiles.changes if layer.tiles is not None else None
    if signal is None:
        return
    for receiver in _LISTENERS:
        signal.connect(receiver, dispatch_uid=f"{receiver.__module__}.{receiver.__name__}.{id(signal)}")


def _discover():
    global _loaded
    if _loaded:
        return
    with _lock:
        if not _loaded:
            from django.utils.module_loading import autodiscover_modules

            autodiscover_modules("map_layers")
            _loaded = True
