"""What a hostile or careless OGC client may ask for: credentials before the body, body size per
operation, queries and filter operands per request, PropertyIsLike patterns, the database time of
one request. Every refusal is the protocol's own exception report, naming the locator."""

from xml.etree import ElementTree as ET

import pytest
from django.db import connection
from django.test import Client, RequestFactory

from components import roles
from layers.ogc import auth as ogc_auth
from layers.ogc import deadline as ogc_deadline
from layers.ogc import requests as ogc_requests
from layers.ogc import views as ogc_views
from layers.ogc.exceptions import OWSException
from layers.ogc.wms import views as wms_views
from tests.factories import make_user

from .test_wfs_support import PASSWORD, TARGET_PK, basic, make_grids

pytestmark = pytest.mark.django_db
WFS20 = "http://www.opengis.net/wfs/2.0"
FES = "http://www.opengis.net/fes/2.0"
OGC = "http://www.opengis.net/ogc"
OWS11 = "http://www.opengis.net/ows/1.1"


@pytest.fixture(autouse=True)
def _fresh_credentials():
    # the credential cache maps a user name and password to a pk: each test has its own users
    ogc_auth.clear_cache()
    roles.forget_roles()


@pytest.fixture
def grids(db):
    return make_grids()


@pytest.fixture
def reader(db):
    return make_user("limits_reader", roles.DISPATCHER, password=PASSWORD)


@pytest.fixture
def editor(db):
    return make_user("limits_editor", roles.GIS_EDITOR, password=PASSWORD)


def report(response) -> tuple[str, str, str]:
    """(code, locator, text) of an OWS ExceptionReport or a ServiceExceptionReport."""
    body = response.content if not response.streaming else b"".join(response.streaming_content)
    root = ET.fromstring(body)
    assert root.tag.endswith("ExceptionReport"), body[:300]
    exc = next(e for e in root.iter() if e.tag.endswith("}Exception") or e.tag.endswith("}ServiceException"))
    return exc.get("exceptionCode") or exc.get("code") or "", exc.get("locator") or "", "".join(exc.itertext())


def post(user, body: bytes | str, path="/wfs"):
    if isinstance(body, str):
        body = body.encode()
    auth = basic(user.username) if user else ""
    return Client().post(path, body, content_type="text/xml", HTTP_AUTHORIZATION=auth)


class _Unreadable:
    """A request body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


def _untouched_post(path, content_type, auth="", size=20 * 1024 * 1024):
    request = RequestFactory().generic(
        "POST", path, b"", HTTP_AUTHORIZATION=auth, CONTENT_TYPE=content_type, CONTENT_LENGTH=str(size)
    )
    request._stream = _Unreadable()
    return request


# ---------------------------------------------------------------- credentials before the body
@pytest.mark.parametrize(
    "view,path,content_type",
    [
        (ogc_views.wfs, "/wfs", "text/xml"),
        (ogc_views.ows, "/ows", "text/xml"),
        (ogc_views.ows, "/ows", "application/x-www-form-urlencoded"),
        (wms_views.wms, "/wms", "application/x-www-form-urlencoded"),
    ],
)
@pytest.mark.parametrize("auth", ["", basic("nobody", "wrong"), "Bearer abc"])
def test_anonymous_or_wrong_clients_are_refused_before_the_body_is_read(grids, reader, view, path, content_type, auth):
    r = view(_untouched_post(path, content_type, auth))
    assert r.status_code == 401
    assert r["WWW-Authenticate"].startswith("Basic")
    report(r)


def test_a_known_client_gets_its_body_read(grids, reader):
    body = (
        f'<wfs:GetFeature xmlns:wfs="{WFS20}" service="WFS" version="2.0.0" resultType="hits">'
        '<wfs:Query typeNames="base_grids"/></wfs:GetFeature>'
    )
    r = post(reader, body)
    assert r.status_code == 200 and b"numberMatched" in r.content


# ---------------------------------------------------------------- body size per operation
def _getfeature(padding: int = 0, queries: int = 1) -> bytes:
    return (
        f'<?xml version="1.0"?><wfs:GetFeature xmlns:wfs="{WFS20}" service="WFS" version="2.0.0" '
        f'resultType="hits">' + '<wfs:Query typeNames="base_grids"/>' * queries + " " * padding + "</wfs:GetFeature>"
    ).encode()


def test_a_getfeature_over_its_small_limit_is_refused_unparsed(grids, reader, monkeypatch):
    monkeypatch.setattr(ogc_requests, "parse", lambda *a, **k: pytest.fail("the body was parsed"))
    r = post(reader, _getfeature(padding=300 * 1024))
    assert r.status_code == 413
    code, locator, text = report(r)
    assert locator == "request" and "GetFeature" in text and str(256 * 1024) in text


def test_a_declared_length_over_every_limit_is_refused_before_reading(grids, reader):
    r = ogc_views.wfs(_untouched_post("/wfs", "text/xml", basic(reader.username), size=6 * 1024 * 1024))
    assert r.status_code == 413
    assert report(r)[1] == "request"


def test_a_transaction_may_be_larger_than_a_query_but_not_unbounded(grids, editor, settings):
    settings.GRIDCITY_OGC_MAX_TRANSACTION_BYTES = 512 * 1024
    body = (
        f'<wfs:Transaction xmlns:wfs="{WFS20}" version="2.0.0" service="WFS">'
        + " " * (300 * 1024)
        + "</wfs:Transaction>"
    )
    r = post(editor, body)
    assert r.status_code != 413
    r = post(editor, body.replace(" " * 100, " " * (300 * 1024), 1))
    assert r.status_code == 413 and "Transaction" in report(r)[2]


def test_a_transaction_root_after_a_comment_is_told(grids):
    from layers.ogc.body import root_name

    assert root_name(b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- QGIS -->\n<wfs:Transaction ') == "Transaction"
    assert root_name(b"<!DOCTYPE x><Transaction>") == ""  # small limit, and xmlsafe refuses the DTD


def test_a_large_form_post_is_refused_before_it_is_read(grids, reader):
    auth = basic(reader.username)
    for view, path in ((ogc_views.wfs, "/wfs"), (ogc_views.ows, "/ows"), (wms_views.wms, "/wms")):
        r = view(_untouched_post(path, "application/x-www-form-urlencoded", auth, size=300 * 1024))
        assert r.status_code == 413, path
        report(r)


# ---------------------------------------------------------------- queries and filter operands
def test_too_many_queries_in_one_getfeature(grids, reader):
    r = post(reader, _getfeature(queries=11))
    assert r.status_code == 400 and report(r)[1] == "Query"
    assert post(reader, _getfeature(queries=10)).status_code == 200
    r = Client().get(
        "/wfs",
        {"SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature", "TYPENAMES": ",".join(["base_grids"] * 11)},
        HTTP_AUTHORIZATION=basic(reader.username),
    )
    assert r.status_code == 400 and report(r)[1] == "typeNames"


def _filter_request(reader, inner: str, version="2.0.0"):
    f = f'<fes:Filter xmlns:fes="{FES}">{inner}</fes:Filter>'
    return Client().get(
        "/wfs",
        {
            "SERVICE": "WFS",
            "VERSION": version,
            "REQUEST": "GetFeature",
            "TYPENAMES": "base_grids",
            "RESULTTYPE": "hits",
            "FILTER": f,
        },
        HTTP_AUTHORIZATION=basic(reader.username),
    )


def _eq(i):
    return (
        f"<fes:PropertyIsEqualTo><fes:ValueReference>population</fes:ValueReference>"
        f"<fes:Literal>{i}</fes:Literal></fes:PropertyIsEqualTo>"
    )


def test_a_flat_or_of_many_comparisons_is_refused_before_it_is_built(grids, reader):
    r = _filter_request(reader, "<fes:Or>" + "".join(_eq(i) for i in range(300)) + "</fes:Or>")
    assert r.status_code == 400
    code, locator, text = report(r)
    assert locator == "Filter" and "filter operators" in text
    assert _filter_request(reader, "<fes:Or>" + "".join(_eq(i) for i in range(100)) + "</fes:Or>").status_code == 200


def test_a_getfeature_over_many_queries_with_filters_is_refused_in_xml(grids, reader):
    filt = f'<fes:Filter xmlns:fes="{FES}"><fes:Or>' + "".join(_eq(i) for i in range(201)) + "</fes:Or></fes:Filter>"
    body = (
        f'<wfs:GetFeature xmlns:wfs="{WFS20}" service="WFS" version="2.0.0">'
        f'<wfs:Query typeNames="base_grids">{filt}</wfs:Query></wfs:GetFeature>'
    )
    r = post(reader, body)
    assert r.status_code == 400 and report(r)[1] == "Filter"


def test_too_many_feature_ids(grids, reader):
    ids = "".join(f'<fes:ResourceId rid="base_grids.{i}"/>' for i in range(1001))
    r = _filter_request(reader, ids)
    assert r.status_code == 400 and report(r)[1] == "ResourceId"
    r = Client().get(
        "/wfs",
        {
            "SERVICE": "WFS",
            "VERSION": "2.0.0",
            "REQUEST": "GetFeature",
            "RESOURCEID": ",".join(f"base_grids.{i}" for i in range(1001)),
        },
        HTTP_AUTHORIZATION=basic(reader.username),
    )
    assert r.status_code == 400 and report(r)[1] == "resourceId"


def test_too_many_property_names(grids, reader):
    r = Client().get(
        "/wfs",
        {
            "SERVICE": "WFS",
            "VERSION": "2.0.0",
            "REQUEST": "GetFeature",
            "TYPENAMES": "base_grids",
            "PROPERTYNAME": ",".join(["name"] * 101),
        },
        HTTP_AUTHORIZATION=basic(reader.username),
    )
    assert r.status_code == 400 and report(r)[1] == "propertyName"


def _like(pattern):
    return (
        '<fes:PropertyIsLike wildCard="*" singleChar="." escapeChar="!"><fes:ValueReference>name'
        f"</fes:ValueReference><fes:Literal>{pattern}</fes:Literal></fes:PropertyIsLike>"
    )


@pytest.mark.parametrize(
    "pattern,words", [("号" * 201, "longer than 200"), ("*a" * 11, "11 wildcards"), ("." * 11, "11 wildcards")]
)
def test_property_is_like_patterns_are_bounded(grids, reader, pattern, words):
    r = _filter_request(reader, _like(pattern))
    assert r.status_code == 400
    code, locator, text = report(r)
    assert locator == "PropertyIsLike" and words in text


def test_a_pattern_within_the_bounds_still_matches(grids, reader):
    r = _filter_request(reader, _like("**号*网格"))
    assert r.status_code == 200 and b'numberMatched="3"' in r.content


# ---------------------------------------------------------------- feature ids are ASCII digits
@pytest.mark.parametrize("fid", ["base_grids.²", "base_grids.٣", "base_grids.6²"])
def test_non_ascii_digits_in_feature_ids_match_nothing(grids, reader, fid):
    r = Client().get(
        "/wfs",
        {"SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature", "RESOURCEID": fid, "RESULTTYPE": "hits"},
        HTTP_AUTHORIZATION=basic(reader.username),
    )
    assert r.status_code == 200 and b'numberMatched="0"' in r.content
    r = _filter_request(reader, f'<fes:ResourceId rid="{fid}"/>')
    assert r.status_code == 200 and b'numberMatched="0"' in r.content
    r = _filter_request(reader, f'<fes:ResourceId rid="base_grids.{TARGET_PK}"/>')
    assert b'numberMatched="1"' in r.content


def test_an_srs_code_in_other_digits_is_refused(grids, reader):
    r = Client().get(
        "/wfs",
        {
            "SERVICE": "WFS",
            "VERSION": "2.0.0",
            "REQUEST": "GetFeature",
            "TYPENAMES": "base_grids",
            "SRSNAME": "EPSG:٤٣٢٦",
        },
        HTTP_AUTHORIZATION=basic(reader.username),
    )
    assert r.status_code == 400 and report(r)[1] == "srsName"


# ---------------------------------------------------------------- database time per request
def test_statement_timeout_is_well_below_the_worker_timeout(settings):
    import re
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    worker = int(re.search(r"gunicorn .*?--timeout (\d+)", makefile, re.S).group(1))
    assert settings.GRIDCITY_STATEMENT_TIMEOUT_MS <= worker * 1000 / 4
    assert settings.GRIDCITY_STATEMENT_TIMEOUT_MS <= settings.GRIDCITY_OGC_REQUEST_DB_MS <= worker * 1000 / 2


def _statement_timeout():
    with connection.cursor() as cur:
        cur.execute("SHOW statement_timeout")
        return cur.fetchone()[0]


def test_each_query_runs_with_the_time_left_and_the_setting_is_restored(db):
    before = _statement_timeout()
    clock = iter([0.0, 0.4]).__next__
    budget = ogc_deadline.DbBudget(total_ms=1000, clock=clock)
    with budget.queries(), budget.timed():
        assert _statement_timeout() == "1s"
    with budget.queries():
        assert _statement_timeout() == "600ms"
    assert _statement_timeout() == before


def test_a_query_over_the_time_left_is_cancelled_by_the_database(db):
    budget = ogc_deadline.DbBudget(total_ms=50)
    with pytest.raises(OWSException) as refused:
        with budget.queries(), connection.cursor() as cur:
            cur.execute("SELECT pg_sleep(5)")
    assert refused.value.status == 503 and refused.value.retry_after
    with connection.cursor() as cur:  # the connection is still usable
        cur.execute("SELECT 1")


def test_streamed_rows_count_only_the_database_waits(db):
    ticks = iter(range(100))
    budget = ogc_deadline.DbBudget(total_ms=2500, clock=lambda: float(next(ticks)))
    rows = budget.rows(iter([1, 2, 3, 4]))
    assert next(rows) == 1 and next(rows) == 2  # 1 s per fetch on this clock
    with pytest.raises(OWSException):
        next(rows)


def test_a_getfeature_over_its_database_time_is_refused_before_anything_is_sent(grids, reader, settings):
    settings.GRIDCITY_OGC_REQUEST_DB_MS = 0
    r = post(reader, _getfeature(queries=3))
    assert r.status_code == 503 and r["Retry-After"]
    code, locator, text = report(r)
    assert code == "OperationProcessingFailed" and "database time" in text


# ---------------------------------------------------------------- token sizes (parse cost linear)
def _transaction(inner: str) -> bytes:
    return f'<wfs:Transaction xmlns:wfs="{WFS20}" version="2.0.0" service="WFS">{inner}</wfs:Transaction>'.encode()


HUGE = 2 * 1024 * 1024
HUGE_TOKENS = {
    "text node": _transaction("x" * HUGE),
    "attribute value": _transaction(f'<wfs:Delete typeName="{"a" * HUGE}"/>'),
    "element name": _transaction(f"<{'a' * HUGE}/>"),
    "comment": _transaction("<!--" + "<a>" * (HUGE // 3) + "-->"),
    "cdata": _transaction("<wfs:Native><![CDATA[" + "<" * HUGE + "]]></wfs:Native>"),
}


@pytest.mark.parametrize("kind", list(HUGE_TOKENS))
def test_a_body_with_a_huge_token_is_refused_unparsed(grids, editor, settings, monkeypatch, kind):
    from layers.ogc import xmlsafe

    monkeypatch.setattr(xmlsafe, "iterparse", lambda *a, **k: pytest.fail("the body was parsed"))
    r = post(editor, HUGE_TOKENS[kind])
    assert r.status_code == 400
    code, locator, text = report(r)
    assert locator == "request" and "longer than" in text


@pytest.mark.parametrize(
    "xml,words",
    [
        (_transaction(f'<wfs:Delete typeName="{"a" * 70_000}"/>'), "attribute 'typeName' longer than"),
        (_transaction(f"<{'a' * 300}/>"), "element name longer than"),
        (_transaction(f'<wfs:Delete {"a" * 300}="1"/>'), "attribute name longer than"),
    ],
)
def test_long_names_and_attribute_values_are_refused(grids, editor, xml, words):
    r = post(editor, xml)
    assert r.status_code == 400 and words in report(r)[2]


def test_a_long_geometry_within_the_token_limit_still_parses():
    from layers.ogc import xmlsafe

    coords = " ".join(f"{i % 90}.123456 {i % 180}.654321" for i in range(30_000))  # ~700 KB posList
    root = xmlsafe.parse(f"<posList>{coords}</posList>".encode())
    assert len(root.text) == len(coords)


# ---------------------------------------------------------------- per-client budget (real Redis)
@pytest.fixture
def budget_of(settings):
    from gis_core import budget

    settings.GRIDCITY_OGC_CONCURRENT_PER_CLIENT = 2
    taken = []

    def hold(user, n):
        taken.extend(budget.acquire(budget.client_key(None, user)) for _ in range(n))

    yield hold
    for slot in taken:
        slot.release()


def test_a_client_over_its_budget_gets_429_with_retry_after(grids, reader, editor, budget_of):
    from gis_core import budget

    budget_of(reader, 2)
    r = post(reader, _getfeature())
    assert r.status_code == 429 and int(r["Retry-After"]) > 0
    code, locator, text = report(r)
    assert locator == "request" and "at once" in text
    # other clients, and cheap operations of the same client, are not held back
    assert post(editor, _getfeature()).status_code == 200
    caps = Client().get(
        "/wfs", {"SERVICE": "WFS", "REQUEST": "GetCapabilities"}, HTTP_AUTHORIZATION=basic(reader.username)
    )
    assert caps.status_code == 200
    assert budget.running(budget.client_key(None, reader)) == 2


def test_a_streamed_answer_gives_its_slot_back_when_sent(grids, reader, budget_of):
    from gis_core import budget

    client = budget.client_key(None, reader)
    budget_of(reader, 1)
    r = Client().get(
        "/wfs",
        {"SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature", "TYPENAMES": "base_grids"},
        HTTP_AUTHORIZATION=basic(reader.username),
    )
    assert r.streaming and budget.running(client) == 2
    assert b"".join(r.streaming_content).count(b"<wfs:member>") == 3
    assert budget.running(client) == 1
    r = post(reader, _getfeature(queries=11))  # a refused request gives its slot back too
    assert r.status_code == 400 and budget.running(client) == 1


def test_a_wms_client_over_its_budget_gets_a_service_exception_with_retry_after(grids, reader, budget_of):
    budget_of(reader, 2)
    r = Client().get(
        "/wms",
        {
            "SERVICE": "WMS",
            "VERSION": "1.3.0",
            "REQUEST": "GetMap",
            "LAYERS": "base_grids",
            "STYLES": "",
            "CRS": "CRS:84",
            "BBOX": "116.8,35.5,116.9,35.6",
            "WIDTH": "64",
            "HEIGHT": "64",
            "FORMAT": "image/png",
        },
        HTTP_AUTHORIZATION=basic(reader.username),
    )
    assert r.status_code == 429 and r["Retry-After"]
    assert report(r)[1] == "REQUEST"


@pytest.mark.parametrize("bbox", ["nan,0,1,1", "0,0,inf,1", "0,-inf,1,1,EPSG:4490"])
def test_non_finite_bbox_numbers_are_refused(grids, reader, bbox):
    r = Client().get(
        "/wfs",
        {"SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature", "TYPENAMES": "base_grids", "BBOX": bbox},
        HTTP_AUTHORIZATION=basic(reader.username),
    )
    assert r.status_code == 400 and report(r)[1] == "bbox"


def test_non_finite_gml_coordinates_are_refused(grids, reader):
    f = (
        f'<fes:Filter xmlns:fes="{FES}" xmlns:gml="http://www.opengis.net/gml/3.2"><fes:Intersects>'
        '<fes:ValueReference>geometry</fes:ValueReference><gml:Point srsName="EPSG:4490"><gml:pos>nan 35.5</gml:pos>'
        "</gml:Point></fes:Intersects></fes:Filter>"
    )
    r = Client().get(
        "/wfs",
        {"SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature", "TYPENAMES": "base_grids", "FILTER": f},
        HTTP_AUTHORIZATION=basic(reader.username),
    )
    assert r.status_code == 400 and report(r)[1] == "Intersects"
