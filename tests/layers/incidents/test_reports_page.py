"""The reports page in a real browser (Debian's chromium, as tests/gis_core/test_viewer.py): a
dispatcher logs in, opens 统计报表 from the viewer, reads this week's figures and charts, switches to
the grid level, and every request stays on our own origin."""

import datetime as dt

import pytest
from django.utils import timezone

from components import roles
from tests.factories import OrganisationFactory, make_user
from tests.gis_core.test_viewer import PASSWORD, _log_in, _screenshot, browser_page  # noqa: F401

from .test_reports import C1, G1, S1, event, make_case


@pytest.mark.django_db(transaction=True)
def test_the_page_draws_this_weeks_report(live_server, browser_page, tmp_path):  # noqa: F811
    page, base = browser_page, live_server.url
    unit = OrganisationFactory(name="兖州区路灯管理所")
    worker = make_user("page-worker", roles.GRID_WORKER)
    now = timezone.now()
    start = now - dt.timedelta(minutes=50)
    case = make_case(start, S1, C1, G1, "closed", unit, reporter=worker, source="grid_worker")
    event(case, "dispatch", start + dt.timedelta(minutes=10), "reported", "dispatched", org=unit)
    event(case, "handle", start + dt.timedelta(minutes=20), "dispatched", "verifying")
    event(case, "verify", start + dt.timedelta(minutes=30), "verifying", "verifying", actor=worker)
    event(case, "close", start + dt.timedelta(minutes=40), "verifying", "closed", actor=worker)
    make_case(now - dt.timedelta(minutes=5), S1, C1, G1, "reported")
    make_user("page-dispatcher", roles.DISPATCHER, password=PASSWORD)

    _log_in(page, base, "page-dispatcher")
    page.click("a[href='/reports/']")
    page.wait_for_url(base + "/reports/")
    page.wait_for_selector("#report-table tr.total", timeout=20_000)
    total = page.locator("#report-table tr.total td").all_inner_texts()
    assert total[1] == "合计" and total[2] == "2" and total[5] == "1"  # received 2, closed 1
    assert page.locator("#chart-flow svg rect").count() >= 2
    assert "网格内解决 1 (100.0%)" in page.locator("#chart-share").inner_text()
    assert page.locator("#ranking-table tbody tr").first.inner_text().split("\t")[1] == "page-worker"
    assert page.get_attribute("#download-xlsx", "href").endswith("format=xlsx")
    _screenshot(page, tmp_path, "reports-week.png")

    page.select_option("select[name=level]", "grid")
    page.click("#report-form button[type=submit]")
    page.wait_for_function(f"() => document.querySelector('#report-table tbody td')?.textContent === '{G1}'")
    assert not [m for m in page.console if m.startswith("pageerror")], page.console
    foreign = [u for u in page.requests if not u.startswith((base + "/", "data:", "blob:"))]
    assert foreign == [], foreign
