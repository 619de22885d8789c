"""The admin's map widget in a real browser: the grids and the components around the edited one are
drawn from our own WMS under the geometry, and nothing is fetched from anywhere else."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Polygon

from layers.grids.services import create_grid
from tests.factories import ComponentFactory
from tests.gis_core.test_viewer import browser_page  # noqa: F401  (the chromium page fixture)

PASSWORD = "admin-map-pass-2026"


@pytest.mark.django_db(transaction=True)
def test_the_admin_map_draws_grids_and_components_from_our_wms(live_server, browser_page):  # noqa: F811
    page, base = browser_page, live_server.url
    lamp = ComponentFactory()
    x, y = lamp.geom.x, lamp.geom.y
    create_grid(code="370812", name="兖州区", level=1, geom=Polygon.from_bbox((x - 0.01, y - 0.01, x + 0.01, y + 0.01)))
    get_user_model().objects.create_superuser("map-admin", "a@example.org", PASSWORD)
    page.goto(base + "/admin/login/")
    page.fill("#id_username", "map-admin")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url(base + "/admin/")
    answers = []
    page.on("response", lambda r: answers.append((r.url, r.status, r.headers.get("content-type", ""))))
    page.goto(f"{base}/admin/components/component/{lamp.pk}/change/")
    page.wait_for_function(
        "() => performance.getEntriesByType('resource').some(e => e.name.includes('/wms?'))", timeout=30_000
    )
    page.wait_for_load_state("networkidle")
    wms = [a for a in answers if "/wms?" in a[0]]
    assert wms, answers
    url, status, kind = wms[-1]
    assert status == 200 and kind.startswith("image/png"), (url, status, kind)
    assert "base_grids" in url and "components" in url and "EPSG%3A3857" in url.replace(":", "%3A")
    assert page.locator(".gridcity-wms-context").count() == 1
    outside = [u for u in page.requests if not u.startswith(base) and not u.startswith("data:")]
    assert outside == []
