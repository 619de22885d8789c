import json
import re

import pytest
from django.http import HttpResponse
from django.test import Client


@pytest.fixture(autouse=True)
def _empty_tile_cache():
    """Each test's database starts from the same rows: its tiles must not come from an earlier test."""
    from tiles import cache

    client = cache.client()
    for pattern in ("tile:*", "tilegen:*"):
        keys = list(client.scan_iter(pattern, count=1000))
        if keys:
            client.delete(*keys)
    yield


TILE_PATH = re.compile(r"^/tiles/[^/]+/[^/]+/[^/]+/[^/]+\.mvt$")


def call_service(environ: dict) -> HttpResponse:
    """A request through the tile service's WSGI application (tiles.service), as an HttpResponse with
    the test client's .json(), so a test reads it like a response from Django."""
    from tiles import service

    answer = {}

    def start_response(status, headers):
        answer["status"], answer["headers"] = int(status.split()[0]), headers

    body = b"".join(service.application(environ, start_response))
    response = HttpResponse(body, status=answer["status"])
    if not any(name == "Content-Type" for name, _ in answer["headers"]):
        del response["Content-Type"]
    for name, value in answer["headers"]:
        response[name] = value
    response.json = lambda: json.loads(body)
    return response


@pytest.fixture(params=["django", "service"])
def tile_path(request, monkeypatch):
    """Runs a test twice: its tile requests answered through Django (the view), then by the tile
    service's WSGI application (what gis_core.wsgi and gis_core.tiles_wsgi serve), the test client's
    cookies and headers included. Like Django's test client, the service's per-request
    close_old_connections is left out: the test's transaction holds the rows it reads."""
    if request.param == "service":
        from tiles import service

        monkeypatch.setattr(service, "close_old_connections", lambda: None)
        original = Client.get

        def get(self, path, data=None, follow=False, secure=False, *, headers=None, query_params=None, **extra):
            bare, _, query = path.partition("?")
            if not TILE_PATH.match(bare) or data or query_params:
                return original(self, path, data, follow, secure, headers=headers, query_params=query_params, **extra)
            meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()}
            environ = self._base_environ(PATH_INFO=bare, QUERY_STRING=query, REQUEST_METHOD="GET", **{**meta, **extra})
            return call_service(environ)

        monkeypatch.setattr(Client, "get", get)
    return request.param
