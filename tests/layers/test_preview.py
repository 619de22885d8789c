"""Layer preview pages (issue 13, like GeoServer's), generated from the catalogue: every layer listed
with its services, a map page per layer drawing that layer alone. Before, there was no such page."""

import base64

import pytest

from layers import catalogue
from tests.factories import ComponentFactory, make_user
from tests.gis_core.test_viewer import PASSWORD, _screenshot
from tests.gis_core.test_viewer_frame import DESKTOP, _clean, _page, browser  # noqa: F401
from tests.tiles.conftest import _empty_tile_cache  # noqa: F401

pytestmark = pytest.mark.django_db


def test_every_catalogue_layer_is_listed_with_its_services(client):
    client.force_login(make_user("preview-reader", role="dispatcher"))
    html = client.get("/layers/preview/").content.decode()
    for layer in catalogue.layers():
        assert f'data-layer="{layer.id}"' in html, layer.id
        assert f'href="/layers/preview/{layer.id}/"' in html
        if layer.tiles is not None:
            assert f"/tiles/{layer.id}.json" in html
    assert "LAYERS=components" in html and "TYPENAMES=components" in html


def test_the_links_answer(client):
    """What the list links to is served: WMS PNG, TileJSON, WFS GeoJSON, for a vector layer. WFS is for
    GIS clients and asks for HTTP Basic (as it always has), not the browser's session."""
    client.force_login(make_user("preview-reader-2", role="dispatcher", password="preview-pass-2026"))
    basic = "Basic " + base64.b64encode(b"preview-reader-2:preview-pass-2026").decode()
    ComponentFactory()
    html = client.get("/layers/preview/").content.decode()
    row = html[html.index('data-layer="components"') :]
    row = row[: row.index("</tr>")]
    for cls, kind in (("wms", "image/png"), ("tilejson", "application/json"), ("wfs", "json")):
        href = row.split(f'class="{cls}" href="')[1].split('"')[0].replace("&amp;", "&")
        r = client.get(href, HTTP_AUTHORIZATION=basic) if cls == "wfs" else client.get(href)
        assert r.status_code == 200 and kind in r["Content-Type"], (cls, href, r.status_code, r.content[:300])


def test_a_preview_page_per_layer_and_404_for_others(client):
    client.force_login(make_user("preview-reader-3", role="dispatcher"))
    for layer in catalogue.layers():
        r = client.get(f"/layers/preview/{layer.id}/")
        assert r.status_code == 200 and layer.title_zh in r.content.decode(), layer.id
    assert client.get("/layers/preview/no_such_layer/").status_code == 404
    client.logout()
    assert client.get("/layers/preview/").status_code == 302


@pytest.mark.usefixtures("_empty_tile_cache")
@pytest.mark.django_db(transaction=True)
def test_the_preview_map_draws_the_layer_alone(live_server, browser, tmp_path):  # noqa: F811
    lamp = ComponentFactory()
    make_user("preview-desk", role="dispatcher", password=PASSWORD)
    page = _page(browser, DESKTOP)
    base = live_server.url
    page.goto(base + "/accounts/login/?next=/layers/preview/")
    page.fill("#id_username", "preview-desk")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/layers/preview/")
    page.click("tr[data-layer='components'] a.preview")
    page.wait_for_selector("#preview-map[data-ready='1']", timeout=30_000)
    style_layers = page.evaluate("() => previewMap.getStyle().layers.map(l => l.source).filter(Boolean)")
    assert style_layers and set(style_layers) == {"components"}
    page.evaluate("([lon, lat]) => previewMap.jumpTo({center: [lon, lat], zoom: 17})", [lamp.geom.x, lamp.geom.y])
    page.wait_for_function(
        "(code) => previewMap.loaded() && previewMap.queryRenderedFeatures().some(f => f.properties.code === code)",
        arg=lamp.code,
        timeout=30_000,
    )
    p = page.evaluate("([lon, lat]) => previewMap.project([lon, lat])", [lamp.geom.x, lamp.geom.y])
    box = page.locator("#preview-map").bounding_box()
    page.mouse.click(box["x"] + p["x"], box["y"] + p["y"])
    page.wait_for_function(
        "(code) => document.querySelector('#preview-props').innerText.includes(code)", arg=lamp.code, timeout=15_000
    )
    _screenshot(page, tmp_path, "layer-preview.png")
    _clean(page, base)
