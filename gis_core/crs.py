"""Coordinate systems accepted at the edge, all brought to CGCS2000 geographic (EPSG:4490).

GCJ-02 (Amap/Tencent) and BD-09 (Baidu) are not EPSG systems but published obfuscations of
WGS84; they are undone here with the usual iterative inverse (error well under 1 mm)."""

from functools import lru_cache

import numpy as np
from pyproj import CRS, Transformer

from .text import is_ascii_digits

STORAGE_SRID = 4490
GCJ02 = "GCJ02"
BD09 = "BD09"
# CGCS2000 geographic, WGS84, and the CGCS2000 3-degree Gauss-Krueger zones (with and without zone prefix).
EPSG_ACCEPTED = {4490, 4326} | set(range(4513, 4555))


class CRSError(ValueError):
    pass


def parse_crs(value) -> int | str:
    """'4490', 'EPSG:4490', 'urn:ogc:def:crs:EPSG::4490', 'gcj02', 'bd09' -> 4490 / 'GCJ02' / 'BD09'."""
    if value is None or str(value).strip() == "":
        raise CRSError("no CRS given: declare the coordinate system (e.g. EPSG:4490, EPSG:4527, GCJ02, BD09)")
    text = str(value).strip().upper().replace("-", "")
    if text in (GCJ02, "GCJ02", "AMAP", "GAODE"):
        return GCJ02
    if text in (BD09, "BAIDU", "BD09LL"):
        return BD09
    digits = text.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    if not is_ascii_digits(digits) or len(digits) > 6:
        raise CRSError(f"unknown CRS {value!r}")
    srid = int(digits)
    if srid not in EPSG_ACCEPTED:
        raise CRSError(f"EPSG:{srid} is not accepted: use EPSG:4490, 4326, 4513-4554, GCJ02 or BD09")
    return srid


@lru_cache(maxsize=64)
def _transformer(srid: int) -> Transformer:
    return Transformer.from_crs(CRS.from_epsg(srid), CRS.from_epsg(STORAGE_SRID), always_xy=True)


_A = 6378245.0
_EE = 0.00669342162296594323


def _gcj_delta(lon, lat):
    x, y = lon - 105.0, lat - 35.0
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    rad = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon, lat):
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon, lat):
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    wlon, wlat = lon.copy(), lat.copy()
    for _ in range(8):
        glon, glat = wgs84_to_gcj02(wlon, wlat)
        wlon, wlat = wlon - (glon - lon), wlat - (glat - lat)
    return wlon, wlat


_X_PI = np.pi * 3000.0 / 180.0


def gcj02_to_bd09(lon, lat):
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon, lat):
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    x, y = lon - 0.0065, lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    glon, glat = z * np.cos(theta), z * np.sin(theta)
    # The usual closed form is off by a few centimetres; refine against the forward formula.
    for _ in range(4):
        blon, blat = gcj02_to_bd09(glon, glat)
        glon, glat = glon - (blon - lon), glat - (blat - lat)
    return glon, glat


def to_storage_xy(x, y, crs: int | str):
    """Arrays of x/y (or lon/lat) in `crs` -> arrays of lon/lat in EPSG:4490.
    WGS84 and CGCS2000 differ by centimetres, far below survey accuracy of city components,
    so 4326 (and the WGS84 that GCJ-02/BD-09 obfuscate) is taken as 4490 by PROJ's own rule."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    # Absurd points give nan here; callers check the result, numpy need not warn about it.
    with np.errstate(invalid="ignore", over="ignore"):
        if crs == BD09:
            x, y = bd09_to_gcj02(x, y)
            crs = GCJ02
        if crs == GCJ02:
            x, y = gcj02_to_wgs84(x, y)
            crs = 4326
    if crs == STORAGE_SRID:
        return x, y
    return _transformer(int(crs)).transform(x, y)


def to_storage_geometry(geom, crs: int | str):
    """A shapely geometry (or array of them) in `crs` -> the same in EPSG:4490."""
    import shapely

    if crs == STORAGE_SRID:
        return geom
    return shapely.transform(geom, lambda xy: np.column_stack(to_storage_xy(xy[:, 0], xy[:, 1], crs)))


def storage_point(x: float, y: float, crs: int | str) -> tuple[float, float]:
    """One point in `crs` -> (lon, lat) in EPSG:4490, or CRSError when it lies outside what `crs` can
    express or lands off the globe (absurd input to GCJ-02/BD-09 gives nan, not an error)."""
    if not (np.isfinite(x) and np.isfinite(y)):
        raise CRSError("coordinates must be finite numbers")
    if crs in (STORAGE_SRID, 4326, GCJ02, BD09) and not (-180 <= x <= 180 and -90 <= y <= 90):
        raise CRSError(f"({x}, {y}) is not a lon,lat in degrees: wrong CRS or axis order?")
    lon, lat = (float(v[0]) for v in to_storage_xy([x], [y], crs))
    if not (np.isfinite(lon) and np.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise CRSError(f"({x}, {y}) lies outside the area of {crs if isinstance(crs, str) else f'EPSG:{crs}'}")
    return lon, lat


def to_storage_shape(geom, crs: int | str):
    """One shapely geometry in `crs` -> EPSG:4490, or CRSError when a coordinate cannot be converted
    (absurd input to GCJ-02/BD-09 or a projection gives nan or inf, which no geometry can hold)."""
    import shapely

    moved = to_storage_geometry(geom, crs)
    coords = shapely.get_coordinates(moved)
    if len(coords) != len(shapely.get_coordinates(geom)) or not np.isfinite(coords).all():
        raise CRSError(
            f"coordinates cannot be converted from {crs if isinstance(crs, str) else f'EPSG:{crs}'}: "
            "outside the area of that coordinate system (wrong CRS or axis order?)"
        )
    return moved
