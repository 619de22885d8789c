"""Issue 13's "Done when": three roles walk through the viewer in Debian's chromium as real users would.

A small city is made with the factories (grids of levels 1-4, streetlights, manhole covers and a
hydrant with owners and maintainers, two cases, a camera, a grid worker with a morning's fixes):

1. a dispatcher at 1280x800 logs in, searches an ID, a grid name, a class and an organisation, opens a
   component card and a grid card, reads the legend, filters by class (count and address), opens a
   case from the 事件 queue, lists the camera that sees the corner and finds the worker under 巡查;
2. a maintenance unit at 1280x800 reads 本单位部件 (its own assets only) and downloads the CSV;
3. a grid worker on a 390x844 phone: full-screen map, the panel folding, a card as a bottom sheet inside
   the screen, 定位 and 我的网格; the session ended on the server says 登录已过期 and comes back to the
   same view after logging in.

Every page fails on an error-level console message, a page error or a request leaving the live
server's origin (data: and blob: aside). A screenshot is saved at each step (the test's tmp dir and
GRIDCITY_SCREENSHOT_DIR). Each test sets up its own city and browser and waits at most 30 s per step."""

import csv
import datetime as dt
import importlib
import io
import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.conf import settings
from django.contrib.gis.geos import Point, Polygon
from django.utils import timezone

from components.models import ComponentClass, ComponentState, UserProfile
from components.services import assign_grid_codes
from layers.cameras import services as cameras
from layers.grids.services import create_grid
from layers.incidents import services as incidents
from layers.models import GridStaff
from layers.patrols.ingest import ingest
from tests.factories import ComponentFactory, OrganisationFactory, make_user
from tests.gis_core import test_viewer_frame
from tests.gis_core.test_viewer import PASSWORD, SHOWN, _screenshot
from tests.tiles.conftest import _empty_tile_cache  # noqa: F401  (no tiles of an earlier test's rows)

LON, LAT = 116.8255, 35.5455  # a street corner in 兖州, inside the district
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
WAIT = 30_000  # the longest any single step may wait (ms)
BASE_GRID = "37081200100101"

browser = test_viewer_frame.browser  # the same chromium fixture
pytestmark = [pytest.mark.usefixtures("_empty_tile_cache"), pytest.mark.django_db(transaction=True)]


# ---- the city ------------------------------------------------------------------------------------


def _box(half_width):
    return Polygon.from_bbox((LON - half_width, LAT - half_width, LON + half_width, LAT + half_width))


def _city():
    """Four grid levels nested around the corner, three classes of components with two owners, two cases,
    a camera and a grid worker (网格员) who walked the base grid this morning. Returns a dict of the rows."""
    create_grid(code="370812", name="兖州区", level=1, geom=_box(0.02))
    create_grid(code="370812001", name="鼓楼街道", level=2, parent_code="370812", geom=_box(0.012))
    create_grid(code="370812001001", name="龙桥社区", level=3, parent_code="370812001", geom=_box(0.006))
    base_grid = create_grid(code=BASE_GRID, name="龙桥第一网格", level=4, parent_code="370812001001", geom=_box(0.003))
    base = GridStaff.objects.create(grid=base_grid, role=GridStaff.Role.HEAD, name="王网格", phone="13800000000")

    lamps = OrganisationFactory(name="兖州区路灯管理所", phone="0537-3411111")
    water = OrganisationFactory(name="兖州水务公司", phone="0537-3422222")
    lamp_class = ComponentClass.objects.get(code="0118")
    contractor = OrganisationFactory(name="兖州明亮照明养护公司", phone="0537-3433333")
    lamp = ComponentFactory(
        component_class=lamp_class,
        owner=lamps,
        maintainer=contractor,
        geom=Point(LON, LAT, srid=4490),
        attributes={"pole_height_m": 10, "lamp_type": "LED", "power_w": 150},
    )
    others = [
        ComponentFactory(component_class=lamp_class, owner=lamps, maintainer=lamps, geom=Point(LON + d, LAT, srid=4490))
        for d in (0.0003, 0.0006)
    ]
    damaged = ComponentFactory(
        component_class=lamp_class,
        owner=lamps,
        maintainer=lamps,
        state=ComponentState.objects.get(code="damaged"),
        geom=Point(LON, LAT + 0.0003, srid=4490),
    )
    cover = ComponentFactory(
        component_class=ComponentClass.objects.get(code="0101"),
        owner=water,
        maintainer=water,
        geom=Point(LON + 0.0004, LAT - 0.0003, srid=4490),
    )
    hydrant = ComponentFactory(
        component_class=ComponentClass.objects.get(code="0110"),
        owner=water,
        maintainer=water,
        geom=Point(LON - 0.0004, LAT - 0.0003, srid=4490),
    )
    assign_grid_codes()
    for c in (lamp, cover):
        c.refresh_from_db()
    assert lamp.grid_code == BASE_GRID and cover.grid_code == BASE_GRID

    dispatcher = make_user("walk-dispatcher", role="dispatcher", password=PASSWORD)
    unit_user = make_user("walk-unit", role="maintenance_unit", organisation=lamps, password=PASSWORD)
    worker = make_user("walk-worker", role="grid_worker", password=PASSWORD)
    worker.last_name, worker.first_name = "王", "网格"
    worker.save()
    UserProfile.objects.create(user=worker, organisation=OrganisationFactory(name="鼓楼街道办事处"))

    garbage = incidents.report_case(dispatcher, "06010", [LON + 0.0002, LAT + 0.0002], description="暴露垃圾")
    dark = incidents.report_case(dispatcher, "06010", [LON - 0.0002, LAT + 0.0002], description="路边堆放杂物")
    camera = cameras.create(
        None,
        {
            "device_id": "37081200081321000001",
            "name": "龙桥路口枪机",
            "lon": LON,
            "lat": LAT - 0.0003,
            "azimuth": 0,
            "h_fov": 60,
            "range_m": 100,
        },
    )
    start = timezone.now() - dt.timedelta(minutes=15)
    fixes = [
        {
            "fix_time": (start + dt.timedelta(seconds=30 * i)).isoformat(),
            "lon": LON + i * 0.0001,
            "lat": LAT,
            "crs": "CGCS2000",
        }
        for i in range(20)
    ]
    assert ingest(worker, {"fixes": fixes})["stored"] == 20
    return {
        "lamp": lamp,
        "others": others,
        "damaged": damaged,
        "cover": cover,
        "hydrant": hydrant,
        "lamps": lamps,
        "water": water,
        "cases": (garbage, dark),
        "camera": camera,
        "staff": base,
        "users": (dispatcher, unit_user, worker),
        "patrol_day": timezone.localtime(start).date().isoformat(),
    }


# ---- the browser ---------------------------------------------------------------------------------


def _page(browser, viewport, **context):
    """A page in its own context, recording every request URL, console message and page error."""
    ctx = browser.new_context(viewport=viewport, locale="zh-CN", **context)
    ctx.set_default_timeout(WAIT)
    page = ctx.new_page()
    page.requests, page.errors = [], []
    page.on("request", lambda r: page.requests.append(r.url))
    page.on("console", lambda m: m.type == "error" and page.errors.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: page.errors.append(f"pageerror: {e}"))
    return page


def _log_in(page, base, username, path="/"):
    page.goto(base + path)
    page.wait_for_url(lambda url: "/accounts/login/" in url)
    assert page.locator("label[for=id_username]").inner_text() == "用户名"
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: url.startswith(base + "/") and "/accounts/" not in url)


def _map_ready(page):
    page.wait_for_selector("#viewer[data-ready='1']", timeout=WAIT)


def _clean(page, base, allowed=()):
    """No request left our origin; no error in the console or the page (but the `allowed` ones)."""
    foreign = [u for u in page.requests if not u.startswith((base + "/", "data:", "blob:"))]
    assert foreign == [], foreign
    errors = [m for m in page.errors if not any(a in m for a in allowed)]
    assert errors == [], errors


class Steps:
    """Screenshots numbered in walking order: <prefix>-01-<step>.png …"""

    def __init__(self, page, tmp_path, prefix):
        self.page, self.tmp_path, self.prefix, self.n = page, tmp_path, prefix, 0

    def __call__(self, name):
        self.n += 1
        _screenshot(self.page, self.tmp_path, f"{self.prefix}-{self.n:02d}-{name}.png")


def _search(page, q):
    page.fill("#q", q)
    page.click("#search button")


def _group(page, kind):
    group = page.locator(f"#search-results .result-group[data-kind={kind}]")
    group.wait_for(timeout=WAIT)
    return group


def _only_layer(page, layer_id):
    page.evaluate(
        """(id) => { for (const box of document.querySelectorAll('#layer-tree input[type=checkbox]'))
                       if (box.checked !== (box.dataset.layer === id)) box.click(); }""",
        layer_id,
    )


def _inside(box, viewport):
    return (
        box is not None
        and box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= viewport["width"] + 0.5
        and box["y"] + box["height"] <= viewport["height"] + 0.5
    )


# ---- 1. the dispatcher ---------------------------------------------------------------------------


def test_a_dispatcher_searches_opens_cards_filters_and_opens_a_case(live_server, browser, tmp_path):
    city = _city()
    lamp, cover = city["lamp"], city["cover"]
    page, base = _page(browser, DESKTOP), live_server.url
    step = Steps(page, tmp_path, "dispatcher")

    _log_in(page, base, "walk-dispatcher")
    _map_ready(page)
    assert page.locator("#user-name").inner_text() == "walk-dispatcher"
    assert page.locator("#panel").bounding_box()["x"] == 0  # the desk keeps its side panel
    step("map-ready")

    # A component ID goes straight to its card.
    _search(page, lamp.code)
    card = page.locator(f".gc-card[data-kind=component][data-code='{lamp.code}']")
    card.wait_for(timeout=WAIT)
    text = card.inner_text()
    assert "兖州区路灯管理所" in text and "路灯" in text and lamp.code in text, text
    assert _inside(page.locator(".maplibregl-popup").bounding_box(), DESKTOP)
    step("search-id")
    # What the card tests below read on the cards comes from these answers.
    got = page.evaluate("async (code) => (await fetch(`/api/components/${code}/`)).json()", lamp.code)["properties"]
    assert (got["owner"]["phone"], got["maintainer"]["phone"]) == ("0537-3411111", "0537-3433333")
    assert {r["label"] for r in got["attribute_rows"]} == {"杆高(m)", "光源", "功率(W)"}
    assert got["grid"]["name"] == "龙桥第一网格"
    summary = page.evaluate("async (code) => (await fetch(`/api/grids/${code}/summary/`)).json()", BASE_GRID)
    assert summary["parent"] == {"code": "370812001001", "name": "龙桥社区"}
    assert {(c["class_name"], c["count"]) for c in summary["components"]["by_class"]} >= {("路灯", 4)}
    assert {(s["state_name"], s["count"]) for s in summary["components"]["by_state"]} == {("完好", 5), ("破损", 1)}

    # A grid name: the 网格 group, with its count.
    _search(page, "龙桥")
    grids = _group(page, "grid")
    assert page.locator(".gc-card").count() == 0  # the old card went with the old search
    assert grids.locator("h3 .count").inner_text() == "2"
    names = " ".join(grids.locator("li").all_inner_texts())
    assert "龙桥社区" in names and "龙桥第一网格" in names, names
    step("search-grid-name")

    # A class name: components and the class, each group counted.
    _search(page, "路灯")
    components = _group(page, "component")
    assert components.locator("h3 .count").inner_text() == "4"  # the lamp, two others, the damaged one
    assert _group(page, "class").locator("li").count() >= 1
    step("search-class")

    # An organisation by name.
    _search(page, "兖州水务")
    orgs = _group(page, "organisation")
    assert orgs.locator("h3 .count").inner_text() == "1"
    assert "兖州水务公司" in orgs.inner_text()
    step("search-organisation")

    # A result of the grid group opens the grid card: its staff, its level.
    _search(page, "龙桥第一网格")
    _group(page, "grid").locator(f"li[data-id='{BASE_GRID}'] a").click()
    grid_card = page.locator(f".gc-card[data-kind=grid][data-code='{BASE_GRID}']")
    grid_card.wait_for(timeout=WAIT)
    text = grid_card.inner_text()
    assert "龙桥第一网格" in text and "网格长：王网格" in text and "13800000000" in text, text
    step("grid-card")

    # The legend follows the layer tree: the components layer's colours, named.
    _only_layer(page, "components")
    legend = page.locator("#legend .legend-layer[data-layer=components]")
    legend.wait_for(timeout=WAIT)
    assert "公用设施" in legend.inner_text()
    step("legend")

    # A filter by class: the match count, the map and the address follow.
    page.evaluate("([lon, lat]) => gridcityMap.jumpTo({center: [lon, lat], zoom: 18})", [LON, LAT])
    page.wait_for_function(SHOWN, arg=cover.code, timeout=WAIT)
    lamp_option = page.evaluate(
        "() => [...document.querySelectorAll('#filter-class option')].find(o => / 路灯$/.test(o.textContent)).value"
    )
    page.select_option("#filter-class", lamp_option)
    page.wait_for_function(
        "() => document.getElementById('filter-count').textContent === '符合条件的部件：4 个'", timeout=WAIT
    )
    page.wait_for_function(f"(code) => !({SHOWN})(code)", arg=cover.code, timeout=WAIT)
    page.wait_for_function(SHOWN, arg=lamp.code, timeout=WAIT)
    assert parse_qs(urlsplit(page.url).query)["class"] == [lamp_option], page.url
    step("filter-class")
    page.select_option("#filter-class", "")

    # The 事件 queue and a case from it.
    number = city["cases"][0].number
    page.click("#tab-incidents-button")
    row = page.locator(f"#case-queue li[data-number='{number}'] button")
    row.wait_for(timeout=WAIT)
    assert page.locator("#case-queue li.case-row").count() == 2
    step("incident-queue")
    page.evaluate("(code) => gridcity.openGrid(code)", BASE_GRID)  # a card left open on the map ...
    page.locator(".gc-popup").wait_for(timeout=WAIT)
    row.click()
    case_card = page.locator(f".case-card[data-number='{number}']")
    case_card.wait_for(timeout=WAIT)
    assert "暴露垃圾" in case_card.inner_text()
    assert page.locator(".gc-popup").count() == 0  # ... goes when a case opens: it would hide the case's point
    # The 事件 tab turned the incidents layer on: the case is drawn where it was reported.
    page.wait_for_function(
        "(n) => gridcityMap.queryRenderedFeatures().some(f => f.properties.number === n)", arg=number, timeout=WAIT
    )
    step("incident-case")

    # A right-click on the corner: the camera that sees it.
    page.evaluate("([lon, lat]) => gridcityMap.jumpTo({center: [lon, lat], zoom: 17})", [LON, LAT])
    page.wait_for_function("() => gridcityMap.loaded() && gridcityMap.areTilesLoaded()", timeout=WAIT)
    x, y = page.evaluate(
        "([lon, lat]) => { const p = gridcityMap.project([lon, lat]); return [p.x, p.y]; }", [LON, LAT]
    )
    frame = page.locator("#map").bounding_box()
    page.mouse.click(frame["x"] + x, frame["y"] + y, button="right")
    seeing = page.locator(".gc-card[data-kind='cameras-seeing']")
    seeing.locator(f".camera-row[data-device-id='{city['camera'].device_id}']").wait_for(timeout=WAIT)
    assert "龙桥路口枪机" in seeing.inner_text()
    step("cameras-seeing")

    # The 巡查 tab: the grid worker who walked the base grid on the day of the fixes.
    page.click("#tab-patrols-button")
    page.fill("#patrol-date", city["patrol_day"])
    worker_row = page.locator("#patrol-workers li[data-username='walk-worker']")
    worker_row.wait_for(timeout=WAIT)
    assert "王网格" in worker_row.inner_text() and "鼓楼街道办事处" in worker_row.inner_text()
    step("patrol-workers")
    _clean(page, base)


def test_a_dispatcher_reads_phones_attributes_and_a_clickable_grid_on_the_component_card(
    live_server, browser, tmp_path
):
    city = _city()
    lamp = city["lamp"]
    page, base = _page(browser, DESKTOP), live_server.url
    step = Steps(page, tmp_path, "dispatcher-card")
    _log_in(page, base, "walk-dispatcher")
    _map_ready(page)
    page.evaluate("(code) => gridcity.openComponent(code)", lamp.code)
    card = page.locator(f".gc-card[data-kind=component][data-code='{lamp.code}']")
    card.wait_for(timeout=WAIT)
    step("component-card")
    text = card.inner_text()
    missing = [
        f"{what} phone"
        for what, phone in (("owner", "0537-3411111"), ("maintainer", "0537-3433333"))
        if phone not in text
    ]
    missing += [
        f"attribute {label}"
        for label, value in (("杆高", "10"), ("光源", "LED"), ("功率", "150"))
        if label not in text or value not in text
    ]
    grid_link = card.locator("a, button").filter(has_text="龙桥第一网格")
    if grid_link.count() != 1:
        missing.append("a clickable grid named 龙桥第一网格")
    try:
        assert missing == [], missing
        grid_link.click()
        page.locator(f".gc-card[data-kind=grid][data-code='{BASE_GRID}']").wait_for(timeout=WAIT)
        step("grid-from-card")
    finally:
        _clean(page, base)


def test_a_dispatcher_reads_parent_and_counts_on_the_grid_card(live_server, browser, tmp_path):
    _city()
    page, base = _page(browser, DESKTOP), live_server.url
    step = Steps(page, tmp_path, "dispatcher-grid")
    _log_in(page, base, "walk-dispatcher")
    _map_ready(page)
    page.evaluate("(code) => gridcity.openGrid(code)", BASE_GRID)
    card = page.locator(f".gc-card[data-kind=grid][data-code='{BASE_GRID}']")
    card.wait_for(timeout=WAIT)
    # Six components in the grid: four streetlights (one damaged), a manhole cover, a hydrant.
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:  # a summary fetched after the card opens may land a little later
        page.wait_for_function(
            "(sel) => ['龙桥社区', '破损'].every(t => (document.querySelector(sel) || {textContent: ''}).textContent.includes(t))",
            arg=f".gc-card[data-kind=grid][data-code='{BASE_GRID}']",
            timeout=5_000,
        )
    except PlaywrightTimeout:
        pass
    step("grid-card")
    text = card.inner_text()
    counts = {  # a name followed closely by its count, whatever the layout (list, table, "路灯：4 个")
        "the parent by name (龙桥社区)": "龙桥社区",
        "count by class (路灯 4)": r"路灯\D{0,8}4(?!\d)",
        "count by state (完好 5)": r"完好\D{0,8}5(?!\d)",
        "count by state (破损 1)": r"破损\D{0,8}1(?!\d)",
    }
    missing = [what for what, pattern in counts.items() if not re.search(pattern, text)]
    try:
        assert missing == [], missing
    finally:
        _clean(page, base)


# ---- 2. the maintenance unit ---------------------------------------------------------------------


def test_a_maintenance_unit_reads_its_own_assets_and_downloads_names(live_server, browser, tmp_path):
    city = _city()
    page, base = _page(browser, DESKTOP, accept_downloads=True), live_server.url
    step = Steps(page, tmp_path, "unit")
    _log_in(page, base, "walk-unit")
    _map_ready(page)
    step("map-ready")

    page.click("#unit-link")
    page.wait_for_url(base + "/unit/")
    assert "兖州区路灯管理所" in page.locator("h1").inner_text()
    assert "4" in page.locator("#unit-total").inner_text()
    states = page.locator("#unit-counts thead th").all_inner_texts()
    assert states[1:] == ["完好", "破损", "合计"], states
    assert page.locator("#unit-counts tr[data-class='0118'] td").all_inner_texts() == ["3", "1", "4"]
    # The water company's cover and hydrant are not the unit's.
    for other in ("0101", "0110"):
        assert page.locator(f"#unit-counts tr[data-class='{other}']").count() == 0
    listed = page.locator("#unit-list").inner_text()
    assert city["lamp"].code in listed
    assert city["cover"].code not in listed and city["hydrant"].code not in listed
    page.wait_for_function("() => document.getElementById('unit-map').dataset.shown === '4'", timeout=WAIT)
    step("unit-page")

    with page.expect_download(timeout=WAIT) as info:
        page.click("#unit-csv")
    text = open(info.value.path(), encoding="utf-8-sig").read()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:7] == ["标识码", "名称", "大类", "小类", "状态", "权属单位", "养护单位"], rows[0]
    assert len(rows) == 5
    assert {r[0] for r in rows[1:]} == {c.code for c in (city["lamp"], city["damaged"], *city["others"])}
    assert {r[3] for r in rows[1:]} == {"路灯"} and {r[4] for r in rows[1:]} == {"完好", "破损"}
    assert {r[5] for r in rows[1:]} == {"兖州区路灯管理所"}
    assert {r[6] for r in rows[1:]} == {"兖州区路灯管理所", "兖州明亮照明养护公司"}
    # Names, not codes: no USCC, no state or class code in the cells that name them.
    assert city["lamps"].uscc not in text
    assert not {r[4] for r in rows[1:]} & {"intact", "damaged"} and "0118" not in {r[3] for r in rows[1:]}
    step("unit-csv")
    _clean(page, base)


# ---- 3. the grid worker on a phone ---------------------------------------------------------------


def test_a_grid_worker_on_a_phone_folds_the_panel_locates_and_finds_the_grid(live_server, browser, tmp_path):
    city = _city()
    here = {"longitude": LON + 0.0001, "latitude": LAT + 0.0001}  # inside 龙桥第一网格
    page = _page(browser, PHONE, geolocation=here, permissions=["geolocation"], has_touch=True, is_mobile=True)
    base = live_server.url
    step = Steps(page, tmp_path, "phone")
    _log_in(page, base, "walk-worker")
    _map_ready(page)

    # The map fills the screen; the panel is folded to its tab bar at the bottom.
    box = page.locator("#map").bounding_box()
    assert box["width"] >= PHONE["width"] - 1 and box["height"] >= PHONE["height"] - 45, box
    panel = page.locator("#panel").bounding_box()
    assert panel["height"] <= 45 and panel["y"] + panel["height"] >= PHONE["height"] - 1, panel
    assert not page.locator("#q").is_visible()
    step("map-full-screen")

    # The panel opens over the lower map, inside the screen, and folds again.
    page.click("#panel-toggle")
    page.locator("#q").wait_for(timeout=WAIT)
    assert page.locator("#panel-toggle").get_attribute("aria-expanded") == "true"
    assert _inside(page.locator("#panel").bounding_box(), PHONE)
    step("panel-open")
    page.click("#panel-toggle")
    page.locator("#q").wait_for(state="hidden", timeout=WAIT)
    assert page.locator("#panel-toggle").get_attribute("aria-expanded") == "false"

    # A component's card is a bottom sheet, whole inside the screen.
    page.evaluate("(code) => gridcity.openComponent(code)", city["lamp"].code)
    card = page.locator(f"#sheet .gc-card[data-kind=component][data-code='{city['lamp'].code}']")
    card.wait_for(timeout=WAIT)
    assert _inside(page.locator("#sheet").bounding_box(), PHONE), page.locator("#sheet").bounding_box()
    assert page.locator(".maplibregl-popup").count() == 0
    step("component-sheet")
    page.click("#sheet-close")
    page.wait_for_function("() => document.getElementById('sheet').hidden", timeout=WAIT)

    # 定位: the map goes to where the phone is.
    page.evaluate("() => gridcityMap.jumpTo({center: [117.2, 35.9], zoom: 12})")
    page.click("#locate-me")
    page.wait_for_function(
        "([lon, lat]) => Math.abs(gridcityMap.getCenter().lng - lon) < 1e-3"
        " && Math.abs(gridcityMap.getCenter().lat - lat) < 1e-3 && gridcityMap.getSource('gridcity-here')",
        arg=[here["longitude"], here["latitude"]],
        timeout=WAIT,
    )
    step("located")

    # 我的网格: the base grid the phone stands in, named, as a sheet inside the screen.
    page.click("#my-grid")
    grid_card = page.locator(f"#sheet .gc-card[data-kind=grid][data-code='{BASE_GRID}']")
    grid_card.wait_for(timeout=WAIT)
    assert "龙桥第一网格" in grid_card.inner_text() and "网格长：王网格" in grid_card.inner_text()
    assert _inside(page.locator("#sheet").bounding_box(), PHONE)
    step("my-grid")
    _clean(page, base)


def test_a_grid_worker_whose_session_ended_logs_in_again_to_the_same_view(live_server, browser, tmp_path):
    city = _city()
    page, base = _page(browser, PHONE, has_touch=True, is_mobile=True), live_server.url
    step = Steps(page, tmp_path, "phone-expired")
    _log_in(page, base, "walk-worker")
    _map_ready(page)

    # A view worth coming back to: a zoom and the base grid's card.
    page.evaluate("([lon, lat]) => gridcityMap.jumpTo({center: [lon, lat], zoom: 16})", [LON, LAT])
    page.evaluate("(code) => gridcity.openGrid(code)", BASE_GRID)
    page.locator(f"#sheet .gc-card[data-kind=grid][data-code='{BASE_GRID}']").wait_for(timeout=WAIT)
    page.wait_for_function(
        "(code) => location.search.includes('card=g%3A' + code) && location.hash.startsWith('#16/')",
        arg=BASE_GRID,
        timeout=WAIT,
    )
    view = page.evaluate("() => location.pathname + location.search + location.hash")
    step("view")

    # The session ends on the server (as an administrator's logout or its expiry would end it).
    cookie = next(c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    importlib.import_module(settings.SESSION_ENGINE).SessionStore(session_key=cookie["value"]).delete()
    page.evaluate(
        """() => window.addEventListener('beforeunload', () => sessionStorage.setItem('seen',
                 document.getElementById('status').textContent))"""
    )
    page.evaluate("(code) => { gridcity.openComponent(code); }", city["lamp"].code)  # the page leaves
    page.wait_for_url(lambda url: "/accounts/login/" in url, timeout=WAIT)
    seen = page.evaluate("() => sessionStorage.getItem('seen')") or ""
    assert "登录已过期" in seen and "无权查看" not in seen, seen
    assert "登录已过期" in page.locator("#expired").inner_text()
    assert unquote(parse_qs(urlsplit(page.url).query)["next"][0]) == unquote(view)
    step("login-expired")

    page.fill("#id_username", "walk-worker")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    _map_ready(page)
    assert page.evaluate("() => location.pathname + location.search") == view.split("#")[0]
    assert round(page.evaluate("() => gridcityMap.getZoom()")) == 16
    page.locator(f"#sheet .gc-card[data-kind=grid][data-code='{BASE_GRID}']").wait_for(timeout=WAIT)
    step("back-to-view")
    # Chromium logs the refused call itself (401/403): it is what this test provokes.
    _clean(page, base, allowed=("status of 401", "status of 403"))


def test_the_coordinate_readout_does_not_claim_zero_zero_before_the_pointer_moves(live_server, browser, tmp_path):
    _city()
    page, base = _page(browser, DESKTOP), live_server.url
    _log_in(page, base, "walk-dispatcher")
    _map_ready(page)
    page.wait_for_function("() => gridcityMap.loaded()", timeout=WAIT)
    _screenshot(page, tmp_path, "readout-01-start.png")
    shown = page.locator("#coords").inner_text()
    centre = page.evaluate("() => gridcityMap.getCenter().toArray()")
    numbers = [float(v) for v in re.findall(r"\d+\.\d+", shown)]
    try:
        # Blank until the pointer moves, or the centre of what is shown: either is true; 0,0 is not.
        assert numbers == [] or (abs(numbers[0] - centre[0]) < 0.01 and abs(numbers[1] - centre[1]) < 0.01), (
            shown,
            centre,
        )
    finally:
        _clean(page, base)
