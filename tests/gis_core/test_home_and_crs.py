import numpy as np
import pytest

from gis_core.crs import CRSError, bd09_to_gcj02, gcj02_to_bd09, gcj02_to_wgs84, parse_crs, to_storage_xy, wgs84_to_gcj02
from tests.factories import make_user


@pytest.mark.django_db
def test_home_page_is_the_map_viewer(client):
    client.force_login(make_user("home-viewer", role="dispatcher"))
    r = client.get("/")
    assert r.status_code == 200
    page = r.content.decode()
    assert "城市网格地图" in page and "/static/vendor/maplibre-gl/maplibre-gl.js" in page
    assert "http://" not in page and "https://" not in page  # nothing from another origin


@pytest.mark.parametrize("text,expected", [
    ("4490", 4490), ("EPSG:4326", 4326), ("urn:ogc:def:crs:EPSG::4527", 4527),
    ("http://www.opengis.net/def/crs/EPSG/0/4549", 4549), ("gcj02", "GCJ02"), ("GCJ-02", "GCJ02"), ("BD09", "BD09"),
])
def test_parse_crs(text, expected):
    assert parse_crs(text) == expected


@pytest.mark.parametrize("text", ["", None, "EPSG:3857", "EPSG:2000", "wgs"])
def test_parse_crs_refuses(text):
    with pytest.raises(CRSError):
        parse_crs(text)


def test_gcj02_and_bd09_round_trip_under_a_millimetre():
    lon, lat = np.array([116.83, 116.9]), np.array([35.55, 35.6])
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert np.all(np.abs(glon - lon) > 1e-4)  # the offset is hundreds of metres
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert np.all(np.abs(wlon - lon) < 1e-8) and np.all(np.abs(wlat - lat) < 1e-8)
    blon, blat = gcj02_to_bd09(glon, glat)
    x, y = to_storage_xy(blon, blat, "BD09")
    assert np.all(np.abs(x - lon) < 1e-7) and np.all(np.abs(y - lat) < 1e-7)
    g2lon, g2lat = bd09_to_gcj02(blon, blat)
    assert np.all(np.abs(g2lon - glon) < 1e-6)


# Gauss-Krueger and published GCJ-02/BD-09 pairs: tests/gis_core/test_crs_reference.py (values from outside PROJ
# and outside this project).
