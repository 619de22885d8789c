import pytest
from django.db import connection

from components.history import component_history
from components.models import Component, ComponentState
from components.services import change_state, retire_component, transfer_ownership, update_component
from tests.factories import ComponentFactory, OrganisationFactory, make_user

pytestmark = pytest.mark.django_db


def test_history_after_create_update_state_transfer_retire():
    editor = make_user("hist-editor", "gis_editor")
    component = ComponentFactory(user=editor, name="旧名称")
    update_component(component, user=editor, name="新名称", location_desc="府河路口")
    change_state(component, "damaged", user=editor)
    new_owner = OrganisationFactory(name="新权属单位")
    transfer_ownership([component], role="owner", to_org=new_owner, user=editor, reason="移交")
    retire_component(component, reason="道路改造拆除", user=editor)

    history = component_history(component)
    assert [h["action"] for h in history] == ["retire", "transfer", "change_state", "update", "create"]
    assert all(h["user"] == "hist-editor" for h in history)
    assert history[0]["at"] >= history[-1]["at"]

    create = history[-1]
    assert create["changes"]["code"] == [None, component.code]
    assert create["changes"]["name"] == [None, "旧名称"]
    update = history[3]
    assert update["changes"]["name"] == ["旧名称", "新名称"]
    assert update["changes"]["location_desc"] == ["", "府河路口"]
    assert "code" not in update["changes"]
    assert history[2]["changes"]["state"] == ["intact", "damaged"]
    assert history[1]["changes"]["owner"][1] == "新权属单位"
    assert history[1]["context"]["reason"] == "移交"
    retire = history[0]
    assert retire["changes"]["retired"] == [False, True]
    assert retire["changes"]["retired_reason"] == ["", "道路改造拆除"]


def test_history_without_user():
    component = ComponentFactory()
    (entry,) = component_history(component)
    assert entry["action"] == "create" and entry["user"] is None


# pghistory keeps its context in transaction-local settings (set_config(..., true)): inside one
# outer transaction a later raw write would inherit the service's context. These two tests commit
# each write, as a real bulk update or psql session would.
@pytest.mark.django_db(transaction=True)
def test_bulk_orm_update_is_in_history():
    component = ComponentFactory(name="甲")
    Component.objects.filter(pk=component.pk).update(name="乙", state=ComponentState.objects.get(code="lost"))
    latest = component_history(component)[0]
    assert latest["action"] == "sql"
    assert latest["user"] is None
    assert latest["changes"]["name"] == ["甲", "乙"]
    assert latest["changes"]["state"] == ["intact", "lost"]


@pytest.mark.django_db(transaction=True)
def test_raw_sql_update_is_in_history():
    component = ComponentFactory(name="甲")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE components_component SET location_desc = %s WHERE id = %s", ["手工修正", component.pk])
    history = component_history(component)
    assert len(history) == 2
    assert history[0]["action"] == "sql"
    assert history[0]["changes"] == {"location_desc": ["", "手工修正"]}


def test_geometry_change_and_json_safe_values():
    import json

    from django.contrib.gis.geos import Point

    component = ComponentFactory()
    update_component(component, geom=Point(116.84, 35.56, srid=4490))
    latest = component_history(component)[0]
    assert latest["changes"]["geom"][1].startswith("POINT")
    json.dumps([{**h, "at": h["at"].isoformat()} for h in component_history(component)])


def test_history_of_unknown_component_is_empty():
    assert component_history(10**12) == []
