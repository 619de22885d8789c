"""gis_core.crs against values published or computed outside this project, so that a wrong constant,
a swapped axis or a wrong false easting fails here (a round trip through our own converter cannot).

Sources (each value copied from the source named beside it, not computed by gis_core):
- WGS-84 -> GCJ-02: the test table of eviltransform (github.com/googollee/eviltransform, go/transform_test.go
  and python/test.py), checked there to 1e-6 degrees.
- GCJ-02 <-> BD-09: Baidu/Amap coordinates of Chinese cities in the test fixture of gcoord
  (github.com/hujiulong/gcoord, test/fixtures/china-cities.json, given to 1e-7 degrees), and the example of
  coordtransform (github.com/wandergis/coordtransform, test/app.js; also pinned by hutool's CoordinateUtilTest).
  eviltransform's own BD-09 uses sin(y*pi) where Baidu's formula has sin(y*pi*3000/180): its BD pairs are not used.
  gcoord's WGS-84 column comes from another source and differs from GCJ-02's published formula by ~5e-6 degrees
  (gcoord itself checks it to 1e-4): only its GCJ-02/BD-09 columns are pinned here.
- CGCS2000 3-degree Gauss-Krueger: computed once outside PROJ with two independent series on the CGCS2000
  ellipsoid (a = 6378137, 1/f = 298.257222101, k0 = 1): Krueger's n-series to n^6 (Karney 2011, "Transverse
  Mercator with an accuracy of a few nanometers", eqs. 9, 11, 35) and the classical textbook Gauss projection
  series with the meridian arc integrated numerically; the two agree to 0.1 mm on every value below.
"""

import numpy as np
import pytest

from gis_core.crs import bd09_to_gcj02, gcj02_to_bd09, gcj02_to_wgs84, to_storage_xy, wgs84_to_gcj02

# Tolerances in degrees, set by each source's printed precision: eviltransform prints 14+ digits of the
# published formula, so 1e-9 (~0.1 mm; the earth radius of Krasovsky swapped for WGS-84's moves points by
# ~1e-7); gcoord prints 7 decimals of both columns, so 2e-7; one-step closed-form inverses 1e-6 (~0.1 m).
EXACT = 1e-9
SEVEN_DIGITS = 2e-7
DEG = 1e-6

# (wgs lon, wgs lat, gcj lon, gcj lat): eviltransform's table (given there as lat, lng).
EVILTRANSFORM_WGS_GCJ = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),  # Shanghai
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),  # Shenzhen
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),  # Beijing
]

# (gcj lon, gcj lat, bd lon, bd lat): gcoord's china-cities.json (泰安, 莱芜, 郑州, 沈阳, 驻马店).
GCOORD_GCJ_BD = [
    (117.0876215, 36.2002574, 117.0941183, 36.2062086),
    (117.6767323, 36.2138184, 117.6832831, 36.2195866),
    (113.6253334, 34.7466173, 113.6317519, 34.7528605),
    (123.4314787, 41.8057023, 123.438095, 41.8114013),
    (114.022306, 33.0115324, 114.0287781, 33.0176697),
]

# coordtransform's example: gcj02tobd09(116.404, 39.915) and bd09togcj02(116.404, 39.915).
COORDTRANSFORM_GCJ_TO_BD = ((116.404, 39.915), (116.41036949371029, 39.92133699351021))
COORDTRANSFORM_BD_TO_GCJ = ((116.404, 39.915), (116.39762729119315, 39.90865673957631))

# (epsg, lon, lat, easting, northing): CGCS2000 3-degree GK, see the module docstring for how they were made.
GAUSS_KRUEGER = [
    (4527, 116.83, 35.55, 39484585.5602, 3935626.2893),  # zone 39 (CM 117E), zone prefix in the easting
    (4549, 120.38, 36.07, 534231.9745, 3993376.6824),  # CM 120E, no zone prefix
    (4549, 116.83, 35.55, 212518.2778, 3940239.5898),  # 3.17 degrees west of CM 120E
]


@pytest.mark.parametrize("wlon,wlat,glon,glat", EVILTRANSFORM_WGS_GCJ)
def test_wgs84_to_gcj02_matches_eviltransform(wlon, wlat, glon, glat):
    lon, lat = wgs84_to_gcj02(wlon, wlat)
    assert (float(lon), float(lat)) == pytest.approx((glon, glat), abs=EXACT)


@pytest.mark.parametrize("wlon,wlat,glon,glat", EVILTRANSFORM_WGS_GCJ)
def test_gcj02_input_is_stored_at_eviltransforms_wgs84_point(wlon, wlat, glon, glat):
    assert tuple(map(float, gcj02_to_wgs84(glon, glat))) == pytest.approx((wlon, wlat), abs=EXACT)
    x, y = to_storage_xy([glon], [glat], "GCJ02")
    assert (float(x[0]), float(y[0])) == pytest.approx((wlon, wlat), abs=EXACT)


@pytest.mark.parametrize("glon,glat,blon,blat", GCOORD_GCJ_BD)
def test_gcj02_and_bd09_match_gcoords_city_table(glon, glat, blon, blat):
    assert tuple(map(float, gcj02_to_bd09(glon, glat))) == pytest.approx((blon, blat), abs=SEVEN_DIGITS)
    assert tuple(map(float, bd09_to_gcj02(blon, blat))) == pytest.approx((glon, glat), abs=SEVEN_DIGITS)


def test_gcj02_and_bd09_match_coordtransforms_example():
    (lon, lat), expected = COORDTRANSFORM_GCJ_TO_BD
    assert tuple(map(float, gcj02_to_bd09(lon, lat))) == pytest.approx(expected, abs=1e-9)
    # coordtransform's inverse is the one-step closed form; ours refines it by centimetres (< 1e-6 degrees).
    (lon, lat), expected = COORDTRANSFORM_BD_TO_GCJ
    assert tuple(map(float, bd09_to_gcj02(lon, lat))) == pytest.approx(expected, abs=DEG)


def test_bd09_input_is_stored_through_gcj02_at_the_published_point():
    # gcoord's BD-09 of 泰安 -> its GCJ-02 -> eviltransform's (published) WGS-84 formula, chained by hand.
    glon, glat, blon, blat = GCOORD_GCJ_BD[0]
    x, y = to_storage_xy([blon], [blat], "BD09")
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert (float(x[0]), float(y[0])) == pytest.approx((float(wlon), float(wlat)), abs=SEVEN_DIGITS)
    assert np.hypot(x[0] - blon, y[0] - blat) > 0.01  # BD-09 is ~1 km off: the input really was converted


@pytest.mark.parametrize("epsg,lon,lat,easting,northing", GAUSS_KRUEGER)
def test_gauss_krueger_input_is_stored_at_the_independently_computed_point(epsg, lon, lat, easting, northing):
    x, y = to_storage_xy([easting], [northing], epsg)
    # 1e-8 degrees is ~1 mm: a wrong false easting, zone or ellipsoid is off by metres or more.
    assert (float(x[0]), float(y[0])) == pytest.approx((lon, lat), abs=1e-8)
