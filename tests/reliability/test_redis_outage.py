"""Redis going away under a running service: requests that need it answer 503 with Retry-After (never
500, never a trace), and the service recovers by itself when Redis is back, with no restart.
Both ways in: Django's request cycle (a session read from the cache) and the tile fast path (WSGI)."""

import io

import pytest
from django.test import Client

from components import roles
from tests.factories import make_user
from tiles import cache as tile_cache

from .servers import ThrowawayRedis

# Transactional: the fast path opens and closes database connections as a deployed worker does.
pytestmark = pytest.mark.django_db(transaction=True)

TILE = "/tiles/components/14/13508/6495.mvt"


@pytest.fixture
def throwaway_redis(settings):
    server = ThrowawayRedis().start()
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": server.url}}
    settings.REDIS_URL = server.url
    tile_cache._local.__dict__.clear()  # the tile cache's client is per thread: make it connect to this one
    yield server
    server.close()
    tile_cache._local.__dict__.clear()


@pytest.fixture
def client(db):
    c = Client(raise_request_exception=False)
    c.force_login(make_user("outage_viewer", roles.DISPATCHER))
    return c


def through_fast_path(path: str, cookies) -> tuple[int, dict, bytes]:
    """A GET through the deployed WSGI application (gis_core.wsgi), tile fast path included."""
    from gis_core.wsgi import application

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "HTTP_COOKIE": "; ".join(f"{k}={v.value}" for k, v in cookies.items()),
    }
    answer = {}

    def start_response(status, headers):
        answer["status"], answer["headers"] = int(status.split()[0]), dict(headers)

    body = b"".join(application(environ, start_response))
    return answer["status"], answer["headers"], body


def assert_unavailable(status, headers, body):
    assert status == 503, body
    assert int(headers["Retry-After"]) > 0
    assert b"Traceback" not in body and b"redis" not in body.lower()


def test_requests_answer_503_with_retry_after_while_redis_is_down_and_recover(throwaway_redis, client):
    assert client.get("/api/components/").status_code == 200
    assert client.get(TILE).status_code in (200, 204)
    assert through_fast_path(TILE, client.cookies)[0] in (200, 204)

    throwaway_redis.kill()
    for _ in range(3):  # every request, not only the first after the loss
        r = client.get("/api/components/")
        assert_unavailable(r.status_code, r, r.content)
        r = client.get(TILE)
        assert_unavailable(r.status_code, r, r.content)
        assert_unavailable(*through_fast_path(TILE, client.cookies))

    throwaway_redis.start()  # same port, empty: sessions come back from the database (cached_db)
    assert client.get("/api/components/").status_code == 200
    assert client.get(TILE).status_code in (200, 204)
    assert through_fast_path(TILE, client.cookies)[0] in (200, 204)
