"""Hostile and careless OGC requests (WFS and WMS, KVP and XML): every answer is a document of the
protocol or an exception report in the protocol's own form, never a 5xx. Each hostile value is swept
once through every parameter of every operation, then Hypothesis draws mixed requests; the number of
examples is bounded so `make test` stays quick."""

import pytest
from defusedxml import ElementTree as ET
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components import roles
from tests.factories import make_user

from .test_wfs_support import PASSWORD, basic, make_grids

pytestmark = pytest.mark.django_db

ODD = [
    "",
    "\x00",
    "1\x00",
    "¹²",
    "١٢",
    "１２",
    "nan",
    "inf",
    "-inf",
    "1e309",
    "9" * 5000,
    "-1",
    "0",
    " ",
    ",",
    ",,,,",
    "1,2",
    "1,2,3,4,5",
    "a" * 2000,
    "\u202e",
    "' OR 1=1 --",
    "<x/>",
    "&amp;",
    "%00",
    "EPSG:⁴⁴⁹⁰",
    "EPSG:99999999999",
    "urn:ogc:def:crs:EPSG::",
    "gridcity:",
    ":",
    "{}",
    "base_grids.¹",
    "base_grids.",
    "base_grids.99999999999999999999",
    "<Filter/>",
    "<fes:Filter><fes:PropertyIsEqualTo>",
]
WFS_OPERATIONS = {
    "GetCapabilities": {"ACCEPTVERSIONS": "2.0.0"},
    "DescribeFeatureType": {"VERSION": "2.0.0", "TYPENAMES": "base_grids"},
    "GetFeature": {
        "VERSION": "2.0.0",
        "TYPENAMES": "base_grids",
        "COUNT": "5",
        "STARTINDEX": "0",
        "BBOX": "35.5,116.8,35.6,116.9,urn:ogc:def:crs:EPSG::4490",
        "SRSNAME": "EPSG:4490",
        "OUTPUTFORMAT": "application/json",
        "RESOURCEID": "base_grids.6",
        "PROPERTYNAME": "code,name",
        "SORTBY": "code DESC",
        "RESULTTYPE": "hits",
    },
}
WMS_OPERATIONS = {
    "GetCapabilities": {"VERSION": "1.3.0"},
    "GetMap": {
        "VERSION": "1.3.0",
        "LAYERS": "base_grids",
        "STYLES": "",
        "CRS": "EPSG:3857",
        "BBOX": "13002000,4235000,13003000,4236000",
        "WIDTH": "64",
        "HEIGHT": "64",
        "FORMAT": "image/png",
        "TRANSPARENT": "TRUE",
        "BGCOLOR": "0xFFFFFF",
    },
    "GetFeatureInfo": {
        "VERSION": "1.3.0",
        "LAYERS": "base_grids",
        "QUERY_LAYERS": "base_grids",
        "STYLES": "",
        "CRS": "EPSG:3857",
        "BBOX": "13002000,4235000,13003000,4236000",
        "WIDTH": "64",
        "HEIGHT": "64",
        "I": "10",
        "J": "10",
        "INFO_FORMAT": "application/json",
        "FEATURE_COUNT": "3",
    },
}
BODIES = [
    b"",
    b"\x00",
    b"<",
    b"<?xml version='1.0'?>",
    b"<GetFeature/>",
    b"not xml at all",
    b'<wfs:GetFeature xmlns:wfs="http://www.opengis.net/wfs/2.0" service="WFS" version="2.0.0"/>',
    b'<wfs:GetFeature xmlns:wfs="http://www.opengis.net/wfs/2.0" service="WFS" version="2.0.0">'
    b'<wfs:Query typeNames="base_grids"><fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0">'
    b'<fes:PropertyIsLike wildCard="*" singleChar="." escapeChar="!"><fes:ValueReference>name</fes:ValueReference>'
    b"<fes:Literal>" + b"*" * 3000 + b"</fes:Literal></fes:PropertyIsLike></fes:Filter></wfs:Query></wfs:GetFeature>",
    b'<wfs:Transaction xmlns:wfs="http://www.opengis.net/wfs/2.0" service="WFS" version="2.0.0">'
    b'<wfs:Delete typeName="base_grids"/></wfs:Transaction>',
    "<a>\u202e\x01</a>".encode(),
    b"\xff\xfe<\x00a\x00>\x00",
]
FUZZ = settings(
    max_examples=40, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)


@pytest.fixture
def reader(db):
    make_grids()
    return make_user("ogc_fuzz_reader", roles.DISPATCHER, password=PASSWORD)


def _assert_protocol_answer(response, what):
    assert response.status_code < 500, (what, response.status_code)
    if response.status_code >= 400:
        body = b"".join(response.streaming_content) if response.streaming else response.content
        root = ET.fromstring(body)  # an exception report, not an HTML page or a stack trace
        assert root.tag.rsplit("}", 1)[-1] in ("ExceptionReport", "ServiceExceptionReport"), (what, body[:300])
        assert b"Traceback" not in body and b"/work/" not in body


def _get(user, path, params):
    return Client().get(path, params, HTTP_AUTHORIZATION=basic(user.username))


@pytest.mark.parametrize("service,path,operations", [("WFS", "/wfs", WFS_OPERATIONS), ("WMS", "/wms", WMS_OPERATIONS)])
def test_every_hostile_value_in_every_parameter_is_answered_in_the_protocol(reader, service, path, operations):
    for operation, params in operations.items():
        base = {"SERVICE": service, "REQUEST": operation, **params}
        for name in [*base, "\x00", "¹"]:
            for value in ODD:
                _assert_protocol_answer(_get(reader, path, {**base, name: value}), (operation, name, value[:20]))


@pytest.mark.parametrize("body", BODIES)
def test_hostile_xml_bodies_are_answered_in_the_protocol(reader, body):
    r = Client().post("/wfs", body, content_type="text/xml", HTTP_AUTHORIZATION=basic(reader.username))
    _assert_protocol_answer(r, body[:40])


operation = st.sampled_from(
    [("WFS", "/wfs", op, p) for op, p in WFS_OPERATIONS.items()]
    + [("WMS", "/wms", op, p) for op, p in WMS_OPERATIONS.items()]
    + [("WFS", "/ows", op, p) for op, p in WFS_OPERATIONS.items()]
)
changes = st.dictionaries(
    st.one_of(
        st.sampled_from(
            [
                "BBOX",
                "TYPENAMES",
                "COUNT",
                "LAYERS",
                "CRS",
                "SRSNAME",
                "I",
                "WIDTH",
                "FILTER",
                "VERSION",
                "SERVICE",
                "REQUEST",
            ]
        ),
        st.text(max_size=8),
    ),
    st.one_of(st.sampled_from(ODD), st.text(max_size=30)),
    max_size=3,
)


@FUZZ
@given(request=operation, change=changes)
def test_mixed_odd_requests_never_fail_the_server(reader, request, change):
    service, path, op, params = request
    _assert_protocol_answer(
        _get(reader, path, {"SERVICE": service, "REQUEST": op, **params, **change}), (path, op, change)
    )
