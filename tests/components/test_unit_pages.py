"""A maintenance unit's own pages (本单位部件, issue 13): counts by class and state, filters, the map of
its assets only and the CSV/XLSX download with names, not codes. Before, /unit/ did not exist."""

import csv
import io

import pytest
from django.contrib.gis.geos import Point
from openpyxl import load_workbook

from components.models import ComponentClass, ComponentState
from tests.factories import ComponentFactory, OrganisationFactory, make_user

pytestmark = pytest.mark.django_db


def _city():
    unit = OrganisationFactory(name="兖州区路灯管理所", kinds=["owner", "maintainer"])
    other = OrganisationFactory(name="别的养护单位", kinds=["maintainer"])
    lamp, manhole = ComponentClass.objects.get(code="0118"), ComponentClass.objects.get(code="0101")
    damaged = ComponentState.objects.get(code="damaged")
    ComponentFactory(component_class=lamp, maintainer=unit, name="建设路1号灯")
    ComponentFactory(component_class=lamp, maintainer=unit, state=damaged, name="建设路2号灯")
    ComponentFactory(component_class=manhole, owner=unit, name="井盖甲", geom=Point(116.84, 35.56, srid=4490))
    ComponentFactory(component_class=lamp, maintainer=other, name="别人的灯")
    return unit, other


def _client(client, user):
    client.force_login(user)
    return client


def test_the_page_counts_by_class_and_state_and_filters(client):
    unit, _ = _city()
    c = _client(client, make_user("unit-a", role="maintenance_unit", organisation=unit))
    html = c.get("/unit/").content.decode()
    assert "兖州区路灯管理所" in html and "符合条件的部件：<b>3</b> 个" in html
    assert 'data-class="0118"' in html and 'data-class="0101"' in html
    assert "完好" in html and "破损" in html
    assert "建设路2号灯" in html and "别人的灯" not in html
    html = c.get("/unit/?role=maintainer").content.decode()
    assert "符合条件的部件：<b>2</b> 个" in html and "井盖甲" not in html
    html = c.get("/unit/?class=0118&state=damaged").content.decode()
    assert "符合条件的部件：<b>1</b> 个" in html and "建设路2号灯" in html and "建设路1号灯" not in html


def test_the_map_data_holds_only_the_units_assets(client):
    unit, other = _city()
    c = _client(client, make_user("unit-b", role="maintenance_unit", organisation=unit))
    body = c.get("/unit/components.geojson").json()
    assert body["count"] == 3 and not body["truncated"]
    assert sorted(f["properties"]["name"] for f in body["features"]) == ["井盖甲", "建设路1号灯", "建设路2号灯"]
    # A unit cannot look at another organisation's page through the address.
    body = c.get(f"/unit/components.geojson?org={other.uscc}").json()
    assert "别人的灯" not in {f["properties"]["name"] for f in body["features"]}


def test_downloads_name_classes_states_and_units(client):
    unit, _ = _city()
    c = _client(client, make_user("unit-c", role="maintenance_unit", organisation=unit))
    r = c.get("/unit/export.csv?class=0118")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert "attachment" in r["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:7] == ["标识码", "名称", "大类", "小类", "状态", "权属单位", "养护单位"]
    names = {row[1]: row for row in rows[1:]}
    assert set(names) == {"建设路1号灯", "建设路2号灯"}
    lamp = names["建设路2号灯"]
    assert lamp[3] == ComponentClass.objects.get(code="0118").name and lamp[4] == "破损"
    assert lamp[6] == "兖州区路灯管理所"
    assert unit.uscc not in r.content.decode("utf-8-sig")  # names, not codes

    r = c.get("/unit/export.xlsx")
    book = load_workbook(io.BytesIO(r.content), read_only=True)
    sheet = list(book.active.iter_rows(values_only=True))
    assert sheet[0][0] == "标识码" and len(sheet) == 4
    assert {row[6] for row in sheet[1:] if row[1] != "井盖甲"} == {"兖州区路灯管理所"}


def test_bad_filters_are_refused_in_the_protocols_form(client):
    unit, _ = _city()
    c = _client(client, make_user("unit-d", role="maintenance_unit", organisation=unit))
    r = c.get("/unit/export.csv?role=nobody")
    assert r.status_code == 400 and r.json()["field"] == "role"
    r = c.get("/unit/components.geojson?class=a;drop")
    assert r.status_code == 400 and r.json()["field"] == "class"
    r = c.get("/unit/?state=%00")
    assert r.status_code == 400 and "state" in r.content.decode()


def test_a_dispatcher_picks_the_organisation_and_an_unlinked_account_is_told(client):
    unit, other = _city()
    c = _client(client, make_user("desk", role="dispatcher"))
    assert "您的账号没有关联单位" in c.get("/unit/").content.decode()
    html = c.get(f"/unit/?org={other.uscc}").content.decode()
    assert "别的养护单位" in html and "符合条件的部件：<b>1</b> 个" in html
    assert c.get("/unit/?org=bad").status_code == 400
    client.logout()
    r = client.get("/unit/")
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]


def test_the_viewer_links_the_page_for_a_linked_account_only(client):
    unit, _ = _city()
    client.force_login(make_user("unit-e", role="maintenance_unit", organisation=unit))
    assert 'id="unit-link"' in client.get("/").content.decode()
    client.force_login(make_user("desk-2", role="dispatcher"))
    assert 'id="unit-link"' not in client.get("/").content.decode()
