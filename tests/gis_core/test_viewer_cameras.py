"""Cameras in a real browser (issue 12): a right-click on the map (desktop), the grid card's
"看此处摄像头" button (phone, 390x844: no right-click there) and a click where nothing is drawn list
the cameras that see the point, with their state and distance, nearest first, then the PTZ cameras
that could turn to it; a row flies to its camera. The incident card lists them as "附近摄像头"."""

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon

from layers.cameras import services as cameras
from layers.incidents import services as incidents
from layers.models import Grid, GridLevel
from tests.factories import make_user
from tests.gis_core import test_viewer
from tests.gis_core.test_viewer import PASSWORD, _screenshot
from tests.gis_core.test_viewer_incidents import _log_in
from tests.tiles.conftest import _empty_tile_cache  # noqa: F401

browser_page = test_viewer.browser_page  # the same chromium fixture
LON, LAT = 116.8255, 35.5455  # a street corner in 兖州, inside the district
M_LAT = 1 / 110_900  # degrees of latitude per metre here
M_LON = 1 / 90_600


def _camera(serial, **values):
    base = {
        "device_id": f"3708120008132{1}{serial:06d}",
        "name": f"摄像机{serial}",
        "azimuth": 0,
        "h_fov": 60,
        "range_m": 100,
    }
    return cameras.create(None, {**base, **values})


def _setup():
    make_user("viewer-cameras", role="dispatcher", password=PASSWORD)
    # 30 m south looking north: sees the point; 60 m south, offline, also looking north: sees it too.
    near = _camera(1, name="南侧枪机", lon=LON, lat=LAT - 30 * M_LAT)
    far = _camera(2, name="远处枪机", lon=LON, lat=LAT - 60 * M_LAT, state="offline")
    # A dome 40 m east looking east: could turn to the point. A fixed one looking away: not listed.
    dome = _camera(3, name="东侧球机", lon=LON + 40 * M_LON, lat=LAT, azimuth=90, ptz="dome")
    _camera(4, name="背向枪机", lon=LON, lat=LAT + 30 * M_LAT, azimuth=0)
    # A base grid around the point only (the click west of it lands on nothing).
    level, _ = GridLevel.objects.get_or_create(
        level=4, defaults={"slug": "base", "name": "单元网格", "code_length": 15}
    )
    square = Polygon.from_bbox((LON - 0.0008, LAT - 0.0008, LON + 0.0008, LAT + 0.0008))
    square.srid = 4490
    Grid.objects.create(code="370812001001001", name="测试网格", level=level, geom=MultiPolygon(square, srid=4490))
    return near, far, dome


def _xy(page, lon, lat):
    x, y = page.evaluate(
        "([lon, lat]) => { const p = gridcityMap.project([lon, lat]); return [p.x, p.y]; }", [lon, lat]
    )
    frame = page.locator("#map").bounding_box()
    return frame["x"] + x, frame["y"] + y


def _rows(card):
    card.locator(".camera-list .camera-row, .camera-list .cameras-none").first.wait_for(timeout=15_000)
    return [
        (r.get_attribute("data-device-id"), r.get_attribute("data-kind"), r.get_attribute("data-state"))
        for r in card.locator(".camera-row").all()
    ]


@pytest.mark.usefixtures("_empty_tile_cache")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("viewport", ["1280x800", "390x844"])
def test_cameras_that_see_a_point_in_the_viewer(live_server, browser_page, tmp_path, viewport):
    page, base = browser_page, live_server.url
    width, height = (int(v) for v in viewport.split("x"))
    page.set_viewport_size({"width": width, "height": height})
    near, far, dome = _setup()
    want = [
        (near.device_id, "sees", "online"),
        (far.device_id, "sees", "offline"),
        (dome.device_id, "could_turn", "online"),
    ]
    _log_in(page, base, "viewer-cameras")
    page.evaluate("([lon, lat]) => gridcityMap.jumpTo({center: [lon, lat], zoom: 17})", [LON, LAT])
    page.wait_for_function("() => gridcityMap.loaded() && gridcityMap.areTilesLoaded()", timeout=30_000)
    x, y = _xy(page, LON, LAT)

    if width > 640:
        # Desktop: right-click anywhere.
        page.mouse.click(x, y, button="right")
        card = page.locator(".gc-card[data-kind='cameras-seeing']")
    else:
        # Phone: a tap opens the grid card, whose button lists the cameras.
        page.wait_for_function(
            "() => gridcityMap.queryRenderedFeatures().some(f => f.properties.code === '370812001001001')",
            timeout=30_000,
        )
        page.mouse.click(x, y)
        grid = page.locator(".gc-card[data-kind='grid']")
        grid.wait_for(timeout=15_000)
        grid.locator("button.camera-here").click()
        card = page.locator(".gc-card[data-kind='cameras-seeing']")
    card.wait_for(timeout=15_000)
    assert _rows(card) == want
    text = card.inner_text()
    assert "南侧枪机" in text and "离线" in text and "可转向此处" in text and "背向枪机" not in text
    assert "30 米" in text or "29 米" in text or "31 米" in text
    dot = card.locator(f".camera-row[data-device-id='{far.device_id}'] .camera-dot").get_attribute("style")
    assert "#94a3b8" in dot  # offline grey
    _screenshot(page, tmp_path, f"cameras-seeing-{viewport}.png")

    # A row flies to its camera.
    card.locator(f".camera-row[data-device-id='{dome.device_id}'] button").click()
    page.wait_for_function(
        "([lon, lat]) => { const c = gridcityMap.getCenter(); return Math.abs(c.lng - lon) < 1e-5 && Math.abs(c.lat - lat) < 1e-5; }",
        arg=[dome.geom.x, dome.geom.y],
        timeout=15_000,
    )

    if width > 640:
        # A plain click where nothing is drawn (west of the grid) lists the cameras there: none.
        page.evaluate("([lon, lat]) => gridcityMap.jumpTo({center: [lon, lat], zoom: 17})", [LON - 0.003, LAT])
        page.wait_for_function("() => gridcityMap.loaded() && gridcityMap.areTilesLoaded()", timeout=30_000)
        page.mouse.click(*_xy(page, LON - 0.003, LAT))
        empty = page.locator(".gc-card[data-kind='cameras-seeing'] .cameras-none")
        empty.wait_for(timeout=15_000)
        assert "没有摄像头正对此处" in empty.inner_text()

    # The incident card: 附近摄像头 from the same API.
    dispatcher = make_user("viewer-cameras-2", role="dispatcher")
    case = incidents.report_case(dispatcher, "06010", [LON, LAT], description="暴露垃圾")
    page.evaluate("(n) => gridcity.incidents.openCase(n)", case.number)
    section = page.locator(f".case-card[data-number='{case.number}'] .case-cameras")
    section.wait_for(timeout=15_000)
    assert "附近摄像头" in section.inner_text()
    assert _rows(section) == want
    _screenshot(page, tmp_path, f"cameras-incident-{viewport}.png")
    errors = [m for m in page.console if m.startswith("pageerror") or m.startswith("error")]
    assert not errors, errors
