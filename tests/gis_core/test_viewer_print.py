"""打印/导出 in the viewer (chromium): the map control asks /api/print/ for the current view with the
layers shown and saves the page as a download that opens as an image of the map's size."""

import io

import numpy as np
import pyogrio.raw
import pytest
import shapely
from PIL import Image

from components import roles
from layers import catalogue
from layers.basemap.services import load_basemap
from tests.factories import make_user
from tests.gis_core.test_viewer import PASSWORD, _log_in, _screenshot, browser_page  # noqa: F401
from tests.tiles.conftest import _empty_tile_cache  # noqa: F401


@pytest.mark.usefixtures("_empty_tile_cache")
@pytest.mark.django_db(transaction=True)
def test_the_print_button_downloads_the_view(live_server, browser_page, tmp_path):  # noqa: F811
    page, base = browser_page, live_server.url
    path = tmp_path / "water.gpkg"
    pyogrio.raw.write(
        path,
        np.array([shapely.to_wkb(shapely.box(116.82, 35.54, 116.83, 35.546))], dtype=object),
        [np.array(["大水塘"], dtype=object)],
        fields=["name"],
        layer="water",
        crs="EPSG:4490",
        geometry_type="Polygon",
        driver="GPKG",
    )
    assert load_basemap(path).ok
    catalogue.reset()
    make_user("print-viewer", roles.DISPATCHER, password=PASSWORD)

    _log_in(page, base, "print-viewer")
    page.wait_for_selector("#viewer[data-ready='1']", timeout=30_000)
    page.evaluate("() => gridcityMap.jumpTo({center: [116.825, 35.543], zoom: 15})")
    page.locator(".gc-print-open").click()
    page.locator(".gc-print-form input[name=title]").fill("打印测试")
    with page.expect_download(timeout=60_000) as info:
        page.locator(".gc-print-go").click()
    download = info.value
    assert download.suggested_filename == "打印测试.png"
    picture = Image.open(io.BytesIO(open(download.path(), "rb").read()))
    size = page.evaluate("() => [gridcityMap.getContainer().clientWidth, gridcityMap.getContainer().clientHeight]")
    assert picture.width == size[0] * 2 + 96 and picture.height > size[1] * 2
    asked = [u for u in page.requests if "/api/print/" in u]
    assert len(asked) == 1 and "basemap_water" in asked[0] and "scale=2" in asked[0]
    assert "已导出" in page.locator("#status").inner_text()
    _screenshot(page, tmp_path, "viewer-print.png")
    assert not [m for m in page.console if m.startswith(("pageerror", "error")) or "map error" in m], page.console
