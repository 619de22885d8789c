"""Real WMS clients against a live server: OWSLib (capabilities and GetMap) and QGIS itself
(Debian python3-qgis, headless) adding the layer and rendering it."""

import io
import json
from pathlib import Path

import pytest
from owslib.wms import WebMapService
from PIL import Image

from components import roles
from tests.factories import make_user

from .test_qgis_wfs import run_client
from .test_wfs_support import PASSWORD, X0, Y0, make_grids

pytestmark = pytest.mark.django_db(transaction=True)
SCRIPT = Path(__file__).parent / "clients" / "qgis_wms.py"
BOX = (X0 + 0.015, Y0 + 0.015, X0 + 0.035, Y0 + 0.035)  # lon/lat around the base grids


@pytest.fixture
def data(transactional_db):
    make_user("wms_client", roles.DISPATCHER, password=PASSWORD)
    return make_grids()


def test_owslib_reads_capabilities_and_gets_a_map(live_server, data):
    wms = WebMapService(f"{live_server.url}/wms", version="1.3.0", username="wms_client", password=PASSWORD)
    assert wms.identification.type == "WMS" and wms.version == "1.3.0"
    assert {"base_grids", "components", "district_grids"} <= set(wms.contents)
    layer = wms.contents["base_grids"]
    assert "EPSG:4490" in layer.crsOptions and layer.queryable
    assert {op.name for op in wms.operations} >= {"GetCapabilities", "GetMap", "GetFeatureInfo"}
    img = wms.getmap(
        layers=["base_grids"],
        styles=[""],
        srs="CRS:84",
        bbox=BOX,
        size=(120, 120),
        format="image/png",
        transparent=True,
    )
    picture = Image.open(io.BytesIO(img.read())).convert("RGBA")
    assert picture.size == (120, 120)
    assert picture.getpixel((60, 60))[3] > 0  # the grid fill in the middle
    info = wms.getfeatureinfo(
        layers=["base_grids"],
        styles=[""],
        srs="CRS:84",
        bbox=BOX,
        size=(120, 120),
        format="image/png",
        query_layers=["base_grids"],
        info_format="application/json",
        xy=(60, 60),
    )
    assert [f["properties"]["code"] for f in json.loads(info.read())["features"]] == ["37081200100101"]


def test_qgis_adds_the_wms_layer_and_renders_the_grids(live_server, data):
    cfg = {
        "url": f"{live_server.url}/wms",
        "layer": "base_grids",
        "crs": "EPSG:4490",
        "username": "wms_client",
        "password": PASSWORD,
        "bbox": list(BOX),
    }
    out = run_client(SCRIPT, cfg)
    assert out["valid"], out
    assert out["crs"] == "EPSG:4490"
    assert out["extent"] == pytest.approx([X0 + 0.02, Y0 + 0.02, X0 + 0.04, Y0 + 0.04], abs=1e-4)
    assert not out["errors"], out["errors"]
    grid_colours = [c for c in out["colours"] if c != "#ffffff"]
    assert grid_colours, out["colours"]  # the base grids' outline and fill were drawn
