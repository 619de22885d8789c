"""Sectors against hand-computed cases: bearings and distances measured back with the inverse
geodesic, so the check does not trust the code that built them."""

import pytest
from pyproj import Geod

from layers.cameras import geometry

from .conftest import LAT, LON

GEOD = Geod(ellps="GRS80")


def _bearings(poly):
    """Bearing and distance from the camera to each arc vertex (the apex excluded)."""
    out = []
    for x, y in poly.exterior_ring.coords[1:-1]:
        az, _, dist = GEOD.inv(LON, LAT, x, y)
        out.append((az % 360, dist))
    return out


def test_a_north_sector_spans_315_to_45():
    poly = geometry.view(LON, LAT, 0, 90, 100)
    assert poly.exterior_ring.coords[0] == pytest.approx((LON, LAT))
    found = _bearings(poly)
    assert found[0][0] == pytest.approx(315, abs=1e-6) and found[-1][0] == pytest.approx(45, abs=1e-6)
    assert all(d == pytest.approx(100, abs=1e-3) for _, d in found)
    # 100 m due north is about 0.0009 degrees of latitude at 35.5 N (111 km per degree)
    north = max(y for _, y in poly.exterior_ring.coords)
    assert north - LAT == pytest.approx(100 / 110_950, rel=0.01)


def test_an_east_sector_lies_east():
    poly = geometry.view(LON, LAT, 90, 60, 200)
    xs = [x for x, _ in poly.exterior_ring.coords]
    assert min(xs) == pytest.approx(LON)
    assert max(xs) - LON == pytest.approx(200 / (111_320 * 0.8141), rel=0.01)  # cos(35.5 N) = 0.814
    assert all(60 - 1e-6 <= b <= 120 + 1e-6 for b, _ in _bearings(poly))


def test_a_sector_across_north_is_one_piece():
    poly = geometry.view(LON, LAT, 350, 40, 100)
    assert poly.valid
    bearings = [b for b, _ in _bearings(poly)]
    assert bearings[0] == pytest.approx(330, abs=1e-6) and bearings[-1] == pytest.approx(10, abs=1e-6)
    assert all(b >= 330 - 1e-6 or b <= 10 + 1e-6 for b in bearings)


def test_a_dome_reaches_a_disc_and_a_pan_range_its_widened_arc():
    disc = geometry.reach(LON, LAT, 0, 60, 100, "dome")
    assert disc.valid and disc.contains(geometry.view(LON, LAT, 123, 60, 99))
    arc = geometry.reach(LON, LAT, 0, 60, 100, "pan_range", 300, 30)  # 300 -> 30 across north
    bearings = [b for b, _ in _bearings(arc)]
    assert bearings[0] == pytest.approx(270, abs=1e-6) and bearings[-1] == pytest.approx(60, abs=1e-6)


def test_a_full_circle_lens_is_a_disc():
    poly = geometry.view(LON, LAT, 0, 360, 50)
    assert poly.valid and poly.area > 0
