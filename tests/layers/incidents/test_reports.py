"""Reports (layers.incidents.reports and reports_api): counts against hand-made cases in a fixed
week, the working-time average, the ranking, CSV and XLSX downloads, roles and bad parameters.

Cases and events are written with explicit times (events by plain INSERT: the log's trigger only
refuses UPDATE and DELETE), so every expected figure below can be worked out by hand."""

import csv
import datetime as dt
import io
import itertools

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.test import Client
from openpyxl import load_workbook

from components import roles
from layers.incidents import clock, reports
from layers.incidents.models import Case, CaseClass, CaseStageDeadline
from layers.incidents.reports_api import LEADER
from tests.factories import OrganisationFactory, make_user

from .conftest import LAT, LON

pytestmark = pytest.mark.django_db

SH = clock.SHANGHAI
S1, C1, G1 = "370812001", "370812001001", "37081200100101"
S2, C2, G2 = "370812002", "370812002001", "37081200200101"
WEEK = reports.Period("week", dt.date(2025, 6, 9), dt.date(2025, 6, 15))  # Mon-Sun, no holiday
_numbers = itertools.count(1)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2025, 6, day, hour, minute, tzinfo=SH)


def make_case(created, street, community, grid, state, org=None, due=None, reporter=None, source="dispatcher"):
    cls = CaseClass.objects.filter(parent__isnull=False).order_by("code").first()
    case = Case.objects.create(
        number=f"{created:%Y%m%d}{next(_numbers):06d}",
        source=source,
        case_class=cls,
        geom=Point(LON, LAT, srid=4490),
        street_code=street,
        community_code=community,
        grid_code=grid,
        state=state,
        assigned_org=org,
        reporter=reporter,
        due_at=due,
    )
    Case.objects.filter(pk=case.pk).update(created_at=created)
    event(case, "report", created, "", "reported", actor=reporter)
    return case


def event(case, action, moment, from_state, to_state, org=None, actor=None):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO incidents_caseevent (case_id, at, actor_id, from_state, to_state, action, note, organisation_id)"
            " VALUES (%s, %s, %s, %s, %s, %s, '', %s)",
            [case.pk, moment, actor.pk if actor else None, from_state, to_state, action, org.pk if org else None],
        )


def close_path(case, org, dispatched, handled, closed, worker):
    event(case, "dispatch", dispatched, "reported", "dispatched", org=org)
    event(case, "handle", handled, "dispatched", "verifying")
    event(case, "verify", handled + dt.timedelta(minutes=30), "verifying", "verifying", actor=worker)
    event(case, "close", closed, "verifying", "closed", actor=worker)


@pytest.fixture
def week(db):
    """Seven cases; the expected figures are in the tests."""
    unit = OrganisationFactory(name="兖州区路灯管理所")
    law = OrganisationFactory(name="兖州区综合行政执法局")
    w1 = make_user("worker_one", roles.GRID_WORKER)
    w2 = make_user("worker_two", roles.GRID_WORKER)
    # c1: on time everywhere, solved in the grid; 10 working hours (Mon 09:00 -> Tue 11:30).
    c1 = make_case(at(9, 9), S1, C1, G1, "closed", unit, due=at(10, 17, 30))
    close_path(c1, unit, at(9, 9, 30), at(10, 10), at(10, 11, 30), w1)
    CaseStageDeadline.objects.create(case=c1, state="reported", due_at=at(9, 10))
    # c2: to law enforcement, dispatched late, closed late (overdue); 15 working hours (Mon 10:00 -> Wed 10:00).
    c2 = make_case(at(9, 10), S1, C1, G1, "closed", law, due=at(10, 17, 30))
    close_path(c2, law, at(9, 10, 30), at(11, 9), at(11, 10), w2)
    CaseStageDeadline.objects.create(case=c2, state="reported", due_at=at(9, 10, 15))
    # c3: escalated, still open past its deadline.
    c3 = make_case(at(11, 9), S2, C2, G2, "handling", unit, due=at(12, 17, 30), reporter=w2, source="grid_worker")
    event(c3, "dispatch", at(11, 9, 10), "reported", "dispatched", org=unit)
    event(c3, "accept", at(11, 9, 20), "dispatched", "handling")
    event(c3, "escalate", at(12, 9), "handling", "handling")
    # c4: the week before: in nothing.
    c4 = make_case(dt.datetime(2025, 6, 2, 9, tzinfo=SH), S2, C2, G2, "closed", unit)
    close_path(c4, unit, at(2, 10), at(3, 9), at(3, 10), w1)
    # c5: voided: received only.
    c5 = make_case(at(12, 9), S1, C1, G1, "void")
    event(c5, "void", at(12, 10), "reported", "void")
    # c6: fixed on the spot by the grid worker who reported it; 1 working hour.
    c6 = make_case(at(13, 9), S2, C2, G2, "closed", reporter=w1, source="grid_worker")
    event(c6, "self_handle", at(13, 9, 30), "reported", "verifying", actor=w1)
    event(c6, "verify", at(13, 9, 40), "verifying", "verifying", actor=w1)
    event(c6, "close", at(13, 10), "verifying", "closed", actor=w1)
    # c7: escalated, then solved; 23.5 working hours (Mon 09:00 -> Thu 10:00).
    c7 = make_case(at(9, 9), S2, C2, G2, "closed", unit)
    event(c7, "escalate", at(9, 12), "reported", "reported")
    close_path(c7, unit, at(9, 13, 40), at(12, 9), at(12, 10), w2)
    return {"unit": unit, "law": law, "w1": w1, "w2": w2}


def by_code(report):
    return {row["code"]: row for row in report["rows"]}


def test_street_rows_count_by_hand(week):
    report = reports.build(WEEK, "street", now=at(20, 12))
    rows = by_code(report)
    assert set(rows) == {S1, S2}
    s1, s2 = rows[S1], rows[S2]
    assert (s1["received"], s1["registered"], s1["dispatched"], s1["closed"]) == (3, 2, 2, 2)
    assert (s1["dispatch_done"], s1["dispatch_on_time"]) == (2, 1)  # c2 dispatched after its recorded deadline
    assert (s1["close_done"], s1["close_on_time"], s1["on_time_rate"]) == (2, 1, 50.0)
    assert (s1["overdue"], s1["escalated"]) == (1, 0)
    assert (s1["solved_in_grid"], s1["solved_escalated"], s1["solved_by_law"]) == (1, 0, 1)
    assert (s1["share_in_grid"], s1["share_by_law"]) == (50.0, 50.0)
    assert s1["avg_handling_hours"] == 12.5
    assert (s2["received"], s2["registered"], s2["dispatched"], s2["closed"]) == (3, 2, 2, 2)
    assert (s2["dispatch_done"], s2["handle_done"], s2["close_done"]) == (3, 1, 2)
    assert (s2["overdue"], s2["escalated"]) == (1, 2)
    assert (s2["solved_in_grid"], s2["solved_escalated"], s2["solved_by_law"]) == (1, 1, 0)
    assert s2["avg_handling_hours"] == 12.25


def test_total_row_and_the_70_20_10_figure(week):
    total = reports.build(WEEK, "community", now=at(20, 12))["total"]
    assert total["name"] == "合计"
    assert (total["received"], total["closed"], total["overdue"], total["escalated"]) == (6, 4, 2, 2)
    assert (total["share_in_grid"], total["share_escalated"], total["share_by_law"]) == (50.0, 25.0, 25.0)
    assert total["avg_handling_hours"] == round((10 + 15 + 23.5 + 1) / 4, 2)


def test_unit_rows_name_the_organisation(week):
    rows = {row["name"]: row for row in reports.build(WEEK, "unit", now=at(20, 12))["rows"]}
    assert rows["兖州区综合行政执法局"]["solved_by_law"] == 1
    assert rows["兖州区路灯管理所"]["closed"] == 2 and rows["（未派遣）"]["received"] == 2


def test_overdue_is_judged_at_the_moment_of_the_report_within_the_period(week):
    # On Thursday noon c3's deadline (Thu 17:30) has not passed yet.
    report = reports.build(reports.Period("range", dt.date(2025, 6, 9), dt.date(2025, 6, 12)), "street", now=at(12, 12))
    assert by_code(report)[S2]["overdue"] == 0


def test_a_day_report_counts_that_day_only(week):
    report = reports.build(reports.period("day", dt.date(2025, 6, 13)), "grid", now=at(20, 12))
    assert report["total"]["received"] == 1 and report["total"]["closed"] == 1
    assert by_code(report)[G2]["solved_in_grid"] == 1


def test_ranking_by_reports_and_verified_closes(week):
    ranking = reports.build(WEEK, "street", now=at(20, 12))["ranking"]
    assert [(r["username"], r["reports"], r["verified_closes"]) for r in ranking] == [
        ("worker_one", 1, 2),
        ("worker_two", 1, 2),
    ]
    assert [r["rank"] for r in ranking] == [1, 2]


def test_empty_period_has_a_zero_total(db):
    report = reports.build(WEEK, "street", now=at(20, 12))
    assert report["rows"] == [] and report["total"]["received"] == 0 and report["total"]["share_in_grid"] is None


def test_the_working_timeline_agrees_with_the_clock():
    timeline = reports.WorkingTimeline(dt.date(2025, 9, 26), dt.date(2025, 10, 14))
    spans = [
        (dt.datetime(2025, 9, 30, 16, tzinfo=SH), dt.datetime(2025, 10, 11, 9, tzinfo=SH)),  # National Day, make-up Sat
        (dt.datetime(2025, 9, 29, 12, 15, tzinfo=SH), dt.datetime(2025, 9, 29, 13, 45, tzinfo=SH)),  # lunch break
        (dt.datetime(2025, 9, 27, 23, tzinfo=SH), dt.datetime(2025, 9, 28, 9, tzinfo=dt.timezone.utc)),
    ]
    for start, end in spans:
        assert timeline.minutes(start, end) == pytest.approx(clock.elapsed_working(start, end))
    assert timeline.minutes(spans[1][1], spans[1][0]) == 0  # backwards: none


def test_periods():
    assert reports.period("week", dt.date(2025, 6, 11)) == WEEK
    with pytest.raises(ValueError):
        reports.period("month", dt.date(2025, 6, 11))


# --- API -----------------------------------------------------------------------------------------

URL = "/api/incidents/reports/"
QUERY = "?period=week&date=2025-06-11&level=street"


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def desk(db):
    return client_for(make_user("report_dispatcher", roles.DISPATCHER))


def test_json_answer(week, desk):
    answer = desk.get(URL + QUERY)
    assert answer.status_code == 200, answer.content[:300]
    body = answer.json()
    assert body["period"] == {"kind": "week", "first": "2025-06-09", "last": "2025-06-15"}
    assert {row["code"] for row in body["rows"]} == {S1, S2} and body["total"]["received"] == 6
    assert body["columns"][0] == {"key": "code", "title": "代码"}


def test_csv_download_has_chinese_headers_and_the_total(week, desk):
    answer = desk.get(URL + QUERY + "&format=csv")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    assert "attachment" in answer["Content-Disposition"] and ".csv" in answer["Content-Disposition"]
    text = answer.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:6] == ["代码", "名称", "受理数", "立案数", "派遣数", "结案数"]
    assert rows[-1][1] == "合计" and rows[-1][2] == "6" and rows[-1][5] == "4"
    assert [r[0] for r in rows[1:-1]] == [S1, S2]


def test_xlsx_download_opens_with_headers_totals_and_ranking(week, desk):
    answer = desk.get(URL + QUERY + "&format=xlsx")
    assert answer.status_code == 200 and "spreadsheetml" in answer["Content-Type"]
    book = load_workbook(io.BytesIO(answer.content))
    sheet = book["案件统计"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:3] == ("代码", "名称", "受理数")
    assert rows[-1][1] == "合计" and rows[-1][2] == 6
    ranking = list(book["网格员排名"].iter_rows(values_only=True))
    assert ranking[0] == ("名次", "账号", "姓名", "上报数", "核查结案数") and ranking[1][1] == "worker_one"


@pytest.mark.parametrize("role", [roles.ADMINISTRATOR, LEADER])
def test_admins_and_leaders_read_reports(db, role):
    assert client_for(make_user(f"report_{role}", role)).get(URL).status_code == 200


@pytest.mark.parametrize("role", [roles.GRID_WORKER, roles.MAINTENANCE_UNIT, roles.GIS_EDITOR])
def test_other_roles_are_refused(db, role):
    answer = client_for(make_user(f"report_{role}", role)).get(URL)
    assert answer.status_code == 403 and "message" in answer.json()


def test_anonymous_is_refused(db):
    assert Client().get(URL).status_code in (401, 403)


@pytest.mark.parametrize(
    "query, field",
    [
        ("?period=month", "period"),
        ("?level=city", "level"),
        ("?format=pdf", "format"),
        ("?date=2025-13-01", "date"),
        ("?period=day&date=9999-12-31", "date"),
        ("?period=week&date=0001-01-01", "date"),
        ("?period=range&date_from=2025-06-09", "date_from"),
        ("?period=range&date_from=2025-06-09&date_to=2025-06-01", "date_to"),
        ("?period=range&date_from=2024-01-01&date_to=2025-06-01", "date_to"),
    ],
)
def test_bad_parameters_are_400_naming_them(desk, query, field):
    answer = desk.get(URL + query)
    assert answer.status_code == 400, answer.content[:300]
    assert answer.json()["field"] == field


def test_a_range(week, desk):
    answer = desk.get(URL + "?period=range&date_from=2025-06-13&date_to=2025-06-13&level=grid")
    assert answer.status_code == 200 and answer.json()["total"]["received"] == 1


def test_the_page_is_served_to_report_readers_only(db, desk):
    page = desk.get("/reports/")
    assert page.status_code == 200 and "incidents/reports.js" in page.content.decode()
    assert client_for(make_user("page_worker", roles.GRID_WORKER)).get("/reports/").status_code == 403
