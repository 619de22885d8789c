"""One label per grid: the grid tiles carry one label point per grid, in the one tile holding it,
and the style writes names only from those points (not along polygons at every tile edge)."""

import gzip

import mapbox_vector_tile
import mercantile
import pytest
from django.test import Client

from components import roles
from layers import catalogue
from layers.grids.services import create_grid
from tests.factories import make_user
from tests.layers.test_grid_topology import X0, Y0, box
from tests.tiles.conftest import _empty_tile_cache  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_empty_tile_cache")]


def _features(client, layer, z, x, y):
    r = client.get(f"/tiles/{layer}/{z}/{x}/{y}.mvt")
    assert r.status_code in (200, 204), r.content[:300]
    if r.status_code == 204 or not r.content:
        return []
    body = gzip.decompress(r.content) if r.get("Content-Encoding") == "gzip" else r.content
    return mapbox_vector_tile.decode(body).get(layer, {}).get("features", [])


@pytest.fixture
def grids():
    create_grid(code="370812", name="兖州区", level=1, geom=box(0, 0, 0.1, 0.1))
    # An L-shaped street grid across many tiles: its centroid lies outside it.
    from django.contrib.gis.geos import Polygon

    ell = Polygon(
        (
            (X0, Y0),
            (X0 + 0.05, Y0),
            (X0 + 0.05, Y0 + 0.01),
            (X0 + 0.01, Y0 + 0.01),
            (X0 + 0.01, Y0 + 0.1),
            (X0, Y0 + 0.1),
            (X0, Y0),
        ),
        srid=4490,
    )
    create_grid(code="370812001", name="鼓楼街道", level=2, parent_code="370812", geom=ell)
    create_grid(code="370812002", name="龙桥街道", level=2, parent_code="370812", geom=box(0.05, 0, 0.1, 0.1))
    c = Client()
    c.force_login(make_user("labels", roles.DISPATCHER))
    return c


@pytest.mark.parametrize("layer, z", [("district_grids", 11), ("street_grids", 13), ("street_grids", 15)])
def test_each_grid_name_is_one_label_point_across_the_tiles_covering_it(grids, layer, z):
    tiles = list(mercantile.tiles(X0 - 0.001, Y0 - 0.001, X0 + 0.101, Y0 + 0.101, [z]))
    assert len(tiles) >= 4
    labels, areas = {}, set()
    for t in tiles:
        for f in _features(grids, layer, z, t.x, t.y):
            if f["geometry"]["type"] == "Point":
                assert f["properties"]["label"] is True
                labels.setdefault(f["properties"]["name"], []).append((t.x, t.y))
            else:
                assert "label" not in f["properties"]
                areas.add(f["properties"]["name"])
    assert set(labels) == areas
    assert all(len(where) == 1 for where in labels.values()), labels


def test_the_label_point_lies_inside_an_l_shaped_grid(grids):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_Contains(geom_3857, label_3857), ST_Contains(geom_3857, ST_Centroid(geom_3857)) "
            "FROM layers_grid WHERE code = '370812001'"
        )
        inside, centroid_inside = cursor.fetchone()
    assert inside and not centroid_inside


def test_styles_write_names_only_from_label_points():
    for level_slug in ("district", "street", "community", "base", "micro"):
        layer = catalogue.get(f"{level_slug}_grids")
        assert layer.tiles.label_points
        for sl in layer.tiles.style:
            if sl["type"] == "symbol":
                assert sl["filter"] == ["==", ["geometry-type"], "Point"]
            else:
                assert sl["filter"] == ["!=", ["geometry-type"], "Point"]
