"""The role matrix (components.roles.MATRIX), one PATCH per field per role: what the matrix allows
answers 200 and changes the field; what it refuses answers 4xx and changes nothing, not even the
history."""

import datetime as dt

import pytest
from django.apps import apps
from rest_framework.test import APIClient

from components import roles
from components.models import Component, OwnershipTransfer
from tests.factories import ComponentFactory, OrganisationFactory, make_user

pytestmark = pytest.mark.django_db

FIELDS = roles.PATCH_FIELDS + roles.OWNERSHIP_FIELDS


def _new_value(field, other_org):
    """(request value, check of the saved component)."""
    return {
        "name": ("矩阵新名称", lambda c: c.name == "矩阵新名称"),
        "geometry": (
            {"type": "Point", "coordinates": [116.91, 35.61]},
            lambda c: (round(c.geom.x, 6), round(c.geom.y, 6)) == (116.91, 35.61),
        ),
        "street_code": ("370812001", lambda c: c.street_code == "370812001"),
        "community_code": ("370812001001", lambda c: c.community_code == "370812001001"),
        "grid_code": ("370812001001001", lambda c: c.grid_code == "370812001001001"),
        "location_desc": ("府河路口", lambda c: c.location_desc == "府河路口"),
        "state": ("damaged", lambda c: c.state_id == "damaged"),
        "census_date": ("2024-01-01", lambda c: c.census_date == dt.date(2024, 1, 1)),
        "change_date": ("2030-01-01", lambda c: c.change_date == dt.date(2030, 1, 1)),
        "data_source": ("topographic", lambda c: c.data_source == "topographic"),
        "note": ("矩阵备注", lambda c: c.note == "矩阵备注"),
        "attributes": ({"power_w": 120}, lambda c: c.attributes == {"power_w": 120}),
        "department": (other_org.uscc, lambda c: c.department_id == other_org.pk),
        "owner": (other_org.uscc, lambda c: c.owner_id == other_org.pk),
        "maintainer": (other_org.uscc, lambda c: c.maintainer_id == other_org.pk),
    }[field]


def _row(component):
    return {f.attname: getattr(component, f.attname) for f in Component._meta.concrete_fields}


def test_every_patch_field_has_a_row_in_the_matrix():
    assert set(FIELDS) == {a.split(".", 1)[1] for a in roles.MATRIX if a.startswith("update.")}
    assert not any(roles.allowed(r, f"update.{f}") for r in roles.ALL for f in roles.OWNERSHIP_FIELDS)


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("role", roles.ALL)
def test_patch_field_as_role(role, field):
    own = OrganisationFactory()
    component = ComponentFactory(owner=own)
    user = make_user(f"matrix-{role}", role, organisation=own if role == roles.MAINTENANCE_UNIT else None)
    client = APIClient()
    client.force_authenticate(user)
    value, changed = _new_value(field, OrganisationFactory())
    events = apps.get_model("components", "ComponentEvent").objects
    before, event_count = _row(Component.objects.get(pk=component.pk)), events.count()

    r = client.patch(f"/api/components/{component.code}/", {field: value}, format="json")

    after = Component.objects.get(pk=component.pk)
    if roles.allowed(role, f"update.{field}"):
        assert r.status_code == 200, r.json()
        assert changed(after), field
    else:
        assert 400 <= r.status_code < 500, r.content
        body = r.json()
        if r.status_code in (400, 403) and role in roles.MATRIX["update.name"]:
            assert body["field"] == field, body  # refused per field: the answer names it
        assert _row(after) == before
        assert events.count() == event_count
        assert not OwnershipTransfer.objects.filter(component=component).exists()
