"""A maintenance unit at a desktop (issue 13): from the map's footer to 本单位部件, its counts by class and
state, a filter, the map of its own assets only, and the CSV download with names. Before, the unit had
no page of its own (no link, /unit/ a 404). Console errors and requests leaving our origin are checked;
screenshots go to the test's tmp dir (and GRIDCITY_SCREENSHOT_DIR)."""

import csv
import io

import pytest
from django.contrib.gis.geos import Point

from components.models import ComponentClass, ComponentState
from tests.factories import ComponentFactory, OrganisationFactory, make_user
from tests.gis_core.test_viewer import PASSWORD, _screenshot
from tests.gis_core.test_viewer_frame import DESKTOP, _clean, _log_in, _page, browser  # noqa: F401
from tests.tiles.conftest import _empty_tile_cache  # noqa: F401

LON, LAT = 116.8255, 35.5455


@pytest.mark.usefixtures("_empty_tile_cache")
@pytest.mark.django_db(transaction=True)
def test_a_maintenance_unit_reads_counts_filters_maps_and_downloads_its_assets(live_server, browser, tmp_path):  # noqa: F811
    unit = OrganisationFactory(name="兖州区路灯管理所")
    other = OrganisationFactory(name="兖州水务公司")
    lamp, cover = ComponentClass.objects.get(code="0118"), ComponentClass.objects.get(code="0101")
    damaged = ComponentState.objects.get(code="damaged")
    for i in range(3):
        ComponentFactory(
            component_class=lamp, owner=unit, maintainer=unit, geom=Point(LON + i * 0.0003, LAT, srid=4490)
        )
    ComponentFactory(component_class=lamp, maintainer=unit, state=damaged, geom=Point(LON, LAT + 0.0003, srid=4490))
    ComponentFactory(component_class=cover, owner=other, maintainer=other, geom=Point(LON, LAT - 0.0003, srid=4490))
    make_user("unit-desk", role="maintenance_unit", organisation=unit, password=PASSWORD)
    page = _page(browser, DESKTOP, accept_downloads=True)
    base = live_server.url
    _log_in(page, base, "unit-desk")

    page.click("#unit-link")
    page.wait_for_url(base + "/unit/")
    assert "兖州区路灯管理所" in page.locator("h1").inner_text()
    assert "4" in page.locator("#unit-total").inner_text()
    row = page.locator("#unit-counts tr[data-class='0118']")
    states = page.locator("#unit-counts thead th").all_inner_texts()
    assert states[1:] == ["完好", "破损", "合计"], states
    assert row.locator("td").all_inner_texts() == ["3", "1", "4"]
    assert page.locator("#unit-counts tr[data-class='0101']").count() == 0  # the other unit's cover

    # The map draws the unit's four assets and nothing else.
    page.wait_for_function("() => document.getElementById('unit-map').dataset.shown === '4'", timeout=30_000)
    page.wait_for_function(
        "() => unitMap.loaded() && unitMap.queryRenderedFeatures({layers: ['unit']}).length === 4", timeout=30_000
    )
    _screenshot(page, tmp_path, "unit-page.png")

    # A filter narrows table, list, map and download alike, and stays in the address.
    page.select_option("#unit-state", "damaged")
    page.wait_for_url(lambda url: "state=damaged" in url)
    assert "1" in page.locator("#unit-total").inner_text()
    assert page.locator("#unit-list tbody tr").count() == 1
    page.wait_for_function("() => document.getElementById('unit-map').dataset.shown === '1'", timeout=30_000)
    with page.expect_download() as info:
        page.click("#unit-csv")
    text = open(info.value.path(), encoding="utf-8-sig").read()
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 2 and rows[1][4] == "破损" and rows[1][6] == "兖州区路灯管理所" and rows[1][3] == lamp.name
    assert unit.uscc not in text
    _screenshot(page, tmp_path, "unit-page-damaged.png")
    _clean(page, base)
