"""The components' map style: cluster counts written on the clusters (without a glyph server),
state-aware points, points of at least 5 px from z16."""

import pytest
from django.contrib.gis.geos import Point

from components.map_layers import STATE_RINGS, component_style
from components.models import ComponentState
from layers import catalogue
from tests.factories import ComponentFactory, make_user
from tests.gis_core.test_viewer import PASSWORD, _log_in, _screenshot, browser_page  # noqa: F401
from tests.tiles.conftest import _empty_tile_cache  # noqa: F401


def _layer(style, suffix):
    return next(sl for sl in style if sl["id"] == suffix)


def test_clusters_carry_their_count_as_text():
    style = component_style("#2563eb")
    count = _layer(style, "cluster-count")
    assert count["type"] == "symbol"
    assert "count" in str(count["layout"]["text-field"])
    assert ["has", "count"] in count["filter"]


@pytest.mark.django_db
def test_every_state_of_the_states_table_but_intact_is_drawn_with_a_ring():
    points = _layer(component_style("#2563eb"), "points")["paint"]
    ring = points["circle-stroke-color"]
    for state in ComponentState.objects.values_list("code", flat=True):
        assert state in STATE_RINGS, f"state {state} has no ring of its own"
        colour = ring[ring.index(state) + 1]
        assert (colour == "#ffffff") == (state == "intact")
    # Unknown (locally added) states still get a ring that is not the intact one.
    assert ring[-1] != "#ffffff"


def test_points_are_at_least_5_px_from_z16():
    radius = _layer(component_style("#2563eb"), "points")["paint"]["circle-radius"]
    stops = dict(zip(radius[3::2], radius[4::2]))
    assert stops[16] >= 5 and all(v >= 5 for v in stops.values())


def test_every_component_layer_has_the_count_and_rings():
    for layer in catalogue.layers():
        if layer.id.startswith("components") and layer.tiles:
            ids = {sl["id"] for sl in layer.tiles.style}
            assert {"clusters", "cluster-count", "points"} <= ids, layer.id


@pytest.mark.usefixtures("_empty_tile_cache")
@pytest.mark.django_db(transaction=True)
def test_cluster_counts_render_in_the_browser_without_glyphs(live_server, browser_page, tmp_path):  # noqa: F811
    """MapLibre places the count labels (queryRenderedFeatures returns only placed symbols) with no
    `glyphs` in the style and no request leaving our origin."""
    page, base = browser_page, live_server.url
    lamps = [ComponentFactory(geom=Point(116.83 + i * 0.00005, 35.55, srid=4490)) for i in range(23)]
    damaged = ComponentState.objects.get(code="damaged")
    ComponentFactory(geom=Point(116.8312, 35.5501, srid=4490), state=damaged)
    make_user("style-browser", role="dispatcher", password=PASSWORD)
    _log_in(page, base, "style-browser")
    page.wait_for_selector("#viewer[data-ready='1']", timeout=30_000)
    assert "glyphs" not in page.evaluate("() => gridcityMap.getStyle()")
    for layer_id in ("components-clusters", "components-cluster-count", "components-points"):
        page.evaluate(f"() => gridcityMap.setLayoutProperty('{layer_id}', 'visibility', 'visible')")
    page.evaluate("() => gridcityMap.jumpTo({center: [116.8306, 35.55], zoom: 12})")
    page.wait_for_function(
        """() => gridcityMap.queryRenderedFeatures({layers: ['components-cluster-count']})
                 .some(f => f.properties.count === 24)""",
        timeout=30_000,
    )
    _screenshot(page, tmp_path, "cluster-counts.png")
    page.evaluate("() => gridcityMap.jumpTo({center: [116.8306, 35.55], zoom: 17})")
    page.wait_for_function(
        """() => gridcityMap.queryRenderedFeatures({layers: ['components-points']})
                 .some(f => f.properties.state === 'damaged')""",
        timeout=30_000,
    )
    _screenshot(page, tmp_path, "state-points.png")
    foreign = [u for u in page.requests if not u.startswith((base + "/", "data:", "blob:"))]
    assert foreign == [], foreign
    assert not [m for m in page.console if m.startswith("pageerror")], page.console
    assert len(lamps) == 23
