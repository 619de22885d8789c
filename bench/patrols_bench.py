"""Patrols benchmark: ingest rate against a raw COPY, `tracks` tiles against the SQL floor, the
playback API, and (when bench/patrols_coverage.py exists) a day's coverage for the whole city.

    .venv/bin/python -m bench patrols [--scale demo|city] [--seed 1] [--repeat 3] [--batches 10] [--tiles 300]

1. Its own database (default gridcity_bench_patrols): migrated, the demo city's grids
   (fixtures.demo_city.load_grids) and the demo patrols of the same scale (layers.patrols.demo.load:
   ~100 workers for a day at `demo`, ~1,000 workers for 30 days at `city`, which takes a long while
   the first time), loaded once and reused.
2. (a) Ingest: `--batches` batches of 10,000 fixes through `ingest()` (in-process: validation, CRS,
   speed checks, staging COPY, INSERT ... ON CONFLICT, the daily tracks rebuilt), each batch 8,000 new
   fixes and 2,000 the phone already sent (20 % duplicates), one batch per bench worker and repeat;
   against a raw `COPY` of the same 8,000 new rows per batch into the same partitioned table. Both
   write a month of 2021 whose partition is dropped and made afresh before every pass (and the bench
   workers' daily tracks deleted). Rate = fixes stored per second, the same rows for both.
   (b) `tracks` tiles: a seeded tile set over z10-z18 placed on the stored lines, each tile once as
   raw ST_AsMVT SQL (tiles.sql.tile_sql, exactly what the server runs: the floor) and through our
   the tile service (tiles/service.py under granian, where deploy/nginx sends tiles) with the tile
   cache flushed (cold), and the same through gunicorn (the Django process), `--concurrency` clients,
   warmed up on tiles outside the timed set; untimed, every tile the service sent is compared with
   the floor's (bytes, else decoded features and ids).
   (c) Playback: GET /api/patrols/workers/{worker}/days/{date}/ over every stored worker-day (up to
   --requests), sequentially with one keep-alive client, as a dispatcher.
   (d) bench.patrols_coverage.run(database_url) when that module exists.
3. `--repeat` passes (at least 3), medians and spread; prints a table, writes
   bench/results/patrols-<time>.json; exit status 1 when a target is missed.

Targets: ingest >= 0.5 x raw COPY; cold tiles/s >= 0.8 x floor and p99 <= 2 x floor p99, every tile
equal to the floor's; playback p50 <= 50 ms; coverage <= 60 s (its own verdict). Only 127.0.0.1 is
contacted; every loop is bounded."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from zoneinfo import ZoneInfo

from bench.incidents_bench import _client, tiles_http, timed
from bench.lookup_bench import (
    RESULTS_DIR,
    ROOT,
    ensure_database,
    free_port,
    session_cookie,
    setup_django,
    start_gunicorn,
    wait_until_ok,
)
from bench.tiles_bench import (
    DEFAULT_REDIS_URL,
    MAX_TILE_BYTES,
    code_version,
    compare_tiles,
    flush_tile_cache,
    run_floor,
    start_baseline,
    start_service,
    statements,
)
from bench.wfs_bench import stop

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:54329/gridcity_bench_patrols"
INGEST_RATIO = 0.5
PLAYBACK_MS = 50.0
BATCH = 10_000
DUPLICATES = 2_000  # per batch: 20 %
EVERY_S = 10
BENCH_MONTH = dt.date(2021, 3, 1)  # a past month nothing else writes to; its partition is made afresh
BENCH_WORKER = "bench-patrol-{:02d}"
ZOOMS = {10: 2, 11: 3, 12: 5, 13: 8, 14: 14, 15: 20, 16: 22, 17: 16, 18: 10}


# --- preparation -----------------------------------------------------------------------------------


def prepare(scale: str, seed: int, database_url: str, redis_url: str) -> dict:
    os.environ["REDIS_URL"] = redis_url
    os.environ.setdefault("CELERY_BROKER_URL", redis_url)
    os.environ["GRIDCITY_STATEMENT_TIMEOUT_MS"] = "0"
    ensure_database(database_url)
    t = time.perf_counter()
    env = setup_django(database_url)
    from django.db import connection

    from fixtures.demo_city import load_grids
    from layers.models import Grid
    from layers.patrols import demo
    from layers.patrols.models import PatrolFix

    if not Grid.objects.filter(level_id=1).exists():
        print(f"loading the demo city's grids ({scale}, seed {seed}) ...", flush=True)
        load_grids(scale, seed)
    loaded = None
    if not PatrolFix.objects.exclude(worker__username__startswith="bench-").exists():
        print(f"loading the demo patrols ({scale}) ...", flush=True)
        t1 = time.perf_counter()
        loaded = demo.load(scale=scale, seed=seed, progress=lambda n, s: print(f"  {n} workers, {s['stored']:,} fixes"))
        loaded["seconds"] = round(time.perf_counter() - t1, 1)
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE patrols_patrolfix")
            cur.execute("VACUUM ANALYZE patrols_trackday")
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM patrols_patrolfix")
        fixes = cur.fetchone()[0]
        cur.execute("SELECT count(*), count(DISTINCT worker_id) FROM patrols_trackday")
        days, workers = cur.fetchone()
    env["GRIDCITY_STATEMENT_TIMEOUT_MS"] = "30000"
    return {
        "env": env,
        "fixes": fixes,
        "worker_days": days,
        "workers": workers,
        "demo_load": loaded,
        "prepare_seconds": round(time.perf_counter() - t, 1),
    }


# --- (a) ingest against COPY -----------------------------------------------------------------------


def bench_workers(n: int) -> list:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from components import roles

    group, _ = Group.objects.get_or_create(name=roles.GRID_WORKER)
    users = []
    for i in range(n):
        user, _ = get_user_model().objects.get_or_create(username=BENCH_WORKER.format(i + 1))
        user.groups.add(group)
        users.append(user)
    return users


def make_batches(users, seed: int) -> list[tuple[object, list[dict], list[dict]]]:
    """Per worker: (user, the untimed first 2,000 fixes, then one 10,000-fix batch = those 2,000 again
    + 8,000 new): a walk along the demo roads at one fix per 10 s, in the bench month."""
    import random

    from layers.patrols import demo

    zone = ZoneInfo("Asia/Shanghai")
    rng = random.Random(seed)
    vertices, neighbours = demo.road_graph(demo._city_scale(), 1)
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    out = []
    for k, user in enumerate(users):
        path = None
        while path is None:
            x, y = rng.uniform(lo[0], hi[0]), rng.uniform(lo[1], hi[1])
            path = demo.route(rng, vertices, neighbours, (x, y, x + 0.004, y + 0.004))
        fixes: list[dict] = []
        day = BENCH_MONTH + dt.timedelta(days=(k % 7))
        while len(fixes) < BATCH:
            start = dt.datetime.combine(day, dt.time(8), zone)
            times, lon, lat = demo.walk_day(rng, path, start, 8, EVERY_S)
            fixes += demo._fixes(rng, times, lon, lat, gcj=k % 4 == 3, jumps=False)
            day += dt.timedelta(days=1)
        out.append((user, fixes[:DUPLICATES], fixes[:BATCH]))
    return out


def fresh_month(user_ids) -> None:
    from django.db import connection

    name = f"patrols_patrolfix_{BENCH_MONTH:%Y%m}"
    with connection.cursor() as cur:
        cur.execute(f'DROP TABLE IF EXISTS "{name}"')
        cur.execute("SELECT patrols_make_partitions(%s, 1)", [BENCH_MONTH])
        # Every bench worker's lines (an interrupted run may have left some of workers not in this one).
        cur.execute(
            "DELETE FROM patrols_trackday WHERE worker_id = ANY(%s) OR worker_id IN "
            "(SELECT id FROM auth_user WHERE username LIKE 'bench-patrol-%%')",
            [list(user_ids)],
        )


def ingest_pass(batches) -> dict:
    from django.utils import timezone

    from layers.patrols.ingest import ingest

    now = timezone.now()
    for user, first, _ in batches:  # what the phone sent before: the 2,000 resent below
        ingest(user, {"device_id": "bench", "fixes": first}, now=now)
    stored = dups = quarantined = 0
    t = time.perf_counter()
    for user, _, batch in batches:
        answer = ingest(user, {"device_id": "bench", "fixes": batch}, now=now)
        stored += answer["stored"]
        dups += answer["duplicates"]
        quarantined += len(answer["quarantined"])
    seconds = time.perf_counter() - t
    return {"seconds": seconds, "stored": stored, "duplicates": dups, "quarantined": quarantined}


def copy_rows(batches) -> list[list[tuple]]:
    """The rows the ingest pass stored, per batch (untimed read back): the raw COPY writes exactly those."""
    from django.db import connection

    out = []
    with connection.cursor() as cur:
        for user, first, _ in batches:
            cur.execute(
                "SELECT worker_id, device_id, fix_time, send_time, receive_time, ST_AsEWKB(geom), accuracy, speed, "
                "heading, source_crs FROM patrols_patrolfix WHERE worker_id = %s AND fix_time >= %s "
                "AND fix_time < %s ORDER BY fix_time",
                [user.pk, BENCH_MONTH, BENCH_MONTH + dt.timedelta(days=40)],
            )
            rows = cur.fetchall()
            out.append(rows[len(first) :] if len(rows) > len(first) else rows)
    return out


def copy_pass(database_url: str, rows_per_batch) -> dict:
    """Raw COPY of the same new rows, one COPY and commit per batch, binary geometry (EWKB)."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        t = time.perf_counter()
        n = 0
        for rows in rows_per_batch:
            with conn.cursor() as cur:
                with cur.copy(
                    "COPY patrols_patrolfix (worker_id, device_id, fix_time, send_time, receive_time, geom, "
                    "accuracy, speed, heading, source_crs) FROM STDIN"
                ) as copy:
                    for r in rows:
                        copy.write_row((*r[:5], bytes(r[5]).hex(), *r[6:]))
            conn.commit()
            n += len(rows)
        seconds = time.perf_counter() - t
    return {"seconds": seconds, "stored": n}


def bench_ingest(database_url: str, n_batches: int, repeats: int, seed: int) -> dict:
    from layers.patrols.ingest import ingest

    users = bench_workers(n_batches)
    batches = make_batches(users, seed)
    ids = [u.pk for u in users]
    ingests, copies = [], []
    for r in range(repeats):
        fresh_month(ids)
        ingests.append(ingest_pass(batches))
        rows = copy_rows(batches)
        fresh_month(ids)
        for user, first, _ in batches:  # the table as the ingest pass found it: each worker's first 2,000
            ingest(user, {"device_id": "bench", "fixes": first})
        copies.append(copy_pass(database_url, rows))
        print(
            f"  ingest pass {r + 1}: {ingests[-1]['stored']:,} stored ({ingests[-1]['duplicates']:,} duplicates, "
            f"{ingests[-1]['quarantined']} quarantined) in {ingests[-1]['seconds']:.2f} s; raw COPY "
            f"{copies[-1]['stored']:,} rows in {copies[-1]['seconds']:.2f} s",
            flush=True,
        )
    fresh_month(ids)
    rate = [i["stored"] / i["seconds"] for i in ingests]
    floor = [c["stored"] / c["seconds"] for c in copies]
    ratio = [a / b for a, b in zip(rate, floor)]
    return {
        "batches": n_batches,
        "batch_fixes": BATCH,
        "duplicates_per_batch": DUPLICATES,
        "ingest_fixes_per_s": _spread(rate),
        "copy_rows_per_s": _spread(floor),
        "ratio": _spread(ratio),
        "stored": ingests[-1]["stored"],
        "duplicates": ingests[-1]["duplicates"],
        "quarantined": ingests[-1]["quarantined"],
    }


def _spread(values) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": values}


# --- (b) tiles, (c) playback -----------------------------------------------------------------------


def track_points(seed: int, n: int = 4000) -> list[tuple[float, float]]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT setseed(%s)", [1 / (seed + 1)])
        cur.execute(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointN(geom, 1 + (random() * (ST_NPoints(geom) - 1))::int) AS p "
            "FROM patrols_trackday ORDER BY id) s ORDER BY random() LIMIT %s",
            [n],
        )
        return [(float(x), float(y)) for x, y in cur.fetchall()]


def tile_requests(n: int, seed: int) -> list[tuple[str, int, int, int]]:
    from bench.tiles_bench import tile_set

    return [("tracks", z, x, y) for z, x, y in tile_set(n, seed, track_points(seed))]


def playback_urls(limit: int) -> list[str]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT u.username, t.day FROM patrols_trackday t JOIN auth_user u ON u.id = t.worker_id "
            "WHERE u.username NOT LIKE 'bench-%%' ORDER BY hashtext(u.username || t.day::text) LIMIT %s",
            [limit],
        )
        return [f"/api/patrols/workers/{name}/days/{day.isoformat()}/" for name, day in cur.fetchall()]


def coverage_case() -> dict | None:
    """A city day's coverage, in a process of its own: Django binds one database per process, and the
    coverage day (1,000 workers, ~2.9 M fixes) lives in its own bench database, not in this one."""
    if importlib.util.find_spec("bench.patrols_coverage") is None:
        return None
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "bench.patrols_coverage"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    print(proc.stdout, end="", flush=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if not lines:
        print(proc.stderr[-2000:], flush=True)
        return {"result": {"ok": False, "error": "the coverage bench printed no result"}, "seconds": None}
    return {"result": json.loads(lines[-1][len("RESULT ") :]), "seconds": round(time.perf_counter() - t, 2)}


# --- the run ---------------------------------------------------------------------------------------


def run(
    scale: str = "demo",
    seed: int = 1,
    database_url: str | None = None,
    *,
    repeats: int = 3,
    n_batches: int = 10,
    requests: int = 300,
    n_tiles: int = 300,
    concurrency: int = 4,
    workers: int = 2,
    threads: int = 2,
    redis_url: str | None = None,
    skip: tuple[str, ...] = (),
    baseline: str | None = None,
) -> dict:
    database_url = database_url or os.environ.get("BENCH_PATROLS_DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = redis_url or os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS_URL
    repeats, n_batches = max(3, int(repeats)), max(1, min(int(n_batches), 200))
    requests, n_tiles = max(10, min(int(requests), 5000)), max(10, min(int(n_tiles), 5000))
    load_before = os.getloadavg()
    prep = prepare(scale, seed, database_url, redis_url)
    env = prep["env"]
    print(
        f"bench database {database_url.rsplit('/', 1)[-1]}: {prep['fixes']:,} fixes, {prep['worker_days']:,} "
        f"worker-days of {prep['workers']} workers ({prep['prepare_seconds']} s to prepare)",
        flush=True,
    )
    from django.db import connections

    print(f"(a) ingest: {repeats} x {n_batches} batches of {BATCH:,} ({DUPLICATES:,} resent) ...", flush=True)
    ingest_result = bench_ingest(database_url, n_batches, repeats, seed)
    reqs = tile_requests(n_tiles, seed)
    stmts = statements(reqs)
    urls = playback_urls(requests)
    cookie = session_cookie()
    connections.close_all()

    port, sport = free_port(), free_port()
    base, sbase = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{sport}"
    paths = [f"/tiles/{lid}/{z}/{x}/{y}.mvt" for lid, z, x, y in reqs]
    proc = start_gunicorn({**env, "REDIS_URL": redis_url}, port, workers, threads)
    # The tile service (tiles/service.py under granian), where deploy/nginx sends the .mvt paths: the
    # cold tiles' targets are its. gunicorn (the Django process, the same tile code) is measured beside.
    svc = start_service({**env, "REDIS_URL": redis_url}, sport)
    # --baseline REV: the tile path before a change (gunicorn on that commit's tree), in the same run.
    bport = free_port()
    bbase = f"http://127.0.0.1:{bport}"
    before = start_baseline(baseline, {**env, "REDIS_URL": redis_url}, bport, workers, threads) if baseline else None
    try:
        wait_until_ok(f"{base}/tiles/", proc, what="gunicorn", cookies={"sessionid": cookie})
        wait_until_ok(f"{sbase}{paths[0]}", svc, what="tile service", cookies={"sessionid": cookie})
        if before is not None:
            wait_until_ok(f"{bbase}/tiles/", before, what="baseline gunicorn", cookies={"sessionid": cookie})
        print(
            f"(b) tracks tiles: {len(reqs)} tiles, floor, tile service cold, gunicorn cold, {repeats} x ...", flush=True
        )
        run_floor(database_url, stmts, concurrency)  # warms PostgreSQL's buffers
        warm = [f"/tiles/{lid}/{z}/{x}/{y}.mvt" for lid, z, x, y in tile_requests(n_tiles, seed + 1)]
        warm = [p for p in warm if p not in set(paths)][: 8 * concurrency]  # outside the timed set
        for b in (base, sbase) + ((bbase,) if before is not None else ()):
            tiles_http(b, cookie, warm, concurrency)
        floors, colds, djangos, befores = [], [], [], []
        for _ in range(repeats):
            f = run_floor(database_url, stmts, concurrency)
            f["largest"] = max(f.pop("sizes") or [0])
            f.pop("latencies")
            floors.append(f)
            flush_tile_cache(redis_url)
            colds.append(tiles_http(sbase, cookie, paths, concurrency))
            flush_tile_cache(redis_url)
            djangos.append(tiles_http(base, cookie, paths, concurrency))
            if before is not None:
                flush_tile_cache(redis_url)
                befores.append(tiles_http(bbase, cookie, paths, concurrency))
            print(
                f"  floor {f['rps']:.0f}/s, service cold {colds[-1]['rps']:.0f}/s, gunicorn cold "
                f"{djangos[-1]['rps']:.0f}/s"
                + (f", before ({baseline}) cold {befores[-1]['rps']:.0f}/s" if befores else "")
                + f"; load {os.getloadavg()[0]:.2f}",
                flush=True,
            )
        flush_tile_cache(redis_url)
        same = compare_tiles(sbase, cookie, reqs, stmts, database_url, limit=len(reqs))
        print(f"(c) playback: {repeats} x {len(urls)} worker-days ...", flush=True)
        with _client(base, cookie) as client:
            timed(client, "GET", urls[:20])  # warm-up
            playbacks = [timed(client, "GET", urls) for _ in range(repeats)]
    finally:
        if before is not None:
            stop(before)
        stop(svc)
        stop(proc)
    print("(d) coverage ...", flush=True)
    coverage = "skipped" if "coverage" in skip else coverage_case()
    med = lambda runs, key: statistics.median(r[key] for r in runs)  # noqa: E731
    tiles = {
        "tiles": len(reqs),
        "floor": {"rps": med(floors, "rps"), "p50": med(floors, "p50"), "p99": med(floors, "p99")},
        "cold": {"rps": med(colds, "rps"), "p50": med(colds, "p50"), "p99": med(colds, "p99")},
        "floor_rps_runs": [r["rps"] for r in floors],
        "cold_rps_runs": [r["rps"] for r in colds],
        "gunicorn_cold": {"rps": med(djangos, "rps"), "p50": med(djangos, "p50"), "p99": med(djangos, "p99")},
        "gunicorn_cold_rps_runs": [r["rps"] for r in djangos],
        "before": (
            {"commit": baseline, "rps": med(befores, "rps"), "p50": med(befores, "p50"), "p99": med(befores, "p99")}
            if befores
            else None
        ),
        "before_rps_runs": [r["rps"] for r in befores],
        "largest_bytes": max([f["largest"] for f in floors] + [c["largest"] for c in colds]),
        "errors": sum(c["errors"] for c in colds + djangos) + sum(f["bad"] for f in floors),
        "first_errors": [e for c in colds + djangos for e in c["first_errors"]][:3],
        "client": colds[0]["client"],
        "compared": same,
    }
    playback = {
        "worker_days": len(urls),
        "p50": _spread([p["p50"] for p in playbacks]),
        "p95": _spread([p["p95"] for p in playbacks]),
        "errors": sum(p["errors"] for p in playbacks),
        "first_errors": [e for p in playbacks for e in p["first_errors"]][:3],
    }
    targets = _targets(ingest_result, tiles, playback, coverage)
    meta = {
        "scale": scale,
        "seed": seed,
        "fixes": prep["fixes"],
        "worker_days": prep["worker_days"],
        "workers": prep["workers"],
        "demo_load": prep["demo_load"],
        "repeats": repeats,
        "concurrency": concurrency,
        "gunicorn": f"{workers}x{threads}",
        "code": code_version(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "cpus": os.cpu_count(),
    }
    out = {
        "meta": meta,
        "ingest": ingest_result,
        "tiles": tiles,
        "playback": playback,
        "coverage": coverage,
        "targets": targets,
    }
    _print(out)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"patrols-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False, default=str))
    print(f"results: {path.relative_to(ROOT)}")
    return out


def _targets(ingest_result, tiles, playback, coverage) -> list[dict]:
    targets = []

    def target(name, value, want, ok):
        targets.append({"target": name, "value": value, "want": want, "ok": None if ok is None else bool(ok)})

    r, i, c = ingest_result["ratio"], ingest_result["ingest_fixes_per_s"], ingest_result["copy_rows_per_s"]
    target(
        "(a) ingest() >= 0.5 x raw COPY",
        f"{i['median']:,.0f} vs {c['median']:,.0f} fixes/s: {r['median']:.2f}x (runs {r['min']:.2f}-{r['max']:.2f})",
        f">= {INGEST_RATIO}x",
        r["median"] >= INGEST_RATIO,
    )
    if ingest_result["quarantined"]:
        target("(a) no bench fix quarantined", str(ingest_result["quarantined"]), "0", False)
    f, cold = tiles["floor"], tiles["cold"]
    target(
        "(b) tile service cold tiles/s >= 0.8 x floor",
        f"{cold['rps']:.0f} vs {f['rps']:.0f} ({cold['rps'] / f['rps']:.2f}x; cold runs "
        f"{min(tiles['cold_rps_runs']):.0f}-{max(tiles['cold_rps_runs']):.0f})",
        f">= {0.8 * f['rps']:.0f}",
        cold["rps"] >= 0.8 * f["rps"],
    )
    target(
        "(b) tile service cold p99 <= 2 x floor p99",
        f"{cold['p99']:.1f} ms vs {f['p99']:.1f} ms",
        f"<= {2 * f['p99']:.1f} ms",
        cold["p99"] <= 2 * f["p99"],
    )
    cmp = tiles["compared"]
    target(
        "(b) ours = floor, byte for byte",
        f"{cmp['checked'] - cmp['differ']}/{cmp['checked']} equal ({cmp['reordered']} with the same features in "
        f"another order){'; ' + cmp['first'] if cmp['first'] else ''}",
        "all",
        cmp["differ"] == 0,
    )
    target(
        "(b) no tile > 500 KB",
        f"largest {tiles['largest_bytes']:,} B",
        f"<= {MAX_TILE_BYTES:,} B",
        tiles["largest_bytes"] <= MAX_TILE_BYTES,
    )
    if tiles["errors"]:
        target("(b) every tile answered", f"{tiles['errors']} errors: {tiles['first_errors'][:1]}", "none", False)
    p = playback["p50"]
    target(
        "(c) playback p50",
        f"median {p['median']:.1f} ms (runs {p['min']:.1f}-{p['max']:.1f}; p95 {playback['p95']['median']:.1f} ms) "
        f"over {playback['worker_days']} worker-days",
        f"<= {PLAYBACK_MS:.0f} ms",
        p["median"] <= PLAYBACK_MS,
    )
    if playback["errors"]:
        target("(c) every answer 200", f"{playback['errors']} errors: {playback['first_errors'][:1]}", "none", False)
    if coverage == "skipped":
        target("(d) a day's coverage, whole city", "skipped (--skip coverage)", "<= 60 s", None)
    elif coverage is None:
        target("(d) a day's coverage, whole city", "bench/patrols_coverage.py not present", "<= 60 s", None)
    else:
        res = coverage["result"]
        ok = res.get("ok") if isinstance(res, dict) else None
        got = (
            f"{res.get('seconds')} s ({res.get('workers')} workers, {res.get('fixes')} fixes)"
            if ok is not None
            else res
        )
        target("(d) a day's coverage, whole city", got, "<= 60 s", ok)
    return targets


def _print(out: dict) -> None:
    m = out["meta"]
    print(
        f"\npatrols benchmark ({m['scale']}, seed {m['seed']}), {m['date']}, code {m['code']}: {m['fixes']:,} fixes, "
        f"{m['worker_days']:,} worker-days, {m['workers']} workers; {m['repeats']} repeats; gunicorn {m['gunicorn']}, "
        f"{m['concurrency']} tile clients; {m['cpus']} CPUs, load {m['loadavg_before'][0]:.1f} before, "
        f"{m['loadavg_after'][0]:.1f} after (shared machine)"
    )
    t = out["tiles"]
    print(
        f"tiles ({t['tiles']} tracks tiles, {t['client']}): floor {t['floor']['rps']:.0f}/s p50 {t['floor']['p50']:.1f} "
        f"p99 {t['floor']['p99']:.1f} ms; tile service cold {t['cold']['rps']:.0f}/s "
        f"({t['cold']['rps'] / t['floor']['rps']:.2f}x) p50 {t['cold']['p50']:.1f} p99 {t['cold']['p99']:.1f} ms; "
        f"gunicorn cold {t['gunicorn_cold']['rps']:.0f}/s ({t['gunicorn_cold']['rps'] / t['floor']['rps']:.2f}x) "
        f"p50 {t['gunicorn_cold']['p50']:.1f} p99 {t['gunicorn_cold']['p99']:.1f} ms"
        + (
            f"; before ({t['before']['commit']}) cold {t['before']['rps']:.0f}/s "
            f"({t['before']['rps'] / t['floor']['rps']:.2f}x) p99 {t['before']['p99']:.1f} ms"
            if t.get("before")
            else ""
        )
    )
    print("| target | measured | wanted | result |")
    print("|---|---|---|---|")
    for x in out["targets"]:
        verdict = "n/a" if x["ok"] is None else ("pass" if x["ok"] else "FAIL")
        print(f"| {x['target']} | {x['value']} | {x['want']} | {verdict} |")
