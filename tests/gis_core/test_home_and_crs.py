import numpy as np
import pytest

from gis_core.crs import (
    CRSError,
    bd09_to_gcj02,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    parse_crs,
    to_storage_xy,
    wgs84_to_gcj02,
)
from tests.factories import make_user


@pytest.mark.django_db
def test_home_page_is_the_map_viewer(client):
    client.force_login(make_user("home-viewer", role="dispatcher"))
    r = client.get("/")
    assert r.status_code == 200
    page = r.content.decode()
    assert "城市网格地图" in page and "/static/vendor/maplibre-gl/maplibre-gl.js" in page
    assert "http://" not in page and "https://" not in page  # nothing from another origin


@pytest.mark.parametrize(
    "text,expected",
    [
        ("4490", 4490),
        ("EPSG:4326", 4326),
        ("urn:ogc:def:crs:EPSG::4527", 4527),
        ("http://www.opengis.net/def/crs/EPSG/0/4549", 4549),
        ("gcj02", "GCJ02"),
        ("GCJ-02", "GCJ02"),
        ("BD09", "BD09"),
    ],
)
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


@pytest.mark.parametrize("text", ["EPSG:⁴⁴⁹⁰", "４４９０", "EPSG:٤٤٩٠", "EPSG:4490\x00", "EPSG:" + "9" * 5000])
def test_parse_crs_refuses_digits_int_cannot_read(text):
    with pytest.raises(CRSError):
        parse_crs(text)


def test_is_ascii_digits_refuses_what_isdigit_accepts():
    from gis_core.text import is_ascii_digits

    assert is_ascii_digits("0123456789")
    assert "¹²".isdigit() and not is_ascii_digits("¹²")
    assert not is_ascii_digits("") and not is_ascii_digits("１２") and not is_ascii_digits(None)


@pytest.mark.parametrize(
    "point,crs",
    [
        ((float("nan"), 35.5), 4490),
        ((116.8, float("inf")), "GCJ02"),
        ((1e308, 1e308), "BD09"),
        ((-1e300, 35.5), "GCJ02"),
        ((200.0, 35.5), 4326),
        ((1e300, 1e300), 4527),
    ],
)
def test_storage_point_refuses_absurd_points(point, crs):
    from gis_core.crs import storage_point

    with pytest.raises(CRSError):
        storage_point(*point, crs)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params,field",
    [
        ({"lon": "nan", "lat": "35.5"}, "lon"),
        ({"lon": "116.8", "lat": "inf"}, "lat"),
        ({"lon": "1e308", "lat": "1e308", "crs": "GCJ02"}, "lon"),
        ({"lon": "-1e300", "lat": "35.5", "crs": "BD09"}, "lon"),
        ({"lon": "1e300", "lat": "1e300", "crs": "EPSG:4527"}, "lon"),
        ({"lon": "116.8", "lat": "35.5", "crs": "EPSG:⁴⁴⁹⁰"}, "crs"),
        ({"lat": "35.5"}, "lon"),
        ({"lon": "116.8", "lat": "35.5\x00"}, "lat"),
    ],
)
def test_locate_refuses_absurd_points_by_name(params, field):
    from rest_framework.test import APIClient

    c = APIClient()
    c.force_authenticate(make_user("locator", role="dispatcher"))
    r = c.get("/api/grids/locate/", params)
    assert r.status_code == 400, (r.status_code, r.content[:300])
    assert r.json()["field"] == field, r.json()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url,field",
    [
        ("/api/grids/?level=¹", "level"),
        ("/api/grids/?level=99999999999999999999", "level"),
        ("/api/grids/?parent=³⁷⁰⁸¹²", "parent"),
        ("/api/grids/?parent=1%002", "parent"),
        ("/api/grids/search/?q=37%00", "q"),
        ("/api/grids/gaps/?min_area_m2=nan", "min_area_m2"),
        ("/api/grids/370812/?as_of=2024-01-01T00:00:00%2B25:00", "as_of"),
        ("/api/grids/370812/?as_of=0000-01-01", "as_of"),
        ("/api/grids/370812/?as_of=10000-01-01", "as_of"),
        ("/api/grids/370812/?as_of=2024-01-01%00", "as_of"),
    ],
)
def test_grid_queries_refuse_odd_values_by_name(url, field):
    from rest_framework.test import APIClient

    c = APIClient()
    c.force_authenticate(make_user("grid_reader", role="dispatcher"))
    r = c.get(url)
    assert r.status_code == 400, (url, r.status_code, r.content[:300])
    assert r.json()["field"] == field, r.json()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "as_of", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2024-02-29T12:00:00+23:59"]
)
def test_grid_as_of_at_the_ends_of_time_is_not_a_server_error(as_of):
    from rest_framework.test import APIClient

    c = APIClient()
    c.force_authenticate(make_user("grid_historian", role="dispatcher"))
    r = c.get("/api/grids/370812/", {"as_of": as_of})
    assert r.status_code in (200, 400, 404), (as_of, r.status_code, r.content[:300])


@pytest.mark.django_db
@pytest.mark.parametrize("patch,field", [({"population": 2**31}, "population"), ({"households": 10**30}, "households")])
def test_grid_numbers_beyond_the_columns_are_a_400(patch, field):
    from rest_framework.test import APIClient

    c = APIClient()
    c.force_authenticate(make_user("grid_editor", role="gis_editor"))
    r = c.patch("/api/grids/370812/", patch, format="json")
    assert r.status_code == 400 and r.json()["field"] == field, (r.status_code, r.content[:300])
