"""The one visibility rule is written twice, as an ORM filter and as SQL for raw statements (tiles,
exports): for every role both must give exactly the same rows, and can_see() must agree with them."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from components import roles, visibility
from components.models import Component
from tests.factories import ComponentFactory, OrganisationFactory, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def city():
    ours, theirs, third = OrganisationFactory(), OrganisationFactory(), OrganisationFactory()
    for owner, maintainer, department in [
        (ours, theirs, third),
        (theirs, ours, third),
        (theirs, third, ours),
        (theirs, theirs, theirs),
        (third, third, third),
        (ours, ours, ours),
    ]:
        ComponentFactory(owner=owner, maintainer=maintainer, department=department)
    return ours


def _users(ours):
    return {
        "anonymous": AnonymousUser(),
        "no role": make_user("v_nobody"),
        "dispatcher": make_user("v_dispatcher", roles.DISPATCHER),
        "gis editor": make_user("v_editor", roles.GIS_EDITOR),
        "grid worker": make_user("v_worker", roles.GRID_WORKER),
        "administrator": make_user("v_admin", roles.ADMINISTRATOR),
        "unit": make_user("v_unit", roles.MAINTENANCE_UNIT, organisation=ours),
        "unit without organisation": make_user("v_unit_alone", roles.MAINTENANCE_UNIT),
        "unit and dispatcher": _two_roles(ours),
    }


def _two_roles(org):
    user = make_user("v_unit_dispatcher", roles.MAINTENANCE_UNIT, organisation=org)
    from django.contrib.auth.models import Group

    user.groups.add(Group.objects.get_or_create(name=roles.DISPATCHER)[0])
    return user


def _sql_rows(user) -> set:
    scope = visibility.scope_sql(user, alias="c")
    if scope is None:
        return set()
    _, condition, params = scope
    with connection.cursor() as cur:
        cur.execute(f"SELECT c.id FROM components_component c WHERE {condition}", params)
        return {row[0] for row in cur.fetchall()}


def test_orm_and_sql_forms_give_the_same_rows_for_every_role(city):
    everything = set(Component.objects.values_list("id", flat=True))
    seen = {}
    for name, user in _users(city).items():
        roles.forget_roles()
        orm = set(visibility.filter_visible(Component.objects.all(), user).values_list("id", flat=True))
        assert orm == _sql_rows(user), name
        assert orm == {c.id for c in Component.objects.all() if visibility.can_see(user, c)}, name
        seen[name] = orm
    assert seen["dispatcher"] == seen["administrator"] == everything
    assert seen["anonymous"] == seen["no role"] == seen["unit without organisation"] == set()
    assert len(seen["unit"]) == 4 and seen["unit"] < everything  # department, owner or maintainer
