"""/api/grids/locate/ given GCJ-02 (Amap) or BD-09 (Baidu) coordinates finds the grid the WGS-84/CGCS2000
point lies in, not the grid under the raw numbers. Grids are laid around published coordinate pairs
(see tests/gis_core/test_crs_reference.py for the sources), so the expectation comes from outside our
converter: a GCJ-02 offset of ~600 m east puts the raw point in the neighbouring grid."""

import pytest
from django.contrib.gis.geos import Polygon
from rest_framework.test import APIClient

from components import roles
from layers.grids.services import create_grid
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _district_around_the_published_pairs(settings):
    """The published reference points are in Beijing: the district is put around them for these tests."""
    settings.GRIDCITY_DISTRICT_BBOX = (115.5, 39.0, 117.5, 41.0)


# eviltransform's Beijing pair: WGS-84 (116.377817, 39.911954) is GCJ-02 (116.38404722455657, 39.91334545536069).
WGS = (116.377817, 39.911954)
GCJ = (116.38404722455657, 39.91334545536069)
# coordtransform's pair: BD-09 (116.41036949371029, 39.92133699351021) is GCJ-02 (116.404, 39.915), whose
# WGS-84 is ~(116.39776, 39.91360) (coordtransform's one-step inverse, within metres of the exact one).
BD = (116.41036949371029, 39.92133699351021)
BD_WGS = (116.39776, 39.91360)
SPLIT = 116.381  # base grid West ends, East begins: between the WGS-84 point and its raw GCJ-02 numbers


def box(x0, y0, x1, y1):
    return Polygon.from_bbox((x0, y0, x1, y1))


@pytest.fixture
def reader():
    for code, name, level, parent, geom in [
        ("110101", "东城区", 1, "", box(116.36, 39.90, 116.42, 39.93)),
        ("110101001", "东华门街道", 2, "110101", box(116.36, 39.90, 116.42, 39.93)),
        ("110101001001", "多福巷社区", 3, "110101001", box(116.36, 39.90, 116.42, 39.93)),
        ("11010100100101", "西网格", 4, "110101001001", box(116.36, 39.90, SPLIT, 39.93)),
        ("11010100100102", "东网格", 4, "110101001001", box(SPLIT, 39.90, 116.401, 39.93)),
        ("11010100100103", "远东网格", 4, "110101001001", box(116.401, 39.90, 116.42, 39.93)),
    ]:
        create_grid(code=code, name=name, level=level, parent_code=parent, geom=geom)
    client = APIClient()
    client.force_authenticate(make_user("locate_reader", roles.DISPATCHER))
    return client


def locate(client, lon, lat, crs=None):
    params = {"lon": lon, "lat": lat, **({"crs": crs} if crs else {})}
    r = client.get("/api/grids/locate/", params)
    assert r.status_code == 200, r.content
    return r.json()


@pytest.mark.parametrize("crs", ["GCJ02", "gcj-02", "gaode"])
def test_gcj02_input_is_located_at_its_wgs84_point(reader, crs):
    assert locate(reader, *GCJ)["base_grid"] == "11010100100102"  # the raw numbers lie in the east grid
    body = locate(reader, *GCJ, crs=crs)
    assert body["base_grid"] == "11010100100101"
    assert (body["lon"], body["lat"]) == pytest.approx(WGS, abs=1e-6)
    assert [g["id"] for g in body["grids"]] == ["110101", "110101001", "110101001001", "11010100100101"]


def test_bd09_input_is_located_through_gcj02(reader):
    assert locate(reader, *BD)["base_grid"] == "11010100100103"
    body = locate(reader, *BD, crs="BD09")
    assert body["base_grid"] == "11010100100102"
    assert (body["lon"], body["lat"]) == pytest.approx(BD_WGS, abs=2e-5)
