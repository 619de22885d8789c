"""/c/{id}: history in human words, a small map from our own WMS, 在地图中查看 and 上报问题."""

import re
from html import unescape

import pytest
from django.contrib.gis.geos import Point

from components.models import ComponentClass
from components.services import change_state, update_component
from tests.factories import ComponentFactory, OrganisationFactory, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def lamp():
    return ComponentFactory(
        component_class=ComponentClass.objects.get(code="0118"),
        geom=Point(116.8305, 35.5505, srid=4490),
        attributes={"power_w": 150, "lamp_type": "LED"},
    )


def _history(client, component) -> str:
    html = client.get(f"/c/{component.code}").content.decode()
    return unescape(html.split('id="history"', 1)[1])


def test_history_speaks_in_state_names_labels_and_coordinates(client, lamp):
    editor = make_user("words-editor", "gis_editor")
    change_state(lamp, "damaged", user=editor, note="灯罩破裂")
    update_component(
        lamp, user=editor, attributes={"power_w": 200, "lamp_type": "LED"}, geom=Point(116.8306, 35.5505, srid=4490)
    )
    client.force_login(editor)
    history = _history(client, lamp)
    assert "状态：完好 → 破损" in history
    assert "intact" not in history and "damaged" not in history
    assert "功率(W)：150；光源：LED → 功率(W)：200；光源：LED" in history
    assert "{" not in history and "POINT" not in history
    assert "经度 116.830600，纬度 35.550500" in history


def test_history_shows_organisation_names_on_a_transfer(client, lamp):
    from components.services import transfer_ownership

    editor = make_user("words-admin", "administrator")
    new = OrganisationFactory(name="新养护公司")
    transfer_ownership([lamp], role="maintainer", to_org=new, user=editor)
    client.force_login(editor)
    assert f"养护单位：{lamp.maintainer.name} → 新养护公司" in _history(client, lamp)


def test_small_map_is_our_own_wms_and_renders(client, lamp):
    client.force_login(make_user("map-reader", "dispatcher"))
    html = client.get(f"/c/{lamp.code}").content.decode()
    src = unescape(re.search(r'<img src="([^"]+)"[^>]*部件位置地图', html).group(1))
    assert src.startswith("/wms?") and "REQUEST=GetMap" in src and "components" in src
    image = client.get(src)
    assert image.status_code == 200 and image["Content-Type"] == "image/png", image.content[:300]
    assert image.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_links_to_the_viewer_and_its_report_form(client, lamp):
    client.force_login(make_user("link-reader", "dispatcher"))
    html = unescape(client.get(f"/c/{lamp.code}").content.decode())
    assert f'href="/?component={lamp.code}#18/35.550500/116.830500">在地图中查看' in html
    assert f'href="/?component={lamp.code}&action=report#18/35.550500/116.830500">上报问题' in html


def test_the_public_sees_no_map_but_the_links(client, lamp):
    html = client.get(f"/c/{lamp.code}").content.decode()
    assert "/wms?" not in html and "在地图中查看" in html
