"""OWSLib reads capabilities, schema and features (WFS 2.0.0 and 1.1.0) from a live server."""

import json

import pytest
from owslib.wfs import WebFeatureService

from components import roles
from tests.factories import make_user

from .test_wfs_support import PASSWORD, make_grids

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def data(transactional_db):
    make_user("owslib_reader", roles.DISPATCHER, password=PASSWORD)
    return make_grids()


@pytest.mark.parametrize("version", ["2.0.0", "1.1.0"])
def test_owslib_reads_capabilities_schema_and_features(live_server, data, version):
    wfs = WebFeatureService(f"{live_server.url}/wfs", version=version, username="owslib_reader", password=PASSWORD)
    assert "gridcity:base_grids" in wfs.contents
    layer = wfs.contents["gridcity:base_grids"]
    assert any("4490" in str(crs.code) for crs in layer.crsOptions)
    assert "Transaction" not in [op.name for op in wfs.operations]  # a dispatcher may not edit
    schema = wfs.get_schema("gridcity:base_grids")
    assert schema["geometry_column"] == "geometry"
    assert {"code", "name", "population"} <= set(schema["properties"])
    response = wfs.getfeature(typename=["gridcity:base_grids"], outputFormat="application/json")
    data = json.loads(response.read())
    assert sorted(f["properties"]["code"] for f in data["features"]) == [
        "37081200100101",
        "37081200100102",
        "37081200100103",
    ]
    gml = wfs.getfeature(typename=["gridcity:base_grids"], maxfeatures=2).read()
    assert gml.count(b"<gridcity:base_grids ") == 2
