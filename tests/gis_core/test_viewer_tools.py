"""The viewer's map tools in a real browser (issue 13): the CGCS2000 coordinate readout that copies on
a click, distance and area in metres (server-side, in the GK zone: gis_core/measure.py) with map clicks
that add vertices instead of opening cards, and layer opacity. Before, none of these existed."""

import pytest
from pyproj import Geod

from tests.factories import make_user
from tests.gis_core.test_viewer import PASSWORD, _screenshot
from tests.gis_core.test_viewer_frame import DESKTOP, LAT, LON, _city, _clean, _log_in, _page, browser  # noqa: F401
from tests.tiles.conftest import _empty_tile_cache  # noqa: F401

GEOD = Geod(ellps="GRS80")  # the CGCS2000 ellipsoid, to 0.1 mm


def _xy(page, lon, lat):
    p = page.evaluate("([lon, lat]) => gridcityMap.project([lon, lat])", [lon, lat])
    box = page.locator("#map").bounding_box()
    return box["x"] + p["x"], box["y"] + p["y"]


@pytest.mark.usefixtures("_empty_tile_cache")
@pytest.mark.django_db(transaction=True)
def test_coordinates_measure_and_opacity(live_server, browser, tmp_path):  # noqa: F811
    _city()
    make_user("tools-desk", role="dispatcher", password=PASSWORD)
    page = _page(browser, DESKTOP, permissions=["clipboard-read", "clipboard-write"])
    base = live_server.url
    _log_in(page, base, "tools-desk")
    page.evaluate("([lon, lat]) => gridcityMap.jumpTo({center: [lon, lat], zoom: 16})", [LON, LAT])
    page.wait_for_function("() => gridcityMap.loaded()", timeout=30_000)

    # The readout follows the pointer in CGCS2000 degrees and copies itself.
    page.mouse.move(*_xy(page, LON, LAT))
    lon, lat = (float(v) for v in page.locator("#coords").get_attribute("data-value").split(","))
    assert abs(lon - LON) < 5e-5 and abs(lat - LAT) < 5e-5
    assert "CGCS2000" in page.locator("#coords").inner_text()
    page.click("#coords")
    page.wait_for_function("() => document.getElementById('coords').dataset.copied")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == page.locator("#coords").get_attribute("data-copied") and copied.count(",") == 1

    # Distance: three clicks (the first on the streetlight: no card opens), a double click ends it.
    page.click("#measure-line")
    points = [(LON, LAT), (LON + 0.004, LAT), (LON + 0.004, LAT + 0.003)]
    for p in points[:-1]:
        page.mouse.click(*_xy(page, *p))
    page.mouse.dblclick(*_xy(page, *points[-1]))
    page.wait_for_function("() => document.getElementById('measure-result').dataset.done === '3'", timeout=15_000)
    assert page.locator(".maplibregl-popup").count() == 0
    vertices = page.evaluate("() => gridcity.tools.vertices()")
    assert len(vertices) == 3
    metres = float(page.locator("#measure-result [data-metres]").get_attribute("data-metres"))
    geodesic = GEOD.line_length([v[0] for v in vertices], [v[1] for v in vertices])
    assert abs(metres - geodesic) / geodesic < 1e-4, (metres, geodesic)
    text = page.locator("#measure-result").inner_text()
    assert "米" in text and "EPSG:4548" in text
    _screenshot(page, tmp_path, "measure-line.png")

    # Area: four corners.
    page.click("#measure-area")
    ring = [(LON, LAT), (LON + 0.003, LAT), (LON + 0.003, LAT + 0.002), (LON, LAT + 0.002)]
    for p in ring[:-1]:
        page.mouse.click(*_xy(page, *p))
    page.mouse.dblclick(*_xy(page, *ring[-1]))
    page.wait_for_function("() => document.getElementById('measure-result').dataset.done === '4'", timeout=15_000)
    vertices = page.evaluate("() => gridcity.tools.vertices()")
    square_metres = float(page.locator("#measure-result [data-square-metres]").get_attribute("data-square-metres"))
    area, _ = GEOD.polygon_area_perimeter([v[0] for v in vertices], [v[1] for v in vertices])
    assert abs(square_metres - abs(area)) / abs(area) < 1e-4, (square_metres, area)
    assert "平方米" in page.locator("#measure-result").inner_text()
    _screenshot(page, tmp_path, "measure-area.png")
    page.click("#measure-result .measure-end")
    assert page.locator("#measure-result").is_hidden()
    # Measuring over, a click opens cards again.
    page.mouse.click(*_xy(page, LON, LAT))
    page.locator(".gc-card").first.wait_for(timeout=15_000)

    # Opacity: the slider scales the style's own opacity and 100 % gives it back.
    layer = page.evaluate(
        "() => [...document.querySelectorAll('#layer-tree input.opacity')].map(i => i.dataset.opacityOf)"
        ".find(id => gridcity.isVisible(id) && gridcity.styleLayersOf[id].some(s => gridcityMap.getLayer(s).type === 'circle'))"
    )
    assert layer, "a visible point layer with an opacity slider"
    read = (
        "(id) => gridcity.styleLayersOf[id].filter(s => gridcityMap.getLayer(s).type === 'circle')"
        ".map(s => gridcityMap.getPaintProperty(s, 'circle-opacity'))"
    )
    before = page.evaluate(read, layer)
    page.locator(f"#layer-tree input.opacity[data-opacity-of='{layer}']").fill("50")
    half = page.evaluate(read, layer)
    for own, now in zip(before, half):
        if own is None or isinstance(own, (int, float)):
            assert now == pytest.approx((1 if own is None else own) * 0.5)
        else:
            assert now != own
    page.locator(f"#layer-tree input.opacity[data-opacity-of='{layer}']").fill("100")
    assert page.evaluate(read, layer) == before
    _clean(page, base)
