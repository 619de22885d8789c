"""The map viewer in a real browser: Debian's chromium driven by Playwright against the live server.

Log in on the zh-CN login page, open the map, turn a layer on, click a cluster and then a streetlight
at the pixel MapLibre projects it to, and read its owner off the ID card popup; filter it away; search
a grid code and read its staff; log out. Every request the page makes must go to our own origin
(no CDN, no web fonts, no basemap)."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.contrib.gis.geos import Polygon

from layers.grids.services import create_grid
from layers.models import GridStaff
from tests.factories import ComponentFactory, OrganisationFactory, make_user
from tests.tiles.conftest import _empty_tile_cache  # noqa: F401  (tiles of an earlier test's rows must not show)

CHROMIUM = os.environ.get("GRIDCITY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # WebGL without a GPU: ANGLE on SwiftShader, software rendering.
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]
PASSWORD = "viewer-pass-2026"


@pytest.fixture
def browser_page(monkeypatch):
    """A fresh chromium page recording every request it makes."""
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-deps.sh (Debian package chromium)")
    # Playwright's sync API keeps an event loop in this thread; the database calls made here while the
    # browser runs are still plain synchronous ones (the live server answers from its own thread).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        # GRIDCITY_VIEWPORT=390x844 runs the same walk in a phone-sized window.
        width, height = (int(v) for v in os.environ.get("GRIDCITY_VIEWPORT", "1280x800").split("x"))
        page = browser.new_page(viewport={"width": width, "height": height}, locale="zh-CN")
        page.requests = []
        page.on("request", lambda r: page.requests.append(r.url))
        page.console = []
        page.on("console", lambda m: page.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: page.console.append(f"pageerror: {e}"))
        try:
            yield page
        finally:
            browser.close()


def _screenshot(page, tmp_path, name):
    path = tmp_path / name
    page.screenshot(path=str(path))
    extra = os.environ.get("GRIDCITY_SCREENSHOT_DIR")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(extra) / name)
    return path


# Whether the map draws the component with this ID.
SHOWN = "(code) => gridcityMap.queryRenderedFeatures().some(f => f.properties.code === code)"


def _click_at(page, lon, lat):
    """A real mouse click where MapLibre draws this point."""
    x, y = page.evaluate(
        "([lon, lat]) => { const p = gridcityMap.project([lon, lat]); return [p.x, p.y]; }", [lon, lat]
    )
    frame = page.locator("#map").bounding_box()
    page.mouse.click(frame["x"] + x, frame["y"] + y)


def _log_in(page, base, username):
    page.goto(base + "/")
    assert page.url.startswith(base + "/accounts/login/"), page.url
    assert page.locator("label[for=id_username]").inner_text() == "用户名"
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


@pytest.mark.usefixtures("_empty_tile_cache")
@pytest.mark.django_db(transaction=True)
def test_click_a_streetlight_shows_its_owner(live_server, browser_page, tmp_path):
    page, base = browser_page, live_server.url
    owner = OrganisationFactory(name="兖州区路灯管理所")
    lamp = ComponentFactory(owner=owner)
    x0, y0 = lamp.geom.x, lamp.geom.y
    grid = create_grid(
        code="370812", name="兖州区", level=1, geom=Polygon.from_bbox((x0 - 0.003, y0 - 0.002, x0 + 0.003, y0 + 0.002))
    )
    GridStaff.objects.create(grid=grid, role=GridStaff.Role.HEAD, name="王网格", phone="13800000000")
    assert lamp.component_class.code == "0118" and lamp.component_class.name == "路灯"
    make_user("viewer-test", role="dispatcher", password=PASSWORD)

    _log_in(page, base, "viewer-test")
    page.wait_for_selector("#viewer[data-ready='1']", timeout=30_000)

    # Turn the 公用设施 (major class 01) layer on, alone, and go to the streetlight.
    page.evaluate("""() => { for (const box of document.querySelectorAll('#layer-tree input[type=checkbox]'))
                               if (box.checked) box.click(); }""")
    box = page.locator("#layer-tree input[data-layer='components_01']")
    box.check()
    assert page.evaluate("""() => gridcity.styleLayersOf.components_01.every(
                              id => gridcityMap.getLayoutProperty(id, 'visibility') !== 'none')""")
    lon, lat = lamp.geom.x, lamp.geom.y

    # Zoomed out it is a cluster of one: a click on the cluster zooms in.
    page.evaluate("([lon, lat]) => gridcityMap.jumpTo({center: [lon, lat], zoom: 13})", [lon, lat])
    page.wait_for_function(
        "() => gridcityMap.queryRenderedFeatures().some(f => f.properties.count === 1)", timeout=30_000
    )
    _click_at(page, lon, lat)
    page.wait_for_function("() => gridcityMap.getZoom() >= 14.9", timeout=10_000)

    page.evaluate("([lon, lat]) => gridcityMap.jumpTo({center: [lon, lat], zoom: 18})", [lon, lat])
    page.wait_for_function(SHOWN, arg=lamp.code, timeout=30_000)
    _click_at(page, lon, lat)

    card = page.locator(f".gc-card[data-kind=component][data-code='{lamp.code}']")
    card.wait_for(timeout=15_000)
    text = card.inner_text()
    assert "兖州区路灯管理所" in text
    assert "权属单位" in text and "路灯" in text and lamp.code in text
    assert card.locator("a").get_attribute("href") == f"/c/{lamp.code}"
    shot = _screenshot(page, tmp_path, "viewer-streetlight.png")
    assert shot.stat().st_size > 10_000

    # Filters go to the server with the tiles: an intact lamp leaves the map when only damaged ones are asked for.
    page.select_option("#filter-state", "damaged")
    page.wait_for_function(f"(code) => !({SHOWN})(code)", arg=lamp.code, timeout=30_000)
    page.select_option("#filter-state", "")
    page.wait_for_function(SHOWN, arg=lamp.code, timeout=30_000)

    # Search a grid code: the map goes there, outlines it and shows who looks after it.
    page.fill("#q", grid.code)
    page.click("#search button")
    card = page.locator(".gc-card[data-kind=grid][data-code='370812']")
    card.wait_for(timeout=15_000)
    assert "网格长：王网格" in card.inner_text() and "兖州区" in card.inner_text()
    assert (
        page.evaluate("async () => (await gridcityMap.getSource('gridcity-highlight').getData()).geometry.type")
        == "MultiPolygon"
    )
    _screenshot(page, tmp_path, "viewer-grid.png")

    # Nothing left our own origin: no CDN, no web font, no basemap.
    foreign = [u for u in page.requests if not u.startswith((base + "/", "data:", "blob:"))]
    assert foreign == [], foreign
    assert any(u.endswith(".mvt") for u in page.requests)  # the workers' tile requests are in the log too
    assert not [m for m in page.console if m.startswith("pageerror")], page.console

    page.click("text=退出登录")
    page.wait_for_url(base + "/accounts/login/")
    page.goto(base + "/")
    assert page.url.startswith(base + "/accounts/login/")


@pytest.mark.django_db
def test_viewer_needs_a_login(client):
    r = client.get("/")
    assert r.status_code == 302 and r.url.startswith("/accounts/login/?next=/")
    page = client.get(r.url).content.decode()
    assert "用户名" in page and "密码" in page and "登录" in page
    make_user("viewer-login", role="dispatcher", password=PASSWORD)
    wrong = client.post("/accounts/login/", {"username": "viewer-login", "password": "nope", "next": "/"})
    assert wrong.status_code == 200 and "请输入" in wrong.content.decode()  # Django's own zh-Hans message
    right = client.post(
        "/accounts/login/", {"username": "viewer-login", "password": PASSWORD, "next": "/#15/35.55/116.83"}
    )
    assert right.status_code == 302 and right.url == "/#15/35.55/116.83"


@pytest.mark.django_db
def test_the_style_passes_the_maplibre_style_validator(client, tmp_path):
    """The style the viewer loads, checked by MapLibre's own validator (npm, beside the library)."""
    validator = Path(__file__).resolve().parents[2] / "node_modules/@maplibre/maplibre-gl-style-spec/dist/index.cjs"
    assert validator.exists(), "run npm ci"
    client.force_login(make_user("style-check", role="dispatcher"))
    style = tmp_path / "style.json"
    style.write_bytes(client.get("/tiles/style.json").content)
    script = (
        "const spec = require(process.argv[1]);"
        "const errors = spec.validateStyleMin(JSON.parse(require('fs').readFileSync(process.argv[2])));"
        "console.log(JSON.stringify(errors.map(e => e.message)));"
    )
    out = subprocess.run(["node", "-e", script, str(validator), str(style)], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
