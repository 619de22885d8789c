""" "Sees the point" from PostGIS against brute force: the inverse geodesic from each camera to each
random point, compared with range and half the lens angle. Points within a metre or a tenth of a
degree of a border are skipped (the arc is a polygon)."""

import random

from pyproj import Geod

from layers.cameras import selectors, services

from .conftest import LAT, LON, values

GEOD = Geod(ellps="GRS80")


def _sees(cam, lon, lat):
    az, _, dist = GEOD.inv(cam["lon"], cam["lat"], lon, lat)
    off = abs((az - cam["azimuth"] + 180) % 360 - 180)
    if abs(dist - cam["range_m"]) < 1 or abs(off - cam["h_fov"] / 2) < 0.1:
        return None
    return dist <= cam["range_m"] and off <= cam["h_fov"] / 2


def test_seeing_agrees_with_brute_force(editor):
    rng = random.Random(12)
    cams = []
    for n in range(12):
        v = values(
            n + 1,
            lon=LON + rng.uniform(-0.002, 0.002),
            lat=LAT + rng.uniform(-0.002, 0.002),
            azimuth=rng.choice([0, 350, 90, rng.uniform(0, 359.9)]),
            h_fov=rng.uniform(20, 120),
            range_m=rng.uniform(50, 300),
        )
        services.create(editor, v)
        cams.append(v)
    checked = 0
    for _ in range(150):
        lon, lat = LON + rng.uniform(-0.004, 0.004), LAT + rng.uniform(-0.004, 0.004)
        expected = {c["device_id"]: _sees(c, lon, lat) for c in cams}
        if None in expected.values():
            continue
        sees, _ = selectors.seeing(editor, lon, lat)
        assert {c["device_id"] for c in sees} == {k for k, v in expected.items() if v}
        checked += 1
    assert checked > 100
