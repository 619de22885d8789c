"""Field-of-view sectors, built geodesically on the CGCS2000 ellipsoid (GRS80): each arc vertex is
the point `range` metres from the camera along a true bearing, so azimuths are true north whatever
the map projection and a sector across 0 degrees (e.g. 340..20) needs no special case: bearings
simply run on past 360. Arcs have a vertex at least every STEP degrees (a 500 m arc strays < 1 m)."""

import math

from django.contrib.gis.geos import Polygon
from pyproj import Geod

_GEOD = Geod(ellps="GRS80")
STEP = 3.0


def lens_h_fov(focal_mm: float, sensor_width_mm: float) -> float:
    """Horizontal angle of view (degrees) of a rectilinear lens on a sensor `sensor_width_mm` wide."""
    return math.degrees(2 * math.atan(sensor_width_mm / (2 * focal_mm)))


def lens_range(focal_mm: float, sensor_width_mm: float, image_width_px: float, pixels_per_metre: float) -> float:
    """Distance (m) at which the image still has `pixels_per_metre` across the scene: the scene width
    at distance d is d * sensor / focal, spread over image_width_px pixels (IEC 62676-4 "DORI":
    recognise = 125 px/m)."""
    return image_width_px * focal_mm / (sensor_width_mm * pixels_per_metre)


def _arc(lon: float, lat: float, start: float, sweep: float, range_m: float) -> list[tuple[float, float]]:
    n = max(2, math.ceil(sweep / STEP) + 1)
    bearings = [start + sweep * i / (n - 1) for i in range(n)]
    lons, lats, _ = _GEOD.fwd([lon] * n, [lat] * n, [b % 360 for b in bearings], [range_m] * n)
    return list(zip(lons, lats))


def sector(lon: float, lat: float, start: float, sweep: float, range_m: float) -> Polygon:
    """The area seen from (lon, lat) between bearing `start` and `start + sweep` (clockwise, degrees)
    up to `range_m` metres; a full disc when sweep >= 360."""
    if sweep >= 360:
        ring = _arc(lon, lat, 0.0, 360.0, range_m)[:-1]
    else:
        ring = [(lon, lat), *_arc(lon, lat, start, sweep, range_m)]
    ring.append(ring[0])
    return Polygon(ring, srid=4490)


def view(lon, lat, azimuth, h_fov, range_m) -> Polygon:
    return sector(lon, lat, azimuth - h_fov / 2, h_fov, range_m)


def reach(lon, lat, azimuth, h_fov, range_m, ptz, pan_min=None, pan_max=None) -> Polygon:
    """What the camera could see by turning: a disc for a dome, the pan range widened by half the
    lens angle on each side for a limited head, the current view for a fixed one."""
    if ptz == "dome":
        return sector(lon, lat, 0.0, 360.0, range_m)
    if ptz == "pan_range":
        pan = (pan_max - pan_min) % 360  # clockwise from pan_min to pan_max, across 0 if need be
        return sector(lon, lat, pan_min - h_fov / 2, pan + h_fov, range_m)
    return view(lon, lat, azimuth, h_fov, range_m)
