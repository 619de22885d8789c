"""Schemathesis over /api/schema/: every documented operation, with generated and boundary input,
as a dispatcher and as a maintenance unit, against the WSGI app itself. A client's mistake must be
a 4xx; any 5xx is a defect. The number of examples is bounded so `make test` stays quick."""

import base64

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from components import roles
from tests.factories import ComponentFactory, OrganisationFactory, make_user

pytestmark = pytest.mark.django_db

PASSWORD = "fuzz-pass-123"
# Writes that start background work outside the request (imports, re-assignments) are left to their
# own tests: here they would only queue jobs for a worker that is not running.
SKIPPED = r"^/api/imports/"
MAX_EXAMPLES = 4


def _load_schema():
    from gis_core.wsgi import application

    loaded = schemathesis.openapi.from_wsgi("/api/schema/", application).exclude(path_regex=SKIPPED)
    # The coverage phase sends ~120 boundary cases per operation (minutes for the whole API); generated
    # valid and invalid input, bounded below, keeps this inside `make test`. tests/tiles/test_fuzz_tiles.py
    # and the edge tests send the hostile values found so far on purpose.
    loaded.config.phases.coverage.enabled = False
    return loaded


# Loaded at collection: generating the schema reads no rows, and each operation becomes its own test.
schema = _load_schema()


@pytest.fixture(autouse=True)
def _wsgi_in_test_transaction(settings):
    """The WSGI handler closes the connection after each request (and with it the test's transaction):
    keep it open, as Django's own test client does."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    # One Basic login per request: a fast hasher, or the fuzzing would mostly measure PBKDF2.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _basic_login(role) -> dict:
    org = OrganisationFactory()
    ComponentFactory(owner=org)
    make_user(f"fuzz_{role}", role, organisation=org, password=PASSWORD)
    token = base64.b64encode(f"fuzz_{role}:{PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def dispatcher_login(db):
    return _basic_login(roles.DISPATCHER)


@pytest.fixture
def unit_login(db):
    return _basic_login(roles.MAINTENANCE_UNIT)


FUZZ = settings(
    max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)


# Values that broke the API before: empty, NUL, digits int() refuses, not-a-number, too many digits.
HOSTILE = ["", "\x00", "¹²", "nan", "9" * 30]
_swept: set = set()


def _sweep_parameters(case, headers):
    """Once per operation, each query and path parameter and each top-level JSON body field in turn set
    to each HOSTILE value (the rest as generated): the cheap, deterministic part of schemathesis'
    coverage phase."""
    key = (case.method, case.path)
    if key in _swept:
        return
    _swept.add(key)
    params = case.operation.definition.raw.get("parameters", [])
    for param in params:
        where = {"query": "query", "path": "path_parameters"}.get(param.get("in"))
        if where is None:
            continue
        values = getattr(case, where)
        original = dict(values or {})
        for hostile in HOSTILE:
            if where == "path_parameters" and hostile == "":
                continue  # an empty path segment is another URL, not a value
            setattr(case, where, {**original, param["name"]: hostile})
            case.validate_response(case.call(headers=headers), checks=[not_a_server_error])
        setattr(case, where, original)
    if isinstance(case.body, dict) and case.media_type == "application/json":
        original = dict(case.body)
        for name in original:
            for hostile in HOSTILE + [1e308, -(2**63), 2**64, [], {}, None]:
                case.body = {**original, name: hostile}
                case.validate_response(case.call(headers=headers), checks=[not_a_server_error])
        case.body = original


@schema.parametrize()
@FUZZ
def test_no_server_error_for_a_dispatcher(case, dispatcher_login):
    _sweep_parameters(case, dispatcher_login)
    case.validate_response(case.call(headers=dispatcher_login), checks=[not_a_server_error])


@schema.parametrize()
@FUZZ
def test_no_server_error_for_a_unit(case, unit_login):
    case.validate_response(case.call(headers=unit_login), checks=[not_a_server_error])


LIST_ENDPOINTS = [
    ("/api/components/", "get", "Component"),
    ("/api/components/within/", "post", "Component"),
    ("/api/organisations/{uscc}/components/", "get", "Component"),
    ("/api/grids/", "get", "Grid"),
]


def _documented(client) -> dict:
    r = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert r.status_code == 200
    import json

    return json.loads(r.content)


def _resolve(doc, schema):
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


@pytest.mark.parametrize("path,method,feature", LIST_ENDPOINTS)
def test_lists_are_documented_as_paged_feature_collections(client, path, method, feature):
    doc = _documented(client)
    responses = doc["paths"][path][method]["responses"]
    page = _resolve(doc, responses["200"]["content"]["application/json"]["schema"])
    assert set(page["required"]) >= {"type", "count", "features"} and "results" not in page["properties"]
    assert _resolve(doc, page["properties"]["type"])["enum"] == ["FeatureCollection"]
    features = page["properties"]["features"]
    assert features["type"] == "array" and features["items"]["$ref"].endswith(f"/{feature}")
    assert _resolve(doc, features["items"])["properties"]["type"]  # a Feature, not a FeatureCollection
    assert "400" in responses


@pytest.mark.parametrize(
    "path,method",
    [
        ("/api/components/{code}/", "get"),
        ("/api/components/{code}/", "patch"),
        ("/api/components/{code}/ownership/", "get"),
        ("/api/components/{code}/history/", "get"),
        ("/api/components/{code}/state/", "post"),
        ("/api/grids/{code}/", "get"),
        ("/api/grids/{code}/versions/", "get"),
        ("/api/organisations/{uscc}/components/", "get"),
    ],
)
def test_detail_answers_document_400_and_404_with_the_error_body(client, path, method):
    doc = _documented(client)
    responses = doc["paths"][path][method]["responses"]
    for status in ("400", "404"):
        body = _resolve(doc, responses[status]["content"]["application/json"]["schema"])
        assert {"message", "field"} <= set(body["properties"]), (path, status)


def test_answers_match_the_documented_list_shape(client):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(make_user("shape_reader", roles.DISPATCHER))
    ComponentFactory()
    body = api.get("/api/components/").json()
    assert body["type"] == "FeatureCollection" and {"count", "features", "next", "previous"} <= set(body)
    assert body["features"][0]["type"] == "Feature"
    grids = api.get("/api/grids/").json()
    assert grids["type"] == "FeatureCollection" and {"count", "features", "next", "previous"} <= set(grids)
    error = api.get("/api/components/", {"near": ""}).json()
    assert error["field"] == "near" and error["message"]
