"""The viewer's 巡查 tab in a real browser (issue 11 section 2): a dispatcher picks a day, finds the
worker in the list or by clicking their track, opens the card, plays the day at 64x, pauses, jumps to
a stop and reads the marker and the clock; the bar on a phone; live positions refreshing on their
own and resting while the page is in the background. Screenshots go to the test's tmp dir."""

import datetime as dt
import time

import pytest
from django.utils import timezone

from components.models import UserProfile
from layers.patrols.ingest import ingest
from tests.factories import OrganisationFactory, make_user
from tests.gis_core import test_viewer
from tests.gis_core.test_viewer import PASSWORD, _click_at, _screenshot
from tests.gis_core.test_viewer_incidents import _log_in
from tests.tiles.conftest import _empty_tile_cache  # noqa: F401

browser_page = test_viewer.browser_page
LON, LAT = 116.8255, 35.5455  # a street corner in 兖州, inside the district
STEP = 0.0001  # ~9 m east per fix: walking
WALK, STAND = 30, 40  # fixes: walk 30, stand 40 (20 min: a stop), walk 30 again
EVERY = 30  # seconds between fixes: the day lasts ~50 min, ~46 s of wall time at 64x


def _yesterday_at_nine():
    day = timezone.localdate() - dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(9, 0)))


def _walk(start):
    lons = [LON + i * STEP for i in range(WALK)]
    lons += [lons[-1]] * STAND
    lons += [lons[-1] + (i + 1) * STEP for i in range(WALK)]
    return [
        {"fix_time": (start + dt.timedelta(seconds=EVERY * i)).isoformat(), "lon": lon, "lat": LAT, "crs": "CGCS2000"}
        for i, lon in enumerate(lons)
    ]


def _worker(username, name=("王", "巡查")):
    worker = make_user(username, role="grid_worker", password=PASSWORD)
    worker.last_name, worker.first_name = name
    worker.save()
    UserProfile.objects.create(user=worker, organisation=OrganisationFactory(name="兴隆庄街道办事处"))
    return worker


def _state(page):
    return page.evaluate("() => gridcity.patrols.playback().state()")


def _local_clock(iso):
    return timezone.localtime(dt.datetime.fromisoformat(iso)).strftime("%H:%M:%S")


def _no_faults(page, base):
    foreign = [u for u in page.requests if not u.startswith((base + "/", "data:", "blob:"))]
    assert foreign == [], foreign
    assert not [m for m in page.console if m.startswith(("pageerror", "error"))], page.console


@pytest.mark.usefixtures("_empty_tile_cache")
@pytest.mark.django_db(transaction=True)
def test_pick_a_worker_play_pause_and_jump_to_a_stop(live_server, browser_page, tmp_path):
    page, base = browser_page, live_server.url
    worker = _worker("patrol-wang")
    start = _yesterday_at_nine()
    assert ingest(worker, {"fixes": _walk(start)})["stored"] == 2 * WALK + STAND
    make_user("patrol-desk", role="dispatcher", password=PASSWORD)
    day = start.date().isoformat()

    _log_in(page, base, "patrol-desk")
    page.click("#tab-patrols-button")
    assert page.locator("#tab-patrols").is_visible() and not page.locator("#tab-map").is_visible()
    assert page.input_value("#patrol-date") == timezone.localdate().isoformat()  # today by default
    page.fill("#patrol-date", day)
    row = page.locator("#patrol-workers li[data-username='patrol-wang']")
    row.wait_for(timeout=15_000)
    assert "王巡查" in row.inner_text() and "兴隆庄街道办事处" in row.inner_text() and "09:00–09:49" in row.inner_text()
    page.fill("#patrol-q", "nobody")
    page.locator("#patrol-workers li").first.wait_for(state="detached", timeout=15_000)
    page.fill("#patrol-q", "王")
    row.wait_for(timeout=15_000)

    # A click on the day's line on the map opens the worker's card.
    page.evaluate("([lon, lat]) => gridcityMap.jumpTo({center: [lon, lat], zoom: 17})", [LON + 10 * STEP, LAT])
    page.wait_for_function(
        "() => gridcityMap.queryRenderedFeatures().some(f => f.properties.worker === 'patrol-wang' && f.properties.day)",
        timeout=30_000,
    )
    _click_at(page, LON + 10 * STEP, LAT)
    card = page.locator(f".patrol-card[data-username='patrol-wang'][data-date='{day}']")
    card.wait_for(timeout=15_000)
    text = card.inner_text()
    for part in ("王巡查", "兴隆庄街道办事处", day, "09:00–09:49", "1 处", "0.54 公里"):
        assert part in text, (part, text)
    answer = page.evaluate(f"async () => (await fetch('/api/patrols/workers/patrol-wang/days/{day}/')).json()")
    [stop] = answer["stops"]

    # Play at 64x: the clock runs at 64 s a second; pause holds it.
    card.locator("button.play-day").click()
    bar = page.locator("#playback")
    bar.wait_for()
    page.select_option("#playback .pb-speed", "64")
    page.wait_for_function("() => gridcity.patrols.playback().state().playing", timeout=5_000)
    # Day time over wall time between two animation frames a second apart: 64 to the frame.
    rate = page.evaluate(
        """async () => {
            const pb = gridcity.patrols.playback();
            const a = pb.state();
            await new Promise((r) => setTimeout(r, 1000));
            const b = pb.state();
            return b.frameAt > a.frameAt ? (b.ms - a.ms) / (b.frameAt - a.frameAt) : null;
        }"""
    )
    assert rate == pytest.approx(64, rel=0.01), rate
    bar.locator(".pb-play").click()
    paused = _state(page)
    assert not paused["playing"] and paused["speed"] == 64
    assert dt.datetime.fromisoformat(paused["time"].replace("Z", "+00:00")) > start
    time.sleep(0.5)
    assert _state(page)["time"] == paused["time"]
    assert bar.locator(".pb-clock").inner_text() == _local_clock(paused["time"].replace("Z", "+00:00"))
    _screenshot(page, tmp_path, "patrol-1-paused.png")

    # The stop's tick jumps there: the marker on the stop's first fix, the clock at its start.
    first = next(c for c in answer["coordinates"] if c[0] == stop["start"])
    bar.locator(".pb-tick[data-stop='0']").click()
    at = _state(page)
    assert abs(at["lon"] - first[1]) < 1e-7 and abs(at["lat"] - first[2]) < 1e-7, (at, first)
    assert float(bar.get_attribute("data-lon")) == pytest.approx(first[1], abs=1e-7)
    assert bar.locator(".pb-clock").inner_text() == _local_clock(stop["start"])
    # The stop marker is drawn on the map too.
    assert page.evaluate("() => gridcityMap.queryRenderedFeatures({layers: ['patrol-pb-stops']}).length") == 1

    # Scrub near the end and play: it stops on the last fix.
    page.evaluate(
        "() => { const s = document.querySelector('#playback .pb-slider'); s.value = s.max - 20;"
        " s.dispatchEvent(new Event('input', {bubbles: true})); }"
    )
    bar.locator(".pb-play").click()
    page.wait_for_function("() => !gridcity.patrols.playback().state().playing", timeout=10_000)
    end = _state(page)
    last = answer["coordinates"][-1]
    assert (end["lon"], end["lat"]) == (pytest.approx(last[1], abs=1e-7), pytest.approx(last[2], abs=1e-7))
    assert bar.locator(".pb-clock").inner_text() == _local_clock(last[0])
    _screenshot(page, tmp_path, "patrol-2-end.png")

    # The stop's point on the map jumps there too.
    _click_at(page, stop["lon"], stop["lat"])
    page.wait_for_function("(t) => gridcity.patrols.playback().state().time !== t", arg=end["time"], timeout=5_000)
    at = _state(page)
    assert (at["lon"], at["lat"]) == (pytest.approx(first[1], abs=1e-7), pytest.approx(first[2], abs=1e-7))
    assert bar.locator(".pb-clock").inner_text() == _local_clock(stop["start"])
    bar.locator(".pb-close").click()
    assert page.locator("#playback").count() == 0
    _no_faults(page, base)


@pytest.mark.usefixtures("_empty_tile_cache")
@pytest.mark.django_db(transaction=True)
def test_the_playback_bar_on_a_phone(live_server, browser_page, tmp_path):
    page, base = browser_page, live_server.url
    page.set_viewport_size({"width": 390, "height": 844})
    worker = _worker("patrol-li", name=("李", "四"))
    start = _yesterday_at_nine()
    ingest(worker, {"fixes": _walk(start)})
    make_user("patrol-desk", role="dispatcher", password=PASSWORD)

    _log_in(page, base, "patrol-desk")
    page.click("#tab-patrols-button")
    page.fill("#patrol-date", start.date().isoformat())
    page.locator("#patrol-workers li[data-username='patrol-li'] button").click()
    card = page.locator(".patrol-card[data-username='patrol-li']")
    card.wait_for(timeout=15_000)
    card.locator("button.play-day").click()
    bar = page.locator("#playback")
    bar.wait_for()
    box = bar.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["y"] + box["height"] <= 844
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    for control in (".pb-play", ".pb-speed", ".pb-close"):
        assert bar.locator(control).bounding_box()["height"] >= 44, control
    assert bar.locator(".pb-tick").bounding_box()["width"] >= 16
    answer = page.evaluate(f"async () => (await fetch('/api/patrols/workers/patrol-li/days/{start.date()}/')).json()")
    bar.locator(".pb-play").click()  # 回放 started it: pause
    assert bar.get_attribute("data-playing") == "false"
    bar.locator(".pb-tick[data-stop='0']").click()
    assert bar.locator(".pb-clock").inner_text() == _local_clock(answer["stops"][0]["start"])
    _screenshot(page, tmp_path, "patrol-phone.png")
    _no_faults(page, base)


def _position_requests(page):
    return [u for u in page.requests if "/api/patrols/positions/" in u]


@pytest.mark.usefixtures("_empty_tile_cache")
@pytest.mark.django_db(transaction=True)
def test_live_positions_refresh_and_rest_in_the_background(live_server, browser_page, tmp_path):
    page, base = browser_page, live_server.url
    walker = _worker("patrol-zhao", name=("赵", "六"))
    make_user("patrol-desk", role="dispatcher", password=PASSWORD)

    _log_in(page, base, "patrol-desk")
    page.click("#tab-patrols-button")  # turns the positions layer on
    assert page.locator("#layer-tree input[data-layer='patrol_positions']").is_checked()
    page.wait_for_function("() => document.getElementById('viewer').dataset.liveRefreshed", timeout=15_000)
    assert page.evaluate("() => gridcity.patrols.live().features.length") == 0

    # A fix arrives while the page is open: it shows within a refresh, without a reload.
    now = timezone.now().replace(microsecond=0)
    ingest(walker, {"fixes": [{"fix_time": now.isoformat(), "lon": LON, "lat": LAT, "crs": "CGCS2000"}]})
    page.wait_for_function(
        "() => gridcity.patrols.live().features.some(f => f.properties.worker === 'patrol-zhao')", timeout=15_000
    )
    page.evaluate("([lon, lat]) => gridcityMap.jumpTo({center: [lon, lat], zoom: 17})", [LON, LAT])
    page.wait_for_function(
        "() => gridcityMap.queryRenderedFeatures({layers: ['patrol-live']}).some(f => f.properties.worker === 'patrol-zhao')",
        timeout=15_000,
    )
    _screenshot(page, tmp_path, "patrol-live.png")

    # A click on the position opens the worker's card for today.
    _click_at(page, LON, LAT)
    page.locator(f".patrol-card[data-username='patrol-zhao'][data-date='{timezone.localdate().isoformat()}']").wait_for(
        timeout=15_000
    )

    # In the background: no more requests; back in front: at once again.
    page.evaluate(
        "() => { Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});"
        " document.dispatchEvent(new Event('visibilitychange')); }"
    )
    assert not page.evaluate("() => gridcity.patrols.liveScheduled()")
    before = len(_position_requests(page))
    time.sleep(6)
    assert len(_position_requests(page)) <= before + 1  # at most one already on its way
    resting = len(_position_requests(page))
    page.evaluate(
        "() => { Object.defineProperty(document, 'visibilityState', {value: 'visible', configurable: true});"
        " document.dispatchEvent(new Event('visibilitychange')); }"
    )
    deadline = time.monotonic() + 3
    while len(_position_requests(page)) == resting and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert len(_position_requests(page)) > resting

    # Turning the layer off stops the polling too.
    page.click("#tab-map-button")
    page.locator("#layer-tree input[data-layer='patrol_positions']").uncheck()
    assert not page.evaluate("() => gridcity.patrols.liveScheduled()")
    _no_faults(page, base)
