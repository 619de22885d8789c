"""Demo cameras on the demo city's own road network (fixtures/demo_city/roads.py, rebuilt in memory from
the same seed and scale): first one camera at every street junction looking along one of its streets,
then a second one along the crossing street, then mid-block cameras on the sidewalk looking along the
road. Busier roads come first at each stage. ~300 at `demo` scale, 8,600 at `city` scale (the city has
~2,900 junctions, so about a third are mid-block). Lenses and ranges follow the road class; a fifth of
the junction cameras are domes, a few mid-block ones pan within a range, a few are offline or faulty.
Written through the service like any other camera. Refused in production."""

import math
import random

import numpy as np

from . import services
from .models import Camera

COUNTS = {"tiny": 60, "demo": 300, "city": 8600}
# Mid-block spacing along a road by class (arterial, main, minor), metres.
BLOCK_STEP = (150.0, 220.0, 320.0)
RANGES = ((120, 150, 200), (80, 100, 150), (60, 80, 100))
SIDEWALK = (16.5, 10.0, 6.0)


class DemoRefused(Exception):
    pass


def scale_for(count: int) -> str:
    """The smallest demo network with room for `count` cameras (used when no scale is named)."""
    return "demo" if count <= COUNTS["demo"] * 2 else "city"


def _bearing(dx: float, dy: float) -> float:
    return math.degrees(math.atan2(dx, dy)) % 360


def sites(scale: str, seed: int) -> list[tuple[float, float, float, int, str]]:
    """Candidate places (x, y metres in the demo city's local frame, bearing looked along, road class,
    kind), best first: junctions' first arm, junctions' crossing arm, then mid-block."""
    from fixtures.demo_city.generator import SCALES
    from fixtures.demo_city.roads import build_network

    net = build_network(np.random.default_rng(seed), **SCALES[scale])
    rng = random.Random(seed)
    nodes = {(round(x, 1), round(y, 1)) for x, y in net.node_xy}
    arms: dict[tuple, list[tuple[float, int, bool]]] = {}  # node -> [(bearing, class, east-west)]
    mid = []
    for line, level, ew in zip(net.lines, net.levels, net.is_ew, strict=True):
        level = int(level)
        at_node = []
        for k, (x, y) in enumerate(line):
            key = (round(x, 1), round(y, 1))
            if key not in nodes:
                continue
            at_node.append(k)
            for j in (k - 1, k + 1):
                if 0 <= j < len(line):
                    arms.setdefault(key, []).append((_bearing(*(line[j] - line[k])), level, bool(ew)))
        # Mid-block: evenly along each block (between consecutive junctions), away from its ends.
        for a, b in zip(at_node, at_node[1:], strict=False):
            block = line[a : b + 1]
            seg = np.hypot(*np.diff(block, axis=0).T)
            length = float(seg.sum())
            n = int(length // BLOCK_STEP[level])
            for i in range(1, n + 1):
                d = length * i / (n + 1)
                s = int(np.searchsorted(np.cumsum(seg), d))
                s = min(s, len(seg) - 1)
                p0, p1 = block[s], block[s + 1]
                t = (d - float(np.cumsum(seg)[s] - seg[s])) / float(seg[s] or 1)
                x, y = p0 + (p1 - p0) * t
                along = _bearing(*(p1 - p0))
                side = rng.choice((90, -90))
                off = math.radians(along + side)
                look = along if rng.random() < 0.5 else (along + 180) % 360
                mid.append((x + SIDEWALK[level] * math.sin(off), y + SIDEWALK[level] * math.cos(off), look, level))
    first, second = [], []
    for (x, y), here in arms.items():
        ranked = sorted(here, key=lambda a: (a[1], rng.random()))
        bearing, level, ew = ranked[0]
        first.append((rng.random(), level, x, y, bearing))
        crossing = [a for a in ranked if a[2] != ew]
        if crossing:
            bearing2, level2, _ = crossing[0]
            second.append((rng.random(), max(level, level2), x, y, bearing2))
    out = []
    for group, kind in ((first, "junction"), (second, "junction")):
        for _, level, x, y, bearing in sorted(group, key=lambda g: (g[1], g[0])):
            # Stand on the corner to the right of the street looked along, a sidewalk's width off.
            off = math.radians(bearing + 135)
            d = SIDEWALK[level] * 1.2
            out.append((x + d * math.sin(off), y + d * math.cos(off), bearing, level, kind))
    rng.shuffle(mid)
    for x, y, look, level in sorted(mid, key=lambda m: m[3]):
        out.append((x, y, look, level, "mid_block"))
    return out


def load(count: int | None = None, scale: str | None = None, seed: int = 1, if_empty: bool = False) -> dict:
    from pyproj import Transformer

    from components.auth import is_production
    from fixtures.demo_city.generator import LOCAL_CRS

    if is_production():
        raise DemoRefused("demo cameras are refused in production (GRIDCITY_ENV=production)")
    if scale is not None and scale not in COUNTS:
        raise DemoRefused(f"unknown scale {scale!r}; use one of {', '.join(COUNTS)}")
    if count is None:
        count = COUNTS[scale or "demo"]
    scale = scale or scale_for(count)
    if if_empty and Camera.objects.exists():
        return {"skipped": True, "created": 0, "scale": scale}
    places = sites(scale, seed)
    to_lonlat = Transformer.from_crs(LOCAL_CRS, "EPSG:4490", always_xy=True)
    rng = random.Random(seed)
    created = junctions = 0
    n = 0
    for x, y, bearing, level, kind in places:
        if created >= count:
            break
        n += 1
        lon, lat = to_lonlat.transform(x, y)
        dome = kind == "junction" and rng.random() < 0.2
        pan = kind == "mid_block" and rng.random() < 0.05
        h_fov = rng.choice([45, 60, 75, 90])
        values = {
            "device_id": f"37081200081{'31' if n % 7 == 0 else '32'}1{n:06d}",
            "name": f"{'路口' if kind == 'junction' else '路段'}监控{n:04d}",
            "lon": lon,
            "lat": lat,
            "mount_height": rng.choice([4.5, 6, 8, 10]),
            "azimuth": round((bearing + rng.uniform(-8, 8)) % 360, 1) % 360,
            "h_fov": h_fov,
            "v_fov": rng.choice([30, 40, 50]),
            "range_m": rng.choice(RANGES[level]),
            "ptz": "dome" if dome else ("pan_range" if pan else "fixed"),
            "state": rng.choices(["online", "offline", "fault"], weights=[90, 7, 3])[0],
            "stream_url": f"rtsp://10.37.8.{n % 250 + 1}/live/{n}",
        }
        if pan:
            values["pan_min"] = round((bearing - 60) % 360, 1) % 360
            values["pan_max"] = round((bearing + 60) % 360, 1) % 360
        if Camera.objects.filter(device_id=values["device_id"]).exists():
            continue
        try:
            services.create(None, values)
        except services.ServiceError:
            continue  # outside the district box: no camera there
        created += 1
        junctions += kind == "junction"
    return {
        "skipped": False,
        "created": created,
        "junctions": junctions,
        "mid_block": created - junctions,
        "scale": scale,
    }
