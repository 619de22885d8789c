"""The incidents report at city scale: `python -m bench.reports_bench [--cases 100000]`.

Fills the bench database (name must contain 'bench'; default gridcity_bench_reports, or
$BENCH_REPORTS_DATABASE_URL) with synthetic cases over the last 60 days and their event logs, by
set-based SQL (a few seconds; reused when already there: case numbers 1999...), then times
`reports.build` for this week's report of the whole district at each level (JSON answer without
HTTP), a 60-day range, and `safety_index.refresh` when grids are loaded.

Target: the weekly report for the whole district <= 2 s (p50 of 5 runs). Exit status 1 when missed.
`--use-current-database` runs against $DATABASE_URL as it is (a helper's own database)."""

import argparse
import os
import statistics
import sys
import time

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:54329/gridcity_bench_reports"
TARGET_MS = 2000
PREFIX = "1999"  # synthetic case numbers: no real day starts with 1999 in this system

CASES_SQL = """
WITH classes AS (SELECT array_agg(id ORDER BY id) AS ids FROM incidents_caseclass WHERE parent_id IS NOT NULL),
orgs AS (SELECT array_agg(id ORDER BY id) AS ids FROM components_organisation),
raw AS (
    SELECT i, random() AS r, now() - random() * interval '60 days' AS created,
           1 + (random() * 9)::int AS s, 1 + (random() * 9)::int AS c, 1 + (random() * 19)::int AS g
      FROM generate_series(1, %(n)s) AS i
)
INSERT INTO incidents_case
    (number, source, case_class_id, severity, description, geom, grid_code, community_code, street_code, state,
     assigned_org_id, due_at, calendar_known, escalation_level, client_token, created_at, updated_at)
SELECT %(prefix)s || lpad((i + %(offset)s)::text, 10, '0'),
       (ARRAY['grid_worker', 'hotline_12345', 'open311', 'camera', 'dispatcher'])[1 + (i %% 5)],
       classes.ids[1 + (i %% array_length(classes.ids, 1))],
       CASE WHEN r < 0.9 THEN 'normal' WHEN r < 0.98 THEN 'major' ELSE 'urgent' END,
       'bench-reports',
       ST_SetSRID(ST_MakePoint(116.78 + random() * 0.12, 35.50 + random() * 0.10), 4490),
       '370812' || lpad(s::text, 3, '0') || lpad(c::text, 3, '0') || lpad(g::text, 2, '0'),
       '370812' || lpad(s::text, 3, '0') || lpad(c::text, 3, '0'),
       '370812' || lpad(s::text, 3, '0'),
       CASE WHEN r < 0.70 THEN 'closed' WHEN r < 0.75 THEN 'void' WHEN r < 0.85 THEN 'handling'
            WHEN r < 0.92 THEN 'dispatched' ELSE 'reported' END,
       CASE WHEN r < 0.70 OR (r >= 0.75 AND r < 0.92) THEN orgs.ids[1 + (i %% array_length(orgs.ids, 1))] END,
       created + interval '2 days', TRUE, CASE WHEN i %% 5 = 0 THEN 1 ELSE 0 END, '', created, created
  FROM raw, classes, orgs
"""

EVENTS_SQL = """
INSERT INTO incidents_caseevent (case_id, at, actor_id, from_state, to_state, action, note, organisation_id)
SELECT c.id, c.created_at + e.offset_, NULL, e.from_state, e.to_state, e.action, '', e.org
  FROM incidents_case c
 CROSS JOIN LATERAL (VALUES
    (interval '0', '', 'reported', 'report', NULL::bigint, TRUE),
    (interval '30 minutes', 'reported', 'dispatched', 'dispatch', c.assigned_org_id, c.assigned_org_id IS NOT NULL),
    (interval '5 hours', 'handling', 'handling', 'escalate', NULL, c.escalation_level > 0),
    (interval '1 hour', 'dispatched', 'handling', 'accept', NULL, c.state IN ('handling', 'closed')),
    (interval '1 day', 'handling', 'verifying', 'handle', NULL, c.state = 'closed'),
    (interval '1 day 1 hour', 'verifying', 'verifying', 'verify', NULL, c.state = 'closed'),
    (interval '1 day 2 hours', 'verifying', 'closed', 'close', NULL, c.state = 'closed'),
    (interval '10 minutes', 'reported', 'void', 'void', NULL, c.state = 'void')
 ) AS e(offset_, from_state, to_state, action, org, wanted)
 WHERE c.number LIKE %(like)s AND c.number > %(after)s AND e.wanted
"""


def seed(cases: int) -> int:
    from django.db import connection, transaction

    from components.models import Organisation
    from components.uscc import make_uscc

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM incidents_case WHERE number LIKE %s", [PREFIX + "%"])
        have = cursor.fetchone()[0]
    if have >= cases:
        return have
    names = [f"兖州区基准单位{i}" for i in range(1, 20)] + ["兖州区综合行政执法局"]
    for i, name in enumerate(names, 1):
        Organisation.objects.get_or_create(uscc=make_uscc(f"91370812BE{i:07d}"), defaults={"name": name})
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 0")  # a one-off load of ~600,000 rows
        cursor.execute(CASES_SQL, {"n": cases - have, "prefix": PREFIX, "offset": have})
        cursor.execute(EVENTS_SQL, {"like": PREFIX + "%", "after": f"{PREFIX}{have:010d}"})
        cursor.execute("ANALYZE incidents_case")
        cursor.execute("ANALYZE incidents_caseevent")
    return cases


def timed(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_REPORTS_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--use-current-database", action="store_true", help="use $DATABASE_URL without checks")
    args = parser.parse_args(argv)
    from bench.lookup_bench import ensure_database, setup_django

    url = os.environ["DATABASE_URL"] if args.use_current_database else args.database_url
    if not args.use_current_database:
        ensure_database(url)
    setup_django(url)
    from layers.incidents import reports, safety_index

    t0 = time.perf_counter()
    total = seed(args.cases)
    print(f"{total} synthetic cases ready in {time.perf_counter() - t0:.1f} s")
    week = reports.period("week")
    ok = True
    print(f"{'report':<34}{'p50 ms':>10}{'rows':>8}")
    for level in reports.LEVELS:
        ms, result = timed(lambda level=level: reports.build(week, level), args.runs)
        ok &= ms <= TARGET_MS
        print(f"{'week, ' + level:<34}{ms:>10.0f}{len(result['rows']):>8}")
    since = reports.period("day").first
    import datetime as dt

    long = reports.period("range", first=since - dt.timedelta(days=59), last=since)
    ms, result = timed(lambda: reports.build(long, "street"), max(1, args.runs // 2))
    print(f"{'60 days, street':<34}{ms:>10.0f}{len(result['rows']):>8}")
    ms, written = timed(safety_index.refresh, 1)
    print(f"{'safety_index.refresh':<34}{ms:>10.0f}{written:>8}")
    print(f"target: weekly report <= {TARGET_MS} ms: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
