"""Counts per base grid as a choropleth layer (issue 13): the tiles carry each base grid's number of
live components; a unit-only account does not get the district's sums."""

import gzip

import mapbox_vector_tile
import mercantile
import pytest
from django.test import Client

from components import roles
from components.services import retire_component
from layers.grids.services import create_grid
from tests.factories import ComponentFactory, OrganisationFactory, make_user
from tests.layers.test_grid_topology import X0, Y0, box
from tests.tiles.conftest import _empty_tile_cache  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_empty_tile_cache")]
LAYER = "grid_component_counts"


def _chain():
    create_grid(code="370812", name="兖州区", level=1, geom=box(0, 0, 0.02, 0.02))
    create_grid(code="370812001", name="街道", level=2, parent_code="370812", geom=box(0, 0, 0.02, 0.02))
    create_grid(code="370812001001", name="社区", level=3, parent_code="370812001", geom=box(0, 0, 0.02, 0.02))
    for k, x in ((1, 0), (2, 0.01)):
        create_grid(
            code=f"3708120010010{k}",
            name=f"网格{k}",
            level=4,
            parent_code="370812001001",
            geom=box(x, 0, x + 0.01, 0.02),
        )


def _tile(user):
    c = Client()
    c.force_login(user)
    t = mercantile.tile(X0 + 0.01, Y0 + 0.01, 13)
    return c.get(f"/tiles/{LAYER}/{t.z}/{t.x}/{t.y}.mvt")


def test_each_base_grid_carries_its_count_of_live_components():
    _chain()
    for _ in range(3):
        ComponentFactory(grid_code="37081200100101")
    ComponentFactory(grid_code="37081200100102")
    retire_component(ComponentFactory(grid_code="37081200100102"), reason="拆除")
    answer = _tile(make_user("counts_dispatcher", roles.DISPATCHER))
    assert answer.status_code == 200, answer.content[:300]
    body = gzip.decompress(answer.content) if answer.get("Content-Encoding") == "gzip" else answer.content
    features = mapbox_vector_tile.decode(body)[LAYER]["features"]
    assert {f["properties"]["code"]: f["properties"]["components"] for f in features} == {
        "37081200100101": 3,
        "37081200100102": 1,
    }


def test_a_unit_only_account_gets_no_district_sums():
    _chain()
    unit = make_user("counts_unit", roles.MAINTENANCE_UNIT, organisation=OrganisationFactory())
    answer = _tile(unit)
    assert (
        answer.status_code != 200
        or not answer.content
        or LAYER
        not in mapbox_vector_tile.decode(
            gzip.decompress(answer.content) if answer.get("Content-Encoding") == "gzip" else answer.content
        )
    )
