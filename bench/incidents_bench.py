"""Incidents benchmark: the case queue and list, a case transition, the weekly report and the incident
tiles, at city scale (~100,000 cases on ~1M components), over real HTTP against gunicorn.

    .venv/bin/python -m bench incidents [--scale city] [--seed 1] [--repeat 3] [--requests 200] [--tiles 300]

1. Prepares its own database (default gridcity_bench_incidents) like the tiles benchmark
   (bench.tiles_bench.prepare: the demo city's components and grids, loaded once and reused), then
   the demo cases of the same scale (layers.incidents.demo_data.load) unless they are there.
2. Starts gunicorn and, `--repeat` times each (medians and spread over the repeats):
   (a) a unit's queue: GET /api/incidents/?state=dispatched,handling,supervision as a maintenance-unit
       account (its organisation's cases only), and the dispatcher's list of new cases
       (?state=reported); (b) the list API as a dispatcher, first pages under varied filters;
   (c) a case transition: POST .../actions/accept/ then .../actions/handle/ by the unit, on cases the
       run reports and dispatches to that unit first (through the services, untimed);
   (d) layers.incidents.reports.build, the last full week for the whole district, in-process;
   (e) incident tiles: a seeded tile set (bench.tiles_bench) as raw ST_AsMVT SQL (the floor) and
       through our /tiles with the tile cache flushed (cold), then again (warm).
3. Prints a table, writes bench/results/incidents-<time>.json; exit status 1 when a target is missed.

Targets: queue, list and transition p50 <= 20 ms (sequential, one keep-alive client); weekly report
<= 2 s; tiles as for the component tiles: cold tiles/s >= 0.8 x floor, cold p99 <= 2 x floor p99, no
tile > 500 KB. Only 127.0.0.1 is contacted; every loop is bounded."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import statistics
import threading
import time

from bench.lookup_bench import (
    RESULTS_DIR,
    _percentile,
    free_port,
    session_cookie,
    start_gunicorn,
    wait_until_ok,
)
from bench.tiles_bench import (
    DEFAULT_REDIS_URL,
    MAX_TILE_BYTES,
    flush_tile_cache,
    load_tile_set,
    prepare,
    requests_for,
    run_floor,
    statements,
)
from bench.wfs_bench import stop

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:54329/gridcity_bench_incidents"
TARGET_MS = 20.0
REPORT_TARGET_S = 2.0
BENCH_UNIT_USER = "bench-unit"
QUEUE_STATES = "dispatched,handling,supervision"
TRANSITION_CLASS = "06010"  # 暴露垃圾: routed by the demo's routing table to one unit everywhere


# --- data and sessions ----------------------------------------------------------------------------------


def ensure_cases(scale: str, seed: int) -> dict:
    from django.db import connection

    from layers.incidents.demo_data import SCALES, load
    from layers.incidents.models import Case

    have = Case.objects.count()
    if have >= 0.9 * SCALES[scale]:
        return {"loaded": False, "cases": have}
    print(f"loading ~{SCALES[scale]:,} demo cases ({scale}, seed {seed}) ...", flush=True)
    summary = load(scale=scale, seed=seed)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE incidents_case")
        cur.execute("VACUUM ANALYZE incidents_caseevent")
    return {"loaded": True, "cases": Case.objects.count(), "load_seconds": summary["seconds"]}


def _session_for(user) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.set_expiry(3600 * 6)
    store.create()
    return store.session_key


def unit_session(organisation) -> str:
    """A maintenance-unit account of `organisation`, logged in by a session made directly."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from components import roles
    from components.models import UserProfile

    user, _ = get_user_model().objects.get_or_create(username=BENCH_UNIT_USER)
    if user.has_usable_password():
        user.set_unusable_password()
        user.save()
    user.groups.add(Group.objects.get_or_create(name=roles.MAINTENANCE_UNIT)[0])
    UserProfile.objects.update_or_create(user=user, defaults={"organisation": organisation})
    return _session_for(user)


def transition_cases(n: int, seed: int) -> tuple[list[str], object]:
    """n new cases of TRANSITION_CLASS, reported and dispatched through the services (untimed), at the
    places of existing demo cases; returns their numbers and the unit they went to."""
    import random

    from layers.incidents import services
    from layers.incidents.models import Case

    rng = random.Random(seed)
    spots = list(Case.objects.order_by("id").values_list("geom", flat=True)[:2000])
    numbers, unit = [], None
    for _ in range(n):
        p = spots[rng.randrange(len(spots))]
        case = services.report_case(None, TRANSITION_CLASS, (p.x, p.y), description="bench", source="dispatcher")
        case = services.dispatch(None, case)
        unit = case.assigned_org
        numbers.append(case.number)
    return numbers, unit


# --- measuring ------------------------------------------------------------------------------------------


def _client(base: str, cookie: str):
    import httpx
    from django.middleware.csrf import _get_new_csrf_string

    csrf = _get_new_csrf_string()  # an unmasked secret is a valid token (Django >= 4.1)
    return httpx.Client(
        base_url=base,
        cookies={"sessionid": cookie, "csrftoken": csrf},
        headers={"Accept": "application/json", "X-CSRFToken": csrf},
        timeout=30.0,
    )


def timed(client, method: str, urls: list[str], body=None) -> dict:
    return timed_requests(client, [(method, url, body) for url in urls])


def timed_requests(client, requests: list[tuple[str, str, dict | None]]) -> dict:
    """Each (method, URL, JSON body) once, sequentially; latency in ms; any answer but 200 is an error."""
    lat, errors = [], []
    for method, url, body in requests:
        t = time.perf_counter()
        r = client.request(method, url, json=body)
        _ = r.content
        lat.append((time.perf_counter() - t) * 1000)
        if r.status_code != 200:
            errors.append(f"{method} {url}: HTTP {r.status_code} {r.text[:160]}")
    lat.sort()
    return {
        "n": len(lat),
        "p50": _percentile(lat, 50),
        "p95": _percentile(lat, 95),
        "max": lat[-1] if lat else float("nan"),
        "errors": len(errors),
        "first_errors": errors[:3],
    }


def over_repeats(runs: list[dict], key: str = "p50") -> dict:
    values = [r[key] for r in runs]
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "runs": values,
        "errors": sum(r["errors"] for r in runs),
        "first_errors": [e for r in runs for e in r["first_errors"]][:3],
    }


def tiles_http(base: str, cookie: str, paths: list[str], concurrency: int) -> dict:
    """Each tile path once over `concurrency` keep-alive clients (gzip, as a browser); 200 and 204 are
    answers, anything else an error. With wrk (as the tiles benchmark) when it is installed: a Python
    client takes the shared CPU from the server it measures."""
    if shutil.which("wrk"):
        from bench.wrk_load import run_wrk

        m = run_wrk(
            base, paths, concurrency=concurrency, headers={"Accept-Encoding": "gzip", "Cookie": f"sessionid={cookie}"}
        )
        return {
            "n": m["n"],
            "rps": m["rps"],
            "p50": m["p50"],
            "p99": m["p99"],
            "largest": m["largest_body"],
            "errors": m["bad"] + m["socket_errors"] + (0 if m["complete"] else 1),
            "first_errors": [m["first_bad"]] if m["first_bad"] else [],
            "client": "wrk",
        }
    import httpx

    lat = [0.0] * len(paths)
    sizes = [0] * len(paths)
    errors: list[str] = []
    lock = threading.Lock()
    nxt = [0]

    def worker():
        with httpx.Client(base_url=base, cookies={"sessionid": cookie}, timeout=60.0) as client:
            while True:
                with lock:
                    i = nxt[0]
                    nxt[0] += 1
                if i >= len(paths):
                    return
                t = time.perf_counter()
                r = client.get(paths[i], headers={"Accept-Encoding": "gzip"})
                body = r.content
                lat[i] = (time.perf_counter() - t) * 1000
                sizes[i] = len(body)
                if r.status_code not in (200, 204):
                    with lock:
                        errors.append(f"{paths[i]}: HTTP {r.status_code}")

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    seconds = time.perf_counter() - t0
    s = sorted(lat)
    return {
        "n": len(paths),
        "rps": len(paths) / seconds,
        "p50": _percentile(s, 50),
        "p99": _percentile(s, 99),
        "largest": max(sizes or [0]),
        "errors": len(errors),
        "first_errors": errors[:3],
        "client": "httpx",
    }


def weekly_report_timing(repeats: int) -> dict:
    """layers.incidents.reports.build for the whole district (street level), last full week."""
    from django.utils import timezone

    from layers.incidents import reports

    last_week = reports.period("week", timezone.localdate() - dt.timedelta(days=7))
    seconds = []
    for _ in range(repeats):
        t = time.perf_counter()
        reports.build(last_week, "street")
        seconds.append(time.perf_counter() - t)
    return {
        "call": f"reports.build(period('week', {last_week.first}), 'street')",
        "median": statistics.median(seconds),
        "min": min(seconds),
        "max": max(seconds),
        "runs": seconds,
    }


# --- the run --------------------------------------------------------------------------------------------


def run(
    scale: str = "city",
    seed: int = 1,
    database_url: str | None = None,
    *,
    repeats: int = 3,
    requests: int = 200,
    n_tiles: int = 300,
    concurrency: int = 4,
    workers: int = 4,
    threads: int = 2,
    redis_url: str | None = None,
) -> dict:
    database_url = database_url or os.environ.get("BENCH_INCIDENTS_DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = redis_url or os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS_URL
    repeats, requests = max(3, int(repeats)), max(10, min(int(requests), 5000))
    n_tiles = max(10, min(int(n_tiles), 20000))
    prep = prepare(scale, seed, database_url, redis_url)
    env = prep["env"]
    data = ensure_cases(scale, seed)
    from django.db import connection, connections

    from layers.incidents.models import Case

    print(
        f"bench database {database_url.rsplit('/', 1)[-1]}: {prep['components']:,} components, "
        f"{data['cases']:,} cases ({prep['prepare_seconds']} s to prepare)",
        flush=True,
    )
    print(f"reporting and dispatching {repeats * requests // 2} cases for the transitions ...", flush=True)
    numbers, unit = transition_cases(repeats * requests // 2, seed)
    open_of_unit = Case.objects.filter(assigned_org=unit, state__in=QUEUE_STATES.split(",")).count()
    dispatcher_cookie, unit_cookie = session_cookie(), unit_session(unit)
    with connection.cursor() as cur:
        cur.execute("SELECT street_code FROM incidents_case WHERE street_code <> '' ORDER BY street_code LIMIT 1")
        street = (cur.fetchone() or [""])[0]
    week_ago = (dt.date.today() - dt.timedelta(days=7)).isoformat()
    list_urls = [
        "/api/incidents/",
        "/api/incidents/?source=hotline_12345",
        "/api/incidents/?class=06",
        f"/api/incidents/?date_from={week_ago}",
        f"/api/incidents/?grid={street}" if street else "/api/incidents/?state=closed",
    ]
    tiles = load_tile_set(n_tiles, seed, scale)
    reqs = requests_for(tiles, ("incidents",))
    stmts = statements(reqs)
    report = weekly_report_timing(repeats)
    connections.close_all()

    results: dict[str, dict] = {}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_gunicorn({**env, "REDIS_URL": redis_url}, port, workers, threads)
    try:
        wait_until_ok(f"{base}/api/incidents/", proc, what="gunicorn", cookies={"sessionid": dispatcher_cookie})
        with _client(base, unit_cookie) as unit_client, _client(base, dispatcher_cookie) as desk:
            timed(unit_client, "GET", [f"/api/incidents/?state={QUEUE_STATES}"] * 20)  # warm up
            timed(desk, "GET", list_urls * 4)
            cases = {
                "unit_queue": (unit_client, [f"/api/incidents/?state={QUEUE_STATES}"] * requests),
                "dispatcher_queue": (desk, ["/api/incidents/?state=reported"] * requests),
                "list": (desk, [list_urls[i % len(list_urls)] for i in range(requests)]),
            }
            for name, (client, urls) in cases.items():
                print(f"  {name}: {repeats} x {len(urls)} GET ...", flush=True)
                results[name] = over_repeats([timed(client, "GET", urls) for _ in range(repeats)])
            runs = []
            per = len(numbers) // repeats
            print(f"  transition: {repeats} x {per} accept + handle ...", flush=True)
            for r in range(repeats):
                batch = numbers[r * per : (r + 1) * per]
                steps = []
                for n in batch:  # each case accepted, then handled: a unit's working rhythm
                    steps.append(("POST", f"/api/incidents/{n}/actions/accept/", {}))
                    steps.append(("POST", f"/api/incidents/{n}/actions/handle/", {"note": "已处置"}))
                runs.append(timed_requests(unit_client, steps))
            results["transition"] = over_repeats(runs)
        print("  tiles: floor (warming PostgreSQL's buffers first) ...", flush=True)
        run_floor(database_url, stmts, concurrency)
        floors = [run_floor(database_url, stmts, concurrency) for _ in range(repeats)]
        largest_floor = max(max(f.pop("sizes") or [0]) for f in floors)
        for f in floors:
            f.pop("latencies")
        paths = [f"/tiles/{lid}/{z}/{x}/{y}.mvt" for lid, z, x, y in reqs]
        colds, warms = [], []
        for _ in range(repeats):
            flush_tile_cache(redis_url)
            colds.append(tiles_http(base, dispatcher_cookie, paths, concurrency))
            warms.append(tiles_http(base, dispatcher_cookie, paths, concurrency))
    finally:
        stop(proc)
    med = lambda runs, key: statistics.median(r[key] for r in runs)  # noqa: E731
    tiles_summary = {
        "tiles": len(reqs),
        "floor": {"rps": med(floors, "rps"), "p50": med(floors, "p50"), "p99": med(floors, "p99")},
        "cold": {"rps": med(colds, "rps"), "p50": med(colds, "p50"), "p99": med(colds, "p99")},
        "warm": {"rps": med(warms, "rps"), "p50": med(warms, "p50"), "p99": med(warms, "p99")},
        "cold_rps_runs": [r["rps"] for r in colds],
        "floor_rps_runs": [r["rps"] for r in floors],
        "largest_bytes": max([largest_floor] + [r["largest"] for r in colds + warms]),
        "client": colds[0]["client"],
        "errors": sum(r["errors"] for r in colds + warms) + sum(f["bad"] for f in floors),
        "first_errors": [e for r in colds + warms for e in r["first_errors"]][:3],
    }
    targets = _targets(results, report, tiles_summary)
    meta = {
        "scale": scale,
        "seed": seed,
        "components": prep["components"],
        "cases": data["cases"],
        "cases_load_seconds": data.get("load_seconds"),
        "unit": unit.name if unit else "",
        "unit_open_cases": open_of_unit,
        "repeats": repeats,
        "requests": requests,
        "workers": workers,
        "threads": threads,
        "concurrency": concurrency,
        "load_average": os.getloadavg(),
    }
    out = {"meta": meta, "http": results, "weekly_report": report, "tiles": tiles_summary, "targets": targets}
    _print(out)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"incidents-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False, default=str))
    print(f"results: {path.relative_to(RESULTS_DIR.parent.parent)}")
    return out


def _targets(results: dict, report: dict, tiles: dict) -> list[dict]:
    targets = []

    def target(name, value, want, ok):
        targets.append({"target": name, "value": value, "want": want, "ok": bool(ok)})

    labels = {
        "unit_queue": "(a) a unit's queue p50",
        "dispatcher_queue": "(a) dispatcher's new cases p50",
        "list": "(b) list API p50",
        "transition": "(c) transition (accept, handle) p50",
    }
    for key, label in labels.items():
        m = results[key]
        spread = f"median {m['median']:.1f} ms (runs {m['min']:.1f}-{m['max']:.1f})"
        target(label, spread, f"<= {TARGET_MS:.0f} ms", m["median"] <= TARGET_MS)
        if m["errors"]:
            target(f"{label}: every answer 200", f"{m['errors']} errors: {m['first_errors'][0]}", "none", False)
    if "skipped" in report:
        targets.append(
            {"target": "(d) weekly report, whole district", "value": "skipped", "want": "<= 2 s", "ok": None}
        )
    else:
        target(
            "(d) weekly report, whole district",
            f"median {report['median']:.2f} s (runs {report['min']:.2f}-{report['max']:.2f})",
            f"<= {REPORT_TARGET_S:.0f} s",
            report["median"] <= REPORT_TARGET_S,
        )
    f, c = tiles["floor"], tiles["cold"]
    target(
        "(e) cold tiles/s >= 0.8 x floor",
        f"{c['rps']:.0f} vs {f['rps']:.0f} ({c['rps'] / f['rps']:.2f}x)",
        f">= {0.8 * f['rps']:.0f}",
        c["rps"] >= 0.8 * f["rps"],
    )
    target(
        "(e) cold p99 <= 2 x floor p99",
        f"{c['p99']:.1f} ms vs {f['p99']:.1f} ms",
        f"<= {2 * f['p99']:.1f} ms",
        c["p99"] <= 2 * f["p99"],
    )
    target(
        "(e) no tile > 500 KB",
        f"largest {tiles['largest_bytes']:,} B",
        f"<= {MAX_TILE_BYTES:,} B",
        tiles["largest_bytes"] <= MAX_TILE_BYTES,
    )
    if tiles["errors"]:
        target("(e) every tile answered", f"{tiles['errors']} errors", "none", False)
    return targets


def _print(out: dict) -> None:
    m = out["meta"]
    print(
        f"\nincidents benchmark ({m['scale']}, seed {m['seed']}): {m['cases']:,} cases, {m['components']:,} components; "
        f"unit {m['unit']} ({m['unit_open_cases']:,} open); {m['repeats']} repeats x {m['requests']} requests, "
        f"sequential; gunicorn {m['workers']}x{m['threads']}"
    )
    if "skipped" in out["weekly_report"]:
        print(f"weekly report skipped: {out['weekly_report']['skipped']}")
    t = out["tiles"]
    print(
        f"tiles ({t['tiles']} incident tiles, {m['concurrency']} {t['client']} clients): floor {t['floor']['rps']:.0f}/s p99 "
        f"{t['floor']['p99']:.1f} ms; cold {t['cold']['rps']:.0f}/s p99 {t['cold']['p99']:.1f} ms; warm "
        f"{t['warm']['rps']:.0f}/s p99 {t['warm']['p99']:.1f} ms"
    )
    print("| target | measured | wanted | result |")
    print("|---|---|---|---|")
    for x in out["targets"]:
        verdict = "skipped" if x["ok"] is None else ("pass" if x["ok"] else "FAIL")
        print(f"| {x['target']} | {x['value']} | {x['want']} | {verdict} |")
