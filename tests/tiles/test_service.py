"""The tile service (tiles/service.py) answers exactly as the Django view does: same status, headers and
bytes over many requests; and what only the service does (its own 404/405, the store sent without
waiting, its Redis connection recovering)."""

import json
import time

import mercantile
import pytest
from django.conf import settings
from django.test import Client

from components import roles
from gis_core.auth import login_throttle
from tests.factories import make_user
from tests.layers.test_wfs_support import basic, make_grids
from tests.tiles.conftest import call_service
from tests.tiles.test_vector_tiles import LAT, LON, TILE, Z, client, lights, tile_url, viewer  # noqa: F401
from tiles import cache, service

pytestmark = pytest.mark.django_db
COMPARED = ("Content-Type", "Content-Encoding", "ETag", "Cache-Control", "Vary", "WWW-Authenticate", "Retry-After")


@pytest.fixture(autouse=True)
def _in_the_test_transaction(monkeypatch):
    monkeypatch.setattr(service, "close_old_connections", lambda: None)  # as Django's test client does


def via_service(c: Client, path: str, **extra):
    bare, _, query = path.partition("?")
    return call_service(c._base_environ(PATH_INFO=bare, QUERY_STRING=query, REQUEST_METHOD="GET", **extra))


def same(a, b, what):
    assert a.status_code == b.status_code, what
    assert a.content == b.content, what
    for name in COMPARED:
        if name == "Vary" and a.status_code not in (200, 304):
            continue  # Django's session middleware adds "Vary: Cookie" to any answer that read the session
        assert a.get(name) == b.get(name), (what, name)


def test_many_requests_answered_alike(client, lights, viewer):  # noqa: F811
    make_grids()
    t14 = mercantile.tile(LON, LAT, 14)
    t12 = mercantile.tile(LON, LAT, 12)
    paths = [
        tile_url(),
        tile_url(z=12, x=t12.x, y=t12.y),  # stored clusters
        tile_url(query="state=intact"),  # filtered
        tile_url(query=f"owner={lights[0].owner.uscc}"),
        tile_url("base_grids,components", 14, t14.x, t14.y),  # combined
        tile_url("base_grids", 8, 0, 0),  # below the layer's zooms: empty
        tile_url("components", 3, 7, 0),  # no rows
        "/tiles/nope/1/0/0.mvt",
        "/tiles/components,components/1/0/0.mvt",
        "/tiles/components/x/0/0.mvt",
        "/tiles/components/19/0/0.mvt",
        "/tiles/components/2/4/0.mvt",
        tile_url(query="colour=red"),
        tile_url(query="state=gone"),
        tile_url(query="owner="),
    ]
    anonymous, xhr = Client(), Client()
    good, wrong = basic(viewer.username), basic(viewer.username, "wrong")
    for path in paths:
        for c, extra in (
            (client, {"HTTP_ACCEPT_ENCODING": "gzip"}),
            (client, {}),
            (anonymous, {"HTTP_AUTHORIZATION": good, "HTTP_ACCEPT_ENCODING": "gzip"}),
            (anonymous, {"HTTP_AUTHORIZATION": wrong}),
            (anonymous, {}),
            (xhr, {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}),
        ):
            # Twice each way: the first may render (a miss), the second comes from the cache.
            for _ in range(2):
                login_throttle.forget_all()  # wrong passwords, counted, would end in 429 on one side
                through_django = c.get(path, **extra)
                login_throttle.forget_all()
                same(through_django, via_service(c, path, **extra), (path, extra))
        first = client.get(path, HTTP_ACCEPT_ENCODING="gzip")
        if first.status_code == 200:
            etag = first["ETag"]
            same(
                client.get(path, HTTP_IF_NONE_MATCH=etag),
                via_service(client, path, HTTP_IF_NONE_MATCH=f'"x", {etag}'),
                path,
            )


def test_hidden_layers_left_out_or_refused_alike(lights):  # noqa: F811
    make_grids()
    c = Client()
    c.force_login(make_user("unit_only_svc", roles.MAINTENANCE_UNIT))
    t = mercantile.tile(LON, LAT, 14)
    for path in (tile_url("base_grids,tracks", 14, t.x, t.y), tile_url("tracks", 14, t.x, t.y)):
        same(c.get(path), via_service(c, path), path)
    assert via_service(c, tile_url("tracks", 14, t.x, t.y)).status_code == 403


def test_anything_else_is_a_json_404_or_405():
    c = Client()
    r = via_service(c, "/tiles/")
    assert r.status_code == 404 and r.json()["message"] and r["Content-Type"] == "application/json"
    environ = c._base_environ(PATH_INFO=tile_url(), QUERY_STRING="", REQUEST_METHOD="POST")
    r = call_service(environ)
    assert r.status_code == 405 and r["Allow"] == "GET" and r.json()["message"]


def test_allowed_hosts_and_the_nosniff_and_length_headers(client, lights):  # noqa: F811
    r = via_service(client, tile_url(), HTTP_HOST="evil.example")
    assert r.status_code == 400 and r.json()["message"] == "host not allowed"
    r = via_service(client, tile_url(), HTTP_ACCEPT_ENCODING="gzip")
    assert r["X-Content-Type-Options"] == "nosniff" and int(r["Content-Length"]) == len(r.content) > 0
    not_modified = via_service(client, tile_url(), HTTP_IF_NONE_MATCH=r["ETag"])
    assert not_modified.status_code == 304 and not not_modified.content and "Content-Length" not in not_modified


def _stored(path_tile, scope="all", tries=50):
    """The cached entry, waiting briefly: the store is sent without waiting for Redis's answer."""
    from layers import catalogue

    for _ in range(tries):
        entry, _slot = cache.lookup(catalogue.get("components"), *path_tile, f"mvt|{scope}")
        if entry is not None:
            return entry
        time.sleep(0.01)
    return None


def test_a_miss_is_stored_without_waiting_and_a_stale_store_is_refused(client, lights):  # noqa: F811
    from layers import catalogue

    layer = catalogue.get("components")
    r = via_service(client, tile_url(), HTTP_ACCEPT_ENCODING="gzip")
    entry = _stored((Z, TILE.x, TILE.y))
    assert entry is not None and f'"{entry.etag}"' == r["ETag"] and entry.gz == r.content
    # A store computed before an invalidation and arriving after it is refused by the stamp check.
    _, slot = cache.lookup(layer, Z, TILE.x, TILE.y, "mvt|all")
    cache.invalidate_tiles(layer, [(Z, TILE.x, TILE.y)])
    cache.store_nowait(slot, cache.Entry.of(b"stale"))
    cache.lookup(layer, Z, TILE.x, TILE.y, "mvt|other")  # after the store on the same thread
    assert cache.lookup(layer, Z, TILE.x, TILE.y, "mvt|all")[0] is None


def test_the_lookup_survives_a_redis_that_forgot_its_scripts_and_reconnects(client, lights):  # noqa: F811
    first = via_service(client, tile_url(), HTTP_ACCEPT_ENCODING="gzip")
    cache.client().script_flush()
    again = via_service(client, tile_url(), HTTP_ACCEPT_ENCODING="gzip")
    assert again.status_code == 200 and again["ETag"] == first["ETag"]
    # Its connections closed by Redis (a restart, an idle timeout): the next request reconnects.
    reader = cache._local.reader
    reader.send_command("CLIENT", "ID")
    cache.client().client_kill_filter(_id=reader.read_response())
    r = via_service(client, tile_url(), HTTP_ACCEPT_ENCODING="gzip")
    assert r.status_code == 200 and r["ETag"] == first["ETag"]


def test_the_deployed_wsgi_application_serves_tiles_through_the_service(client, lights):  # noqa: F811
    from gis_core.tiles_wsgi import application as standalone
    from gis_core.wsgi import application as deployed

    assert standalone is service.application
    environ = client._base_environ(
        PATH_INFO=tile_url(), QUERY_STRING="", REQUEST_METHOD="GET", HTTP_ACCEPT_ENCODING="gzip"
    )
    got = {}
    body = b"".join(deployed(environ, lambda status, headers: got.update(status=status, headers=dict(headers))))
    alone = via_service(client, tile_url(), HTTP_ACCEPT_ENCODING="gzip")
    assert got["status"] == "200 OK" and body == alone.content and got["headers"]["ETag"] == alone["ETag"]
    assert json.loads(via_service(Client(), tile_url()).content)["field"] is None
    assert settings.SESSION_COOKIE_NAME in client.cookies
