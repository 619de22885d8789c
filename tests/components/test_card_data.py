"""The component card's data in GET /api/components/{code}/: organisation names and phones (as the
visibility rule allows), class attributes with Chinese labels, the grid by code and name."""

import pytest
from rest_framework.test import APIClient

from components import roles
from layers.grids.services import create_grid
from tests.factories import ComponentFactory, OrganisationFactory, make_user
from tests.layers.test_grid_topology import box

pytestmark = pytest.mark.django_db


def _client(role, organisation=None, name=None):
    c = APIClient()
    c.force_authenticate(make_user(name or f"card_{role}", role, organisation=organisation))
    return c


@pytest.fixture
def lamp():
    create_grid(code="370812", name="兖州区", level=1, geom=box(0, 0, 0.1, 0.1))
    create_grid(code="370812001", name="鼓楼街道", level=2, parent_code="370812", geom=box(0, 0, 0.1, 0.1))
    owner = OrganisationFactory(name="兖州区路灯管理所", phone="0537-3410001")
    maintainer = OrganisationFactory(name="鲁兖照明", phone="0537-3410002")
    return ComponentFactory(
        owner=owner,
        maintainer=maintainer,
        grid_code="370812001",
        attributes={"pole_height_m": 8.0, "power_w": 150, "lamp_type": "LED"},
    )


def test_owner_and_maintainer_with_names_and_phones(lamp):
    p = _client(roles.DISPATCHER).get(f"/api/components/{lamp.code}/").json()["properties"]
    assert p["owner"] == {"uscc": lamp.owner.uscc, "name": "兖州区路灯管理所", "phone": "0537-3410001"}
    assert p["maintainer"]["name"] == "鲁兖照明" and p["maintainer"]["phone"] == "0537-3410002"


def test_a_unit_sees_its_own_phone_only(lamp):
    unit = _client(roles.MAINTENANCE_UNIT, organisation=lamp.maintainer, name="card_unit")
    p = unit.get(f"/api/components/{lamp.code}/").json()["properties"]
    assert p["maintainer"]["phone"] == "0537-3410002"
    assert p["owner"]["name"] == "兖州区路灯管理所" and p["owner"]["phone"] is None


def test_class_attributes_with_chinese_labels_in_schema_order(lamp):
    p = _client(roles.DISPATCHER).get(f"/api/components/{lamp.code}/").json()["properties"]
    rows = p["attribute_rows"]
    assert [r["label"] for r in rows] == ["功率(W)", "光源", "杆高(m)"]
    assert {r["key"]: r["value"] for r in rows} == {"power_w": 150, "lamp_type": "LED", "pole_height_m": 8.0}


def test_the_grid_by_code_and_name(lamp):
    p = _client(roles.DISPATCHER).get(f"/api/components/{lamp.code}/").json()["properties"]
    assert p["grid"] == {"code": "370812001", "name": "鼓楼街道", "level": 2, "level_name": p["grid"]["level_name"]}
    assert p["grid"]["level_name"]


def test_lists_stay_lean(lamp):
    f = _client(roles.DISPATCHER).get("/api/components/").json()["features"][0]
    assert "attribute_rows" not in f["properties"] and "grid" not in f["properties"]
