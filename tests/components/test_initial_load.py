"""The initial load (components.services.initial_load): an import into an empty registry builds a
fresh table and swaps it in; it must give what the upsert gives, refuse all on a bad row, keep every
index, constraint, trigger and foreign key of the registry, and let readers read the old table
until the swap."""

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, connections, transaction

from components.importing import import_file
from components.models import Component, ComponentEvent
from tests.components.test_import import write_gpkg

pytestmark = pytest.mark.django_db

_SKIP = {"id", "created_at", "updated_at", "retired_at"}
_EVENT_SKIP = {"pgh_id", "pgh_created_at", "pgh_obj_id", "pgh_context_id", "id", "created_at"}


def _rows():
    return {
        c["code"]: {k: (v.wkb.hex() if k == "geom" else v) for k, v in c.items() if k not in _SKIP}
        for c in Component.objects.values()
    }


def _history():
    out = {}
    for e in ComponentEvent.objects.filter(pgh_label="insert").select_related("pgh_context").order_by("pgh_id"):
        values = {k: (v.wkb.hex() if k == "geom" else v) for k, v in e.__dict__.items() if k not in _EVENT_SKIP}
        values = {k: v for k, v in values.items() if not k.startswith("_")}
        out[e.code] = (values, e.pgh_context.metadata["action"])
    return out


def _cells():
    with connection.cursor() as cur:
        cur.execute("SELECT z, cx, cy, major, n, round(sx::numeric, 3), round(sy::numeric, 3) FROM tiles_componentcell")
        return sorted(cur.fetchall())


_CATALOGUE = {
    "indexes": "SELECT ci.relname, regexp_replace(pg_get_indexdef(i.indexrelid), ' ON \\S+ ', ' ON t ') "
    "FROM pg_index i JOIN pg_class ci ON ci.oid = i.indexrelid "
    "WHERE i.indrelid = 'components_component'::regclass ORDER BY 1",
    "constraints": "SELECT conname, contype, pg_get_constraintdef(oid), convalidated FROM pg_constraint "
    "WHERE conrelid = 'components_component'::regclass ORDER BY 1",
    "triggers": "SELECT tgname, tgenabled, regexp_replace(pg_get_triggerdef(oid), ' ON \\S+ ', ' ON t '), "
    "obj_description(oid, 'pg_trigger') FROM pg_trigger "
    "WHERE tgrelid = 'components_component'::regclass AND NOT tgisinternal ORDER BY 1",
    "in": "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint "
    "WHERE confrelid = 'components_component'::regclass ORDER BY 1, 2",
    "seq": "SELECT pg_get_serial_sequence('components_component', 'id')",
}


def _catalogue():
    """What the registry table is made of, by name: indexes, constraints (valid?), triggers (enabled?),
    the foreign keys that point at it, and its identity."""
    out = {}
    with connection.cursor() as cur:
        for key, sql in _CATALOGUE.items():
            cur.execute(sql)
            out[key] = cur.fetchall()
    return out


def test_initial_load_gives_the_rows_history_cells_and_report_of_the_upsert(tmp_path):
    # Given and missing values in every kind of column, so each default is exercised on both paths.
    fields = {
        "state": np.array(["完好", "damaged", "", "intact"] * 10, dtype=object),
        "census_date": np.array(["2024-05-01", ""] * 20, dtype=object),
        "change_date": np.array(["2025-01-01", ""] * 20, dtype=object),
        "data_source": np.array(["", "topographic"] * 20, dtype=object),
        "note": np.array(["", "a\tb\nc", "x"] * 13 + [""], dtype=object),
        "retired": np.array(["", "是"] + ["否"] * 38, dtype=object),
        "maintainer_uscc": np.array([""] * 40, dtype=object),
    }
    p = write_gpkg(tmp_path, 40, fields=fields)
    shape = _catalogue()
    upsert = import_file(p, mode="upsert")
    assert upsert.ok and upsert.mode == "upsert" and (upsert.created, upsert.updated, upsert.unchanged) == (40, 0, 0)
    rows, history, cells = _rows(), _history(), _cells()
    assert len(history) == 40 and cells
    assert Component.objects.filter(retired=True).count() == 1 and Component.objects.filter(note="x").exists()
    last_id = Component.objects.order_by("-id").values_list("id", flat=True).first()
    # Deleting in the same transaction leaves deferred checks queued: the swap must cope with them.
    Component.objects.all().delete()
    ComponentEvent.objects.filter(pgh_label="insert").delete()
    assert _cells() == []

    first = import_file(p)
    assert first.ok and first.mode == "initial", first.as_dict()
    assert (first.created, first.updated, first.unchanged, first.errors) == (40, 0, 0, [])
    assert {"load", "indexes", "history", "swap"} <= set(first.timings)
    assert _rows() == rows
    assert _history() == history
    assert _cells() == cells
    assert _catalogue() == shape
    # IDs go on after the deleted components', whose history keeps theirs.
    assert Component.objects.order_by("id").values_list("id", flat=True).first() > last_id

    again = import_file(p)
    assert again.ok and again.mode == "upsert" and (again.created, again.updated, again.unchanged) == (0, 0, 40)
    assert ComponentEvent.objects.count() == 40 + 40  # 40 deletes, 40 inserts: nothing for the unchanged rows


def test_a_bad_row_refuses_the_whole_initial_load(tmp_path):
    classes = np.array(["0118"] * 19 + ["9999"], dtype=object)
    p = write_gpkg(tmp_path, 20, fields={"class_code": classes})
    with connection.cursor() as cur:
        cur.execute("SELECT 'components_component'::regclass::oid")
        oid = cur.fetchone()[0]
    r = import_file(p)
    assert not r.ok and [(e.row, e.field) for e in r.errors] == [(20, "class_code")]
    assert Component.objects.count() == 0 and ComponentEvent.objects.count() == 0
    with connection.cursor() as cur:
        cur.execute("SELECT 'components_component'::regclass::oid, to_regclass('components_component_load')")
        assert cur.fetchone() == (oid, None)


def test_constraints_indexes_triggers_and_references_hold_after_the_swap(tmp_path):
    from django.contrib.gis.geos import Point

    from components.models import ComponentClass, ComponentPhoto, ComponentState
    from components.services import create_component, update_component

    before = _catalogue()
    r = import_file(write_gpkg(tmp_path, 10))
    assert r.ok and r.mode == "initial"
    assert _catalogue() == before
    assert all(valid for *_, valid in before["constraints"]) and all(valid for *_, valid in before["in"])
    # UNIQUE code and the CHECKs are enforced by the swapped-in table.
    for sql in (
        "UPDATE components_component SET code = '3708120118000002' WHERE code = '3708120118000001'",
        "UPDATE components_component SET admin_code = 'x' WHERE code = '3708120118000001'",
        "UPDATE components_component SET component_class_id = -1 WHERE code = '3708120118000001'",
    ):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql)
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
    # The history trigger and the cluster counts follow writes after the load, as before it.
    c = Component.objects.get(code="3708120118000003")
    update_component(c, name="改名")
    assert ComponentEvent.objects.filter(pgh_obj_id=c.pk, pgh_label="update").count() == 1
    new = create_component(
        component_class=ComponentClass.objects.get(code="0118"),
        state=ComponentState.objects.get(code="intact"),
        geom=Point(116.9, 35.6, srid=4490),
    )
    assert new.code == "3708120118000011" and new.pk > Component.objects.exclude(pk=new.pk).order_by("-id")[0].pk
    assert ComponentEvent.objects.filter(pgh_obj_id=new.pk, pgh_label="insert").count() == 1
    with connection.cursor() as cur:
        cur.execute("SELECT sum(n) FROM tiles_componentcell WHERE z = 0")
        assert cur.fetchone()[0] == 11
    # Tables that refer to components refer to the new table.
    ComponentPhoto.objects.create(component=new, image="x.jpg")
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO components_componentphoto (component_id, image, caption, uploaded_at) "
            "VALUES (-5, 'y.jpg', '', now())"
        )
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_mode_initial_is_refused_when_the_registry_holds_components(tmp_path):
    p = write_gpkg(tmp_path, 5)
    assert import_file(p).mode == "initial"
    r = import_file(p, mode="initial")
    assert not r.ok and r.errors[0].field == "mode" and "empty" in r.errors[0].reason
    bad = import_file(p, mode="fast")
    assert not bad.ok and bad.errors[0].field == "mode"
    assert Component.objects.count() == 5 and ComponentEvent.objects.count() == 5


def test_dry_run_into_an_empty_registry_writes_nothing(tmp_path):
    r = import_file(write_gpkg(tmp_path, 5), dry_run=True)
    assert r.ok and r.created == 5 and Component.objects.count() == 0
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass('components_component_load')")
        assert cur.fetchone()[0] is None


def test_command_mode_option(tmp_path, capsys):
    p = write_gpkg(tmp_path, 4)
    call_command("import_components", str(p), "--mode", "upsert", verbosity=0)
    assert "4 created" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("import_components", str(p), "--mode", "initial", verbosity=0)
    call_command("import_components", str(p), "--mode", "replace", verbosity=0)
    assert "4 unchanged, 0 deleted, 0 errors (replace mode)" in capsys.readouterr().out
    assert Component.objects.count() == 4


@pytest.mark.django_db(transaction=True)
def test_readers_see_the_old_table_until_the_swap_commits(tmp_path):
    p = write_gpkg(tmp_path, 12)
    seen = []
    side = connections.create_connection("default")
    side.ensure_connection()
    # A statement the reader prepared on the old table (web workers prepare their frequent queries).
    listing = "SELECT code, name, geom_3857 FROM components_component WHERE id > %s ORDER BY code"
    assert side.connection.execute(listing, [0], prepare=True).fetchall() == []
    try:

        def progress(done, total):
            # Mid-load (rows in the fresh table, not yet swapped in): another session reads the old,
            # empty registry at once, without waiting for the import.
            if 0 < done < total:
                with side.cursor() as cur:
                    cur.execute("SET lock_timeout = '2s'")
                    cur.execute("SELECT count(*) FROM components_component")
                    seen.append(cur.fetchone()[0])

        r = import_file(p, progress=progress)
        assert r.ok and r.mode == "initial"
        assert seen == [0]
        with side.cursor() as cur:
            cur.execute("SELECT count(*) FROM components_component")
            assert cur.fetchone()[0] == 12
        # ... reads the new table after the swap (PostgreSQL re-plans it by name).
        assert len(side.connection.execute(listing, [0], prepare=True).fetchall()) == 12
    finally:
        side.close()


@pytest.mark.django_db(transaction=True)
def test_a_second_import_waits_for_the_initial_load_and_then_upserts(tmp_path):
    import threading

    first_file = write_gpkg(tmp_path, 12, name="a.gpkg")
    second_file = write_gpkg(tmp_path, 15, name="b.gpkg")  # the same 12 codes (another owner) and 3 more
    second = {}

    def run_second():
        try:
            second["result"] = import_file(second_file)
        finally:
            connection.close()

    thread = threading.Thread(target=run_second)

    def progress(done, total):
        if 0 < done < total and not thread.is_alive() and "result" not in second:
            thread.start()  # mid-load: the second import finds the registry claimed and waits

    first = import_file(first_file, progress=progress)
    thread.join(60)
    assert first.ok and first.mode == "initial", first.as_dict()
    r = second["result"]
    assert r.ok and r.mode == "upsert" and (r.created, r.updated) == (3, 12), r.as_dict()
    assert Component.objects.count() == 15


def _numbered(tmp_path, numbers, name, owner, renamed=()):
    """A GeoPackage of lamps 3708120118<number>, each always at the same place, with the same owner."""
    numbers = np.array(numbers)
    names = [f"路灯{k}" + ("改" if k in renamed else "") for k in numbers]
    fields = {
        "code": np.array([f"3708120118{k:06d}" for k in numbers], dtype=object),
        "name": np.array(names, dtype=object),
        "owner_uscc": np.array([owner.uscc] * len(numbers), dtype=object),
    }
    xy = (116.80 + numbers * 0.0005, np.full(len(numbers), 35.55))
    return write_gpkg(tmp_path, len(numbers), name=name, xy=xy, fields=fields)


def test_replace_makes_the_file_the_registry_keeping_ids_with_history(tmp_path):
    from components.cluster_cells import REBUILD
    from tests.factories import OrganisationFactory

    owner = OrganisationFactory()
    assert import_file(_numbered(tmp_path, range(1, 11), "a.gpkg", owner)).mode == "initial"
    ids = dict(Component.objects.values_list("code", "id"))
    shape = _catalogue()
    events_before = ComponentEvent.objects.count()
    b = _numbered(tmp_path, range(3, 13), "b.gpkg", owner, renamed={5})

    dry = import_file(b, mode="replace", dry_run=True)
    assert dry.ok and (dry.created, dry.updated, dry.unchanged, dry.deleted) == (2, 1, 7, 2), dry.as_dict()
    assert Component.objects.count() == 10

    r = import_file(b, mode="replace")
    assert r.ok and r.mode == "replace", r.as_dict()
    assert (r.created, r.updated, r.unchanged, r.deleted) == (2, 1, 7, 2)
    after = dict(Component.objects.values_list("code", "id"))
    assert sorted(after) == [f"3708120118{k:06d}" for k in range(3, 13)]
    assert all(after[c] == ids[c] for c in after if c in ids)  # kept codes keep their IDs
    assert min(after[c] for c in after if c not in ids) > max(ids.values())
    assert Component.objects.get(code="3708120118000005").name == "路灯5改"
    assert Component.objects.get(code="3708120118000005").change_date is not None
    assert Component.objects.get(code="3708120118000004").change_date is None
    new_events = ComponentEvent.objects.filter(pgh_id__gt=0).order_by("pgh_id")[events_before:]
    assert sorted((e.pgh_label, e.code) for e in new_events) == [
        ("delete", "3708120118000001"),
        ("delete", "3708120118000002"),
        ("insert", "3708120118000011"),
        ("insert", "3708120118000012"),
        ("update", "3708120118000005"),
    ]
    assert {e.pgh_context.metadata["action"] for e in new_events} == {"import"}
    assert _catalogue() == shape
    cells = _cells()
    with connection.cursor() as cur:
        cur.execute(REBUILD)
    assert _cells() == cells and sum(n for z, *_, n, _x, _y in cells if z == 0) == 10


def test_replace_is_refused_when_a_component_to_delete_is_referred_to_or_retired_would_change(tmp_path):
    from components.models import ComponentPhoto
    from components.services import retire_component
    from tests.factories import OrganisationFactory

    owner = OrganisationFactory()
    import_file(_numbered(tmp_path, range(1, 6), "a.gpkg", owner))
    ComponentPhoto.objects.create(component=Component.objects.get(code="3708120118000001"), image="x.jpg")
    retire_component(Component.objects.get(code="3708120118000003"), reason="拆除")
    events = ComponentEvent.objects.count()
    r = import_file(_numbered(tmp_path, range(2, 6), "b.gpkg", owner, renamed={3}), mode="replace")
    assert not r.ok
    reasons = [(e.row, e.reason) for e in r.errors]  # file-wide errors first
    assert "3708120118000001 is referred to by components_componentphoto" in reasons[0][1]
    assert reasons[1][0] == 2 and "retired" in reasons[1][1]
    assert Component.objects.count() == 5 and ComponentEvent.objects.count() == events
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass('components_component_load')")
        assert cur.fetchone()[0] is None


@pytest.mark.django_db(transaction=True)
def test_the_swap_waits_out_a_long_reader_in_short_attempts(tmp_path, monkeypatch):
    import threading
    import time

    from components.services import initial_load

    monkeypatch.setattr(initial_load, "SWAP_LOCK_WAIT", "100ms")
    retries, real_sleep = [], time.sleep
    monkeypatch.setattr(initial_load.time, "sleep", lambda s: (retries.append(s), real_sleep(s)))
    p = write_gpkg(tmp_path, 6)
    side = connections.create_connection("default")
    side.ensure_connection()
    raw = side.connection
    try:
        raw.execute("BEGIN")
        raw.execute("SELECT count(*) FROM components_component")  # a reader that stays for a second
        timer = threading.Timer(1.0, lambda: raw.execute("COMMIT"))
        timer.start()
        started = time.monotonic()
        r = import_file(p)
        timer.join()
        assert r.ok and r.mode == "initial", r.as_dict()
        assert time.monotonic() - started >= 0.9 and retries  # it waited for the reader, in 100 ms attempts
        assert Component.objects.count() == 6
    finally:
        side.close()
