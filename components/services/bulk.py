"""The set-based write path for many components at once (imports, the demo city).

One transaction: allocate IDs per (admin code, class), COPY into a TEMP staging table, keep only the
rows that are new or differ from the stored ones (one hash join; an unchanged row goes no further),
refuse changes to retired components, then INSERT .. SELECT .. ON CONFLICT (code) DO UPDATE, in
chunks (for progress). Unchanged rows are not touched, so they leave no history rows; changed and
new rows get their history rows written by the same statement, with the context (user,
action="import", import_job).

Into an empty registry (mode "auto" or "initial") the rows go instead into a fresh table that is
indexed, checked, given its history and cluster counts and swapped in, as pg_restore would
(components.services.initial_load)."""

from __future__ import annotations

import time

import numpy as np
import pghistory
from django.db import connection, transaction

from gis_core import arrow_strings

from ..cluster_cells import rebuild_sql
from ..ids import MAX_SERIAL, allocate_serials, reserve_up_to
from ..importing.results import RowError
from ..models import Component, ComponentClass
from ..signals import components_changed
from .components import history_user_id
from .initial_load import (
    FRESH,
    claim_registry,
    fresh_load,
    incoming_references,
    registry_is_empty,
)

CHUNK_ROWS = 100_000
_ESC = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_FK = {"department_uscc": "department_id", "owner_uscc": "owner_id", "maintainer_uscc": "maintainer_id"}
# db column -> (staging type, expression when the file gives it (s) / keeps it (c) / default)
_OPTIONAL = {
    "name": ("text", "COALESCE(s.name, c.name, '')"),
    "street_code": ("text", "COALESCE(s.street_code, c.street_code, '')"),
    "community_code": ("text", "COALESCE(s.community_code, c.community_code, '')"),
    "grid_code": ("text", "COALESCE(s.grid_code, c.grid_code, '')"),
    "location_desc": ("text", "COALESCE(s.location_desc, c.location_desc, '')"),
    "note": ("text", "COALESCE(s.note, c.note, '')"),
    "department_id": ("bigint", "s.department_id"),
    "owner_id": ("bigint", "s.owner_id"),
    "maintainer_id": ("bigint", "s.maintainer_id"),
    "state_code": ("text", "COALESCE(s.state_code, c.state_code, 'intact')"),
    "census_date": ("date", "COALESCE(s.census_date, c.census_date, CURRENT_DATE)"),
    "change_date": ("date", "s.change_date"),
    "data_source": ("text", "COALESCE(s.data_source, c.data_source, 'surveyed')"),
    "attributes": ("jsonb", "COALESCE(s.attributes, c.attributes, '{}'::jsonb)"),
    "retired": ("boolean", "COALESCE(s.retired, c.retired, false)"),
}
# when the file lacks the column: keep the stored value, else the default
_ABSENT = {
    "name": "COALESCE(c.name, '')",
    "street_code": "COALESCE(c.street_code, '')",
    "community_code": "COALESCE(c.community_code, '')",
    "grid_code": "COALESCE(c.grid_code, '')",
    "location_desc": "COALESCE(c.location_desc, '')",
    "note": "COALESCE(c.note, '')",
    "department_id": "c.department_id",
    "owner_id": "c.owner_id",
    "maintainer_id": "c.maintainer_id",
    "state_code": "COALESCE(c.state_code, 'intact')",
    "census_date": "COALESCE(c.census_date, CURRENT_DATE)",
    "change_date": "NULL::date",
    "data_source": "COALESCE(c.data_source, 'surveyed')",
    "attributes": "COALESCE(c.attributes, '{}'::jsonb)",
    "retired": "COALESCE(c.retired, false)",
}
_NATIVE_TO_DB = {**_FK, "state": "state_code"}
_COMPARED = ["component_class_id", "admin_code", "geom", *_OPTIONAL]


def _src_sql(present_db: set, *, only_changed: bool = False) -> str:
    """The file's rows with kept and default values resolved against the stored rows; with
    `only_changed`, only the new rows and those that differ from the stored ones, so an unchanged
    row costs its share of one hash join and nothing after it."""
    resolved = {col: (_OPTIONAL[col][1] if col in present_db else _ABSENT[col]) for col in _OPTIONAL}
    exprs = ", ".join(f"{expr} AS {col}" for col, expr in resolved.items())
    sql = (
        f"SELECT s.row, s.code, s.component_class_id, s.admin_code, s.geom, {exprs}, c.id IS NULL AS is_new "
        "FROM import_staging s LEFT JOIN components_component c ON c.code = s.code"
    )
    if only_changed:
        new = {"component_class_id": "s.component_class_id", "admin_code": "s.admin_code", "geom": "s.geom", **resolved}
        new["change_date"] = f"COALESCE({new['change_date']}, c.change_date)"
        left = ", ".join(f"c.{col}" for col in _COMPARED)
        right = ", ".join(new[col] for col in _COMPARED)
        sql += f" WHERE c.id IS NULL OR ({left}) IS DISTINCT FROM ({right})"
    return sql


def _distinct(t: str, x: str) -> str:
    left = ", ".join(f"{t}.{col}" for col in _COMPARED)
    right = ", ".join(
        f"COALESCE({x}.change_date, {t}.change_date)" if col == "change_date" else f"{x}.{col}" for col in _COMPARED
    )
    return f"({left}) IS DISTINCT FROM ({right})"


_INSERT_COLS = [
    "code",
    "component_class_id",
    "admin_code",
    "geom",
    *_OPTIONAL,
    "retired_at",
    "retired_reason",
    "created_at",
    "updated_at",
]
_RETIRED_TEXT = "导入时已注销 retired in import"
_RETIRED_REASON = f"'{_RETIRED_TEXT}'"
# An empty registry's value where the file gives none: _OPTIONAL's expressions with no stored row
# (census_date's CURRENT_DATE is filled in from the database).
_EMPTY_DEFAULTS = {
    "name": "",
    "street_code": "",
    "community_code": "",
    "grid_code": "",
    "location_desc": "",
    "note": "",
    "department_id": None,
    "owner_id": None,
    "maintainer_id": None,
    "state_code": "intact",
    "census_date": "CURRENT_DATE",
    "change_date": None,
    "data_source": "surveyed",
    "attributes": "{}",
    "retired": "false",
}


def _new_row_values() -> list[str]:
    """The values of _INSERT_COLS for a new component, from the resolved row `src`."""
    return [f"src.{c}" for c in ["code", "component_class_id", "admin_code", "geom", *_OPTIONAL]] + [
        "CASE WHEN src.retired THEN now() END",
        f"CASE WHEN src.retired THEN {_RETIRED_REASON} ELSE '' END",
        "now()",
        "now()",
    ]


def _new_row_select() -> str:
    return ", ".join(_new_row_values())


def _insert_sql(present_db: set) -> str:
    select = _new_row_select()
    sets = ", ".join(
        [f"{c} = EXCLUDED.{c}" for c in ["component_class_id", "admin_code", "geom", *_OPTIONAL] if c != "change_date"]
        + [
            "change_date = COALESCE(EXCLUDED.change_date, CURRENT_DATE)",
            "retired_at = CASE WHEN EXCLUDED.retired THEN COALESCE(t.retired_at, now()) END",
            f"retired_reason = CASE WHEN EXCLUDED.retired THEN COALESCE(NULLIF(t.retired_reason, ''), {_RETIRED_REASON}) "
            "ELSE '' END",
            "updated_at = now()",
        ]
    )
    event_cols = _event_columns()
    return (
        f"WITH ins AS (INSERT INTO components_component AS t ({', '.join(_INSERT_COLS)}) "
        # Spatial order (PostGIS sorts geometries along a Hilbert curve) keeps the GiST inserts local.
        f"SELECT {select} FROM import_src src WHERE src.row BETWEEN %s AND %s ORDER BY src.geom "
        f"ON CONFLICT (code) DO UPDATE SET {sets} WHERE {_distinct('t', 'EXCLUDED')} "
        "RETURNING t.*, (xmax = 0) AS inserted), "
        # The history rows the row triggers would write, written set-based (see _skip_row_history).
        f"ev AS (INSERT INTO components_componentevent ({', '.join(event_cols)}, pgh_context_id, pgh_created_at, "
        "pgh_label, pgh_obj_id) "
        f"SELECT {', '.join(event_cols)}, (SELECT _pgh_attach_context()), now(), CASE WHEN inserted THEN 'insert' ELSE 'update' END, id "
        "FROM ins) "
        "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM ins"
    )


def _event_columns() -> list[str]:
    from ..models import ComponentEvent

    return [f.column for f in ComponentEvent._meta.concrete_fields if not f.name.startswith("pgh_")]


def _skip_row_history(cur) -> str:
    """For this transaction only, skips the per-row history triggers on insert and update: the upsert
    writes the same event rows itself in one statement. Per row, pghistory's trigger opens a
    subtransaction and upserts the context row, which cost more than the insert itself (55k rows:
    row triggers 47 s from psql, none 1.5 s). The delete trigger, and every other writer, keep theirs.
    Returns the setting it replaced, for _restore_row_history: inside an outer transaction (a test,
    a caller's atomic block) the setting would otherwise outlive the import."""
    import pgtrigger

    names = [
        trigger.get_pgid(model)
        for model, trigger in pgtrigger.registry.registered(
            "components.Component:insert_insert", "components.Component:update_update"
        )
    ]
    assert len(names) == 2, names
    cur.execute("SELECT coalesce(current_setting('pgtrigger.ignore', true), '')")
    previous = cur.fetchone()[0]
    cur.execute("SELECT set_config('pgtrigger.ignore', %s, true)", ["{" + ",".join(names) + "}"])
    return previous


def _restore_row_history(previous: str) -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT set_config('pgtrigger.ignore', %s, true)", [previous])


def _text(values, nullable=True):
    out = []
    for v in values:
        if v is None or (nullable and v == ""):
            out.append("\\N")
        elif v is True:
            out.append("t")
        elif v is False:
            out.append("f")
        else:
            s = v if isinstance(v, str) else (v.isoformat() if hasattr(v, "isoformat") else str(v))
            out.append(s.translate(_ESC) if ("\\" in s or "\t" in s or "\n" in s or "\r" in s) else s)
    return out


class _Refused(Exception):
    pass


def _references_checked_once(cur, p) -> bool:
    """PostgreSQL checks foreign keys row by row (Django makes them deferred: five lookups per row at
    commit, ~25 s per million rows). Every reference of the file was resolved against the tables
    while validating; here each distinct referenced row is checked once more and locked FOR KEY SHARE
    (what the per-row check would do), so nothing can delete it before commit. Then, where the
    database role may (superuser), the per-row checks are skipped for this transaction's upsert.
    Returns True when they are skipped; otherwise the database checks every row as usual."""
    cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    row = cur.fetchone()
    if not row or not row[0]:
        return False
    checks = [("components_componentclass", "id", sorted({int(v) for v in p.class_id.tolist() if v}))]
    org_ids = set()
    for name in ("department_uscc", "owner_uscc", "maintainer_uscc"):
        org_ids.update(v for v in p.values.get(name) or [] if v not in (None, "", -1))
    checks.append(("components_organisation", "id", sorted(int(v) for v in org_ids)))
    states = {v for v in p.values.get("state") or [] if v} | {"intact"}
    checks.append(("components_componentstate", "code", sorted(states)))
    for table, column, keys in checks:
        if not keys:
            continue
        cur.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {column} = ANY(%s) FOR KEY SHARE) t", [keys])
        if cur.fetchone()[0] != len(keys):
            raise RuntimeError(f"{table}: a referenced row disappeared during the import")
    cur.execute("SET LOCAL session_replication_role = replica")
    return True


MODES = ("auto", "upsert", "initial", "replace")


def upsert_prepared(p, result, *, user=None, job=None, progress=None, dry_run=False, mode="auto") -> None:
    """Writes a components.importing.results.Prepared; fills result.created/updated/unchanged/deleted
    (or errors).

    `mode`: "upsert" merges the rows into the registry; "initial" loads them into a fresh table and
    swaps it in (components.services.initial_load), refused unless the registry is empty; "auto"
    (the default) is "initial" when the registry is empty, else "upsert"; "replace" makes the file
    the whole registry the same way (a component whose code is not in the file is deleted, one whose
    code is keeps its ID), refused when a component to delete is referred to (photos, cases, ...)."""
    timings = result.timings
    present_db = {_NATIVE_TO_DB.get(f, f) for f in p.present} & set(_OPTIONAL)
    # A copy only when new IDs are to be written into it: the file's own array keeps its Arrow twin.
    code = p.code.copy() if (p.code == "").any() else p.code
    if mode not in MODES:
        result.errors.append(RowError(None, "mode", f"unknown mode {mode!r}: use {', '.join(MODES)}"))
        return
    try:
        with transaction.atomic():
            with connection.cursor() as cur:
                cur.execute("SET LOCAL statement_timeout = 0")
                ignored = _skip_row_history(cur)
                if mode == "upsert":
                    how = "upsert"
                elif mode == "replace":
                    if not dry_run:
                        claim_registry(cur, empty_only=False)
                    how = "replace"
                else:
                    # A dry run only says what a real run would do: it holds nothing.
                    empty = registry_is_empty(cur) if dry_run else claim_registry(cur)
                    how = "initial" if empty else "upsert"
                if mode == "initial" and how != "initial":
                    result.errors.append(
                        RowError(
                            None,
                            "mode",
                            "the registry holds components: an initial load needs an empty registry "
                            "(import with mode upsert to merge the file into it, or replace to replace it)",
                        )
                    )
                    raise _Refused
            result.mode = how
            t = time.perf_counter()
            if not dry_run:
                _allocate(p, code)
                reserve_up_to(p.serial_max)
            timings["ids"] = time.perf_counter() - t
            if how != "initial" or dry_run:
                # An initial load COPYs straight into its fresh table (_copy_fresh): nothing to join.
                t = time.perf_counter()
                _stage(p, code, present_db)
                timings["stage"] = time.perf_counter() - t
            context = {"user": history_user_id(user), "action": "import"}
            if job is not None:
                context["import_job"] = str(job.pk)
            if how == "replace":
                _refuse_replacing(p, present_db, result, dry_run=dry_run)

                def fill(cur, nextval):
                    cur.execute(_replace_insert_sql(present_db, nextval))
                    return cur.rowcount

            else:

                def fill(cur, nextval):
                    return _copy_fresh(p, code, present_db, cur)

            if how in ("initial", "replace") and not dry_run:
                history = _fresh_history_sql() if how == "initial" else _replace_history_sql()
                _, events = fresh_load(
                    fill,
                    history_sql=history,
                    history_context=context,
                    cells_sql=rebuild_sql(FRESH),
                    timings=timings,
                    progress=progress,
                    n=p.n,
                )
                result.created, result.updated = events.get("insert", 0), events.get("update", 0)
                result.deleted = events.get("delete", 0)
                result.unchanged = p.n - result.created - result.updated
                if progress:
                    progress(p.n, p.n)
                # A replacement may have moved or removed components anywhere: every tile goes.
                bbox = p.bbox if how == "initial" else None
                transaction.on_commit(lambda: components_changed.send(sender=Component, codes=[], bbox=bbox))
                _restore_row_history(ignored)
                return
            t = time.perf_counter()
            with connection.cursor() as cur:
                # Resolve kept/default values against the stored rows once (one hash join), keeping only
                # the rows to write, so the chunked upsert below needs no join whose plan could go wrong
                # while the table grows, and an unchanged row goes no further.
                cur.execute(f"CREATE TEMP TABLE import_src ON COMMIT DROP AS {_src_sql(present_db, only_changed=True)}")
                cur.execute("CREATE UNIQUE INDEX ON import_src (row)")
                cur.execute("ANALYZE import_src")
            src = "SELECT * FROM import_src"
            timings["resolve"] = time.perf_counter() - t
            t = time.perf_counter()
            with connection.cursor() as cur:
                cur.execute(
                    f"SELECT src.row, t.code FROM ({src}) src JOIN components_component t ON t.code = src.code "
                    f"WHERE t.retired AND {_distinct('t', 'src')} ORDER BY src.row LIMIT 10000"
                )
                refused = cur.fetchall()
            if refused:
                result.errors.extend(
                    RowError(r, "code", f"component {c} is retired and cannot be changed") for r, c in refused
                )
                raise _Refused
            if dry_run:
                with connection.cursor() as cur:
                    cur.execute(
                        "SELECT count(*) FILTER (WHERE is_new), count(*) FILTER (WHERE NOT is_new) FROM import_src"
                    )
                    result.created, result.updated = cur.fetchone()
                result.unchanged = p.n - result.created - result.updated
                timings["compare"] = time.perf_counter() - t
                if progress:
                    progress(p.n, p.n)
                raise _Refused  # roll back the staging table and nothing else
            with connection.cursor() as cur:
                cur.execute("SELECT count(*), min(row), max(row) FROM import_src")
                to_write, lo_row, hi_row = cur.fetchone()
            sql = _insert_sql(present_db)
            created = updated = 0
            if to_write:
                with pghistory.context(**context):
                    with connection.cursor() as cur:
                        skipped = _references_checked_once(cur, p)
                        for lo in range(lo_row, hi_row + 1, CHUNK_ROWS):
                            hi = min(lo + CHUNK_ROWS - 1, hi_row)
                            cur.execute(sql, [lo, hi])
                            c, u = cur.fetchone()
                            created, updated = created + c, updated + u
                            if progress:
                                progress(hi, p.n)
                        if skipped:
                            cur.execute("SET LOCAL session_replication_role = origin")
            if progress:
                progress(p.n, p.n)
            timings["upsert"] = time.perf_counter() - t
            _restore_row_history(ignored)
            result.created, result.updated, result.unchanged = created, updated, p.n - created - updated
            if created or updated:
                bbox = p.bbox
                transaction.on_commit(lambda: components_changed.send(sender=Component, codes=[], bbox=bbox))
    except _Refused:
        pass


def _fresh_history_sql() -> str:
    """The 'insert' events pghistory's row trigger would have written, from the loaded table at once."""
    cols = ", ".join(_event_columns())
    return (
        f"WITH ev AS (INSERT INTO components_componentevent ({cols}, pgh_context_id, pgh_created_at, pgh_label, "
        f"pgh_obj_id) SELECT {cols}, (SELECT _pgh_attach_context()), now(), 'insert', id FROM {FRESH} "
        "RETURNING pgh_label) SELECT pgh_label, count(*) FROM ev GROUP BY 1"
    )


def _replace_insert_sql(present_db: set, nextval: str) -> str:
    """The file's rows as the registry after a replacement: a code already stored keeps its ID and,
    when nothing differs, its whole row; a changed one gets what the upsert's UPDATE would give it; a
    new one what its INSERT would."""
    changed = f"(c.id IS NOT NULL AND {_distinct('c', 'src')})"
    kept = {
        "change_date": "COALESCE(src.change_date, CURRENT_DATE)",
        "retired_at": "CASE WHEN src.retired THEN COALESCE(c.retired_at, now()) END",
        "retired_reason": f"CASE WHEN src.retired THEN COALESCE(NULLIF(c.retired_reason, ''), {_RETIRED_REASON}) "
        "ELSE '' END",
        "created_at": "c.created_at",
        "updated_at": "now()",
    }
    new = dict(zip(_INSERT_COLS, _new_row_values(), strict=True))
    exprs = []
    for col in _INSERT_COLS:
        if col in kept:
            exprs.append(f"CASE WHEN c.id IS NULL THEN {new[col]} WHEN {changed} THEN {kept[col]} ELSE c.{col} END")
        else:
            exprs.append(new[col])
    return (
        f"INSERT INTO {FRESH} (id, {', '.join(_INSERT_COLS)}) "
        f"SELECT COALESCE(c.id, {nextval}), {', '.join(exprs)} "
        f"FROM ({_src_sql(present_db)}) src LEFT JOIN components_component c ON c.code = src.code ORDER BY src.geom"
    )


def _replace_history_sql() -> str:
    """The events the row triggers would have written for a replacement: 'delete' for each stored
    component not kept, 'update' for each kept one that differs, 'insert' for each new one."""
    event_cols = _event_columns()
    cols = ", ".join(event_cols)
    old = ", ".join(f"o.{c}" for c in event_cols)
    fresh = ", ".join(f"f.{c}" for c in event_cols)
    return (
        f"WITH ev AS (INSERT INTO components_componentevent ({cols}, pgh_context_id, pgh_created_at, pgh_label, "
        "pgh_obj_id) "
        f"SELECT {old}, (SELECT _pgh_attach_context()), now(), 'delete', o.id FROM components_component o "
        f"WHERE NOT EXISTS (SELECT 1 FROM {FRESH} f WHERE f.id = o.id) "
        f"UNION ALL SELECT {fresh}, (SELECT _pgh_attach_context()), now(), 'update', f.id "
        f"FROM {FRESH} f JOIN components_component o ON o.id = f.id WHERE ({old}) IS DISTINCT FROM ({fresh}) "
        f"UNION ALL SELECT {fresh}, (SELECT _pgh_attach_context()), now(), 'insert', f.id FROM {FRESH} f "
        "WHERE NOT EXISTS (SELECT 1 FROM components_component o WHERE o.id = f.id) "
        "RETURNING pgh_label) SELECT pgh_label, count(*) FROM ev GROUP BY 1"
    )


def _refuse_replacing(p, present_db: set, result, *, dry_run: bool) -> None:
    """Refuses a replacement (raises _Refused with the errors) that would change a retired component,
    as the upsert does, or delete a component that another table refers to (its ID would dangle);
    a dry run also counts what it would write and delete."""
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT src.row, c.code FROM ({_src_sql(present_db)}) src JOIN components_component c "
            f"ON c.code = src.code WHERE c.retired AND {_distinct('c', 'src')} ORDER BY src.row LIMIT 10000"
        )
        errors = [RowError(r, "code", f"component {c} is retired and cannot be changed") for r, c in cur.fetchall()]
        for table, column in incoming_references(cur):
            cur.execute(
                f"SELECT DISTINCT c.code FROM {table} r JOIN components_component c ON c.id = r.{column} "
                "WHERE NOT EXISTS (SELECT 1 FROM import_staging s WHERE s.code = c.code) ORDER BY 1 LIMIT 1000"
            )
            errors.extend(
                RowError(
                    None,
                    "code",
                    f"component {c} is referred to by {table} and is not in the file: a replacement must keep it",
                )
                for (c,) in cur.fetchall()
            )
        result.errors.extend(errors)
        if errors:
            raise _Refused
        if dry_run:
            cur.execute(
                f"SELECT count(*) FILTER (WHERE c.id IS NULL), count(*) FILTER (WHERE c.id IS NOT NULL AND "
                f"{_distinct('c', 'src')}) FROM ({_src_sql(present_db)}) src "
                "LEFT JOIN components_component c ON c.code = src.code"
            )
            result.created, result.updated = cur.fetchone()
            result.unchanged = p.n - result.created - result.updated
            cur.execute(
                "SELECT count(*) FROM components_component c "
                "WHERE NOT EXISTS (SELECT 1 FROM import_staging s WHERE s.code = c.code)"
            )
            result.deleted = cur.fetchone()[0]
            raise _Refused  # roll back the staging table and nothing else


def _allocate(p, code) -> None:
    new = code == ""
    if not new.any():
        return
    groups: dict[tuple[str, int], list[int]] = {}
    for i, a, c in zip(new.nonzero()[0].tolist(), p.admin_code[new].tolist(), p.class_id[new].tolist()):
        groups.setdefault((a, c), []).append(i)
    classes = ComponentClass.objects.in_bulk([c for _, c in groups])
    for (admin, class_pk), rows in sorted(groups.items()):
        cls = classes[class_pk]
        serials = allocate_serials(admin, cls, len(rows))
        assert serials.stop - 1 <= MAX_SERIAL
        prefix = admin + cls.code
        for i, s in zip(rows, serials):
            code[i] = f"{prefix}{s:06d}"


def _arrow_col(values, nullable=True):
    """A staging column as an Arrow array: None is NULL; '' is NULL too where `nullable`, else ''.
    (Written as CSV: NULL unquoted and empty, every string quoted, so '' stays an empty string.)"""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, np.ndarray) and values.dtype.kind in "iub":
        return pa.array(values)
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    arr = arrow_strings.remembered(values)
    if arr is None:
        try:
            arr = pa.array(values if isinstance(values, (list, np.ndarray)) else list(values), from_pandas=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arr = None
    if arr is None or not (
        pa.types.is_string(arr.type)
        or pa.types.is_integer(arr.type)
        or pa.types.is_boolean(arr.type)
        or pa.types.is_date32(arr.type)
        or pa.types.is_null(arr.type)
    ):
        # Mixed or unusual values: their text as _text() writes it.
        arr = pa.array(
            [
                None
                if v is None or (nullable and v == "")
                else (
                    "t"
                    if v is True
                    else "f"
                    if v is False
                    else v
                    if isinstance(v, str)
                    else (v.isoformat() if hasattr(v, "isoformat") else str(v))
                )
                for v in values
            ],
            type=pa.string(),
        )
    elif nullable and pa.types.is_string(arr.type):
        arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
    return arr


def _arrow_table(p, code, present_db, *, with_row=True):
    """The staging columns as an Arrow table: row, code, class, admin code, geometry (hex WKB) and the
    optional columns the file gives (None / '' as NULL where the stored or default value applies)."""
    import pyarrow as pa

    names = ["row", "code", "component_class_id", "admin_code", "geom"]
    data = [
        pa.array(np.arange(1, p.n + 1, dtype=np.int64)),
        _arrow_col(code, nullable=False),
        pa.array(np.asarray(p.class_id, dtype=np.int64)),
        _arrow_col(p.admin_code, nullable=False),
        _arrow_col(p.geom_hex, nullable=False),
    ]
    db_to_native = {_NATIVE_TO_DB.get(f, f): f for f in p.present}
    for c in _OPTIONAL:
        if c not in present_db:
            continue
        values = p.values[db_to_native[c]]
        nullable = c in ("state_code", "data_source", "attributes", "department_id", "owner_id", "maintainer_id")
        if c in ("name", "street_code", "community_code", "grid_code", "location_desc", "note"):
            nullable = False
        names.append(c)
        data.append(_arrow_col(values, nullable=nullable))
    table = pa.Table.from_arrays(data, names=names)
    return table if with_row else table.drop_columns(["row"])


def _copy_table(target: str, table) -> None:
    """COPY an Arrow table into `target` (its column names), as CSV in chunks: NULL unquoted and
    empty, every string quoted, so '' stays an empty string."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    options = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
    raw = connection.connection
    with raw.cursor() as cur:
        with cur.copy(f"COPY {target} ({', '.join(table.column_names)}) FROM STDIN WITH (FORMAT csv)") as cp:
            for lo in range(0, table.num_rows, CHUNK_ROWS):
                buf = pa.BufferOutputStream()
                pa_csv.write_csv(table.slice(lo, CHUNK_ROWS), buf, options)
                cp.write(memoryview(buf.getvalue()))


def _stage(p, code, present_db) -> None:
    cols = ["row int", "code text", "component_class_id bigint", "admin_code text", "geom geometry(Geometry, 4490)"]
    cols += [f"{c} {_OPTIONAL[c][0]}" for c in _OPTIONAL if c in present_db]
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS import_staging")
        cur.execute("DROP TABLE IF EXISTS import_src")
        cur.execute(f"CREATE TEMP TABLE import_staging ({', '.join(cols)}) ON COMMIT DROP")
    _copy_table("import_staging", _arrow_table(p, code, present_db))
    with connection.cursor() as cur:
        # The join on code is all the planner needs to know of: statistics of every column (geometry
        # and text of a million rows) cost more than the join.
        cur.execute("ANALYZE import_staging (code)")


def _copy_fresh(p, code, present_db, cur) -> int:
    """An initial load's rows, COPYed straight into the fresh table: the values the upsert would
    insert into an empty registry (_OPTIONAL's expressions with no stored row, _new_row_values),
    resolved here column by column, in the file's Z order (ORDER BY geom's locality, no sort)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cur.execute("SELECT now()::text, CURRENT_DATE::text")  # the transaction's, as now() in SQL gives
    now, today = cur.fetchone()
    staged = _arrow_table(p, code, present_db, with_row=False)
    if p.spatial_order is not None:
        staged = staged.take(pa.array(p.spatial_order))
    n = staged.num_rows

    def constant(text):
        return pc.fill_null(pa.nulls(n, pa.string()), text)

    names = ["code", "component_class_id", "admin_code", "geom"]
    data = [staged.column(c) for c in names]
    for c in _OPTIONAL:
        default = today if _EMPTY_DEFAULTS[c] == "CURRENT_DATE" else _EMPTY_DEFAULTS[c]
        if c in staged.column_names:
            arr = staged.column(c)
            if default is not None:
                arr = pc.fill_null(pc.cast(arr, pa.string()) if arr.type != pa.string() else arr, default)
        elif default is None:
            continue  # NULL: left out of the COPY
        else:
            arr = constant(default)
        names.append(c)
        data.append(arr)
    if "retired" in staged.column_names:
        flag = staged.column("retired")
        retired = flag if pa.types.is_boolean(flag.type) else pc.is_in(flag, pa.array(["t", "true"]))
        retired = pc.fill_null(retired, False)
        names += ["retired_at", "retired_reason"]
        data += [pc.if_else(retired, now, pa.scalar(None, pa.string())), pc.if_else(retired, _RETIRED_TEXT, "")]
    else:
        names.append("retired_reason")
        data.append(constant(""))
    names += ["created_at", "updated_at"]
    data += [constant(now), constant(now)]
    _copy_table(FRESH, pa.Table.from_arrays(data, names=names))
    return n
