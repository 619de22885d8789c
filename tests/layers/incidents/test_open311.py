"""Open311 GeoReport v2 at /open311/v2/, driven by a small client written from the specification:
plain HTTP through Django's test Client, form-encoded POSTs, answers parsed with json and
ElementTree (not with our serializers), and compared with the spec's own example answers
(open311_examples/, see its README) for keys, element names and kinds of value."""

import datetime as dt
import json
import re
import threading
import xml.etree.ElementTree as ET
from io import StringIO
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connections
from django.test import Client
from django.utils import timezone

from components import roles
from layers.incidents import services
from layers.incidents.models import Case, Open311Client, Open311Request
from layers.incidents.open311 import reading
from layers.incidents.open311.models import hash_key
from tests.factories import make_user

from .conftest import LAT, LON

pytestmark = pytest.mark.django_db
EXAMPLES = Path(__file__).parent / "open311_examples"
BASE = "/open311/v2"
# Elements the spec marks as lists (⇊): their children are the items.
SPEC_LISTS = {"services", "service_requests", "attributes", "values", "endpoints", "formats", "errors"}


# ---------------------------------------------------------------- a client written from the spec


def xml_to_value(element: ET.Element):
    """The Spark convention: a list element becomes a list of its items, an element with children an
    object, a leaf its text ('' when empty)."""
    children = list(element)
    if element.tag in SPEC_LISTS:
        return [xml_to_value(c) for c in children]
    if children:
        return {c.tag: xml_to_value(c) for c in children}
    return (element.text or "").strip()


class GeoReport:
    def __init__(self, api_key: str | None = None):
        self.http = Client()
        self.api_key = api_key

    def get(self, resource: str, fmt: str = "json", **params):
        r = self.http.get(f"{BASE}/{resource}.{fmt}", params)
        return r, self.parse(r, fmt)

    def post(self, fmt: str = "json", fields=(), headers=None, with_key: bool = True):
        pairs = ([("api_key", self.api_key)] if with_key and self.api_key else []) + list(fields)
        r = self.http.post(
            f"{BASE}/requests.{fmt}",
            urlencode(pairs),
            content_type="application/x-www-form-urlencoded; charset=utf-8",
            headers=headers or {},
        )
        return r, self.parse(r, fmt)

    @staticmethod
    def parse(r, fmt: str):
        if fmt == "json":
            assert r["Content-Type"] == "application/json; charset=utf-8"
            return json.loads(r.content.decode("utf-8"))
        assert r["Content-Type"] == "text/xml; charset=utf-8"
        assert r.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
        root = ET.fromstring(r.content)
        return root.tag, xml_to_value(root)


def example(name: str):
    text = (EXAMPLES / name).read_text()
    if name.endswith(".json"):
        # The spec's JSON writes codes as numbers with leading zeros (001), which JSON forbids.
        return json.loads(re.sub(r":\s*(0\d+)\s*([,}\n])", r':"\1"\2', text))
    root = ET.fromstring(text.encode())
    return root.tag, xml_to_value(root)


def kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "list"
    return "scalar"  # text, numbers and null are all a leaf's value


def assert_like(ours, theirs, extensions=frozenset(), path="$"):
    """Same keys (plus our named extensions) and the same kind of value at every key, item by item
    against the example's first item."""
    if kind(theirs) == "scalar":
        assert kind(ours) == "scalar", f"{path}: {ours!r} is not a plain value"
        return
    assert kind(ours) == kind(theirs), f"{path}: {kind(ours)} where the spec has {kind(theirs)}"
    if isinstance(theirs, dict):
        assert set(ours) - set(extensions) == set(theirs), f"{path}: keys {sorted(ours)} vs spec {sorted(theirs)}"
        for key, value in theirs.items():
            assert_like(ours[key], value, extensions, f"{path}.{key}")
    elif isinstance(theirs, list) and theirs and ours:
        for item in ours:
            assert_like(item, theirs[0], extensions, f"{path}[]")


def assert_like_example(client_answer, name: str, extensions=frozenset()):
    theirs = example(name)
    if name.endswith(".xml"):
        assert client_answer[0] == theirs[0], f"root element {client_answer[0]} vs spec {theirs[0]}"
        assert_like(client_answer[1], theirs[1], extensions)
    else:
        assert_like(client_answer, theirs, extensions)


# ---------------------------------------------------------------- fixtures


def make_client(name="兖州掌上城管", rate_limit=0) -> tuple[Open311Client, str]:
    out = StringIO()
    call_command("open311_client", name, "--rate-limit", str(rate_limit), stdout=out)
    return Open311Client.objects.get(name=name), out.getvalue().strip()


@pytest.fixture
def app(db):
    client, key = make_client()
    return GeoReport(key)


def report_fields(**extra):
    fields = {
        "service_code": "0118",
        "lat": f"{LAT}",
        "long": f"{LON}",
        "description": "路灯不亮, 晚上很黑",
        "email": "citizen@example.cn",
        "first_name": "小明",
        "last_name": "王",
        "phone": "+86 138-0000-0000",
        "media_url": "https://img.example.cn/p/1.jpg",
        "address_string": "兖州区建设路与九州大道交叉口",
    }
    fields.update(extra)
    return [(k, v) for k, v in fields.items() if v is not None]


# ---------------------------------------------------------------- discovery and services


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_discovery_has_the_spec_fields(fmt):
    r, answer = GeoReport().get("discovery", fmt)
    assert r.status_code == 200
    assert_like_example(answer, f"discovery.{fmt}")
    body = answer if fmt == "json" else answer[1]
    endpoint = body["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2")
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_services_are_the_leaf_classes_grouped_by_major_class(fmt):
    r, answer = GeoReport().get("services", fmt)
    assert r.status_code == 200
    assert_like_example(answer, f"services.{fmt}")
    items = answer if fmt == "json" else answer[1]
    by_code = {s["service_code"]: s for s in items}
    assert by_code["0118"]["service_name"] == "路灯不亮或损坏"
    assert by_code["0118"]["group"] == "公用设施类部件问题"
    assert by_code["06010"]["group"] == "市容环境类"
    assert by_code["0118"]["metadata"] in (True, "true") and by_code["0118"]["type"] == "realtime"
    assert "01" not in by_code and "06" not in by_code  # majors are groups, not services


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_service_definition_of_a_component_class_asks_for_the_component_id(fmt):
    r, answer = GeoReport().get("services/0118", fmt)
    assert r.status_code == 200
    assert_like_example(answer, f"service_definition.{fmt}")
    body = answer if fmt == "json" else answer[1]
    assert body["service_code"] == "0118"
    attributes = {a["code"]: a for a in body["attributes"]}
    assert attributes["component_id"]["datatype"] == "string"
    assert attributes["severity"]["datatype"] == "singlevaluelist"
    assert {v["key"] for v in attributes["severity"]["values"]} == {"normal", "major", "urgent"}
    assert sorted(int(a["order"]) for a in body["attributes"]) == [1, 2]


def test_an_event_class_has_severity_only():
    _, body = GeoReport().get("services/06010")
    assert [a["code"] for a in body["attributes"]] == ["severity"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_service_code_is_not_found_in_the_spec_error_form(fmt):
    r, answer = GeoReport().get("services/9999", fmt)
    assert r.status_code == 404
    assert_like_example(answer, f"errors.{fmt}")
    items = answer if fmt == "json" else answer[1]
    assert "9999" in items[0]["description"] and str(items[0]["code"]) == "404"


def test_another_jurisdiction_is_not_found_and_ours_is_accepted(settings):
    r, body = GeoReport().get("services", jurisdiction_id="sfgov.org")
    assert r.status_code == 404 and "sfgov.org" in body[0]["description"]
    r, _ = GeoReport().get("services", jurisdiction_id=settings.GRIDCITY_ADMIN_CODE)
    assert r.status_code == 200


# ---------------------------------------------------------------- POST requests


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_makes_a_case_from_wgs84_with_the_client_as_reporter(app, streetlight, fmt):
    r, answer = app.post(fmt, report_fields(**{"attribute[severity]": "major"}))
    assert r.status_code == 201, answer
    assert_like_example(answer, f"post_response.{fmt}")
    number = (answer if fmt == "json" else answer[1])[0]["service_request_id"]
    case = Case.objects.get(number=number)
    client = Open311Client.objects.get(name="兖州掌上城管")
    assert case.source == "open311" and case.reporter == client.user and case.severity == "major"
    assert case.component == streetlight  # snapped: the citizen stood at the streetlight
    assert case.geom.srid == 4490 and abs(case.geom.x - LON) < 1e-6 and abs(case.geom.y - LAT) < 1e-6
    assert case.events.get().action == "report"
    extra = case.open311
    assert extra.media_url == "https://img.example.cn/p/1.jpg" and extra.email == "citizen@example.cn"
    assert extra.address_string.startswith("兖州区") and extra.attributes == {"severity": "major"}


def test_the_named_component_id_is_used(app, streetlight):
    r, body = app.post(fields=report_fields(**{"attribute[component_id]": streetlight.code}))
    assert r.status_code == 201, body
    assert Case.objects.get(number=body[0]["service_request_id"]).component == streetlight


def test_a_repeated_post_with_the_same_token_makes_one_case(app, streetlight):
    r1, b1 = app.post(fields=report_fields(token="6f1c2b7e-phone-retry"))
    r2, b2 = app.post(fields=report_fields(token="6f1c2b7e-phone-retry", description="again"))
    assert (r1.status_code, r2.status_code) == (201, 200)
    assert b1[0]["service_request_id"] == b2[0]["service_request_id"]
    assert Case.objects.count() == 1 and Open311Request.objects.count() == 1
    # The header works the same way.
    r3, b3 = app.post(fields=report_fields(), headers={"X-Open311-Token": "hdr-1"})
    r4, b4 = app.post(fields=report_fields(), headers={"X-Open311-Token": "hdr-1"})
    assert (r3.status_code, r4.status_code) == (201, 200) and b3 == b4
    assert Case.objects.count() == 2


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_get_token_gives_the_service_request_id(app, streetlight, fmt):
    _, body = app.post(fields=report_fields(token="tok-42"))
    r, answer = GeoReport().get("tokens/tok-42", fmt)
    assert r.status_code == 200
    assert_like_example(answer, f"token.{fmt}")
    item = (answer if fmt == "json" else answer[1])[0]
    assert item == {"service_request_id": body[0]["service_request_id"], "token": "tok-42"}
    assert GeoReport().get("tokens/nope", fmt)[0].status_code == 404


def test_a_token_of_another_client_is_refused(app, streetlight):
    app.post(fields=report_fields(token="shared"))
    _, other_key = make_client("另一个应用")
    r, body = GeoReport(other_key).post(fields=report_fields(token="shared"))
    assert r.status_code == 400 and body[0]["description"].startswith("token:")
    assert Case.objects.count() == 1


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_missing_or_wrong_key_is_403_in_the_spec_error_form(streetlight, fmt):
    r, answer = GeoReport().post(fmt, report_fields())
    assert r.status_code == 403
    assert_like_example(answer, f"errors.{fmt}")
    r, _ = GeoReport("o311_not-a-key").post(fmt, report_fields())
    assert r.status_code == 403
    client, key = make_client("停用的应用")
    client.active = False
    client.save()
    assert GeoReport(key).post(fmt, report_fields())[0].status_code == 403
    assert Case.objects.count() == 0


@pytest.mark.parametrize(
    "fields, status, names",
    [
        ({"service_code": "9999"}, 400, "'9999'"),
        ({"service_code": "01"}, 400, "'01'"),  # a major class is not a service
        ({"service_code": None}, 400, "service_code"),
        ({"lat": "31.2304", "long": "121.4737"}, 400, "outside the district"),  # Shanghai
        ({"lat": None, "long": None}, 400, "lat/long"),
        ({"lat": None}, 400, "lat/long"),
        ({"lat": "nan"}, 400, "lat/long"),
        ({"attribute[colour]": "red"}, 400, "attribute[colour]"),
        ({"attribute[severity]": "catastrophic"}, 400, "attribute[severity]"),
        ({"attribute[component_id]": "37081200000000000"}, 400, "attribute[component_id]"),
        ({"email": "not-mail"}, 400, "email"),
        ({"media_url": "file:///etc/passwd"}, 400, "media_url"),
        ({"description": "x" * 5000}, 400, "description"),
        ({"first_name": "a\u202eb"}, 400, "first_name"),
        ({"jurisdiction_id": "sfgov.org"}, 404, "jurisdiction_id"),
    ],
)
def test_bad_requests_are_refused_and_nothing_is_written(app, streetlight, fields, status, names):
    r, body = app.post(fields=report_fields(**fields))
    assert r.status_code == status, body
    assert names in body[0]["description"]
    assert Case.objects.count() == 0 and Open311Request.objects.count() == 0


def test_an_address_alone_is_refused_since_we_do_not_geocode(app):
    r, body = app.post(fields=report_fields(lat=None, long=None))
    assert r.status_code == 400 and "not geocoded" in body[0]["description"]


def test_a_json_body_is_not_the_spec_and_is_refused(app):
    r = Client().post(
        f"{BASE}/requests.json", {"api_key": app.api_key, "service_code": "0118"}, content_type="application/json"
    )
    assert r.status_code == 403  # the key is a form field: a JSON body carries none


def test_the_rate_limit_answers_429_with_retry_after(streetlight):
    _, key = make_client("限流应用", rate_limit=1)
    app = GeoReport(key)
    assert app.post(fields=report_fields())[0].status_code == 201
    r, body = app.post(fields=report_fields())
    assert r.status_code == 429 and int(r["Retry-After"]) >= 0 and "rate limit" in body[0]["description"]


def test_the_command_prints_the_key_once_and_stores_only_its_hash():
    client, key = make_client("命令行应用")
    assert key.startswith("o311_") and client.key_hash == hash_key(key) and key not in client.key_hash
    assert not client.user.has_usable_password() and not roles.roles_of(client.user)
    out = StringIO()
    call_command("open311_client", "命令行应用", "--new-key", stdout=out)
    assert Open311Client.by_key(key) is None and Open311Client.by_key(out.getvalue().strip()) is not None


# ---------------------------------------------------------------- GET requests


@pytest.fixture
def cases(app, streetlight, dispatcher, unit):
    """Three citizen reports: one fresh, one dispatched with a deadline, one 100 days old."""
    numbers = [app.post(fields=report_fields(description=f"第{i}条"))[1][0]["service_request_id"] for i in range(3)]
    fresh, dispatched, old = (Case.objects.get(number=n) for n in numbers)
    services.dispatch(dispatcher, dispatched, note="一键派遣")
    due = timezone.now() + dt.timedelta(hours=5)
    Case.objects.filter(pk=dispatched.pk).update(due_at=due)
    Case.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=100))
    return {"fresh": fresh.number, "dispatched": dispatched.number, "old": old.number, "due": due}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_get_requests_defaults_to_the_last_90_days_newest_first(cases, fmt):
    r, answer = GeoReport().get("requests", fmt)
    assert r.status_code == 200
    assert_like_example(answer, f"requests.{fmt}", extensions={"extended_attributes"})
    items = answer if fmt == "json" else answer[1]
    assert [i["service_request_id"] for i in items] == [cases["dispatched"], cases["fresh"]]
    dispatched = items[0]
    assert dispatched["status"] == "open" and dispatched["agency_responsible"] == "兖州区路灯管理所"
    assert dispatched["extended_attributes"]["detailed_status"] == "dispatched"
    assert dispatched["extended_attributes"]["detailed_status_name"] == "立案派遣"
    expected = dt.datetime.fromisoformat(dispatched["expected_datetime"])
    assert expected.utcoffset() is not None and abs(expected - cases["due"]) < dt.timedelta(seconds=1)
    assert dt.datetime.fromisoformat(dispatched["requested_datetime"]).utcoffset() is not None
    fresh = items[1]
    assert fresh["expected_datetime"] in (None, "") and fresh["agency_responsible"] in (None, "")
    assert abs(float(fresh["lat"]) - LAT) < 1e-6 and abs(float(fresh["long"]) - LON) < 1e-6
    assert fresh["media_url"] == "https://img.example.cn/p/1.jpg"
    if fmt == "json":
        assert isinstance(fresh["lat"], float) and isinstance(fresh["long"], float)
    # Nothing about who reported it.
    assert "citizen@example.cn" not in r.content.decode() and "小明" not in r.content.decode()


def test_get_requests_filters(cases, dispatcher, grid_worker):
    geo = GeoReport()
    assert [i["service_request_id"] for i in geo.get("requests", status="open")[1]] == [
        cases["dispatched"],
        cases["fresh"],
    ]
    assert geo.get("requests", status="closed")[1] == []
    services.void(dispatcher, Case.objects.get(number=cases["fresh"]), note="重复上报")
    closed = geo.get("requests", status="closed")[1]
    assert [i["service_request_id"] for i in closed] == [cases["fresh"]]
    assert closed[0]["extended_attributes"]["detailed_status"] == "void"
    assert "重复上报" in closed[0]["status_notes"]
    assert len(geo.get("requests", status="open,closed")[1]) == 2
    assert len(geo.get("requests", service_code="0118")[1]) == 2
    assert geo.get("requests", service_code="06010")[1] == []
    start = (timezone.now() - dt.timedelta(days=120)).isoformat(timespec="seconds")
    end = (timezone.now() - dt.timedelta(days=50)).isoformat(timespec="seconds")
    assert [i["service_request_id"] for i in geo.get("requests", start_date=start, end_date=end)[1]] == [cases["old"]]
    # service_request_id overrides every other filter, the 90 days included.
    ids = f"{cases['old']},{cases['fresh']}"
    found = geo.get("requests", service_request_id=ids, status="open")[1]
    assert {i["service_request_id"] for i in found} == {cases["old"], cases["fresh"]}


def test_an_unencoded_plus_in_a_date_is_understood(cases):
    start = (timezone.localtime() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S+08:00")
    r = Client().get(f"{BASE}/requests.json?start_date={start}")  # '+' arrives as a space
    assert r.status_code == 200 and len(r.json()) == 2


@pytest.mark.parametrize(
    "params, names",
    [
        ({"service_code": "0118,9999"}, "'9999'"),
        ({"status": "pending"}, "status"),
        ({"start_date": "yesterday"}, "start_date"),
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, "90 days"),
        ({"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}, "before"),
        ({"service_request_id": "12,abc"}, "service_request_id"),
    ],
)
def test_bad_filters_are_400_naming_the_parameter(params, names):
    r, body = GeoReport().get("requests", **params)
    assert r.status_code == 400 and names in body[0]["description"], body


def test_at_most_the_limit_is_returned(cases, monkeypatch):
    monkeypatch.setattr(reading, "MAX_REQUESTS", 1)
    assert [i["service_request_id"] for i in GeoReport().get("requests")[1]] == [cases["dispatched"]]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_get_one_request(cases, fmt):
    r, answer = GeoReport().get(f"requests/{cases['old']}", fmt)
    assert r.status_code == 200
    assert_like_example(answer, f"request.{fmt}", extensions={"extended_attributes"})
    assert (answer if fmt == "json" else answer[1])[0]["service_request_id"] == cases["old"]
    assert GeoReport().get("requests/20200101000001", fmt)[0].status_code == 404
    assert GeoReport().get("requests/abc", fmt)[0].status_code == 404


def test_cases_from_other_sources_are_listed_too(grid_worker, streetlight):
    services.report_case(grid_worker, "0118", (LON, LAT), description="巡查发现")
    items = GeoReport().get("requests")[1]
    assert len(items) == 1 and items[0]["address"] in (None, "") and items[0]["media_url"] in (None, "")


# ---------------------------------------------------------------- the edges


def test_an_unknown_resource_or_format_is_a_404_error_list():
    r = Client().get(f"{BASE}/services.html")
    assert r.status_code == 404 and ET.fromstring(r.content).tag == "errors"
    r = Client().get(f"{BASE}/nothing.json")
    assert r.status_code == 404 and r.json()[0]["code"] == 404


def test_a_wrong_method_is_refused_with_allow():
    r = Client().delete(f"{BASE}/services.json")
    assert r.status_code == 405 and r["Allow"] == "GET, HEAD" and r.json()[0]["code"] == 405
    assert Client().head(f"{BASE}/services.json").status_code == 200


def test_the_xml_stays_well_formed_with_any_stored_text(app, streetlight):
    _, body = app.post(fields=report_fields(description="<b>&amp; 'quotes' \"double\"</b>"))
    Case.objects.filter(number=body[0]["service_request_id"]).update(description="bell\x07 <tag>")
    r, (_, items) = GeoReport().get(f"requests/{body[0]['service_request_id']}", "xml")
    assert r.status_code == 200 and "<tag>" in items[0]["description"]


def test_a_case_reported_by_a_user_without_a_role_is_still_refused():
    nobody = make_user("no_role_user")
    with pytest.raises(services.RoleRefused):
        services.report_case(nobody, "0118", (LON, LAT))


def test_posts_need_no_csrf_token_since_the_key_authenticates(streetlight):
    _, key = make_client("跨站应用")
    http = Client(enforce_csrf_checks=True)
    r = http.post(
        f"{BASE}/requests.json",
        urlencode(report_fields() + [("api_key", key)]),
        content_type="application/x-www-form-urlencoded",
    )
    assert r.status_code == 201, r.content


def test_admins_see_clients_but_never_a_key(db):
    client, key = make_client("后台可见应用")
    http = Client()
    http.force_login(get_user_model().objects.create_superuser("open311_admin", password="test-pass-123"))
    assert http.get("/admin/incidents/open311client/").status_code == 200
    page = http.get(f"/admin/incidents/open311client/{client.pk}/change/").content.decode()
    assert "后台可见应用" in page and key not in page and client.key_hash not in page


def _race(posts) -> list:
    """Runs the POSTs at the same moment, each on its own connection; their (status, body)."""
    answers = [None] * len(posts)
    start = threading.Barrier(len(posts))

    def run(i, app, fields):
        try:
            start.wait()
            r, body = app.post(fields=fields)
            answers[i] = (r.status_code, body)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, *p)) for i, p in enumerate(posts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


@pytest.mark.django_db(transaction=True)
def test_the_same_token_racing_on_two_connections_makes_one_case(streetlight):
    app = GeoReport(make_client("并发应用")[1])
    answers = _race([(app, report_fields(token="race-1"))] * 2)
    assert sorted(status for status, _ in answers) == [200, 201]
    assert answers[0][1][0]["service_request_id"] == answers[1][1][0]["service_request_id"]
    assert Case.objects.count() == 1 and Open311Request.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_clients_racing_for_one_token_leave_one_case(streetlight):
    a, b = GeoReport(make_client("应用甲")[1]), GeoReport(make_client("应用乙")[1])
    answers = _race([(a, report_fields(token="race-2")), (b, report_fields(token="race-2"))])
    assert sorted(status for status, _ in answers) == [201, 400]
    assert Case.objects.count() == 1 and Open311Request.objects.count() == 1


@pytest.mark.parametrize(
    "path",
    [
        "requests.json?start_date=0001-01-01T00:00:00Z",
        "requests.json?end_date=0001-01-01",
        "requests.json?start_date=9999-12-31",
        "requests.json?start_date=2026-13-45T00:00:00Z",
        "requests.json?status=open%00",
        "requests.json?service_request_id=" + ",".join(["20261203000001"] * 3000),
        "requests/2026%00.json",
        "tokens/%00.json",
        "tokens/" + "x" * 500 + ".json",
        "services/%E2%80%AE0118.json",
        "requests.json?jurisdiction_id=%00",
    ],
)
def test_hostile_queries_are_4xx_never_5xx(path):
    r = Client().get(f"{BASE}/{path}")
    assert 400 <= r.status_code < 500 or r.status_code == 200, r.content
    assert isinstance(r.json(), list)


@pytest.mark.parametrize(
    "extra",
    [
        {"lat": "1e309"},
        {"long": "-inf"},
        {"lat": "91", "long": "200"},
        {"description": "a\x00b"},
        {"attribute[": "x"},
        {"token": "\u4e2d\u6587"},
        {"token": "t" * 65},
        {"phone": "call me"},
        {"address_string": "x" * 501},
    ],
)
def test_hostile_posts_are_400_and_write_nothing(app, streetlight, extra):
    r, body = app.post(fields=report_fields(**extra))
    assert r.status_code == 400, body
    assert Case.objects.count() == 0


def test_a_single_value_attribute_given_twice_is_refused(app, streetlight):
    fields = report_fields() + [("attribute[severity][]", "major"), ("attribute[severity][]", "urgent")]
    r, body = app.post(fields=fields)
    assert r.status_code == 400 and "attribute[severity]: takes one value" in body[0]["description"]


def test_a_class_that_needs_an_asset_with_none_near_names_the_attribute(app):
    r, body = app.post(fields=report_fields(service_code="0101"))  # 上水井盖: no manhole cover here
    assert r.status_code == 400 and body[0]["description"].startswith("attribute[component_id]:")
    assert Case.objects.count() == 0


def test_a_body_with_too_many_fields_is_an_error_list(app, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 20
    r, body = app.post(fields=report_fields() + [(f"f{i}", "x") for i in range(30)])
    assert r.status_code == 400 and body[0]["code"] == 400


def test_pages_of_requests(cases):
    geo = GeoReport()
    first = geo.get("requests", page_size="1")[1]
    second = geo.get("requests", page_size="1", page="2")[1]
    assert [i["service_request_id"] for i in first + second] == [cases["dispatched"], cases["fresh"]]
    assert geo.get("requests", page_size="1", page="3")[1] == []
    for bad in ({"page_size": "0"}, {"page_size": "1001"}, {"page": "-1"}, {"page": "x"}):
        r, body = geo.get("requests", **bad)
        assert r.status_code == 400 and next(iter(bad)) in body[0]["description"]
