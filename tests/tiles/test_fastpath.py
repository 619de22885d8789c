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


# ---------------------------------------------------------------- the lean cold path (issue 14)


def _cookie(client):  # noqa: F811
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


@pytest.mark.django_db(transaction=True)  # the fast path opens and closes connections as a request does
def test_a_miss_without_gzip_sends_the_raw_tile_that_gzip_clients_get_compressed(client, lights):  # noqa: F811
    import gzip

    plain = call(tile_url(), HTTP_COOKIE=_cookie(client))  # a miss: answered from the bytes just rendered
    assert plain["status"] == 200 and "Content-Encoding" not in plain["headers"] and plain["body"]
    zipped = call(tile_url(), HTTP_COOKIE=_cookie(client), HTTP_ACCEPT_ENCODING="gzip")  # a hit
    assert zipped["headers"]["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped["body"]) == plain["body"] and zipped["headers"]["ETag"] == plain["headers"]["ETag"]
    combined = tile_url("components,base_grids")
    first = call(combined, HTTP_COOKIE=_cookie(client))
    assert (
        gzip.decompress(call(combined, HTTP_COOKIE=_cookie(client), HTTP_ACCEPT_ENCODING="gzip")["body"])
        == (first["body"])
    )


@pytest.mark.django_db(transaction=True)  # the fast path opens and closes connections as a request does
def test_a_session_gone_from_redis_but_in_the_database_still_sees_tiles(client, lights):  # noqa: F811
    """The session check rides on the tile lookup; when the cached session is gone (here: Redis flushed,
    as cached_db sessions survive in the database) the user is asked for again the long way."""
    from tiles import cache

    assert call(tile_url(), HTTP_COOKIE=_cookie(client))["status"] == 200  # the per-process hint is set
    cache.client().flushdb()
    again = call(tile_url(), HTTP_COOKIE=_cookie(client))
    assert again["status"] == 200 and again["body"]


@pytest.mark.django_db(transaction=True)  # the fast path opens and closes connections as a request does
def test_a_logged_out_session_gets_401_not_403_or_404_from_its_hint(client, lights):  # noqa: F811
    """With the session check deferred to the tile lookup, refusals that depend on the user (403) or
    come after it (a raster layer's .mvt, 404) still say 401 first, as before the deferral."""
    from django.test import Client

    from components import roles
    from tests.factories import make_user

    unit = make_user("tile_unit_no_org", roles.MAINTENANCE_UNIT)  # no organisation: sees no components
    c = Client()
    c.force_login(unit)
    cookie = _cookie(c)
    assert call(tile_url(), HTTP_COOKIE=cookie)["status"] == 403  # also sets the per-process hint
    c.logout()
    assert call(tile_url(), HTTP_COOKIE=cookie)["status"] == 401
    raster = "/tiles/patrol_heatmap/10/0/0.mvt"
    assert call(raster, HTTP_COOKIE=_cookie(client))["status"] == 404
    viewer_cookie = _cookie(client)
    client.logout()
    assert call(raster, HTTP_COOKIE=viewer_cookie)["status"] == 401


@pytest.mark.django_db(transaction=True)  # the fast path opens and closes connections as a request does
def test_tile_statements_are_prepared_once_per_connection(client, lights):  # noqa: F811
    from django.db import connection

    call(tile_url(), HTTP_COOKIE=_cookie(client))
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%%ST_AsMVT%%'")
        assert cur.fetchone()[0] >= 1
