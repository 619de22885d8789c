"""The heat map in the viewer (chromium): turning the layer on shows its legend box with the ramp
from the API, and the date range chosen there reaches the PNG tile URLs and the download link."""

import pytest

from components import roles
from tests.factories import make_user
from tests.gis_core.test_viewer import PASSWORD, _log_in, _screenshot, browser_page  # noqa: F401
from tests.layers.patrols.conftest import LAT, LON
from tests.layers.patrols.helpers import post
from tests.layers.patrols.test_heatmap import DAY, walk
from tests.tiles.conftest import _empty_tile_cache  # noqa: F401


@pytest.mark.usefixtures("_empty_tile_cache")
@pytest.mark.django_db(transaction=True)
def test_the_heat_map_layer_shows_its_legend_and_date_range(live_server, browser_page, tmp_path):  # noqa: F811
    page, base = browser_page, live_server.url
    worker = make_user("heat-walker", roles.GRID_WORKER, password=PASSWORD)
    assert post(worker, {"fixes": walk(LON)}).json()["stored"] == 62
    make_user("heat-viewer", roles.DISPATCHER, password=PASSWORD)

    _log_in(page, base, "heat-viewer")
    page.wait_for_selector("#viewer[data-ready='1']", timeout=30_000)
    legend = page.locator("#heatmap-legend")
    assert legend.is_hidden()
    page.evaluate("([lon, lat]) => gridcityMap.jumpTo({center: [lon, lat], zoom: 16})", [LON, LAT])
    page.locator("#layer-tree input[data-layer='patrol_heatmap']").check()
    legend.wait_for(state="visible", timeout=10_000)
    page.wait_for_function("() => document.querySelectorAll('#heatmap-legend .stop').length >= 5", timeout=10_000)
    assert "分钟/公顷" in legend.inner_text()

    legend.locator("input[name=from]").fill(DAY.isoformat())
    legend.locator("input[name=from]").dispatch_event("change")
    legend.locator("input[name=to]").fill(DAY.isoformat())
    legend.locator("input[name=to]").dispatch_event("change")
    wanted = "/tiles/patrol_heatmap/"
    # MapLibre fetches tiles from a web worker: watch the requests Playwright saw, not the page's timing API
    for _ in range(200):
        if any(wanted in url and f"from={DAY}" in url for url in page.requests):
            break
        page.wait_for_timeout(100)
    assert any(wanted in url and f"from={DAY}" in url for url in page.requests)
    assert f"from={DAY}&to={DAY}" in legend.locator("a").get_attribute("href")
    _screenshot(page, tmp_path, "viewer-heatmap.png")
    page.locator("#layer-tree input[data-layer='patrol_heatmap']").uncheck()
    assert legend.is_hidden()
    assert not [m for m in page.console if m.startswith("pageerror")], page.console
