"""The initial load of the component registry, as pg_restore does it: for an empty registry (or a
replacement of the registry by a file, where kept codes keep their IDs), the validated rows go into a
fresh table with no secondary index, no foreign key and no trigger; the
indexes are built once, the constraints validated once, the history and the cluster cells written
set-based from the whole table, and then the fresh table takes the registry's place
(components.services.bulk.upsert_prepared chooses this path; docs/imports.md).

All of it is one transaction with the import's: on any failure nothing changed. Writers are held
off from the start (SHARE ROW EXCLUSIVE on the registry, claim_registry) while readers keep
reading the old table until the swap at the end, whose ACCESS EXCLUSIVE lock lasts only
until the commit that follows it.

What the swap must carry over is read from the catalogue, not written out here, so a migration that
adds an index, a constraint or a trigger to components_component is carried over too: columns,
defaults, identity, the generated column and CHECK constraints (CREATE TABLE .. LIKE), every index
(built after the load, constraint-backed ones as constraints), the foreign keys both ways (added NOT
VALID, then validated in one pass each), the triggers with their enabled state and comments
(pgtrigger keeps its hash in the comment), grants and storage options. Anything else that depends
on the table (a view, say) makes the DROP of the old table fail: the import then fails whole and
the registry is as it was."""

from __future__ import annotations

import time

import pghistory
from django.db import OperationalError, connection, transaction

TABLE = "components_component"
FRESH = "components_component_load"


_LOAD_LOCK = "hashtext('components.initial_load')"


def registry_is_empty(cur) -> bool:
    cur.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {TABLE})")
    return cur.fetchone()[0]


def claim_registry(cur, *, empty_only: bool = True) -> bool:
    """Holds the registry for a load into a fresh table until the end of this transaction: other
    writers wait (SHARE ROW EXCLUSIVE), readers go on. With `empty_only`, only when it is empty:
    returns False (and holds nothing) when it holds rows. Returns whether it is empty.

    Another import that wants to load the same registry must not have read the old table before it
    waits for this one, or the DROP at the swap and its wait would deadlock: so the registry is
    looked at only under an advisory lock, held as a session lock while looking (and released at
    once when the registry holds rows, so imports into a full registry never queue on it) and as a
    transaction lock for a load."""
    cur.execute(f"SELECT pg_advisory_lock({_LOAD_LOCK})")
    try:
        # In a savepoint, so that the session lock can be released whatever fails in here.
        with transaction.atomic():
            empty = registry_is_empty(cur)
            if empty or not empty_only:
                cur.execute(f"SELECT pg_advisory_xact_lock({_LOAD_LOCK})")
                cur.execute(f"LOCK TABLE {TABLE} IN SHARE ROW EXCLUSIVE MODE")
                empty = registry_is_empty(cur)
    finally:
        cur.execute(f"SELECT pg_advisory_unlock({_LOAD_LOCK})")
    return empty


def incoming_references(cur) -> list[tuple[str, str]]:
    """(table, column) of every foreign key of another table that points at a component."""
    cur.execute(
        "SELECT c.conrelid::regclass::text, quote_ident(a.attname) FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "WHERE c.confrelid = %s::regclass AND c.contype = 'f' AND c.conrelid <> c.confrelid ORDER BY 1, 2",
        [TABLE],
    )
    return cur.fetchall()


# How long the swap waits at a time for the readers of the registry to finish: a waiting ACCESS
# EXCLUSIVE request queues every later reader behind it, so one long reader must not stall the map.
SWAP_LOCK_WAIT = "2s"
SWAP_LOCK_ATTEMPTS = 30


def _lock_for_swap(cur, tables: list[str]) -> None:
    """ACCESS EXCLUSIVE on the registry and the tables whose foreign keys move, waiting at most
    SWAP_LOCK_WAIT at a time, the readers going on between attempts; after the last attempt the
    import fails whole."""
    previous = _one(cur, "SELECT current_setting('lock_timeout')")
    for attempt in range(SWAP_LOCK_ATTEMPTS):
        try:
            with transaction.atomic():
                cur.execute("SELECT set_config('lock_timeout', %s, true)", [SWAP_LOCK_WAIT])
                cur.execute(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE")
            break
        except OperationalError as exc:
            # lock_not_available (the wait ran out) or deadlock_detected (this attempt was chosen)
            if getattr(exc.__cause__, "sqlstate", None) not in ("55P03", "40P01") or attempt + 1 == SWAP_LOCK_ATTEMPTS:
                raise
            time.sleep(min(0.2 * (attempt + 1), 2.0))
    cur.execute("SELECT set_config('lock_timeout', %s, true)", [previous])


def _one(cur, sql, params=None):
    cur.execute(sql, params or [])
    return cur.fetchone()[0]


def _ident(cur, name: str) -> str:
    return _one(cur, "SELECT quote_ident(%s)", [name])


def _fmt(cur, template: str, *args) -> str:
    """A statement with identifiers and literals quoted by PostgreSQL's format() (utility statements
    such as COMMENT and GRANT take no bind parameters)."""
    return _one(cur, "SELECT format(%s" + ", %s" * len(args) + ")", [template, *args])


def _retarget(definition: str, old: str, new: str) -> str:
    """A CREATE INDEX / CREATE TRIGGER text from the catalogue, made to name the fresh table."""
    for qualified in (f" ON public.{old} ", f" ON {old} "):
        if qualified in definition:
            return definition.replace(qualified, f" ON public.{new} ", 1)
    raise RuntimeError(f"cannot retarget to {new}: {definition}")


def fresh_load(
    fill,
    *,
    history_sql: str,
    history_context: dict,
    cells_sql: str,
    timings: dict,
    progress=None,
    n: int = 0,
) -> tuple[int, dict]:
    """Fills a fresh table ({FRESH}) by `fill(cursor, nextval)` (returns the rows it wrote; `nextval`
    is the SQL expression of the fresh table's next ID, for rows that name their ID; see bulk), builds it up to the registry's definition,
    writes history (`history_sql`: inserts the events comparing {FRESH} with the old table, run in
    pghistory's `history_context`, and answers (label, count) rows) and cluster cells (`cells_sql`),
    and swaps it in. Returns (rows loaded, {event label: count}). The caller holds the transaction
    and the registry (claim_registry)."""
    with connection.cursor() as cur:
        t = time.perf_counter()
        # Index builds sort in memory up to this much (per build, for this transaction only), unless
        # the server allows more already.
        cur.execute(
            "SELECT set_config('maintenance_work_mem', '256MB', true) "
            "WHERE pg_size_bytes(current_setting('maintenance_work_mem')) < pg_size_bytes('256MB')"
        )
        cur.execute(
            f"CREATE TABLE {FRESH} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING GENERATED "
            "INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)"
        )
        old_seq = _one(cur, "SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])
        new_seq = _one(cur, "SELECT pg_get_serial_sequence(%s, 'id')", [FRESH])
        # IDs go on from the old table's: the history of deleted components keeps theirs.
        cur.execute(f"SELECT setval(%s, last_value, is_called) FROM {old_seq}", [new_seq])
        nextval = "nextval(" + _one(cur, "SELECT quote_literal(%s)", [new_seq]) + "::regclass)"
        loaded = fill(cur, nextval)
        timings["load"] = time.perf_counter() - t
        if progress:
            progress(n // 2, n)  # loaded; indexes, history and the swap to come

        t = time.perf_counter()
        cur.execute(
            "SELECT ci.relname, pg_get_indexdef(i.indexrelid), c.conname, pg_get_constraintdef(c.oid) "
            "FROM pg_index i JOIN pg_class ci ON ci.oid = i.indexrelid "
            "LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid "
            "WHERE i.indrelid = %s::regclass ORDER BY c.contype NULLS LAST, ci.relname",
            [TABLE],
        )
        indexes = cur.fetchall()
        renames = []
        for k, (name, indexdef, conname, condef) in enumerate(indexes):
            temp = f"{FRESH}_i{k}"
            if conname:
                cur.execute(f"ALTER TABLE {FRESH} ADD CONSTRAINT {temp} {condef}")
                renames.append(f"ALTER TABLE {TABLE} RENAME CONSTRAINT {temp} TO {_ident(cur, conname)}")
            else:
                head = f" INDEX {_ident(cur, name)} ON "
                assert head in indexdef, indexdef
                cur.execute(_retarget(indexdef.replace(head, f" INDEX {temp} ON ", 1), TABLE, FRESH))
                renames.append(f"ALTER INDEX {temp} RENAME TO {_ident(cur, name)}")
        timings["indexes"] = time.perf_counter() - t

        t = time.perf_counter()
        cur.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
            [TABLE],
        )
        for conname, condef in cur.fetchall():
            # NOT VALID, then one validating anti-join per key instead of a check per row.
            name = _ident(cur, conname)
            cur.execute(f"ALTER TABLE {FRESH} ADD CONSTRAINT {name} {condef} NOT VALID")
            cur.execute(f"ALTER TABLE {FRESH} VALIDATE CONSTRAINT {name}")
        timings["constraints"] = time.perf_counter() - t

        t = time.perf_counter()
        with pghistory.context(**history_context):
            cur.execute(history_sql)
            events = dict(cur.fetchall())
        timings["history"] = time.perf_counter() - t
        t = time.perf_counter()
        cur.execute(cells_sql)
        timings["cells"] = time.perf_counter() - t

        t = time.perf_counter()
        cur.execute(
            "SELECT t.tgname, pg_get_triggerdef(t.oid), t.tgenabled, obj_description(t.oid, 'pg_trigger') "
            "FROM pg_trigger t WHERE t.tgrelid = %s::regclass AND NOT t.tgisinternal ORDER BY t.tgname",
            [TABLE],
        )
        for tgname, tgdef, enabled, comment in cur.fetchall():
            cur.execute(_retarget(tgdef, TABLE, FRESH))
            name = _ident(cur, tgname)
            state = {"A": "ENABLE ALWAYS", "R": "ENABLE REPLICA", "D": "DISABLE"}.get(enabled)
            if state:
                cur.execute(f"ALTER TABLE {FRESH} {state} TRIGGER {name}")
            if comment is not None:
                cur.execute(_fmt(cur, "COMMENT ON TRIGGER %I ON %I IS %L", tgname, FRESH, comment))
        cur.execute(
            "SELECT a.grantee::regrole::text, a.privilege_type, a.is_grantable FROM pg_class c, "
            "aclexplode(c.relacl) a WHERE c.oid = %s::regclass AND a.grantee <> c.relowner AND a.grantee <> 0",
            [TABLE],
        )
        for grantee, privilege, grantable in cur.fetchall():
            cur.execute(
                _fmt(cur, f"GRANT {privilege} ON %I TO %s{' WITH GRANT OPTION' if grantable else ''}", FRESH, grantee)
            )
        cur.execute("SELECT array_to_string(reloptions, ', ') FROM pg_class WHERE oid = %s::regclass", [TABLE])
        options = cur.fetchone()[0]
        if options:
            cur.execute(f"ALTER TABLE {FRESH} SET ({options})")
        # No ANALYZE here (it took longer than all the B-tree builds: geometry and expression
        # statistics): like pg_restore's, the new table is analysed by autovacuum soon after commit.

        cur.execute(
            "SELECT DISTINCT conrelid::regclass::text FROM pg_constraint "
            "WHERE confrelid = %s::regclass AND contype = 'f' AND conrelid <> confrelid ORDER BY 1",
            [TABLE],
        )
        _lock_for_swap(cur, [TABLE, *(table for (table,) in cur.fetchall())])
        # The swap. PostgreSQL alters no table with deferred checks still queued in this transaction
        # (e.g. a delete of components earlier in it): run them now, then defer again those that
        # are deferred by default.
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        deferred = _one(
            cur,
            "SELECT string_agg(DISTINCT format('%%I.%%I', n.nspname, c.conname), ', ') FROM pg_constraint c "
            "JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.condeferred",
        )
        # The foreign keys that point at the registry are moved to the fresh table.
        cur.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE confrelid = %s::regclass AND contype = 'f' AND conrelid <> confrelid ORDER BY 1, 2",
            [TABLE],
        )
        incoming = cur.fetchall()
        for table, conname, _ in incoming:
            cur.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_ident(cur, conname)}")
        seq_name = old_seq.rsplit(".", 1)[-1]
        # No CASCADE: anything else depending on the old table stops the import here, unchanged.
        cur.execute(f"DROP TABLE {TABLE}")
        cur.execute(f"ALTER TABLE {FRESH} RENAME TO {TABLE}")
        cur.execute(f"ALTER SEQUENCE {new_seq} RENAME TO {seq_name}")
        for statement in renames:
            cur.execute(statement)
        for table, conname, condef in incoming:
            name = _ident(cur, conname)
            cur.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {condef} NOT VALID")
            cur.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}")
        if deferred:
            cur.execute(f"SET CONSTRAINTS {deferred} DEFERRED")
        timings["swap"] = time.perf_counter() - t
    return loaded, events
