"""The overview map (鹰眼, issue 13): a small map of the district and street grids showing the main
map's view as a rectangle; a click on it moves the main map; hidden on a phone."""

import pytest
from django.contrib.gis.geos import Polygon

from layers.grids.services import create_grid
from tests.factories import make_user
from tests.gis_core.test_viewer import PASSWORD, _log_in, browser_page  # noqa: F401
from tests.tiles.conftest import _empty_tile_cache  # noqa: F401

X, Y = 116.83, 35.55


@pytest.mark.usefixtures("_empty_tile_cache")
@pytest.mark.django_db(transaction=True)
def test_the_overview_follows_the_map_and_moves_it(live_server, browser_page):  # noqa: F811
    page, base = browser_page, live_server.url
    create_grid(code="370812", name="兖州区", level=1, geom=Polygon.from_bbox((X - 0.05, Y - 0.05, X + 0.05, Y + 0.05)))
    make_user("overview-test", role="dispatcher", password=PASSWORD)
    _log_in(page, base, "overview-test")
    page.wait_for_selector("#viewer[data-ready='1']", timeout=30_000)
    page.wait_for_selector("#overview[data-ready='1']", timeout=30_000)
    assert page.locator("#overview-map canvas").is_visible()
    page.evaluate("([x, y]) => gridcityMap.jumpTo({center: [x, y], zoom: 15})", [X + 0.01, Y])
    page.wait_for_function(
        """([x]) => { const o = gridcity.overviewMap; const c = o.getCenter();
                      return Math.abs(c.lng - x) < 1e-6 && Math.abs(o.getZoom() - 11) < 1e-6; }""",
        arg=[X + 0.01],
        timeout=10_000,
    )
    # It draws the grids, not only the rectangle (a filter on the layer ids once matched none).
    page.wait_for_function(
        """() => gridcity.overviewMap.queryRenderedFeatures({layers: ['district_grids-fill']}).length > 0""",
        timeout=10_000,
    )
    # The rectangle is the main map's bounds.
    ring = page.evaluate("() => gridcity.overviewView.geometry.coordinates[0]")
    west, east = page.evaluate("() => [gridcityMap.getBounds().getWest(), gridcityMap.getBounds().getEast()]")
    assert abs(ring[0][0] - west) < 1e-9 and abs(ring[1][0] - east) < 1e-9
    # A click left of the centre of the overview moves the main map west.
    frame = page.locator("#overview-map canvas").bounding_box()
    page.mouse.click(frame["x"] + frame["width"] * 0.25, frame["y"] + frame["height"] / 2)
    page.wait_for_function(f"() => gridcityMap.getCenter().lng < {X + 0.01 - 0.005}", timeout=10_000)
    page.click("#overview-fold")
    assert not page.locator("#overview-map").is_visible()
    outside = [u for u in page.requests if not u.startswith(base) and not u.startswith(("data:", "blob:"))]
    assert outside == []
    assert not [m for m in page.console if m.startswith(("error", "pageerror"))], page.console


@pytest.mark.django_db(transaction=True)
def test_no_overview_on_a_phone(live_server, browser_page):  # noqa: F811
    page, base = browser_page, live_server.url
    page.set_viewport_size({"width": 390, "height": 844})
    make_user("overview-phone", role="dispatcher", password=PASSWORD)
    _log_in(page, base, "overview-phone")
    page.wait_for_selector("#viewer[data-ready='1']", timeout=30_000)
    assert not page.locator("#overview").is_visible()
