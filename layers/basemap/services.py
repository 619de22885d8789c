"""The one write path for the basemap: `load_basemap` reads every layer of a GeoPackage (or the ones
named) with pyogrio, in any EPSG coordinate system, checks every row, and writes all of them or none
(a row-level report says why not). Each file layer becomes one basemap layer; loading a layer whose
name exists already replaces its features in the same transaction."""

import re
from dataclasses import dataclass, field
from pathlib import Path

import pyogrio
import shapely
from django.db import connection, transaction
from pyogrio.errors import DataLayerError, DataSourceError
from shapely.errors import GEOSException

from gis_core.errors import ServiceError

from .models import BasemapFeature, BasemapLayer
from .signals import basemap_changed

NAME_FIELDS = ("name", "名称", "NAME", "Name", "mc", "MC")
MAX_ROWS = 500_000
# (kind, words in a layer name that say it, title)
KIND_WORDS = (
    ("water", ("water", "river", "lake", "pond", "hydro", "水"), "水系"),
    ("building", ("building", "bldg", "house", "建筑", "房屋"), "建筑"),
    ("green", ("green", "park", "vegetation", "wood", "绿", "公园"), "绿地"),
    ("road", ("road", "street", "道路", "街"), "道路"),
)
KINDS = {k for k, _, _ in KIND_WORDS} | {"other"}
MULTI = {"Point": shapely.MultiPoint, "LineString": shapely.MultiLineString, "Polygon": shapely.MultiPolygon}


@dataclass
class RowError:
    layer: str
    row: int
    field: str
    reason: str


@dataclass
class LayerLoad:
    name: str
    title: str
    kind: str
    geometry_type: str
    rows: list = field(default_factory=list)  # (name, wkb)
    srid: int = 4490


@dataclass
class BasemapLoad:
    layers: dict = field(default_factory=dict)  # basemap layer name -> features written
    replaced: list = field(default_factory=list)
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def kind_of(layer_name: str) -> tuple[str, str]:
    lowered = layer_name.lower()
    for kind, words, title in KIND_WORDS:
        if any(w in lowered for w in words):
            return kind, title
    return "other", layer_name[:60]


def slug(layer_name: str, fallback: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "_", layer_name.lower()).strip("_")[:40]
    return s or fallback


def _srid(crs: str | None, layer: str) -> int:
    if not crs:
        raise ServiceError({"crs": f"layer {layer} declares no coordinate system"})
    from pyproj import CRS

    epsg = CRS.from_user_input(crs).to_epsg()
    if epsg is None:
        raise ServiceError({"crs": f"layer {layer}: not an EPSG coordinate system: {crs[:80]}"})
    return epsg


def read(path: Path | str, layers: list[str] | None = None, kinds: dict | None = None) -> tuple[list, list]:
    """([LayerLoad], [RowError]) of the file's layers; nothing written."""
    path = Path(path)
    if not path.exists():
        raise ServiceError({"file": f"no such file: {path.name}"})
    try:
        listed = [str(n) for n, g in pyogrio.list_layers(path) if g]
    except (DataSourceError, DataLayerError) as exc:
        raise ServiceError({"file": f"cannot read {path.name}: {exc}"}) from None
    for name in layers or ():
        if name not in listed:
            raise ServiceError({"layer": f"{path.name} has no layer {name!r} (it has: {', '.join(listed) or 'none'})"})
    wanted = layers or listed
    if not wanted:
        raise ServiceError({"file": f"{path.name} holds no layer with geometries"})
    total = sum(pyogrio.read_info(path, layer=n)["features"] for n in wanted)
    if total > MAX_ROWS:
        raise ServiceError({"file": f"{total:,} features; at most {MAX_ROWS:,}"})
    out, errors, seen = [], [], set()
    for i, layer_name in enumerate(wanted):
        info = pyogrio.read_info(path, layer=layer_name)
        kind, title = kind_of(layer_name)
        kind = (kinds or {}).get(layer_name, kind)
        if kind not in KINDS:
            raise ServiceError({"kind": f"{layer_name}: kind {kind!r} is not one of {', '.join(sorted(KINDS))}"})
        name = slug(layer_name, f"{kind}_{i + 1}")
        if name in seen:
            name = f"{name}_{i + 1}"
        seen.add(name)
        load = LayerLoad(name, title, kind, "", srid=_srid(info["crs"], layer_name))
        meta, _, geoms, values = pyogrio.raw.read(path, layer=layer_name)
        columns = list(meta["fields"])
        name_c = next((c for c in NAME_FIELDS if c in columns), None)
        names = values[columns.index(name_c)] if name_c else None
        types = set()
        for j, wkb in enumerate(geoms):
            n = j + 1
            if wkb is None:
                errors.append(RowError(layer_name, n, "geometry", "empty geometry"))
                continue
            try:
                g = shapely.from_wkb(wkb)
            except GEOSException:
                errors.append(RowError(layer_name, n, "geometry", "unreadable geometry"))
                continue
            if g.geom_type in MULTI:
                g = MULTI[g.geom_type]([g])
            if g.geom_type not in ("MultiPoint", "MultiLineString", "MultiPolygon"):
                errors.append(RowError(layer_name, n, "geometry", f"a point, line or polygon, not a {g.geom_type}"))
                continue
            if g.is_empty:
                errors.append(RowError(layer_name, n, "geometry", "empty geometry"))
                continue
            if not g.is_valid:
                errors.append(RowError(layer_name, n, "geometry", f"invalid: {shapely.is_valid_reason(g)[:120]}"))
                continue
            types.add(g.geom_type)
            label = str(names[j] or "")[:100] if names is not None else ""
            load.rows.append((label, shapely.to_wkb(g, include_srid=False)))
        load.geometry_type = types.pop() if len(types) == 1 else "Geometry"
        out.append(load)
    return out, errors


def load_basemap(path: Path | str, layers: list[str] | None = None, *, kinds: dict | None = None) -> BasemapLoad:
    """Reads and checks every row of the chosen layers (default: all); writes all of them or, if any
    row is wrong, nothing. A basemap layer of the same name loses its old features in the same
    transaction. Coordinates are transformed to EPSG:4490 in the database."""
    loads, errors = read(path, layers, kinds)
    report = BasemapLoad(rows=sum(len(x.rows) for x in loads) + len(errors), errors=errors)
    if errors:
        return report
    source = Path(path).name[:150]
    with transaction.atomic():
        order = (BasemapLayer.objects.order_by("-order").values_list("order", flat=True).first() or 0) + 1
        for load in loads:
            row, created = BasemapLayer.objects.update_or_create(
                name=load.name,
                defaults={
                    "title": load.title,
                    "kind": load.kind,
                    "geometry_type": load.geometry_type,
                    "source": f"{source}:{load.name}",
                },
                create_defaults={
                    "title": load.title,
                    "kind": load.kind,
                    "geometry_type": load.geometry_type,
                    "source": f"{source}:{load.name}",
                    "order": order + len(report.layers),
                },
            )
            if not created:
                BasemapFeature.objects.filter(layer=row).delete()
                report.replaced.append(load.name)
            with connection.cursor() as cur:
                cur.execute(
                    """
                    INSERT INTO basemap_basemapfeature (layer_id, name, geom)
                    SELECT %s, r.name, ST_Transform(ST_SetSRID(ST_GeomFromWKB(r.wkb), %s), 4490)
                    FROM unnest(%s::text[], %s::bytea[]) AS r(name, wkb)
                    """,
                    [row.pk, load.srid, [r[0] for r in load.rows], [r[1] for r in load.rows]],
                )
                report.layers[load.name] = cur.rowcount
        transaction.on_commit(_changed)
    return report


def _changed():
    from layers import catalogue

    catalogue.reset()  # the provider lists one layer per basemap layer
    basemap_changed.send(sender=BasemapLayer, bbox=None)
