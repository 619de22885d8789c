"""Soak: mixed reads and writes from 20 clients on loopback against a gunicorn started for it.

    .venv/bin/python -m bench.soak [--seconds 600] [--clients 20] [--workers 3]   (or: make soak SOAK_SECONDS=60)

Loads the demo city (scale demo, ~50,000 components and ~1,500 grids) into its own database (default
gridcity_bench_soak, so the writes never touch the development data), starts gunicorn as `make up` does
(3 sync workers) on a free 127.0.0.1 port, logs a GIS editor in by a session cookie made directly (no
password hashing per request) and runs, for --seconds, 20 keep-alive clients each picking at random:

    reads (80%): a component by ID, its ownership, nearest search, bbox search, which grid am I in,
                 a vector tile (components, base grids), a WFS GetFeature of 20 base grids, /healthz
    writes (20%): PATCH a component's note, change its state, register a new component

Reports the error rate (any 5xx or connection failure; also any answer other than the expected
2xx/304), throughput, latency per kind, and the resident memory (RSS) of each gunicorn worker at the
start (after a warm-up) and the end, sampled every 10 s. Writes bench/results/soak-<time>.json.
Only ever talks to 127.0.0.1 and every loop is bounded by the clock."""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
SOAK_DATABASE = "gridcity_bench_soak"


def default_database_url() -> str:
    """The server of DATABASE_URL (make's local cluster by default), database gridcity_bench_soak."""
    from urllib.parse import urlparse

    url = urlparse(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:54329/gridcity"))
    return url._replace(path="/" + SOAK_DATABASE).geturl()


SOAK_USER = "soak-gis-editor"
WARM_UP_S = 10
SAMPLE_EVERY_S = 10


def prepare(database_url: str) -> dict:
    """The soak database with the demo city, and what the clients need from it."""
    from bench.lookup_bench import ensure_database, setup_django

    ensure_database(database_url)
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:63799/3")
    os.environ.setdefault("GRIDCITY_ENV", "development")
    env = setup_django(database_url)
    from django.core.management import call_command

    call_command("load_demo_city", "--scale", "demo", "--if-empty")
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT code, ST_X(geom), ST_Y(geom) FROM components_component WHERE NOT retired "
            "ORDER BY random() LIMIT 2000"
        )
        components = cur.fetchall()
        cur.execute("SELECT uscc FROM components_organisation LIMIT 1")
        owner = cur.fetchone()[0]
        cur.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            "(SELECT ST_Extent(geom) e FROM layers_grid WHERE level_id = 1) t"
        )
        extent = cur.fetchone()
    password = secrets.token_urlsafe(16)
    return {
        "env": env,
        "components": components,
        "owner": owner,
        "extent": extent,
        "cookie": session_cookie(password),
        "basic": (SOAK_USER, password),
    }


def session_cookie(password: str) -> str:
    """A logged-in GIS editor for the REST and tile requests; the password is for WFS (HTTP Basic)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.cached_db import SessionStore

    from components import roles

    user, _ = get_user_model().objects.get_or_create(username=SOAK_USER)
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get_or_create(name=roles.GIS_EDITOR)[0])
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.set_expiry(3600 * 6)
    store.create()
    return store.session_key


def start_gunicorn(env: dict, port: int, workers: int) -> subprocess.Popen:
    """As `make up` serves (sync workers), on a port of its own."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    cmd = [
        str(gunicorn),
        "gis_core.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(cmd, cwd=ROOT, env={**env, "GRIDCITY_LOG_LEVEL": "ERROR"})


def worker_rss_kib(master_pid: int) -> dict[int, int]:
    """RSS of each gunicorn worker (the master's children), in KiB."""
    try:
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    except FileNotFoundError:
        return {}
    rss = {}
    for pid in map(int, children):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss[pid] = int(line.split()[1])
        except FileNotFoundError:
            pass
    return rss


class Mix:
    """One client's choice of request; returns (kind, method, path, json body or None, expected statuses)."""

    def __init__(self, data: dict, rng: random.Random):
        self.components, self.owner, self.rng = data["components"], data["owner"], rng
        self.x0, self.y0, self.x1, self.y1 = data["extent"]

    def point(self):
        return self.rng.uniform(self.x0, self.x1), self.rng.uniform(self.y0, self.y1)

    def next(self):
        import mercantile

        rng = self.rng
        code, x, y = rng.choice(self.components)
        r = rng.random()
        if r < 0.14:
            return "by_id", "GET", f"/api/components/{code}/", None, (200,)
        if r < 0.24:
            return "ownership", "GET", f"/api/components/{code}/ownership/", None, (200,)
        if r < 0.36:
            return "nearest", "GET", f"/api/components/?near={x:.6f},{y:.6f}&radius=50", None, (200,)
        if r < 0.44:
            return (
                "bbox",
                "GET",
                f"/api/components/?bbox={x - 0.002:.6f},{y - 0.002:.6f},{x + 0.002:.6f},{y + 0.002:.6f}",
                None,
                (200,),
            )
        if r < 0.52:
            lon, lat = self.point()
            return "locate", "GET", f"/api/grids/locate/?lon={lon:.6f}&lat={lat:.6f}", None, (200, 404)
        if r < 0.68:
            t = mercantile.tile(x, y, rng.choice((13, 14, 15, 16)))
            layer = rng.choice(("components", "base_grids"))
            return f"tile_{layer}", "GET", f"/tiles/{layer}/{t.z}/{t.x}/{t.y}.mvt", None, (200, 204)
        if r < 0.74:
            return (
                "wfs",
                "GET",
                "/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=base_grids&COUNT=20",
                None,
                (200,),
            )
        if r < 0.80:
            return "healthz", "GET", "/healthz", None, (200,)
        if r < 0.90:
            return "patch_note", "PATCH", f"/api/components/{code}/", {"note": f"soak {rng.randrange(10**6)}"}, (200,)
        if r < 0.95:
            state = rng.choice(("intact", "damaged"))
            # 400 when the component is already in that state: a report must change the state.
            return "state", "POST", f"/api/components/{code}/state/", {"state": state, "note": "soak"}, (200, 400)
        lon, lat = x + rng.uniform(-0.0005, 0.0005), y + rng.uniform(-0.0005, 0.0005)
        return (
            "register",
            "POST",
            "/api/components/",
            {"class_code": "0118", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "owner": self.owner},
            (201,),
        )


def run_clients(base: str, data: dict, clients: int, seconds: float) -> dict:
    import httpx

    stop_at = time.monotonic() + seconds
    lock = threading.Lock()
    latencies: dict[str, list[float]] = defaultdict(list)
    unexpected: dict[str, int] = defaultdict(int)
    samples: list[str] = []
    totals = {"requests": 0, "server_errors": 0, "connection_errors": 0, "unexpected": 0}

    def client(i):
        rng = random.Random(i)
        mix = Mix(data, rng)
        csrf = secrets.token_hex(16)  # 32 characters: Django accepts the cookie's own value as the token
        local = defaultdict(list)
        counts = defaultdict(int)
        bad = []

        def note(text):  # a few examples per client are enough to see what went wrong
            if len(bad) < 20:
                bad.append(text)

        with httpx.Client(
            base_url=base,
            timeout=60.0,
            cookies={"sessionid": data["cookie"], "csrftoken": csrf},
            headers={"Accept": "application/json", "X-CSRFToken": csrf},
        ) as http:
            while time.monotonic() < stop_at:
                kind, method, path, body, expected = mix.next()
                t = time.perf_counter()
                try:
                    # WFS clients (QGIS, GDAL) send HTTP Basic; the server keeps the check briefly.
                    r = http.request(method, path, json=body, auth=data["basic"] if kind == "wfs" else None)
                    status = r.status_code
                except httpx.HTTPError as exc:
                    status, r = None, exc
                local[kind].append((time.perf_counter() - t) * 1000)
                counts["requests"] += 1
                if status is None:
                    counts["connection_errors"] += 1
                    note(f"{kind} {path}: {r!r}")
                elif status >= 500:
                    counts["server_errors"] += 1
                    note(f"{kind} {path}: {status} {r.text[:200]}")
                elif status not in expected:
                    counts["unexpected"] += 1
                    counts[f"unexpected:{kind}:{status}"] += 1
                    note(f"{kind} {path}: {status} {r.text[:200]}")
        with lock:
            for k, v in local.items():
                latencies[k].extend(v)
            for k, v in counts.items():
                if k.startswith("unexpected:"):
                    unexpected[k.split(":", 1)[1]] += v
                else:
                    totals[k] += v
            samples.extend(b for b in dict.fromkeys(bad) if b not in samples)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    per_kind = {}
    for kind, values in sorted(latencies.items()):
        values.sort()
        per_kind[kind] = {
            "n": len(values),
            "p50_ms": round(values[len(values) // 2], 1),
            "p99_ms": round(values[min(len(values) - 1, int(len(values) * 0.99))], 1),
        }
    return {**totals, "unexpected_by_kind": dict(unexpected), "per_kind": per_kind, "error_samples": samples[:20]}


def run(seconds: float, clients: int, workers: int, database_url: str) -> dict:
    from bench.lookup_bench import free_port, wait_until_ok

    data = prepare(database_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_gunicorn(data["env"], port, workers)
    try:
        wait_until_ok(f"{base}/healthz", server, what="gunicorn")
        # Warm-up: every worker has imported and rendered once before the first memory reading.
        run_clients(base, data, clients, WARM_UP_S)
        rss = [(0.0, worker_rss_kib(server.pid))]
        started = time.monotonic()
        result = {}

        def sample():
            while not result:
                time.sleep(SAMPLE_EVERY_S)
                if not result:
                    rss.append((round(time.monotonic() - started, 1), worker_rss_kib(server.pid)))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        result.update(run_clients(base, data, clients, seconds))
        rss.append((round(time.monotonic() - started, 1), worker_rss_kib(server.pid)))
    finally:
        server.terminate()
        server.wait(30)
    elapsed = rss[-1][0]
    first, last = rss[0][1], rss[-1][1]
    failures = result["server_errors"] + result["connection_errors"] + result["unexpected"]
    return {
        "seconds": seconds,
        "clients": clients,
        "gunicorn_workers": workers,
        **result,
        "load_average_end": os.getloadavg(),
        "cpus": os.cpu_count(),
        "requests_per_s": round(result["requests"] / max(elapsed, 1e-9), 1),
        "error_rate": failures / max(result["requests"], 1),
        "worker_rss_mib": {
            str(pid): {"start": round(first[pid] / 1024, 1), "end": round(last[pid] / 1024, 1)}
            for pid in first
            if pid in last
        },
        "workers_replaced": sorted(set(last) ^ set(first)),
        "rss_samples_mib": [(t, {str(p): round(v / 1024, 1) for p, v in s.items()}) for t, s in rss],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", "600")))
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (make up runs 3)")
    parser.add_argument("--database-url", default=os.environ.get("SOAK_DATABASE_URL") or default_database_url())
    args = parser.parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    report = run(args.seconds, args.clients, args.workers, args.database_url)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"soak-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(
        f"soak: {report['seconds']:.0f} s, {report['clients']} clients, {report['requests']:,} requests "
        f"({report['requests_per_s']}/s); 5xx {report['server_errors']}, connection errors "
        f"{report['connection_errors']}, other unexpected {report['unexpected']} {report['unexpected_by_kind']}; "
        f"error rate {report['error_rate']:.4%}"
    )
    for kind, v in report["per_kind"].items():
        print(f"  {kind:<20} n={v['n']:<7} p50 {v['p50_ms']:>7} ms  p99 {v['p99_ms']:>7} ms")
    for pid, v in report["worker_rss_mib"].items():
        print(f"  worker {pid}: RSS {v['start']} MiB -> {v['end']} MiB")
    if report["workers_replaced"]:
        print(f"  workers replaced during the run: {report['workers_replaced']}")
    print(f"  machine: {report['cpus']} CPUs, load average at the end {report['load_average_end'][0]:.1f}")
    for s in report["error_samples"][:10]:
        print(f"  ! {s}")
    print(f"  written to {out.relative_to(ROOT)}")
    return 0 if report["error_rate"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
