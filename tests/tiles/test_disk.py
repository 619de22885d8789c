"""The disk copy of tiles for nginx: written only for unfiltered tiles, removed by invalidation, and
the auth endpoint nginx asks before serving a file."""

import gzip

import mercantile
import pytest
from django.test import Client

from components import roles
from tests.factories import make_user
from tests.tiles.test_vector_tiles import LAT, LON, TILE, Z, client, lights, tile_url, viewer  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def disk(settings, tmp_path):
    settings.TILE_DISK_DIR = str(tmp_path)
    return tmp_path


def test_unfiltered_tiles_are_copied_to_disk_and_dropped_by_an_edit(
    client,  # noqa: F811 - fixtures imported from test_vector_tiles
    lights,  # noqa: F811
    disk,
    django_capture_on_commit_callbacks,
):
    from django.contrib.gis.geos import Point

    from components.services import update_component

    r = client.get(tile_url())
    path = disk / "all" / "components" / str(Z) / str(TILE.x) / f"{TILE.y}.mvt"
    assert (
        path.read_bytes() == r.content and gzip.decompress(path.with_name(path.name + ".gz").read_bytes()) == r.content
    )
    client.get(tile_url(query="state=intact"))
    assert [p.name for p in path.parent.iterdir()] == [path.name, path.name + ".gz"] or sorted(
        p.name for p in path.parent.iterdir()
    ) == sorted([path.name, path.name + ".gz"])
    low = mercantile.tile(LON, LAT, 12)
    client.get(tile_url(z=12, x=low.x, y=low.y))
    with django_capture_on_commit_callbacks(execute=True):
        update_component(lights[0], geom=Point(LON + 0.00005, LAT, srid=4490))
    assert not path.exists() and not path.with_name(path.name + ".gz").exists()
    assert not (disk / "all" / "components" / "12" / str(low.x) / f"{low.y}.mvt").exists()


def test_auth_endpoint_names_the_scope_folder(lights, viewer):  # noqa: F811
    c = Client()
    assert c.get("/tiles/auth/components").status_code == 401
    c.force_login(viewer)
    r = c.get("/tiles/auth/components")
    assert r.status_code == 200 and r["X-Tile-Scope"] == "all"
    assert c.get("/tiles/auth/nope").status_code == 404
    unit = make_user("disk_unit", roles.MAINTENANCE_UNIT, organisation=lights[0].owner)
    u = Client()
    u.force_login(unit)
    assert u.get("/tiles/auth/components")["X-Tile-Scope"] == f"org{lights[0].owner_id}"
    assert u.get("/tiles/auth/base_grids")["X-Tile-Scope"] == "all"
    stranger = Client()
    stranger.force_login(make_user("disk_nobody"))
    assert stranger.get("/tiles/auth/components").status_code == 403
