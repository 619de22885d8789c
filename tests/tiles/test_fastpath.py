"""The WSGI fast path answers tile requests exactly as the Django view does, and passes the rest on."""

import json

import pytest
from django.conf import settings
from django.test.client import RequestFactory

from gis_core.wsgi import application
from tests.tiles.test_vector_tiles import client, lights, tile_url, viewer  # noqa: F401

pytestmark = pytest.mark.django_db


def call(path, query="", **headers):
    environ = RequestFactory()._base_environ(PATH_INFO=path, QUERY_STRING=query, REQUEST_METHOD="GET", **headers)
    answer = {}

    def start_response(status, headers):
        answer["status"], answer["headers"] = int(status.split()[0]), dict(headers)

    answer["body"] = b"".join(application(environ, start_response))
    return answer


def test_same_tile_as_the_view_with_the_session_cookie(client, lights):  # noqa: F811
    through_django = client.get(tile_url(), HTTP_ACCEPT_ENCODING="gzip")
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    fast = call(tile_url(), HTTP_COOKIE=cookie, HTTP_ACCEPT_ENCODING="gzip")
    assert fast["status"] == 200 and fast["body"] == through_django.content
    assert fast["headers"]["ETag"] == through_django["ETag"]
    assert fast["headers"]["Content-Encoding"] == "gzip" and fast["headers"]["X-Content-Type-Options"] == "nosniff"
    again = call(tile_url(), HTTP_COOKIE=cookie, HTTP_IF_NONE_MATCH=through_django["ETag"])
    assert again["status"] == 304


def test_errors_in_the_same_form(lights):  # noqa: F811
    anonymous = call(tile_url())
    assert anonymous["status"] == 401 and json.loads(anonymous["body"])["message"]
    bad = call("/tiles/components/x/0/0.mvt")
    assert bad["status"] == 400 and json.loads(bad["body"])["field"] == "z"
    assert call("/tiles/components/1/0/0.mvt", HTTP_HOST="evil.example")["status"] == 400


def test_everything_else_goes_to_django(lights):  # noqa: F811
    assert call("/tiles/")["status"] == 200
    assert call("/tiles/components.json")["status"] == 200


def test_wms_is_answered_in_front_too(lights):  # noqa: F811
    anonymous = call("/wms", "SERVICE=WMS&REQUEST=GetCapabilities")
    assert anonymous["status"] == 401 and b"ServiceException" in anonymous["body"]
    bad = call("/wms", "SERVICE=WMS&REQUEST=Nope")
    assert b"ServiceException" in bad["body"]
