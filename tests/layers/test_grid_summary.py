"""GET /api/grids/{code}/summary/: the parent by code and name, live components by class and state."""

import pytest
from rest_framework.test import APIClient

from components import roles
from components.models import ComponentClass, ComponentState
from components.services import retire_component
from layers.grids.services import create_grid
from tests.factories import ComponentFactory, OrganisationFactory, make_user
from tests.layers.test_grid_topology import box

pytestmark = pytest.mark.django_db


def _client(role, organisation=None, name=None):
    c = APIClient()
    c.force_authenticate(make_user(name or f"gs_{role}", role, organisation=organisation))
    return c


@pytest.fixture
def street():
    create_grid(code="370812", name="兖州区", level=1, geom=box(0, 0, 0.1, 0.1))
    create_grid(code="370812001", name="鼓楼街道", level=2, parent_code="370812", geom=box(0, 0, 0.05, 0.1))
    create_grid(code="370812002", name="龙桥街道", level=2, parent_code="370812", geom=box(0.05, 0, 0.1, 0.1))
    org = OrganisationFactory(name="水务")
    lamp, cover = ComponentClass.objects.get(code="0118"), ComponentClass.objects.get(code="0101")
    damaged = ComponentState.objects.get(code="damaged")
    for _ in range(3):
        ComponentFactory(component_class=lamp, grid_code="370812001")
    ComponentFactory(component_class=cover, grid_code="370812001", state=damaged, owner=org, maintainer=org)
    ComponentFactory(component_class=cover, grid_code="370812002")
    gone = ComponentFactory(component_class=lamp, grid_code="370812001")
    retire_component(gone, reason="拆除")
    return org


def test_parent_and_counts_by_class_and_state(street):
    body = _client(roles.DISPATCHER).get("/api/grids/370812001/summary/").json()
    assert body["name"] == "鼓楼街道" and body["parent"] == {"code": "370812", "name": "兖州区"}
    comps = body["components"]
    assert comps["total"] == 4  # the retired lamp and the other street's cover are not counted
    assert [(k["class_code"], k["class_name"], k["count"]) for k in comps["by_class"]] == [
        ("0118", "路灯", 3),
        ("0101", "上水井盖", 1),
    ]
    assert {s["state"]: (s["state_name"], s["count"]) for s in comps["by_state"]} == {
        "intact": ("完好", 3),
        "damaged": ("破损", 1),
    }


def test_a_parent_counts_its_childrens_components(street):
    body = _client(roles.DISPATCHER).get("/api/grids/370812/summary/").json()
    assert body["parent"] is None and body["components"]["total"] == 5


def test_a_unit_counts_only_its_own(street):
    body = _client(roles.MAINTENANCE_UNIT, organisation=street, name="gs_unit").get("/api/grids/370812001/summary/")
    assert body.json()["components"]["total"] == 1


def test_unknown_grid_is_404_json(street):
    c = _client(roles.DISPATCHER)
    for code in ("999999", "abc", "1" * 30):
        r = c.get(f"/api/grids/{code}/summary/")
        assert r.status_code == 404 and "message" in r.json()
