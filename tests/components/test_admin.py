import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders

from components.history import component_history
from components.models import Component
from tests.factories import ComponentFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

URL_RE = re.compile(r"""https?://[^\s"'<>)]+""")
# XML namespaces are names, not fetched.
ALLOWED = ("http://www.w3.org/",)


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("admin-test", "a@example.invalid", "admin-pass-123")
    client.force_login(user)
    client.user = user
    return client


def _external_urls(html: str) -> list[str]:
    return [u for u in URL_RE.findall(html) if not u.startswith(ALLOWED)]


def _assert_offline(html: str):
    assert _external_urls(html) == []
    assert "cdn.jsdelivr.net" not in html and "openstreetmap" not in html and "ol.source.OSM" not in html
    assert "/static/vendor/ol/ol.js" in html and "/static/vendor/ol/ol.css" in html
    assert "/static/gis/js/OLMapWidget.js" in html
    assert "ol.layer.Graticule" in html  # the only background layer, drawn locally


def test_vendored_openlayers_is_found_by_staticfiles():
    for path in ["vendor/ol/ol.js", "vendor/ol/ol.css", "gis/js/OLMapWidget.js", "gis/css/ol3.css"]:
        assert finders.find(path), f"{path} missing: run `make venv` (npm ci)"
    with open(finders.find("vendor/ol/ol.js"), encoding="utf-8") as f:
        head = f.read(4000)
    assert "ol" in head  # the full UMD build, defining the global `ol`


def test_add_page_is_offline(admin_client):
    response = admin_client.get("/admin/components/component/add/")
    assert response.status_code == 200
    _assert_offline(response.content.decode())


def test_change_page_is_offline_and_shows_history(admin_client):
    component = ComponentFactory(name="测试井盖")
    response = admin_client.get(f"/admin/components/component/{component.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    _assert_offline(html)
    assert "变更记录" in html and "create" in html


def test_changelist_filters_and_search(admin_client):
    component = ComponentFactory(name="搜索目标")
    response = admin_client.get("/admin/components/component/", {"q": component.code})
    assert response.status_code == 200 and component.code in response.content.decode()
    response = admin_client.get("/admin/components/component/", {"state__code__exact": "intact"})
    assert response.status_code == 200
    assert admin_client.get("/admin/components/component/", {"q": "搜索目标"}).status_code == 200


@pytest.mark.parametrize(
    "model",
    [
        "componentclass",
        "classscheme",
        "classmapping",
        "organisation",
        "componentstate",
        "ownershiptransfer",
        "idsequence",
        "userprofile",
    ],
)
def test_other_admin_pages_load(admin_client, model):
    assert admin_client.get(f"/admin/components/{model}/").status_code == 200


def test_idsequence_is_read_only(admin_client):
    ComponentFactory()
    assert admin_client.get("/admin/components/idsequence/add/").status_code == 403


def _form_data(component=None, **overrides):
    data = {
        "component_class": "",
        "admin_code": "370812",
        "name": "",
        "state": "intact",
        "geom": "SRID=4490;POINT (116.83 35.55)",
        "location_desc": "",
        "street_code": "",
        "community_code": "",
        "grid_code": "",
        "department": "",
        "owner": "",
        "maintainer": "",
        "census_date": "2026-01-15",
        "change_date": "",
        "data_source": "surveyed",
        "note": "",
        "attributes": "{}",
        "transfers-TOTAL_FORMS": "0",
        "transfers-INITIAL_FORMS": "0",
        "transfers-MIN_NUM_FORMS": "0",
        "transfers-MAX_NUM_FORMS": "1000",
    }
    if component is not None:
        data.update(
            {
                "name": component.name,
                "state": component.state_id,
                "geom": component.geom.ewkt,
                "owner": component.owner_id or "",
                "maintainer": component.maintainer_id or "",
                "census_date": component.census_date.isoformat(),
            }
        )
        for key in ("component_class", "admin_code"):
            data.pop(key)
    data.update(overrides)
    return data


def test_add_goes_through_the_service(admin_client):
    from components.models import ComponentClass

    cls = ComponentClass.objects.get(code="0118")
    owner = OrganisationFactory()
    response = admin_client.post(
        "/admin/components/component/add/", _form_data(component_class=cls.pk, name="后台新增", owner=owner.pk)
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    component = Component.objects.get(name="后台新增")
    assert re.fullmatch(r"3708120118\d{6}", component.code)  # ID allocated by the service
    (entry,) = component_history(component)
    assert entry["action"] == "create" and entry["user"] == "admin-test"


def test_change_goes_through_the_service(admin_client):
    component = ComponentFactory(name="旧名")
    url = f"/admin/components/component/{component.pk}/change/"
    response = admin_client.post(url, _form_data(component, name="新名"))
    assert response.status_code == 302, response.content.decode()[:3000]
    component.refresh_from_db()
    assert component.name == "新名"
    latest = component_history(component)[0]
    assert latest["action"] == "update" and latest["user"] == "admin-test"
    assert latest["changes"]["name"] == ["旧名", "新名"]


def test_owner_change_in_the_admin_is_a_recorded_transfer(admin_client):
    from components.models import OwnershipTransfer

    component = ComponentFactory(name="旧名")
    new_owner = OrganisationFactory()
    url = f"/admin/components/component/{component.pk}/change/"
    response = admin_client.post(url, _form_data(component, owner=new_owner.pk))
    assert response.status_code == 302, response.content.decode()[:3000]
    component.refresh_from_db()
    assert component.owner == new_owner
    (transfer,) = OwnershipTransfer.objects.filter(component=component)
    assert transfer.role == "owner" and transfer.to_org == new_owner
    assert component_history(component)[0]["action"] == "transfer"
    # Refused together with a bad field: neither the transfer nor the rest is kept.
    other = OrganisationFactory()
    response = admin_client.post(url, _form_data(component, owner=other.pk, street_code="110101001"))
    assert response.status_code == 200
    component.refresh_from_db()
    assert component.owner == new_owner and OwnershipTransfer.objects.filter(component=component).count() == 1


def test_service_errors_are_form_errors(admin_client):
    component = ComponentFactory(name="原名")
    url = f"/admin/components/component/{component.pk}/change/"
    # A street code outside the component's district: the service refuses it.
    response = admin_client.post(url, _form_data(component, name="不应保存", street_code="110101001"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "errorlist" in html and "admin code" in html
    component.refresh_from_db()
    assert component.name == "原名" and component.street_code == ""
    assert len(component_history(component)) == 1


def test_retired_component_cannot_be_edited_or_deleted(admin_client):
    from components.services import retire_component

    component = ComponentFactory()
    retire_component(component, reason="拆除")
    response = admin_client.get(f"/admin/components/component/{component.pk}/change/")
    assert response.status_code == 200
    assert 'name="name"' not in response.content.decode()
    assert admin_client.get(f"/admin/components/component/{component.pk}/delete/").status_code == 403
