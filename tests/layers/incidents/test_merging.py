"""layers.incidents.merging and reporters: a duplicate merged into the case kept goes to 作废 with a
`merge` event naming the case kept; the case kept gets `merged_in` and the duplicate's reporters.
Refusals write nothing. Possible duplicates follow the radius and window settings."""

from datetime import timedelta

import pytest
from django.db import Error, transaction
from django.test import Client

from layers.incidents import merging, reporters, selectors, services
from layers.incidents.models import Case, CaseEvent, CaseMerge, CaseReporter

from .conftest import LAT, LON

pytestmark = pytest.mark.django_db


def report(user, class_code="06010", point=(LON, LAT), **values):
    return services.report_case(user, class_code, point, "EPSG:4490", "垃圾", **values)


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_a_report_records_its_reporter_and_a_desk_the_callers_name_and_phone(grid_worker, dispatcher):
    own = report(grid_worker)
    assert [(r.user, r.name, r.source, r.from_case) for r in own.reporters.all()] == [
        (grid_worker, "case_grid_worker", "grid_worker", None)
    ]
    call = report(dispatcher, source="hotline_12345", reporter_name="王女士", reporter_phone="138 0537 1234")
    assert [(r.name, r.phone, r.source) for r in call.reporters.all()] == [("王女士", "138 0537 1234", "hotline_12345")]
    with pytest.raises(services.ServiceError) as refused:
        report(dispatcher, reporter_phone="call me <b>")
    assert refused.value.field == "reporter_phone"
    with pytest.raises(services.ServiceError) as refused:
        report(dispatcher, reporter_name="x\x00")
    assert refused.value.field == "reporter_name"
    assert Case.objects.count() == 2


def test_merging_voids_the_duplicate_and_keeps_both_reports_reporters(grid_worker, dispatcher):
    kept = report(grid_worker)
    duplicate = report(dispatcher, source="hotline_12345", reporter_name="王女士", reporter_phone="13805371234")
    assert list(selectors.possible_duplicates(dispatcher, duplicate).values_list("number", flat=True)) == [kept.number]
    merged = merging.merge(dispatcher, duplicate, kept.number, "同一处垃圾")
    assert merged.state == "void" and Case.objects.get(pk=kept.pk).state == "reported"
    last = duplicate.events.order_by("-id").first()
    assert (last.action, last.from_state, last.to_state, last.actor) == ("merge", "reported", "void", dispatcher)
    assert last.note == f"合并至 {kept.number}：同一处垃圾"
    arrived = kept.events.order_by("-id").first()
    assert (arrived.action, arrived.from_state, arrived.to_state) == ("merged_in", "reported", "reported")
    assert arrived.note == f"合并 {duplicate.number}：同一处垃圾"
    assert [(r.name, r.from_case) for r in reporters.reporters_of(kept)] == [
        ("case_grid_worker", None),
        ("王女士", duplicate),
    ]
    assert merging.merged_into(duplicate) == kept.number and merging.merged_from(kept) == [duplicate.number]
    assert merging.merged_into(kept) is None
    # Merged away once: the duplicate is void now, and the case kept may take further duplicates.
    with pytest.raises(services.TransitionRefused):
        merging.merge(dispatcher, duplicate, kept.number)
    third = report(grid_worker)
    merging.merge(dispatcher, kept, third.number)
    # In the order they reported: the two who came with `kept` reported before `third`'s own reporter.
    assert [r.from_case for r in reporters.reporters_of(third)] == [kept, kept, None]


@pytest.mark.parametrize(
    ("target", "status", "says"),
    [
        (None, 400, "name the case"),
        ("", 400, "name the case"),
        ("self", 400, "into itself"),
        ("20990101000001", 400, "no case"),
        ("x' OR 1=1 --", 400, "no case"),
        ("void", 409, "作废"),
        ("closed", 409, "结案"),
        ("other class", 400, "one class"),
    ],
)
def test_refused_merges_write_nothing(dispatcher, grid_worker, unit, unit_user, streetlight, target, status, says):
    duplicate = report(dispatcher)
    if target == "self":
        target = duplicate.number
    elif target == "void":
        target = services.void(dispatcher, report(dispatcher), "误报").number
    elif target == "closed":
        case = services.dispatch(dispatcher, report(dispatcher), organisation=unit)
        services.handle(unit_user, case)
        services.verify(grid_worker, case)
        target = services.close(grid_worker, case).number
    elif target == "other class":
        target = report(dispatcher, class_code="0118", component_code=None).number
    counts = (CaseEvent.objects.count(), CaseReporter.objects.count())
    with pytest.raises(services.ServiceError) as refused:
        services.act(dispatcher, duplicate, "merge", note="重复", target=target)
    assert refused.value.status == status and refused.value.field == "target" and says in refused.value.message
    assert Case.objects.get(pk=duplicate.pk).state == "reported"
    assert (CaseEvent.objects.count(), CaseReporter.objects.count()) == counts and not CaseMerge.objects.exists()


def test_only_the_desk_merges(dispatcher, grid_worker, unit, unit_user):
    kept, duplicate = report(dispatcher), report(dispatcher)
    with pytest.raises(services.RoleRefused):
        merging.merge(grid_worker, duplicate, kept.number)
    services.dispatch(dispatcher, duplicate, organisation=unit)
    services.dispatch(dispatcher, kept, organisation=unit)
    with pytest.raises(services.RoleRefused):
        merging.merge(unit_user, duplicate, kept.number)
    with pytest.raises(services.ServiceError) as refused:  # target is for merge only
        services.act(dispatcher, duplicate, "reassign", target=kept.number)
    assert refused.value.field == "target"
    assert merging.merge(dispatcher, duplicate, kept.number).state == "void"  # also from 立案派遣


def test_merges_and_reporters_are_append_only_in_the_database(dispatcher):
    kept, duplicate = report(dispatcher), report(dispatcher)
    merging.merge(dispatcher, duplicate, kept.number)
    for change in (
        lambda: CaseMerge.objects.update(note="changed"),
        lambda: CaseMerge.objects.all().delete(),
        lambda: CaseReporter.objects.update(name="changed"),
        lambda: CaseReporter.objects.all().delete(),
    ):
        with pytest.raises(Error), transaction.atomic():
            change()


def test_duplicates_follow_the_radius_and_window_settings(dispatcher, settings, streetlight):
    here = report(dispatcher)
    near = report(dispatcher, point=(LON + 0.0004, LAT))  # about 36 m east
    report(dispatcher, point=(LON + 0.002, LAT))  # about 180 m
    report(dispatcher, class_code="0118")  # another class, same spot
    assert list(selectors.possible_duplicates(dispatcher, here).values_list("number", flat=True)) == [near.number]
    settings.GRIDCITY_INCIDENT_DUPLICATE_METRES = 20
    assert not selectors.possible_duplicates(dispatcher, here).exists()
    settings.GRIDCITY_INCIDENT_DUPLICATE_METRES = 50
    Case.objects.filter(pk=near.pk).update(created_at=here.created_at - timedelta(hours=25))
    assert not selectors.possible_duplicates(dispatcher, here).exists()
    settings.GRIDCITY_INCIDENT_DUPLICATE_HOURS = 48
    assert selectors.possible_duplicates(dispatcher, here).count() == 1


def test_the_api_merges_lists_duplicates_and_shows_reporters(dispatcher, grid_worker, unit, unit_user):
    kept = report(grid_worker)
    duplicate = report(dispatcher, source="hotline_12345", reporter_name="王女士", reporter_phone="13805371234")
    desk = client_for(dispatcher)
    r = desk.get(f"/api/incidents/{duplicate.number}/duplicates/")
    assert r.status_code == 200
    assert [d["number"] for d in r.json()["duplicates"]] == [kept.number]
    assert r.json()["radius_m"] == 50 and r.json()["hours"] == 24 and r.json()["duplicates"][0]["distance_m"] == 0
    r = desk.post(f"/api/incidents/{duplicate.number}/merge/", {"into": kept.number}, content_type="application/json")
    assert r.status_code == 200, r.json()
    assert r.json()["properties"]["state"] == "void" and r.json()["properties"]["merged_into"] == kept.number
    props = desk.get(f"/api/incidents/{kept.number}/").json()["properties"]
    assert props["merged_from"] == [duplicate.number] and props["merged_into"] is None
    assert [(p["name"], p["phone"], p["from_case"]) for p in props["reporters"]] == [
        ("case_grid_worker", "", None),
        ("王女士", "13805371234", duplicate.number),
    ]
    assert [e["action"] for e in props["events"]] == ["report", "merged_in"]
    # As an action with a target, and refusals in the API's error form.
    third = report(grid_worker)
    r = desk.post(
        f"/api/incidents/{third.number}/actions/merge/", {"target": third.number}, content_type="application/json"
    )
    assert r.status_code == 400 and r.json()["field"] == "target"
    r = desk.post(f"/api/incidents/{third.number}/merge/", {"into": duplicate.number}, content_type="application/json")
    assert r.status_code == 409 and r.json()["field"] == "target"
    r = desk.post(
        f"/api/incidents/{third.number}/actions/merge/", {"target": kept.number}, content_type="application/json"
    )
    assert r.status_code == 200 and r.json()["properties"]["merged_into"] == kept.number
    r = client_for(grid_worker).post(
        f"/api/incidents/{kept.number}/merge/", {"into": third.number}, content_type="application/json"
    )
    assert r.status_code == 403
    # A unit sees the case kept once it is theirs, with callers' phones masked, and cannot see the others.
    services.dispatch(dispatcher, kept, organisation=unit)
    unit_view = client_for(unit_user)
    phones = [p["phone"] for p in unit_view.get(f"/api/incidents/{kept.number}/").json()["properties"]["reporters"]]
    assert phones == ["", "*******1234", ""]
    assert unit_view.get(f"/api/incidents/{duplicate.number}/duplicates/").status_code == 404
    assert unit_view.post(f"/api/incidents/{duplicate.number}/merge/", {"into": kept.number}).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_two_desks_merging_two_cases_into_each_other_at_once_merge_one_way(streetlight):
    import threading

    from django.db import connections

    from components import roles
    from tests.factories import make_user

    a, b = report(None), report(None)
    desks = [make_user(f"merging_dispatcher_{n}", roles.DISPATCHER) for n in range(2)]
    outcomes = []
    start = threading.Barrier(2)

    def merge(user, duplicate, kept):
        try:
            start.wait()
            merging.merge(user, duplicate, kept.number)
            outcomes.append("merged")
        except services.ServiceError as exc:
            outcomes.append(exc.status)
        except Exception as exc:  # noqa: BLE001 - a deadlock or any other failure is reported below
            outcomes.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=merge, args=(desks[0], a, b)),
        threading.Thread(target=merge, args=(desks[1], b, a)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes, key=str) == [409, "merged"]
    assert sorted(Case.objects.values_list("state", flat=True)) == ["reported", "void"]
    assert CaseMerge.objects.count() == 1


def test_the_migration_gives_cases_reported_before_it_their_reporter(dispatcher):
    import importlib

    from django.contrib.gis.geos import Point
    from django.db import connection

    from layers.incidents.models import CaseClass

    old = Case.objects.create(
        number="20260101000001",
        source="hotline_12345",
        case_class=CaseClass.objects.filter(code="06010").first(),
        geom=Point(LON, LAT, srid=4490),
        reporter=dispatcher,
    )
    assert reporters.reporters_of(old)[0].pk is None  # counted, though no row yet
    migration = importlib.import_module("layers.incidents.migrations.0005_intake").Migration
    backfill = next(op for op in migration.operations if op.__class__.__name__ == "RunSQL")
    with connection.cursor() as cur:
        cur.execute(backfill.sql)
    assert [(r.user, r.name, r.source, r.reported_at) for r in old.reporters.all()] == [
        (dispatcher, "case_dispatcher", "hotline_12345", old.created_at)
    ]
