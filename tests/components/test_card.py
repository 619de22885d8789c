import io
import xml.etree.ElementTree as ET

import pytest
import zxingcpp
from django.test import override_settings
from PIL import Image

from components.qr import card_url
from components.services import retire_component, update_component
from tests.factories import ComponentFactory, OrganisationFactory, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def component():
    owner = OrganisationFactory(name="兖州区市政公用事业服务中心", phone="0537-3411234", contact_person="王工")
    maintainer = OrganisationFactory(name="兖州城建养护有限公司", phone="13800000000")
    department = OrganisationFactory(name="兖州区住房和城乡建设局", kinds=["department"])
    return ComponentFactory(
        name="府河路1号井盖",
        owner=owner,
        maintainer=maintainer,
        department=department,
        location_desc="府河路与建设路交叉口东北角",
        street_code="370812001",
        grid_code="370812001001001",
    )


def test_card_is_public_and_shows_the_record(client, component):
    response = client.get(f"/c/{component.code}")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-CN">' in html
    assert 'name="viewport"' in html
    for text in [
        component.code,
        "0118",
        component.component_class.name,
        "府河路1号井盖",
        "府河路与建设路交叉口东北角",
        "370812",
        "370812001",
        "370812001001001",
        "兖州区市政公用事业服务中心",
        "0537-3411234",
        "王工",
        "兖州城建养护有限公司",
        "13800000000",
        "兖州区住房和城乡建设局",
        component.state.name,
        "在用",
        f"{component.geom.x:.6f}",
        f"{component.geom.y:.6f}",
        component.census_date.strftime("%Y-%m-%d"),
    ]:
        assert text in html, text
    assert "<svg" in html  # the QR code, inline
    assert "变更记录" not in html  # history is for staff only
    assert "no-cache" in response["Cache-Control"]


def test_card_accepts_trailing_slash(client, component):
    assert client.get(f"/c/{component.code}/").status_code == 200


def test_card_unknown_code_is_404(client):
    for path in ["/c/3708120118999999", "/c/3708120118999999/", "/c/not-a-code", "/c/1/qr.png", "/c/1/qr.svg"]:
        response = client.get(path)
        assert response.status_code == 404, path
    assert "未找到" in client.get("/c/3708120118999999").content.decode()


def test_card_shows_retired_status(client, component):
    retire_component(component, reason="道路拓宽拆除")
    html = client.get(f"/c/{component.code}").content.decode()
    assert "已注销" in html and "道路拓宽拆除" in html


def test_staff_see_history(client, component):
    editor = make_user("card-editor", "gis_editor")
    update_component(component, user=editor, name="府河路2号井盖")
    client.force_login(editor)
    response = client.get(f"/c/{component.code}")
    html = response.content.decode()
    assert "变更记录" in html
    assert "card-editor" in html and "府河路1号井盖 → 府河路2号井盖" in html
    assert "private" in response["Cache-Control"]


def test_user_without_role_sees_no_history(client, component):
    client.force_login(make_user("card-nobody"))
    assert "变更记录" not in client.get(f"/c/{component.code}").content.decode()


@override_settings(PUBLIC_BASE_URL="https://gridcity.example.cn/")
def test_qr_png(client, component):
    response = client.get(f"/c/{component.code}/qr.png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "max-age=86400" in response["Cache-Control"] and "public" in response["Cache-Control"]
    data = response.content
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width == height and width >= 200
    assert card_url(component.code) == f"https://gridcity.example.cn/c/{component.code}"
    # Decoded by a real reader (zxing-cpp + Pillow, the test extras: a missing one fails the import).
    (result,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(data)).convert("L"))
    assert result.text == f"https://gridcity.example.cn/c/{component.code}"
    assert result.format == zxingcpp.BarcodeFormat.QRCode
    assert result.ec_level == "M"


def test_qr_svg(client, component):
    response = client.get(f"/c/{component.code}/qr.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    root = ET.fromstring(response.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts == [component.code]
    assert int(root.get("height")) > int(root.get("width"))  # room for the caption


def test_qr_etag(client, component):
    first = client.get(f"/c/{component.code}/qr.svg")
    again = client.get(f"/c/{component.code}/qr.svg", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_unit_sees_history_of_its_own_components_only(client, component):
    """Issue 8: the card showed a unit another organisation's history while the API answered 404.
    One rule (components.visibility) for the card, the API and the history endpoint."""
    from rest_framework.test import APIClient

    editor = make_user("card-editor2", "gis_editor")
    update_component(component, user=editor, name="府河路2号井盖")
    other = ComponentFactory(name="别家井盖")
    update_component(other, user=editor, name="别家井盖改名")
    unit = make_user("card-unit", "maintenance_unit", organisation=component.owner)
    client.force_login(unit)

    mine = client.get(f"/c/{component.code}").content.decode()
    assert "变更记录" in mine and "府河路1号井盖 → 府河路2号井盖" in mine
    theirs = client.get(f"/c/{other.code}")
    assert theirs.status_code == 200  # the card itself is public (the label on the street)
    assert "变更记录" not in theirs.content.decode() and "card-editor2" not in theirs.content.decode()

    api = APIClient()
    api.force_authenticate(unit)
    assert api.get(f"/api/components/{component.code}/history/").status_code == 200
    assert api.get(f"/api/components/{other.code}/").status_code == 404
    assert api.get(f"/api/components/{other.code}/history/").status_code == 404


def test_unit_without_organisation_sees_no_history(client, component):
    client.force_login(make_user("card-lost-unit", "maintenance_unit"))
    assert "变更记录" not in client.get(f"/c/{component.code}").content.decode()
