"""Cluster counts stay exact through bulk imports: the counts in decoded tiles equal the components
imported, after creating, after an upsert that moves some, and after one that changes nothing."""

import gzip

import mapbox_vector_tile
import mercantile
import pytest
from django.db import connection
from django.test import Client

from components import roles
from components.cluster_cells import REBUILD
from components.importing import import_file
from components.models import Component
from tests.factories import OrganisationFactory, make_user

pytestmark = pytest.mark.django_db

# Two z12 tiles of the district, side by side; every imported point lies well inside one of them.
HOME = mercantile.tile(116.83, 35.55, 12)
AWAY = mercantile.Tile(HOME.x + 1, HOME.y, 12)


@pytest.fixture(autouse=True)
def _empty_tile_cache():
    from tiles import cache

    client = cache.client()
    for pattern in ("tile:*", "tilegen:*"):
        keys = list(client.scan_iter(pattern, count=1000))
        if keys:
            client.delete(*keys)
    yield
    for pattern in ("tile:*", "tilegen:*"):
        keys = list(client.scan_iter(pattern, count=1000))
        if keys:
            client.delete(*keys)


@pytest.fixture
def client(db):
    c = Client()
    c.force_login(make_user("cluster_viewer", roles.DISPATCHER))
    return c


def _inside(tile, i, n):
    """The i-th of n points on a grid in the middle half of the tile."""
    b = mercantile.bounds(tile)
    side = int(n**0.5) + 1
    fx, fy = (i % side + 0.5) / side, (i // side + 0.5) / side
    return (b.west + (0.25 + fx / 2) * (b.east - b.west), b.south + (0.25 + fy / 2) * (b.north - b.south))


def _csv(tmp_path, name, points, owner):
    lines = [f"3708120118{i + 1:06d},0118,{owner.uscc},POINT({x!r} {y!r})" for i, (x, y) in enumerate(points)]
    p = tmp_path / name
    p.write_text("code,class_code,owner_uscc,wkt\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return p


def _count(client, tile) -> int:
    from tiles import cache

    for pattern in ("tile:*", "tilegen:*"):  # counts read fresh from the cells, not from an earlier answer
        keys = list(cache.client().scan_iter(pattern, count=1000))
        if keys:
            cache.client().delete(*keys)
    r = client.get(f"/tiles/components/{tile.z}/{tile.x}/{tile.y}.mvt")
    assert r.status_code in (200, 204), r.content[:200]
    body = gzip.decompress(r.content) if r.get("Content-Encoding") == "gzip" else r.content
    feats = mapbox_vector_tile.decode(body).get("components", {}).get("features", []) if body else []
    assert all(f["properties"].get("cluster") for f in feats)
    return sum(f["properties"]["count"] for f in feats)


def _stored_equals_recount():
    with connection.cursor() as cur:
        cur.execute("SELECT z, cx, cy, major, n FROM tiles_componentcell WHERE n <> 0 ORDER BY 1, 2, 3, 4")
        kept = cur.fetchall()
        cur.execute(REBUILD)
        cur.execute("SELECT z, cx, cy, major, n FROM tiles_componentcell WHERE n <> 0 ORDER BY 1, 2, 3, 4")
        return kept == cur.fetchall()


def test_cluster_counts_are_exact_through_bulk_imports(tmp_path, client):
    owner = OrganisationFactory()
    n, moved = 400, 150
    home = [_inside(HOME, i, n) for i in range(n)]
    r = import_file(_csv(tmp_path, "a.csv", home, owner), srid=4490)
    assert r.ok and r.created == n, r.as_dict()
    assert _count(client, HOME) == n and _count(client, AWAY) == 0
    parent = mercantile.parent(HOME, zoom=9)
    assert _count(client, parent) == n

    # An upsert that moves some to the next tile and leaves the rest as they are.
    again = [_inside(AWAY, i, moved) if i < moved else p for i, p in enumerate(home)]
    r = import_file(_csv(tmp_path, "b.csv", again, owner), srid=4490)
    assert r.ok and (r.created, r.updated, r.unchanged) == (0, moved, n - moved), r.as_dict()
    assert _count(client, HOME) == n - moved and _count(client, AWAY) == moved
    assert _count(client, parent) == n == Component.objects.count()

    # Rerunning the same file changes no count.
    r = import_file(_csv(tmp_path, "c.csv", again, owner), srid=4490)
    assert r.ok and r.unchanged == n
    assert _count(client, HOME) == n - moved and _count(client, AWAY) == moved
    assert _stored_equals_recount()


def test_a_refused_import_changes_no_cluster_count(tmp_path, client):
    owner = OrganisationFactory()
    good = [_inside(HOME, i, 50) for i in range(50)]
    assert import_file(_csv(tmp_path, "a.csv", good, owner), srid=4490).created == 50
    text = _csv(tmp_path, "b.csv", [_inside(AWAY, i, 60) for i in range(60)], owner).read_text()
    bad = tmp_path / "bad.csv"
    bad.write_text(text.replace(",0118,", ",9999,", 1), encoding="utf-8")  # one unknown class: nothing written
    assert not import_file(bad, srid=4490).ok
    assert _count(client, HOME) == 50 and _count(client, AWAY) == 0
    assert _stored_equals_recount()
