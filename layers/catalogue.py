"""The layer catalogue: one declaration per layer drives WFS feature types now, and vector tiles,
raster tiles, TileJSON and map styles as they arrive. Adding a layer is one `register(Layer(...))`."""
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
