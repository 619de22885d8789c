"""GetMap / GetFeatureInfo parameters, checked one by one with the standard's exception codes.

Axis order: in WMS 1.3.0 the BBOX follows the CRS's axis order, so EPSG:4326 and EPSG:4490 are
lat,lon and CRS:84 and EPSG:3857 x,y. Version 1.1.1 requests (SRS=, X/Y) are read as x,y always."""

import math
from dataclasses import dataclass

from gis_core.mercator import EARTH_RADIUS, MAX_LAT
from gis_core.mercator import HALF_WORLD as WORLD
from layers import catalogue

from .errors import WMSError, missing

MAX_SIZE = 4096
LAYER_LIMIT = 20
FEATURE_COUNT_MAX = 50
# name -> (mapnik srs, geographic, lat/lon order in 1.3.0)
CRS = {
    "EPSG:3857": ("epsg:3857", False, False),
    "EPSG:4490": ("epsg:4490", True, True),
    "EPSG:4326": ("epsg:4326", True, True),
    "CRS:84": ("epsg:4326", True, False),
}
PNG_FORMATS = {"image/png", "image/png; mode=8bit", "image/png8", "png"}


@dataclass
class MapRequest:
    version: str
    layers: list  # catalogue layers, bottom first
    crs: str
    srs: str  # mapnik's name for the CRS
    bbox: tuple  # minx, miny, maxx, maxy in the CRS, x/y order (lon/lat for geographic)
    bbox_3857: tuple
    width: int
    height: int
    transparent: bool
    background: str
    scopes: dict  # layer id -> (SQL, params)


def mercator(lon: float, lat: float) -> tuple[float, float]:
    lat = max(-MAX_LAT, min(MAX_LAT, lat))
    return (lon * WORLD / 180.0, EARTH_RADIUS * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)))


def geographic(x: float, y: float) -> tuple[float, float]:
    return x * 180.0 / WORLD, math.degrees(2 * math.atan(math.exp(y / EARTH_RADIUS)) - math.pi / 2)


def int_param(params, name: str, low: int, high: int, code: str = "InvalidParameterValue") -> int:
    raw = params.get(name)
    if raw is None or raw.strip() == "":
        raise missing(name)
    try:
        value = int(raw)
    except ValueError:
        raise WMSError(f"{name} must be an integer, not {raw[:20]!r}", code, name) from None
    if not low <= value <= high:
        raise WMSError(f"{name} must be {low}-{high}, not {value}", code, name)
    return value


def visible_layers(user) -> list:
    """The tile layers this user may see, as (layer, scope) in catalogue order."""
    out = []
    for layer in catalogue.layers():
        if layer.tiles is not None:
            scope = layer.tiles.scope(user)
            if scope is not None:
                out.append((layer, scope))
    return out


def parse_layers(params, user, name: str = "LAYERS") -> tuple[list, dict]:
    raw = params.get(name, "").strip()
    if not raw:
        raise missing(name)
    names = [n.strip().rsplit(":", 1)[-1] for n in raw.split(",")]
    if len(names) > LAYER_LIMIT:
        raise WMSError(f"at most {LAYER_LIMIT} layers per request", "InvalidParameterValue", name)
    known = {layer.id: (layer, scope) for layer, scope in visible_layers(user)}
    layers, scopes = [], {}
    for n in names:
        if n not in known:
            raise WMSError(f"no layer {n[:60]!r} (see GetCapabilities)", "LayerNotDefined", name)
        layer, scope = known[n]
        layers.append(layer)
        scopes[layer.id] = (scope[1], scope[2])
    return layers, scopes


def _styles(params, count: int):
    raw = params.get("STYLES")
    if raw is None:
        if params.get("VERSION", "1.3.0") == "1.3.0":
            raise missing("STYLES")
        return
    styles = [s.strip() for s in raw.split(",")] if raw.strip() else []
    if styles and len(styles) != count:
        raise WMSError(f"STYLES names {len(styles)} styles for {count} layers", "StyleNotDefined", "STYLES")
    for s in styles:
        if s.lower() not in ("", "default"):
            raise WMSError(f"no style {s[:40]!r}: leave STYLES empty or use 'default'", "StyleNotDefined", "STYLES")


def _bbox(params, crs: str, version: str) -> tuple[tuple, tuple]:
    raw = params.get("BBOX")
    if not raw:
        raise missing("BBOX")
    try:
        values = [float(v) for v in raw.split(",")]
    except ValueError:
        values = []
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise WMSError("BBOX must be four numbers: minx,miny,maxx,maxy", "InvalidParameterValue", "BBOX")
    _, is_geographic, latlon = CRS[crs]
    a0, b0, a1, b1 = values
    if a0 >= a1 or b0 >= b1:
        raise WMSError("BBOX minimum must be below maximum on both axes", "InvalidParameterValue", "BBOX")
    if is_geographic:
        lon0, lat0, lon1, lat1 = (b0, a0, b1, a1) if latlon and version == "1.3.0" else (a0, b0, a1, b1)
        if not (-90 <= lat0 and lat1 <= 90 and -540 <= lon0 and lon1 <= 540):
            order = "lat,lon" if latlon and version == "1.3.0" else "lon,lat"
            raise WMSError(f"BBOX is out of range for {crs} (axis order {order})", "InvalidParameterValue", "BBOX")
        x0, y0 = mercator(lon0, lat0)
        x1, y1 = mercator(lon1, lat1)
        return (lon0, lat0, lon1, lat1), (x0, y0, x1, y1)
    if max(abs(v) for v in values) > 3 * WORLD:
        raise WMSError(f"BBOX is out of range for {crs}", "InvalidParameterValue", "BBOX")
    return tuple(values), tuple(values)


def parse_map(params, user) -> MapRequest:
    """The GetMap part (also the first half of GetFeatureInfo). params: upper-case keys."""
    version = params.get("VERSION") or "1.3.0"
    if version not in ("1.3.0", "1.1.1"):
        raise WMSError(f"VERSION {version[:10]!r} is not supported: use 1.3.0", "InvalidParameterValue", "VERSION")
    layers, scopes = parse_layers(params, user)
    _styles(params, len(layers))
    crs_key = "CRS" if version == "1.3.0" else "SRS"
    crs = (params.get(crs_key) or "").strip().upper()
    if not crs:
        raise missing(crs_key)
    if crs not in CRS:
        raise WMSError(f"CRS {crs[:40]!r} is not offered: {', '.join(CRS)}", "InvalidCRS", crs_key)
    bbox, bbox_3857 = _bbox(params, crs, version)
    width = int_param(params, "WIDTH", 1, MAX_SIZE)
    height = int_param(params, "HEIGHT", 1, MAX_SIZE)
    fmt = params.get("FORMAT")
    if not fmt:
        raise missing("FORMAT")
    if fmt.strip().lower() not in PNG_FORMATS:
        raise WMSError(f"FORMAT {fmt[:40]!r} is not offered: image/png", "InvalidFormat", "FORMAT")
    transparent = (params.get("TRANSPARENT") or "FALSE").upper()
    if transparent not in ("TRUE", "FALSE"):
        raise WMSError("TRANSPARENT must be TRUE or FALSE", "InvalidParameterValue", "TRANSPARENT")
    bg = (params.get("BGCOLOR") or "0xFFFFFF").strip()
    if len(bg) != 8 or not bg.lower().startswith("0x") or not all(c in "0123456789abcdefABCDEF" for c in bg[2:]):
        raise WMSError("BGCOLOR must be 0xRRGGBB", "InvalidParameterValue", "BGCOLOR")
    return MapRequest(
        version=version,
        layers=layers,
        crs=crs,
        srs=CRS[crs][0],
        bbox=bbox,
        bbox_3857=bbox_3857,
        width=width,
        height=height,
        transparent=transparent == "TRUE",
        background="#" + bg[2:],
        scopes=scopes,
    )
