"""WFS through Django's test client: versions, axis order, paging, filters, the allow-list,
Transactions (including the real QGIS 3.22 bodies), auth, and schema validity offline."""

import json
import re
from xml.etree import ElementTree as ET

import pytest
from django.test import Client

from components import roles
from gis_core import auth as core_auth
from layers.models import Grid, GridVersion
from layers.ogc import auth as ogc_auth
from tests.factories import make_user

from .test_wfs_support import (
    PASSWORD,
    SCHEMAS,
    TARGET_PK,
    TRAFFIC,
    X0,
    Y0,
    basic,
    make_grids,
    official_schema,
)

pytestmark = pytest.mark.django_db
WFS20 = "http://www.opengis.net/wfs/2.0"
WFS = "http://www.opengis.net/wfs"
GML = "http://www.opengis.net/gml"
GML32 = "http://www.opengis.net/gml/3.2"
OWS11 = "http://www.opengis.net/ows/1.1"
OWS = "http://www.opengis.net/ows"


@pytest.fixture
def grids(db):
    return make_grids()


@pytest.fixture
def editor(db):
    return make_user("wfs_editor", roles.GIS_EDITOR, password=PASSWORD)


@pytest.fixture
def reader(db):
    return make_user("wfs_reader", roles.DISPATCHER, password=PASSWORD)


def get(user, **params):
    return Client().get("/wfs", params, HTTP_AUTHORIZATION=basic(user.username) if user else "")


def post(user, body, path="/wfs"):
    if isinstance(body, str):
        body = body.encode()
    return Client().post(path, body, content_type="text/xml", HTTP_AUTHORIZATION=basic(user.username))


def content(response) -> bytes:
    if not response.streaming:
        return response.content
    if not hasattr(response, "_wfs_body"):
        response._wfs_body = b"".join(response.streaming_content)
    return response._wfs_body


def xml(response):
    return ET.fromstring(content(response))


def exception_code(response):
    root = xml(response)
    exc = next(e for e in root.iter() if e.tag.endswith("Exception") or e.tag.endswith("ServiceException"))
    return exc.get("exceptionCode") or exc.get("code"), "".join(root.itertext())


def snapshot():
    return sorted(Grid.objects.values_list("id", "code", "name", "version")), GridVersion.objects.count()


def validate(response_or_bytes, schema_path):
    data = response_or_bytes if isinstance(response_or_bytes, bytes) else content(response_or_bytes)
    schema = official_schema(schema_path)
    schema.validate(data.decode("utf-8") if isinstance(data, bytes) else data)


WFS20_XSD = str(SCHEMAS / "wfs20/xsd/opengis/wfs/2.0/wfs.xsd")
WFS11_XSD = str(SCHEMAS / "wfs11/xsd/ogc/wfs/1.1.0/wfs.xsd")
OWS11_XSD = str(SCHEMAS / "wfs20/xsd/opengis/ows/1.1/ows-1.1.0.xsd")
OWS10_XSD = str(SCHEMAS / "wfs11/xsd/ogc/ows/1.0.0/owsExceptionReport.xsd")


# ---------------------------------------------------------------- capabilities and negotiation
def test_capabilities_negotiate_qgis_accept_versions_and_validate(grids, editor):
    r = get(editor, SERVICE="WFS", REQUEST="GetCapabilities", ACCEPTVERSIONS="2.0.0,1.1.0,1.0.0")
    assert r.status_code == 200
    root = xml(r)
    assert root.tag == f"{{{WFS20}}}WFS_Capabilities" and root.get("version") == "2.0.0"
    body = content(r).decode()
    assert '<ows:Operation name="Transaction">' in body
    assert 'ImplementsTransactionalWFS"><ows:NoValues/><ows:DefaultValue>TRUE' in body
    assert "<wfs:DefaultCRS>EPSG:4490</wfs:DefaultCRS>" in body and "EPSG:3857" in body
    validate(r, WFS20_XSD)
    r = get(editor, SERVICE="WFS", REQUEST="GetCapabilities", ACCEPTVERSIONS="1.1.0,1.0.0")
    assert xml(r).get("version") == "1.1.0"
    assert "<wfs:DefaultSRS>EPSG:4490</wfs:DefaultSRS>" in content(r).decode()
    validate(r, WFS11_XSD)
    r = get(editor, SERVICE="WFS", REQUEST="GetCapabilities", VERSION="1.0.0")
    assert xml(r).get("version") == "1.0.0" and b"<Transaction>" in content(r)


def test_transaction_is_advertised_only_to_editors(grids, reader):
    for version in ("2.0.0", "1.1.0", "1.0.0"):
        body = content(get(reader, SERVICE="WFS", REQUEST="GetCapabilities", ACCEPTVERSIONS=version)).decode()
        assert "Transaction" not in body.replace("ImplementsTransactionalWFS", ""), version
        assert "<wfs:Operation>Insert" not in body and "<Insert/>" not in body
    body = content(get(reader, SERVICE="WFS", REQUEST="GetCapabilities")).decode()
    assert 'ImplementsTransactionalWFS"><ows:NoValues/><ows:DefaultValue>FALSE' in body


def test_ows_dispatches_by_service_and_paths_do_not_redirect(grids, reader):
    c = Client()
    auth = basic(reader.username)
    r = c.get("/ows", {"SERVICE": "WFS", "REQUEST": "GetCapabilities"}, HTTP_AUTHORIZATION=auth)
    assert r.status_code == 200 and b"WFS_Capabilities" in content(r)
    r = c.get("/ows", {"SERVICE": "WMS", "REQUEST": "GetCapabilities"}, HTTP_AUTHORIZATION=auth)
    assert r.status_code == 200 and b"WMS_Capabilities" in content(r)
    r = c.get("/ows", {"SERVICE": "WCS", "REQUEST": "GetCapabilities"}, HTTP_AUTHORIZATION=auth)
    assert r.status_code == 400 and exception_code(r)[0] == "InvalidParameterValue"
    r = c.get("/wfs", {"SERVICE": "WFS", "REQUEST": "Nope"}, HTTP_AUTHORIZATION=auth)
    assert exception_code(r)[0] == "OperationNotSupported"


def test_anonymous_is_asked_for_basic_credentials(grids):
    r = Client().get("/wfs", {"SERVICE": "WFS", "REQUEST": "GetCapabilities"})
    assert r.status_code == 401 and r["WWW-Authenticate"].startswith("Basic")
    assert exception_code(r)[0] == "NoApplicableCode"
    r = Client().get("/wfs", {"SERVICE": "WFS", "REQUEST": "GetCapabilities"}, HTTP_AUTHORIZATION=basic("x", "y"))
    assert r.status_code == 401


def test_basic_credentials_are_cached_briefly(grids, reader, monkeypatch):
    ogc_auth.clear_cache()
    calls = []
    real = core_auth.authenticate
    monkeypatch.setattr(core_auth, "authenticate", lambda *a, **k: calls.append(1) or real(*a, **k))
    for _ in range(3):
        assert get(reader, SERVICE="WFS", REQUEST="GetCapabilities").status_code == 200
    assert len(calls) == 1
    r = Client().get(
        "/wfs",
        {"SERVICE": "WFS", "REQUEST": "GetCapabilities"},
        HTTP_AUTHORIZATION=basic(reader.username, "wrong-password"),
    )
    assert r.status_code == 401


# ---------------------------------------------------------------- describe
def test_describe_feature_type_per_version(grids, reader):
    r = get(reader, SERVICE="WFS", VERSION="2.0.0", REQUEST="DescribeFeatureType", TYPENAMES="gridcity:base_grids")
    body = content(r).decode()
    assert 'name="geometry" type="gml:MultiSurfacePropertyType"' in body
    assert "http://www.opengis.net/gml/3.2" in body and 'type="xsd:double"' in body
    body = content(
        get(reader, SERVICE="WFS", VERSION="1.1.0", REQUEST="DescribeFeatureType", TYPENAME="base_grids")
    ).decode()
    assert 'substitutionGroup="gml:_Feature"' in body and "gml/3.1.1" in body
    body = content(
        get(reader, SERVICE="WFS", VERSION="1.0.0", REQUEST="DescribeFeatureType", TYPENAME="base_grids")
    ).decode()
    assert 'type="gml:MultiPolygonPropertyType"' in body
    r = get(reader, SERVICE="WFS", VERSION="2.0.0", REQUEST="DescribeFeatureType", TYPENAMES="nope")
    assert r.status_code == 400


# ---------------------------------------------------------------- GetFeature
def _coords(body: str):
    m = re.search(r"<gml:posList[^>]*>([^<]+)</gml:posList>", body)
    return [float(v) for v in m.group(1).split()]


@pytest.mark.parametrize(
    "srs,latlon",
    [
        ("EPSG:4490", False),
        ("http://www.opengis.net/gml/srs/epsg.xml#4490", False),
        ("urn:ogc:def:crs:EPSG::4490", True),
        ("http://www.opengis.net/def/crs/EPSG/0/4490", True),
        ("urn:ogc:def:crs:EPSG::4326", True),
        ("EPSG:4326", False),
    ],
)
@pytest.mark.parametrize("version", ["2.0.0", "1.1.0"])
def test_axis_order_follows_the_srsname_form_not_the_version(grids, reader, srs, latlon, version):
    r = get(
        reader,
        SERVICE="WFS",
        VERSION=version,
        REQUEST="GetFeature",
        TYPENAMES="base_grids",
        SRSNAME=srs,
        RESOURCEID=f"base_grids.{TARGET_PK}",
        FEATUREID=f"base_grids.{TARGET_PK}",
    )
    body = content(r).decode()
    assert f'srsName="{srs}"' in body
    first = _coords(body)[:2]
    lon, lat = X0 + 0.02, Y0 + 0.02
    expected = [lat, lon] if latlon else [lon, lat]
    assert first == pytest.approx(expected, abs=1e-4), body[:600]


def test_unknown_srs_is_refused(grids, reader):
    r = get(reader, SERVICE="WFS", VERSION="2.0.0", REQUEST="GetFeature", TYPENAMES="base_grids", SRSNAME="EPSG:2000")
    assert r.status_code == 400
    code, _ = exception_code(r)
    assert code == "InvalidParameterValue" and b'locator="srsName"' in content(r)


def test_getfeature_3857_is_projected(grids, reader):
    body = content(
        get(
            reader,
            SERVICE="WFS",
            VERSION="2.0.0",
            REQUEST="GetFeature",
            TYPENAMES="base_grids",
            SRSNAME="EPSG:3857",
            COUNT="1",
        )
    ).decode()
    x, y = _coords(body)[:2]
    assert 1.29e7 < x < 1.31e7 and 4.2e6 < y < 4.3e6


def test_getfeature_gml32_validates_and_pages_in_pk_order(grids, reader):
    ids = []
    for start in (0, 1, 2, 3):
        r = get(
            reader,
            SERVICE="WFS",
            VERSION="2.0.0",
            REQUEST="GetFeature",
            TYPENAMES="gridcity:base_grids",
            COUNT="1",
            STARTINDEX=str(start),
        )
        root = xml(r)
        assert root.get("numberMatched") == "3"
        ids += [m.get(f"{{{GML32}}}id") for m in root.iter("{https://gridcity.example/ns/gridcity}base_grids")]
    pks = sorted(g.pk for g in grids)
    assert ids == [f"base_grids.{pk}" for pk in pks]
    r = get(reader, SERVICE="WFS", VERSION="2.0.0", REQUEST="GetFeature", TYPENAMES="base_grids")
    _validate_features(r, "2.0.0", reader)


def _validate_features(response, version, user):
    """Validate a FeatureCollection against the official WFS schema plus our DescribeFeatureType."""
    import tempfile
    from pathlib import Path

    import xmlschema

    from .test_wfs_support import _uri_mapper

    official_schema(WFS20_XSD if version == "2.0.0" else WFS11_XSD)
    dft = content(get(user, SERVICE="WFS", VERSION=version, REQUEST="DescribeFeatureType", TYPENAME="base_grids"))
    wfs_xsd = WFS20_XSD if version == "2.0.0" else WFS11_XSD
    wfs_ns = WFS20 if version == "2.0.0" else WFS
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "types.xsd").write_bytes(dft)
        (Path(tmp) / "all.xsd").write_text(
            '<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:x-all">'
            f'<xsd:import namespace="{wfs_ns}" schemaLocation="{wfs_xsd}"/>'
            '<xsd:import namespace="https://gridcity.example/ns/gridcity" schemaLocation="types.xsd"/></xsd:schema>'
        )
        schema = xmlschema.XMLSchema(
            str(Path(tmp) / "all.xsd"), uri_mapper=_uri_mapper, allow="local", defuse="always", validation="lax"
        )
        schema.validate(content(response).decode())


def test_getfeature_gml311_validates(grids, reader):
    r = get(reader, SERVICE="WFS", VERSION="1.1.0", REQUEST="GetFeature", TYPENAME="base_grids", MAXFEATURES="2")
    root = xml(r)
    assert root.get("numberOfFeatures") == "2"
    _validate_features(r, "1.1.0", reader)


def test_getfeature_gml2_and_geojson(grids, reader):
    body = content(get(reader, SERVICE="WFS", VERSION="1.0.0", REQUEST="GetFeature", TYPENAME="base_grids")).decode()
    assert f'fid="base_grids.{TARGET_PK}"' in body and "<gml:coordinates" in body and "<gml:outerBoundaryIs>" in body
    r = get(
        reader,
        SERVICE="WFS",
        VERSION="2.0.0",
        REQUEST="GetFeature",
        TYPENAMES="base_grids",
        OUTPUTFORMAT="application/json",
        PROPERTYNAME="code,name",
    )
    data = json.loads(content(r))
    assert data["numberMatched"] == 3
    f = data["features"][0]
    assert f["id"] == f"base_grids.{TARGET_PK}" and f["properties"] == {"code": "37081200100101", "name": "一号网格"}
    assert f["geometry"] is None
    data = json.loads(
        content(
            get(
                reader,
                SERVICE="WFS",
                VERSION="2.0.0",
                REQUEST="GetFeature",
                TYPENAMES="base_grids",
                OUTPUTFORMAT="application/json",
                COUNT="1",
            )
        )
    )
    assert data["features"][0]["geometry"]["type"] == "MultiPolygon"


def test_hits(grids, reader):
    root = xml(
        get(reader, SERVICE="WFS", VERSION="2.0.0", REQUEST="GetFeature", TYPENAMES="base_grids", RESULTTYPE="hits")
    )
    assert root.get("numberMatched") == "3" and root.get("numberReturned") == "0"
    root = xml(
        get(reader, SERVICE="WFS", VERSION="1.1.0", REQUEST="GetFeature", TYPENAME="base_grids", RESULTTYPE="hits")
    )
    assert root.get("numberOfFeatures") == "3"


def _count(user, version="2.0.0", **params):
    if version == "1.0.0":  # no resultType=hits in WFS 1.0
        root = xml(get(user, SERVICE="WFS", VERSION=version, REQUEST="GetFeature", TYPENAME="base_grids", **params))
        assert root.tag == f"{{{WFS}}}FeatureCollection", ET.tostring(root)
        return len(root.findall(f"{{{GML}}}featureMember"))
    root = xml(
        get(
            user,
            SERVICE="WFS",
            VERSION=version,
            REQUEST="GetFeature",
            TYPENAMES="base_grids",
            RESULTTYPE="hits",
            **params,
        )
    )
    assert root.get("numberMatched") or root.get("numberOfFeatures"), ET.tostring(root)
    return int(root.get("numberMatched") or root.get("numberOfFeatures"))


def test_bbox_axis_order_by_crs_form(grids, reader):
    lon0, lat0 = X0 + 0.021, Y0 + 0.021  # inside base_grids.6 only
    assert _count(reader, BBOX=f"{lon0},{lat0},{lon0 + 0.001},{lat0 + 0.001}") == 1
    assert _count(reader, BBOX=f"{lon0},{lat0},{lon0 + 0.001},{lat0 + 0.001},EPSG:4490") == 1
    assert _count(reader, BBOX=f"{lat0},{lon0},{lat0 + 0.001},{lon0 + 0.001},urn:ogc:def:crs:EPSG::4490") == 1
    assert _count(reader, BBOX=f"{lat0},{lon0},{lat0 + 0.001},{lon0 + 0.001},EPSG:4490") == 0
    r = get(
        reader, SERVICE="WFS", VERSION="2.0.0", REQUEST="GetFeature", TYPENAMES="base_grids", BBOX="0,0,1,1,EPSG:9999"
    )
    assert r.status_code == 400
    assert (
        exception_code(r)[0] == "InvalidParameterValue"
        and xml(r).find(f".//{{{OWS11}}}Exception").get("locator") == "bbox"
    )


FES = "http://www.opengis.net/fes/2.0"
OGC = "http://www.opengis.net/ogc"


def test_filters_fes20_filter11_filter10(grids, reader):
    f20 = (
        f'<fes:Filter xmlns:fes="{FES}"><fes:And><fes:PropertyIsLike wildCard="*" singleChar="." escapeChar="!">'
        "<fes:ValueReference>name</fes:ValueReference><fes:Literal>*号网格</fes:Literal></fes:PropertyIsLike>"
        "<fes:PropertyIsGreaterThan><fes:ValueReference>population</fes:ValueReference>"
        "<fes:Literal>50</fes:Literal></fes:PropertyIsGreaterThan></fes:And></fes:Filter>"
    )
    assert _count(reader, FILTER=f20) == 1
    f11 = (
        f'<ogc:Filter xmlns:ogc="{OGC}" xmlns:gml="{GML}"><ogc:Intersects><ogc:PropertyName>geometry</ogc:PropertyName>'
        f'<gml:Point srsName="urn:ogc:def:crs:EPSG::4490"><gml:pos>{Y0 + 0.035} {X0 + 0.025}</gml:pos></gml:Point>'
        "</ogc:Intersects></ogc:Filter>"
    )
    assert _count(reader, "1.1.0", FILTER=f11) == 1
    f10 = (
        f'<Filter xmlns="{OGC}" xmlns:gml="{GML}"><BBOX><PropertyName>geometry</PropertyName>'
        f'<gml:Box srsName="EPSG:4490"><gml:coordinates>{X0},{Y0} {X0 + 0.1},{Y0 + 0.025}</gml:coordinates></gml:Box>'
        "</BBOX></Filter>"
    )
    assert _count(reader, "1.0.0", FILTER=f10) == 2
    fid = f'<Filter xmlns="{OGC}"><FeatureId fid="base_grids.{TARGET_PK}"/><FeatureId fid="components.1"/></Filter>'
    assert _count(reader, "1.1.0", FILTER=fid) == 1
    eq = (
        f'<Filter xmlns="{OGC}"><PropertyIsEqualTo><PropertyName>gridcity:code</PropertyName>'
        "<Literal>37081200100102</Literal></PropertyIsEqualTo></Filter>"
    )
    assert _count(reader, FILTER=eq) == 1


@pytest.mark.parametrize(
    "name",
    [
        "owner__name",
        "organisation__uscc",
        "../x",
        "a/b",
        "level__name",
        "geom",
        "id",
        "code[1]",
        "@code",
        "organisation__name",
    ],
)
def test_property_names_outside_the_catalogue_are_refused(grids, reader, name):
    f = (
        f'<Filter xmlns="{OGC}"><PropertyIsEqualTo><PropertyName>{name}</PropertyName>'
        "<Literal>x</Literal></PropertyIsEqualTo></Filter>"
    )
    r = get(reader, SERVICE="WFS", VERSION="1.1.0", REQUEST="GetFeature", TYPENAME="base_grids", FILTER=f)
    assert r.status_code == 400 and exception_code(r)[0] == "InvalidParameterValue"
    r = get(reader, SERVICE="WFS", VERSION="2.0.0", REQUEST="GetFeature", TYPENAMES="base_grids", PROPERTYNAME=name)
    assert r.status_code == 400


def test_unknown_type_and_bad_filter_xml(grids, reader):
    r = get(reader, SERVICE="WFS", VERSION="2.0.0", REQUEST="GetFeature", TYPENAMES="secret_grids")
    assert r.status_code == 400 and "secret_grids" in exception_code(r)[1]
    r = get(reader, SERVICE="WFS", VERSION="1.0.0", REQUEST="GetFeature", TYPENAME="base_grids", FILTER="<Filter")
    assert r.status_code == 400 and xml(r).tag == "{http://www.opengis.net/ogc}ServiceExceptionReport"


def test_exception_reports_validate(grids, reader):
    r = get(reader, SERVICE="WFS", VERSION="2.0.0", REQUEST="GetFeature", TYPENAMES="nope")
    validate(r, OWS11_XSD)
    r = get(reader, SERVICE="WFS", VERSION="1.1.0", REQUEST="GetFeature", TYPENAME="nope")
    validate(r, OWS10_XSD)


# ---------------------------------------------------------------- Transaction
def _traffic(name):
    path = TRAFFIC / name
    if not path.exists():
        pytest.fail(f"QGIS traffic fixtures not found at {TRAFFIC}: set GRIDCITY_REFERENCE to the reference folder")
    return path.read_bytes()


def test_real_qgis_322_update_is_accepted_exactly_as_sent(grids, editor):
    r = post(editor, _traffic("update-multipolygon-qgis322.xml"))
    assert r.status_code == 200, content(r)
    root = xml(r)
    assert root.tag == f"{{{WFS}}}TransactionResponse" and root.get("version") == "1.1.0"
    assert root.find(f"{{{WFS}}}TransactionSummary/{{{WFS}}}totalUpdated").text == "1"
    validate(r, WFS11_XSD)
    grid = Grid.objects.get(pk=TARGET_PK)
    assert grid.version == 2
    assert grid.geom.extent == pytest.approx((116.8205, 35.5405, 116.8295, 35.5495))


def test_real_qgis_322_bowtie_is_refused_and_nothing_changes(grids, editor):
    before = snapshot()
    r = post(editor, _traffic("update-polygon-bowtie-qgis322.xml"))
    assert r.status_code == 200
    assert xml(r).tag == f"{{{OWS}}}ExceptionReport"
    code, text = exception_code(r)
    assert code == "InvalidParameterValue" and "Self-intersection" in text
    validate(r, OWS10_XSD)
    assert snapshot() == before


def _insert_11(code, name, geom_gml, parent="370812001001"):
    return (
        f'<Transaction xmlns="{WFS}" version="1.1.0" service="WFS" xmlns:gml="{GML}" '
        f'xmlns:gridcity="https://gridcity.example/ns/gridcity"><Insert><gridcity:base_grids>'
        f"<gridcity:code>{code}</gridcity:code><gridcity:name>{name}</gridcity:name>"
        f"<gridcity:parent_code>{parent}</gridcity:parent_code><gridcity:area_m2>1</gridcity:area_m2>"
        f"<gridcity:geometry>{geom_gml}</gridcity:geometry></gridcity:base_grids></Insert></Transaction>"
    )


def _poly311(x0, y0, x1, y1, srs="EPSG:4490", latlon=False, close=True):
    pts = [(X0 + x0, Y0 + y0), (X0 + x1, Y0 + y0), (X0 + x1, Y0 + y1), (X0 + x0, Y0 + y1)]
    if close:
        pts.append(pts[0])
    coords = " ".join(f"{b} {a}" if latlon else f"{a} {b}" for a, b in pts)
    return (
        f'<gml:Polygon srsName="{srs}"><gml:exterior><gml:LinearRing><gml:posList>{coords}</gml:posList>'
        "</gml:LinearRing></gml:exterior></gml:Polygon>"
    )


def test_insert_update_delete_in_one_transaction_11(grids, editor):
    other = grids[1].pk
    body = (
        f'<wfs:Transaction xmlns:wfs="{WFS}" version="1.1.0" service="WFS" xmlns:gml="{GML}" xmlns:ogc="{OGC}" '
        f'xmlns:gridcity="https://gridcity.example/ns/gridcity">'
        f"<wfs:Insert><gridcity:base_grids><gridcity:code>37081200100104</gridcity:code>"
        f"<gridcity:name>四号网格</gridcity:name><gridcity:parent_code>370812001001</gridcity:parent_code>"
        f"<gridcity:geometry>{_poly311(0.03, 0.03, 0.04, 0.04, 'urn:ogc:def:crs:EPSG::4490', latlon=True)}"
        f"</gridcity:geometry></gridcity:base_grids></wfs:Insert>"
        f'<wfs:Update typeName="gridcity:base_grids"><wfs:Property><wfs:Name>name</wfs:Name>'
        f'<wfs:Value>改名网格</wfs:Value></wfs:Property><ogc:Filter><ogc:FeatureId fid="base_grids.{TARGET_PK}"/>'
        f"</ogc:Filter></wfs:Update>"
        f'<wfs:Delete typeName="base_grids"><ogc:Filter><ogc:FeatureId fid="base_grids.{other}"/></ogc:Filter>'
        f"</wfs:Delete></wfs:Transaction>"
    )
    r = post(editor, body)
    assert r.status_code == 200, content(r)
    validate(r, WFS11_XSD)
    root = xml(r)
    summary = {e.tag.split("}")[1]: e.text for e in root.find(f"{{{WFS}}}TransactionSummary")}
    assert summary == {"totalInserted": "1", "totalUpdated": "1", "totalDeleted": "1"}
    fid = root.find(f".//{{{OGC}}}FeatureId").get("fid")
    new = Grid.objects.get(code="37081200100104")
    assert fid == f"base_grids.{new.pk}"
    assert new.geom.extent == pytest.approx((X0 + 0.03, Y0 + 0.03, X0 + 0.04, Y0 + 0.04))
    assert Grid.objects.get(pk=TARGET_PK).name == "改名网格"
    assert not Grid.objects.filter(pk=other).exists()


def test_transaction_20_and_10_responses(grids, editor):
    uri = "http://www.opengis.net/def/crs/EPSG/0/4490"
    poly = _poly311(0.03, 0.03, 0.04, 0.04, uri, True).replace("<gml:Polygon", '<gml:Polygon gml:id="p1"')
    body20 = (
        f'<wfs:Transaction xmlns:wfs="{WFS20}" version="2.0.0" service="WFS" xmlns:fes="{FES}" '
        f'xmlns:gml="{GML32}" xmlns:gridcity="https://gridcity.example/ns/gridcity">'
        f'<wfs:Insert><gridcity:base_grids gml:id="new1"><gridcity:code>37081200100104</gridcity:code>'
        f"<gridcity:name>四号</gridcity:name><gridcity:parent_code>370812001001</gridcity:parent_code>"
        f'<gridcity:geometry><gml:MultiSurface gml:id="g1" srsName="http://www.opengis.net/def/crs/EPSG/0/4490">'
        f"<gml:surfaceMember>{poly}"
        f"</gml:surfaceMember></gml:MultiSurface></gridcity:geometry></gridcity:base_grids></wfs:Insert>"
        f'<wfs:Update typeName="gridcity:base_grids"><wfs:Property><wfs:ValueReference>population</wfs:ValueReference>'
        f'<wfs:Value>7</wfs:Value></wfs:Property><fes:Filter><fes:ResourceId rid="base_grids.{TARGET_PK}"/>'
        f"</fes:Filter></wfs:Update></wfs:Transaction>"
    )
    r = post(editor, body20)
    assert r.status_code == 200, content(r)
    validate(r, WFS20_XSD)
    root = xml(r)
    assert root.tag == f"{{{WFS20}}}TransactionResponse"
    assert root.find(f".//{{{FES}}}ResourceId").get("rid").startswith("base_grids.")
    assert Grid.objects.get(code="37081200100104").geom.extent == pytest.approx(
        (X0 + 0.03, Y0 + 0.03, X0 + 0.04, Y0 + 0.04)
    )
    assert Grid.objects.get(pk=TARGET_PK).population == 7
    body10 = (
        f'<wfs:Transaction xmlns:wfs="{WFS}" version="1.0.0" service="WFS" xmlns:gml="{GML}" xmlns:ogc="{OGC}" '
        f'xmlns:gridcity="https://gridcity.example/ns/gridcity"><wfs:Insert><gridcity:base_grids>'
        f"<gridcity:code>37081200100105</gridcity:code><gridcity:name>五号</gridcity:name>"
        f"<gridcity:parent_code>370812001001</gridcity:parent_code><gridcity:geometry>"
        f'<gml:Polygon srsName="EPSG:4490"><gml:outerBoundaryIs><gml:LinearRing><gml:coordinates>'
        f"{X0},{Y0} {X0 + 0.01},{Y0} {X0 + 0.01},{Y0 + 0.01} {X0},{Y0 + 0.01} {X0},{Y0}"
        f"</gml:coordinates></gml:LinearRing></gml:outerBoundaryIs></gml:Polygon></gridcity:geometry>"
        f"</gridcity:base_grids></wfs:Insert></wfs:Transaction>"
    )
    r = post(editor, body10)
    root = xml(r)
    assert root.tag == f"{{{WFS}}}WFS_TransactionResponse", content(r)
    assert root.find(f".//{{{WFS}}}SUCCESS") is not None
    assert root.find(f".//{{{OGC}}}FeatureId").get("fid") == f"base_grids.{Grid.objects.get(code='37081200100105').pk}"


def _refused(user, body, status=200):
    """WFS 1.x Transaction refusals come back as an ExceptionReport with HTTP 200 (QGIS reads it
    only then); 403 for users who may not edit."""
    before = snapshot()
    r = post(user, body)
    assert r.status_code == status, content(r)
    code, text = exception_code(r)
    assert snapshot() == before
    return code, text


def test_overlap_is_refused_with_a_readable_message_and_nothing_written(grids, editor):
    # a valid insert first, then an overlapping one: all or nothing
    body = _insert_11("37081200100104", "四号", _poly311(0.03, 0.03, 0.04, 0.04)).replace(
        "</Transaction>",
        _insert_11("37081200100105", "五号", _poly311(0.025, 0.025, 0.035, 0.035))
        .split("<Insert>", 1)[1]
        .replace("</Transaction>", "")
        .join(["<Insert>", ""])
        + "</Transaction>",
    )
    code, text = _refused(editor, body)
    assert re.search(r"grid 370812001001\d\d overlaps grid 370812001001\d\d \([\d.]+ m2 shared, near POINT\(", text), (
        text
    )


def test_outside_parent_unclosed_ring_and_wrong_srs_are_refused(grids, editor):
    _, text = _refused(editor, _insert_11("37081200100104", "四号", _poly311(0.045, 0.045, 0.06, 0.06)))
    assert "outside its parent" in text
    _, text = _refused(editor, _insert_11("37081200100104", "四号", _poly311(0.03, 0.03, 0.04, 0.04, close=False)))
    assert "GML" in text or "closed" in text
    code, text = _refused(editor, _insert_11("37081200100104", "四号", _poly311(0.03, 0.03, 0.04, 0.04, "EPSG:2000")))
    assert code == "InvalidParameterValue" and "srsName" in text
    _, text = _refused(
        editor,
        _insert_11(
            "37081200100104",
            "四号",
            "<gml:Polygon><gml:exterior><gml:LinearRing>"
            "<gml:posList>1 2 3</gml:posList></gml:LinearRing>"
            "</gml:exterior></gml:Polygon>",
        ),
    )


def test_updates_to_read_only_types_and_properties_are_refused(grids, editor):
    body = (
        f'<Transaction xmlns="{WFS}" version="1.1.0" service="WFS"><Update typeName="components"><Property>'
        f'<Name>name</Name><Value>x</Value></Property><Filter xmlns="{OGC}"><FeatureId fid="components.1"/>'
        f"</Filter></Update></Transaction>"
    )
    code, text = _refused(editor, body)
    assert code == "OperationNotSupported" and "read-only" in text
    body = (
        f'<Transaction xmlns="{WFS}" version="1.1.0" service="WFS"><Update typeName="base_grids"><Property>'
        f'<Name>area_m2</Name><Value>1</Value></Property><Filter xmlns="{OGC}"><FeatureId fid="base_grids.{TARGET_PK}"/>'
        f"</Filter></Update></Transaction>"
    )
    _, text = _refused(editor, body)
    assert "read-only" in text


@pytest.mark.parametrize("name", ["owner__name", "organisation__uscc", "../x", "a/b", "level_id", "geom"])
def test_transaction_property_paths_are_refused(grids, editor, name):
    body = (
        f'<Transaction xmlns="{WFS}" version="1.1.0" service="WFS"><Update typeName="base_grids"><Property>'
        f'<Name>{name}</Name><Value>1</Value></Property><Filter xmlns="{OGC}"><FeatureId fid="base_grids.{TARGET_PK}"/>'
        f"</Filter></Update></Transaction>"
    )
    _refused(editor, body)


def test_readers_may_not_send_transactions(grids, reader):
    code, text = _refused(reader, _traffic("update-multipolygon-qgis322.xml"), status=403)
    assert "may not edit" in text


BAD_BODIES = {
    "not xml": b"this is not xml",
    "dtd": b'<?xml version="1.0"?><!DOCTYPE Transaction [<!ELEMENT Transaction ANY>]><Transaction/>',
    "external entity": (
        b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<Transaction xmlns="http://www.opengis.net/wfs">&x;</Transaction>'
    ),
    "billion laughs": (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'.encode()
            for i in range(1, 10)
        )
        + b']><Transaction xmlns="http://www.opengis.net/wfs">&lol9;</Transaction>'
    ),
    "deep nesting": b'<Transaction xmlns="http://www.opengis.net/wfs" version="1.1.0">'
    + b"<a>" * 100_000
    + b"</a>" * 100_000
    + b"</Transaction>",
    "huge": b'<Transaction xmlns="http://www.opengis.net/wfs" version="1.1.0">'
    + b" " * (21 * 1024 * 1024)
    + b"</Transaction>",
}


@pytest.mark.parametrize("kind", list(BAD_BODIES))
def test_hostile_bodies_are_refused_quickly(grids, editor, kind):
    before = snapshot()
    r = post(editor, BAD_BODIES[kind])  # how quickly: bench/, not here
    assert r.status_code in (400, 413)
    assert b"ExceptionReport" in content(r)
    assert b"Traceback" not in content(r)
    assert snapshot() == before


def _overlapping_update_20(pk):
    """A WFS 2.0.0 Update moving grid 37081200100102 onto 37081200100101."""
    poly = _poly311(0.025, 0.02, 0.04, 0.03).replace("<gml:Polygon", '<gml:Polygon gml:id="p"')
    return (
        f'<wfs:Transaction xmlns:wfs="{WFS20}" version="2.0.0" service="WFS" xmlns:fes="{FES}" '
        f'xmlns:gml="{GML32}"><wfs:Update typeName="base_grids"><wfs:Property>'
        f"<wfs:ValueReference>geometry</wfs:ValueReference><wfs:Value>{poly}"
        f'</wfs:Value></wfs:Property><fes:Filter><fes:ResourceId rid="base_grids.{pk}"/></fes:Filter>'
        f"</wfs:Update></wfs:Transaction>"
    )


def test_transaction_20_refusal_is_http_400_with_ows11_report(grids, editor):
    before = snapshot()
    body = _overlapping_update_20(grids[1].pk)
    r = post(editor, body)
    assert r.status_code == 400
    assert xml(r).tag == f"{{{OWS11}}}ExceptionReport"
    assert "overlaps grid 37081200100101" in exception_code(r)[1]
    validate(r, OWS11_XSD)
    assert snapshot() == before


@pytest.mark.parametrize(
    "path,params",
    [
        ("/wfs", {"SERVICE": "WFS", "REQUEST": "GetCapabilities"}),
        ("/wfs", {"SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "DescribeFeatureType", "TYPENAMES": "base_grids"}),
        ("/wfs", {"SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature", "TYPENAMES": "base_grids"}),
        ("/wfs", {"SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature", "TYPENAMES": "nope"}),
        ("/ows", {"SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature", "TYPENAMES": "base_grids"}),
        ("/wms", {"SERVICE": "WMS", "REQUEST": "GetCapabilities"}),
        ("/ows", {"SERVICE": "WMS", "REQUEST": "GetCapabilities"}),
    ],
)
def test_answers_that_can_change_are_not_kept_by_client_caches(grids, reader, path, params):
    """QGIS caches GET answers: without these headers a reload after an edit showed the old geometry."""
    r = Client().get(path, params, HTTP_AUTHORIZATION=basic(reader.username))
    assert r["Cache-Control"] == "no-store", (path, params, r.status_code)
    assert "Authorization" in r["Vary"]
    anonymous = Client().get(path, params)
    assert anonymous.status_code == 401 and anonymous["Cache-Control"] == "no-store"


@pytest.mark.django_db(transaction=True)
def test_refusals_at_commit_name_the_grids_and_store_nothing():
    """Outside any outer transaction (a real request) the deferred topology checks run at the WFS-T's own
    COMMIT (wfs_adapters.finish): the refusals read as before and nothing is stored."""
    grids = make_grids()
    editor = make_user("wfs_editor_commit", roles.GIS_EDITOR, password=PASSWORD)
    _, text = _refused(editor, _insert_11("37081200100104", "四号", _poly311(0.045, 0.045, 0.06, 0.06)))
    assert "outside its parent" in text
    before = snapshot()
    body = _overlapping_update_20(grids[1].pk)
    r = post(editor, body)
    assert r.status_code == 400 and xml(r).tag == f"{{{OWS11}}}ExceptionReport"
    assert re.search(r"grid 37081200100102 overlaps grid 37081200100101 \([\d.]+ m2 shared", exception_code(r)[1])
    assert snapshot() == before
