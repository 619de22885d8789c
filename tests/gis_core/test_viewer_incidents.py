"""The case loop in a real browser (issue 10 section 4): a dispatcher clicks a streetlight, reports
路灯不亮 and dispatches it in one click to its maintainer; the unit's user accepts and handles it from
the 事件 queue; the grid worker verifies and closes it. The card's timeline shows the five steps and
the deadline the clock gave. Screenshots go to the test's tmp dir (and GRIDCITY_SCREENSHOT_DIR)."""

import io
from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from components.models import ComponentClass
from layers.incidents import services
from layers.incidents.models import Case
from tests.factories import ComponentFactory, OrganisationFactory, make_user
from tests.gis_core import test_viewer
from tests.gis_core.test_viewer import PASSWORD, SHOWN, _click_at, _screenshot
from tests.tiles.conftest import _empty_tile_cache  # noqa: F401

browser_page = test_viewer.browser_page  # the same chromium fixture
LON, LAT = 116.8255, 35.5455  # a street corner in 兖州, inside the district
# Chromium logs every non-2xx answer; the one 400 this walk provokes on purpose is not a fault.
EXPECTED_CONSOLE = "the server responded with a status of 400"


def _log_in(page, base, username):
    page.goto(base + "/")
    page.wait_for_url(lambda url: "/accounts/login/" in url)
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    # The map writes its view into the address (#zoom/lat/lon) as soon as it starts.
    page.wait_for_url(lambda url: url.startswith(base + "/") and "/accounts/" not in url)
    page.wait_for_selector("#viewer[data-ready='1']", timeout=30_000)


def _log_out(page, base):
    page.click("text=退出登录")
    page.wait_for_url(base + "/accounts/login/")


def _photos_api() -> bool:
    """Whether intake's photo upload is in this tree (it adds `photos` to steps and events)."""
    try:
        reverse("incident-case-photos", args=["20260101000001"])
    except NoReverseMatch:
        return False
    return True


def _photo() -> dict:
    from PIL import Image  # pillow: a dependency of the incidents app

    out = io.BytesIO()
    Image.new("RGB", (320, 240), (230, 180, 40)).save(out, "JPEG")
    return {"name": "lamp.jpg", "mimeType": "image/jpeg", "buffer": out.getvalue()}


def _open_from_queue(page, number):
    page.click("#tab-incidents-button")
    row = page.locator(f"#case-queue li[data-number='{number}'] button")
    row.wait_for(timeout=15_000)
    row.click()
    return page.locator(f".case-card[data-number='{number}']")


def _step(page, number, action, state, note=None):
    card = page.locator(f".case-card[data-number='{number}']")
    if note is not None:
        card.locator("#case-note").fill(note)
    card.locator(f"button[data-action='{action}']").click()
    page.locator(f".case-card[data-number='{number}'][data-state='{state}'] .ok").wait_for(timeout=15_000)


@pytest.mark.usefixtures("_empty_tile_cache")
@pytest.mark.django_db(transaction=True)
def test_report_dispatch_accept_handle_verify_close_in_the_viewer(live_server, browser_page, tmp_path):
    page, base = browser_page, live_server.url
    unit = OrganisationFactory(name="兖州区路灯管理所")
    lamp = ComponentFactory(
        component_class=ComponentClass.objects.get(code="0118"), geom=Point(LON, LAT, srid=4490), maintainer=unit
    )
    make_user("viewer-dispatcher", role="dispatcher", password=PASSWORD)
    make_user("viewer-unit", role="maintenance_unit", organisation=unit, password=PASSWORD)
    make_user("viewer-grid-worker", role="grid_worker", password=PASSWORD)

    # The dispatcher clicks the streetlight and dispatches it in one click.
    _log_in(page, base, "viewer-dispatcher")
    page.locator("#layer-tree input[data-layer='components_01']").check()
    page.evaluate("([lon, lat]) => gridcityMap.jumpTo({center: [lon, lat], zoom: 18})", [LON, LAT])
    page.wait_for_function(SHOWN, arg=lamp.code, timeout=30_000)
    _click_at(page, LON, LAT)
    card = page.locator(f".gc-card[data-kind=component][data-code='{lamp.code}']")
    card.wait_for(timeout=15_000)
    card.locator("button.dispatch").click()
    form = card.locator("form.report-form[data-mode=dispatch]")
    form.locator("select[name=class_code] option[value='0118']").wait_for(state="attached", timeout=15_000)
    assert "路灯不亮" in form.locator("select[name=class_code]").inner_text()
    form.locator("textarea[name=description]").fill("路灯不亮")
    _screenshot(page, tmp_path, "incident-1-report-form.png")
    form.locator("button[type=submit]").click()

    case_card = page.locator(".case-card[data-state='dispatched']")
    case_card.wait_for(timeout=15_000)
    number = case_card.get_attribute("data-number")
    case = Case.objects.get(number=number)
    assert case.component_id == lamp.pk and case.assigned_org_id == unit.pk and case.description == "路灯不亮"
    assert "已上报并派遣至 兖州区路灯管理所" in case_card.inner_text()
    assert case_card.locator("a.asset").get_attribute("href") == f"/c/{lamp.code}"

    # The deadline in working hours: shown when the clock gives one (helper "clock" fills due_at; on
    # a tree without the clock due_at is null and the card says there is no limit yet).
    answer = page.evaluate("async (n) => (await fetch(`/api/incidents/${n}/`)).json()", number)
    due_at = answer["properties"]["due_at"]
    deadline = case_card.locator(".deadline")
    if due_at:
        assert deadline.get_attribute("data-due-at") == due_at
        assert case_card.locator(".deadline .due-at").inner_text().strip()
        assert "工作时" in deadline.inner_text()
    else:
        assert "暂无时限" in deadline.inner_text()
    _screenshot(page, tmp_path, "incident-2-dispatched.png")
    _log_out(page, base)

    # The unit's user finds it in the queue, accepts and handles it.
    _log_in(page, base, "viewer-unit")
    case_card = _open_from_queue(page, number)
    case_card.wait_for(timeout=15_000)
    labels = case_card.locator("button[data-action]").evaluate_all("bs => bs.map(b => b.textContent)")
    assert {"接单", "处置完成", "回退"} <= set(labels) and "一键派遣" not in labels, labels
    _step(page, number, "accept", "handling")
    photos = _photos_api()
    if photos:  # the handled step with a photo of the lamp, shown in the timeline
        page.set_input_files("#case-photos", files=[_photo()])
    _step(page, number, "handle", "verifying", note="已更换灯泡")
    if photos:
        image = page.locator(f".case-card[data-number='{number}'] .timeline li[data-action='handle'] .photos img")
        image.wait_for(timeout=15_000)
        page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    _screenshot(page, tmp_path, "incident-3-handled.png")
    _log_out(page, base)

    # The grid worker: a 返工 without a reason is refused with the message; then 核查 and 结案.
    # This time from the map: the 事件 tab turns the incidents layer on, and a click on the case opens it.
    _log_in(page, base, "viewer-grid-worker")
    page.click("#tab-incidents-button")
    page.evaluate("([lon, lat]) => gridcityMap.jumpTo({center: [lon, lat], zoom: 18})", [LON, LAT])
    page.wait_for_function(
        "(n) => gridcityMap.queryRenderedFeatures().some(f => f.properties.number === n)", arg=number, timeout=30_000
    )
    _click_at(page, LON, LAT)
    case_card = page.locator(f".case-card[data-number='{number}']")
    case_card.wait_for(timeout=15_000)
    case_card.locator("button[data-action='rework']").click()
    alert = case_card.locator(".case-actions .error")
    alert.filter(has_text="请先在备注中填写原因").wait_for(timeout=15_000)
    assert Case.objects.get(number=number).state == "verifying"
    _step(page, number, "verify", "verifying", note="现场已亮")
    _step(page, number, "close", "closed")

    case_card = page.locator(f".case-card[data-number='{number}'][data-state='closed']")
    steps = case_card.locator(".timeline li").evaluate_all("lis => lis.map(li => li.dataset.action)")
    assert steps == ["report", "dispatch", "accept", "handle", "verify", "close"]
    text = case_card.locator(".timeline").inner_text()
    for label in ("上报", "立案派遣", "接单", "处置完成", "核查", "结案", "兖州区路灯管理所", "已更换灯泡"):
        assert label in text, label
    assert case_card.locator("button[data-action]").count() == 0
    # The map follows: the case's point is drawn in its new state without waiting out the tiles' max-age.
    page.wait_for_function(
        "(n) => gridcityMap.queryRenderedFeatures().some(f => f.properties.number === n && f.properties.state === 'closed')",
        arg=number,
        timeout=15_000,
    )
    _screenshot(page, tmp_path, "incident-4-closed.png")

    foreign = [u for u in page.requests if not u.startswith((base + "/", "data:", "blob:"))]
    assert foreign == [], foreign
    faults = [m for m in page.console if m.startswith(("pageerror", "error")) and EXPECTED_CONSOLE not in m]
    assert faults == [], page.console


def _left(value: str) -> float:
    return float(value) if value not in ("", None) else float("inf")


def _queue(page) -> list[tuple[str, str, str]]:
    """(number, light, minutes left) of the rows, once the queue has answered."""
    page.wait_for_function(
        "() => { const s = document.getElementById('case-status').textContent; return s && !s.includes('正在读取'); }",
        timeout=15_000,
    )
    return page.locator("#case-queue li.case-row").evaluate_all(
        "lis => lis.map(li => [li.dataset.number, li.dataset.light, li.dataset.left])"
    )


@pytest.mark.usefixtures("_empty_tile_cache")
@pytest.mark.django_db(transaction=True)
def test_the_queue_filters_and_puts_the_least_time_left_first(live_server, browser_page, tmp_path):
    page, base = browser_page, live_server.url
    unit = OrganisationFactory(name="兖州区路灯管理所")
    ComponentFactory(
        component_class=ComponentClass.objects.get(code="0118"), geom=Point(LON, LAT, srid=4490), maintainer=unit
    )
    dispatcher = make_user("queue-dispatcher", role="dispatcher", password=PASSWORD)
    lamp = services.report_case(dispatcher, "0118", [LON, LAT], description="路灯不亮")
    services.dispatch(dispatcher, lamp)
    rubbish = [
        services.report_case(dispatcher, "06010", [LON + 0.001 * i, LAT], description="暴露垃圾") for i in (1, 2)
    ]
    clock = Case.objects.exclude(due_at=None).exists()
    if not clock:
        # A tree without the clock sets no deadlines: give two cases one, one of them already past.
        now = timezone.now()
        Case.objects.filter(pk=rubbish[1].pk).update(due_at=now - timedelta(hours=1))
        Case.objects.filter(pk=lamp.pk).update(due_at=now + timedelta(hours=2))

    _log_in(page, base, "queue-dispatcher")
    page.click("#tab-incidents-button")
    rows = _queue(page)
    assert {n for n, _, _ in rows} == {lamp.number, rubbish[0].number, rubbish[1].number}
    lefts = [_left(left) for _, _, left in rows]
    assert lefts == sorted(lefts), rows  # the least time left first, no deadline last
    if not clock:
        assert [n for n, _, _ in rows] == [rubbish[1].number, lamp.number, rubbish[0].number]
        assert [light for _, light, _ in rows] == ["red", "green", ""]
        assert "已超时" in page.locator(f"#case-queue li[data-number='{rubbish[1].number}']").inner_text()
    _screenshot(page, tmp_path, "queue.png")

    page.select_option("#case-filter-class", "06010")
    assert {n for n, _, _ in _queue(page)} == {rubbish[0].number, rubbish[1].number}
    page.select_option("#case-filter-class", "")
    page.select_option("#case-filter-state", "dispatched")
    assert [n for n, _, _ in _queue(page)] == [lamp.number]
    page.select_option("#case-filter-state", "open")
    page.check("#case-filter-overdue")
    overdue = _queue(page)
    assert all(light == "red" for _, light, _ in overdue), overdue
    if not clock:
        assert [n for n, _, _ in overdue] == [rubbish[1].number]
    page.uncheck("#case-filter-overdue")
    assert len(_queue(page)) == 3

    # The search box knows case numbers too.
    page.click("#tab-map-button")
    page.fill("#q", rubbish[0].number)
    page.click("#search button")
    page.locator(f".case-card[data-number='{rubbish[0].number}']").wait_for(timeout=15_000)
    page.locator(".case-card button.back").click()
    assert len(_queue(page)) == 3

    # A phone: the queue and a card stay inside the screen and usable.
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator(f"#case-queue li[data-number='{lamp.number}'] button").click()
    card = page.locator(f".case-card[data-number='{lamp.number}']")
    card.wait_for(timeout=15_000)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    panel = page.evaluate(
        "() => { const p = document.getElementById('panel').getBoundingClientRect(); return [p.left, p.right]; }"
    )
    assert panel[0] >= 0 and panel[1] <= 390
    card.locator("button[data-action='reassign']").scroll_into_view_if_needed()
    assert card.locator("button[data-action='reassign']").is_visible()
    _screenshot(page, tmp_path, "queue-phone-card.png")
    card.locator("button.back").click()
    assert len(_queue(page)) == 3
    assert not [m for m in page.console if m.startswith(("pageerror", "error"))], page.console


@pytest.mark.django_db
def test_the_page_names_the_users_roles_for_its_buttons(client):
    """The viewer offers 上报问题 to reporters and 一键派遣 to the desk only; the API still decides."""
    client.force_login(make_user("roles-grid-worker", role="grid_worker"))
    page = client.get("/").content.decode()
    assert 'data-roles="grid_worker"' in page and "viewer-incidents.js" in page
