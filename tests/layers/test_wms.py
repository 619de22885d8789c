"""WMS 1.3.0 against the real database and render processes: capabilities (schema-valid when the
official schemas are beside the repo), GetMap in every CRS with 1.3.0 axis order, GetFeatureInfo
formats, permissions, and a ServiceExceptionReport with the standard's code for each bad request."""

import io
from xml.etree import ElementTree

import pytest
from django.contrib.gis.geos import Point
from django.test import Client
from PIL import Image

from components import roles
from tests.factories import ComponentFactory, OrganisationFactory, make_user

from .test_wfs_support import PASSWORD, SCHEMAS, X0, Y0, basic, make_grids

pytestmark = pytest.mark.django_db
WMS = "{http://www.opengis.net/wms}"
OGC = "{http://www.opengis.net/ogc}"
# Around base grid 37081200100101 (X0+0.02..0.03, Y0+0.02..0.03) with a component in its middle.
LON, LAT = X0 + 0.025, Y0 + 0.025
BOX = (X0 + 0.015, Y0 + 0.015, X0 + 0.035, Y0 + 0.035)  # lon/lat


@pytest.fixture(autouse=True)
def _fresh_extents():
    from layers.ogc.wms import capabilities

    capabilities._extents.clear()  # extents are kept for minutes; each test has its own rows


@pytest.fixture
def data(db):
    make_user("wms_reader", roles.DISPATCHER, password=PASSWORD)
    grids = make_grids()
    mine, other = OrganisationFactory(name="兖州城管局"), OrganisationFactory(name="兖州供电公司")
    ours = ComponentFactory(geom=Point(LON, LAT, srid=4490), owner=mine, maintainer=mine)
    theirs = ComponentFactory(geom=Point(LON + 0.004, LAT, srid=4490), owner=other, maintainer=other)
    return grids, ours, theirs, mine


@pytest.fixture
def client(data):
    return Client(HTTP_AUTHORIZATION=basic("wms_reader"))


def getmap(client, **overrides):
    params = {
        "SERVICE": "WMS",
        "VERSION": "1.3.0",
        "REQUEST": "GetMap",
        "LAYERS": "base_grids,components",
        "STYLES": "",
        "CRS": "EPSG:4490",
        "BBOX": f"{BOX[1]},{BOX[0]},{BOX[3]},{BOX[2]}",
        "WIDTH": "200",
        "HEIGHT": "200",
        "FORMAT": "image/png",
        "TRANSPARENT": "TRUE",
    }
    params.update(overrides)
    return client.get("/wms", {k: v for k, v in params.items() if v is not None})


def image(response) -> Image.Image:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "image/png"
    return Image.open(io.BytesIO(response.content)).convert("RGBA")


def exception(response) -> tuple[str, str]:
    assert response["Content-Type"].startswith("text/xml"), response.content[:300]
    root = ElementTree.fromstring(response.content)
    assert root.tag == f"{OGC}ServiceExceptionReport" and root.get("version") == "1.3.0"
    error = root.find(f"{OGC}ServiceException")
    return error.get("code"), error.get("locator")


def test_capabilities_list_the_tile_layers_with_crs_and_bounding_boxes(client):
    r = client.get("/wms", {"SERVICE": "WMS", "REQUEST": "GetCapabilities"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/xml")
    root = ElementTree.fromstring(r.content)
    assert root.tag == f"{WMS}WMS_Capabilities" and root.get("version") == "1.3.0"
    top = root.find(f"{WMS}Capability/{WMS}Layer")
    assert {c.text for c in top.findall(f"{WMS}CRS")} == {"EPSG:3857", "EPSG:4490", "EPSG:4326", "CRS:84"}
    names = [n.text for n in top.findall(f"{WMS}Layer/{WMS}Name")]
    assert {"components", "base_grids", "district_grids", "grid_gaps", "components_01"} <= set(names)
    base = next(layer for layer in top.findall(f"{WMS}Layer") if layer.find(f"{WMS}Name").text == "base_grids")
    assert base.get("queryable") == "1"
    geo = base.find(f"{WMS}EX_GeographicBoundingBox")
    assert float(geo.find(f"{WMS}westBoundLongitude").text) == pytest.approx(X0 + 0.02, abs=1e-5)
    epsg4326 = next(b for b in base.findall(f"{WMS}BoundingBox") if b.get("CRS") == "EPSG:4326")
    assert float(epsg4326.get("minx")) == pytest.approx(Y0 + 0.02, abs=1e-5)  # latitude first in 1.3.0
    formats = [f.text for f in root.iter(f"{WMS}Format")]
    assert "image/png" in formats and "application/json" in formats and "text/html" in formats


def test_capabilities_validate_against_the_official_schema(client):
    import xmlschema

    from .test_wfs_support import _uri_mapper

    wms = SCHEMAS / "wms130" / "xsd"
    xsd = wms / "ogc/wms/1.3.0/capabilities_1_3_0.xsd"
    assert xsd.is_file(), f"the WMS 1.3.0 schema is not at {xsd}: set GRIDCITY_REFERENCE"  # fail, never skip

    def mapper(uri):  # the README of wms130: its own xlink copy, not the WFS ones
        return str(wms / "w3c/1999/xlink.xsd") if uri == "http://www.w3.org/1999/xlink.xsd" else _uri_mapper(uri)

    schema = xmlschema.XMLSchema(str(xsd), uri_mapper=mapper, allow="local", defuse="always")
    r = client.get("/wms", {"SERVICE": "WMS", "REQUEST": "GetCapabilities"})
    schema.validate(r.content.decode())


def test_exception_reports_validate_against_the_official_schema(client):
    import xmlschema

    xsd = SCHEMAS / "wms130" / "xsd" / "ogc/wms/1.3.0/exceptions_1_3_0.xsd"
    assert xsd.is_file(), f"the WMS 1.3.0 exception schema is not at {xsd}: set GRIDCITY_REFERENCE"
    schema = xmlschema.XMLSchema(str(xsd), allow="local", defuse="always")
    schema.validate(getmap(client, LAYERS="nope").content.decode())


def _px(img, lon, lat, box=BOX):
    col = int((lon - box[0]) / (box[2] - box[0]) * img.width)
    row = int((box[3] - lat) / (box[3] - box[1]) * img.height)
    return img.getpixel((col, row))


@pytest.mark.parametrize(
    "crs,bbox",
    [
        ("EPSG:4490", f"{BOX[1]},{BOX[0]},{BOX[3]},{BOX[2]}"),  # lat,lon in 1.3.0
        ("EPSG:4326", f"{BOX[1]},{BOX[0]},{BOX[3]},{BOX[2]}"),
        ("CRS:84", f"{BOX[0]},{BOX[1]},{BOX[2]},{BOX[3]}"),
    ],
)
def test_getmap_draws_the_component_and_grid_where_they_are_in_geographic_crs(client, crs, bbox):
    img = image(getmap(client, CRS=crs, BBOX=bbox))
    assert img.size == (200, 200)
    assert _px(img, LON, LAT)[3] == 255  # the component's marker
    assert _px(img, X0 + 0.0215, Y0 + 0.0215)[3] > 0  # inside the grid: its translucent fill
    assert _px(img, X0 + 0.016, Y0 + 0.034)[3] == 0  # outside every base grid: transparent


def test_getmap_in_web_mercator_and_opaque_background(client):
    from layers.ogc.wms.params import mercator

    x0, y0 = mercator(BOX[0], BOX[1])
    x1, y1 = mercator(BOX[2], BOX[3])
    img = image(
        getmap(client, CRS="EPSG:3857", BBOX=f"{x0},{y0},{x1},{y1}", TRANSPARENT="FALSE", WIDTH="300", HEIGHT="150")
    )
    assert img.size == (300, 150)
    assert img.getpixel((0, 0)) == (255, 255, 255, 255)  # BGCOLOR default white
    dark = img.getpixel((150, 75))
    assert dark[3] == 255 and dark[:3] != (255, 255, 255)  # the component in the middle


def test_swapped_axes_in_epsg_4326_miss_the_data(client):
    """A client that sends lon,lat for EPSG:4326 in 1.3.0 asks for latitude 116: refused."""
    code, locator = exception(getmap(client, CRS="EPSG:4326", BBOX=",".join(map(str, BOX))))
    assert (code, locator) == ("InvalidParameterValue", "BBOX")


def test_getmap_via_ows_and_with_a_session(data):
    session = Client()
    session.force_login(make_user("wms_session", roles.DISPATCHER))
    r = session.get(
        "/ows",
        {
            "SERVICE": "WMS",
            "REQUEST": "GetMap",
            "VERSION": "1.3.0",
            "LAYERS": "components",
            "STYLES": "",
            "CRS": "CRS:84",
            "BBOX": ",".join(map(str, BOX)),
            "WIDTH": "64",
            "HEIGHT": "64",
            "FORMAT": "image/png",
        },
    )
    assert image(r).size == (64, 64)
    # /ows still serves WFS
    wfs = Client(HTTP_AUTHORIZATION=basic("wms_reader")).get("/ows", {"SERVICE": "WFS", "REQUEST": "GetCapabilities"})
    assert wfs.status_code == 200 and b"WFS_Capabilities" in wfs.content


def test_anonymous_and_wrong_passwords_get_401_reports(data):
    r = Client().get("/wms", {"SERVICE": "WMS", "REQUEST": "GetCapabilities"})
    assert r.status_code == 401 and r["WWW-Authenticate"].startswith("Basic")
    exception(r)
    r = Client(HTTP_AUTHORIZATION=basic("wms_reader", "wrong")).get("/ows", {"SERVICE": "WMS", "REQUEST": "GetMap"})
    assert r.status_code == 401
    exception(r)


@pytest.mark.parametrize(
    "overrides,code,locator",
    [
        ({"LAYERS": "nope"}, "LayerNotDefined", "LAYERS"),
        ({"LAYERS": None}, "MissingParameterValue", "LAYERS"),
        ({"CRS": "EPSG:2000"}, "InvalidCRS", "CRS"),
        ({"CRS": None}, "MissingParameterValue", "CRS"),
        ({"FORMAT": "image/gif"}, "InvalidFormat", "FORMAT"),
        ({"WIDTH": "0"}, "InvalidParameterValue", "WIDTH"),
        ({"HEIGHT": "5000"}, "InvalidParameterValue", "HEIGHT"),
        ({"WIDTH": "wide"}, "InvalidParameterValue", "WIDTH"),
        ({"BBOX": "35.6,116.9,35.5,116.8"}, "InvalidParameterValue", "BBOX"),
        ({"BBOX": "1,2,3"}, "InvalidParameterValue", "BBOX"),
        ({"BBOX": "-95,10,-91,11"}, "InvalidParameterValue", "BBOX"),
        ({"STYLES": "fancy,default"}, "StyleNotDefined", "STYLES"),
        ({"STYLES": "default"}, "StyleNotDefined", "STYLES"),  # one style for two layers
        ({"TRANSPARENT": "maybe"}, "InvalidParameterValue", "TRANSPARENT"),
        ({"VERSION": "2.0.0"}, "InvalidParameterValue", "VERSION"),
        ({"REQUEST": "GetLegend"}, "OperationNotSupported", "REQUEST"),
        ({"REQUEST": None}, "MissingParameterValue", "REQUEST"),
    ],
)
def test_each_bad_getmap_gets_its_exception_code(client, overrides, code, locator):
    r = getmap(client, **overrides)
    assert r.status_code == 400
    assert exception(r) == (code, locator)


def test_wms_endpoint_refuses_other_services(client):
    r = client.get("/wms", {"SERVICE": "WFS", "REQUEST": "GetCapabilities"})
    assert r.status_code == 400 and exception(r) == ("InvalidParameterValue", "SERVICE")


def featureinfo(client, fmt="application/json", **overrides):
    params = {
        "SERVICE": "WMS",
        "VERSION": "1.3.0",
        "REQUEST": "GetFeatureInfo",
        "LAYERS": "base_grids,components",
        "QUERY_LAYERS": "components,base_grids",
        "STYLES": "",
        "CRS": "CRS:84",
        "BBOX": ",".join(map(str, BOX)),
        "WIDTH": "200",
        "HEIGHT": "200",
        "FORMAT": "image/png",
        "INFO_FORMAT": fmt,
        "I": "100",
        "J": "100",
        "FEATURE_COUNT": "5",
    }
    params.update(overrides)
    return client.get("/wms", {k: v for k, v in params.items() if v is not None})


def test_getfeatureinfo_json_finds_the_component_and_its_grid(client, data):
    _, ours, theirs, _ = data
    r = featureinfo(client)
    assert r.status_code == 200 and r["Content-Type"].startswith("application/json")
    features = r.json()["features"]
    assert [(f["properties"]["layer"], f["properties"]["code"]) for f in features] == [
        ("components", ours.code),
        ("base_grids", "37081200100101"),
    ]
    assert features[0]["id"] == f"components.{ours.pk}"
    assert features[0]["geometry"]["coordinates"] == pytest.approx([LON, LAT])
    assert features[1]["properties"]["name"] == "一号网格"
    # a pixel with nothing near: no component, still the grid
    r = featureinfo(client, I="60", J="100")
    assert [f["properties"]["layer"] for f in r.json()["features"]] == ["base_grids"]


def test_getfeatureinfo_html_xml_and_text(client, data):
    _, ours, _, _ = data
    html = featureinfo(client, "text/html")
    assert html["Content-Type"].startswith("text/html") and ours.code in html.content.decode()
    assert "一号网格" in html.content.decode()
    xml = featureinfo(client, "text/xml")
    root = ElementTree.fromstring(xml.content)
    assert [el.get("name") for el in root] == ["components", "base_grids"]
    text = featureinfo(client, "text/plain")
    assert f"code = {ours.code}" in text.content.decode()


def test_getfeatureinfo_in_epsg_4490_reads_i_j_in_lat_lon_order(client, data):
    _, ours, _, _ = data
    r = featureinfo(client, CRS="EPSG:4490", BBOX=f"{BOX[1]},{BOX[0]},{BOX[3]},{BOX[2]}")
    assert r.json()["features"][0]["properties"]["code"] == ours.code


@pytest.mark.parametrize(
    "overrides,code,locator",
    [
        ({"I": "200"}, "InvalidPoint", "I"),
        ({"J": "-1"}, "InvalidPoint", "J"),
        ({"I": None}, "MissingParameterValue", "I"),
        ({"QUERY_LAYERS": "district_grids"}, "LayerNotDefined", "QUERY_LAYERS"),
        ({"QUERY_LAYERS": None}, "MissingParameterValue", "QUERY_LAYERS"),
        ({"FEATURE_COUNT": "0"}, "InvalidParameterValue", "FEATURE_COUNT"),
    ],
)
def test_bad_getfeatureinfo_requests(client, overrides, code, locator):
    r = featureinfo(client, **overrides)
    assert r.status_code == 400 and exception(r) == (code, locator)
    assert exception(featureinfo(client, "image/png")) == ("InvalidFormat", "INFO_FORMAT")


def test_a_maintenance_unit_sees_and_queries_only_its_organisations_components(data):
    _, ours, theirs, mine = data
    make_user("wms_unit", roles.MAINTENANCE_UNIT, organisation=mine, password=PASSWORD)
    unit = Client(HTTP_AUTHORIZATION=basic("wms_unit"))
    img = image(getmap(unit, LAYERS="components", CRS="CRS:84", BBOX=",".join(map(str, BOX))))
    assert _px(img, LON, LAT)[3] == 255
    assert _px(img, LON + 0.004, LAT)[3] == 0  # the other organisation's component is not drawn
    r = featureinfo(unit, LAYERS="components", QUERY_LAYERS="components", I="140")  # on `theirs`
    assert r.json()["features"] == []
    reader = Client(HTTP_AUTHORIZATION=basic("wms_reader"))
    r = featureinfo(reader, LAYERS="components", QUERY_LAYERS="components", I="140")
    assert [f["properties"]["code"] for f in r.json()["features"]] == [theirs.code]
