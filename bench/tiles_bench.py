"""Vector tile benchmark: our /tiles against the raw SQL floor, tipg and nginx, same tiles, same run.

    .venv/bin/python -m bench tiles [--scale city] [--seed 1] [--tiles 1000] [--concurrency 4]

1. Prepares the bench database (default gridcity_bench_tiles): the demo city (~1M components, ~15,000
   base grids at scale `city`, loaded once by bench.lookup_bench.ensure_loaded and reused), migrated to
   the latest migrations (Web Mercator columns, cluster counts).
2. A fixed tile set (seeded, written to bench/data/): `--tiles` positions over the district at z10-z18,
   weighted like map use (most at z14-z17) and placed where components are dense (85%) or anywhere in
   the district (15%); each position is requested for every layer a dispatcher has on at start
   (components, base/community/street grids) within the layer's zoom range.
3. In one run, every case with the same concurrency:
   (a) floor: tiles.sql.tile_sql() statements (exactly what the server runs) through psycopg, one
       connection per concurrent worker, after one untimed pass that warms PostgreSQL's buffers;
   (b) ours cold: gunicorn, our Redis tile cache flushed; (c) ours warm: the same paths again;
   (d) tipg (uvicorn, the same tables and geom_3857 columns); (e) nginx serving the bytes of (c)
       from disk (gzip_static, as ours sends gzip); (f) the production recipe deploy/nginx/ (nginx +
       auth_request in front of gunicorn, tiles mirrored to disk by the application), cold and warm.
   HTTP cases use wrk (bench/wrk_load.py): each path once, `--concurrency` keep-alive connections,
   Accept-Encoding: gzip, ours with a dispatcher's session cookie.
4. Prints p50/p95/p99, tiles/s, largest tile per zoom and the targets; writes bench/results/tiles-*.json.

Targets: cold tiles/s >= 0.8 x floor, cold p99 <= 2 x floor p99, cold tiles/s >= 2 x tipg, warm tiles/s
>= 0.5 x nginx, no tile > 500 KB. Only 127.0.0.1 is contacted; every loop is bounded."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

from bench.lookup_bench import (
    DATA_DIR,
    RESULTS_DIR,
    ROOT,
    _percentile,
    ensure_database,
    free_port,
    session_cookie,
    setup_django,
    start_gunicorn,
    wait_until_ok,
)
from bench.wfs_bench import stop
from bench.wrk_load import run_wrk, wrk_version

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:54329/gridcity_bench_tiles"
DEFAULT_REDIS_URL = "redis://127.0.0.1:63799/7"
STATE = ROOT / ".local" / "bench"
NGINX = "/usr/sbin/nginx"
DISTRICT = (116.55, 35.38, 117.05, 35.75)  # GRIDCITY_DISTRICT_BBOX
LAYERS = ("components", "base_grids", "community_grids", "street_grids")
# Share of the tile set per zoom: like a dispatcher's map use, most work at street level.
ZOOM_WEIGHTS = {10: 2, 11: 3, 12: 5, 13: 8, 14: 14, 15: 20, 16: 22, 17: 16, 18: 10}
DENSE_SHARE = 0.85
MAX_TILE_BYTES = 500 * 1024
# tipg learns a geometry column's SRID from its type, and our generated geom_3857 columns are untyped
# `geometry` (tipg would take them for EPSG:4326). So tipg gets views over the same tables that cast
# geom_3857 to geometry(Geometry, 3857), each with a GiST index on exactly that expression (bench
# database only), so it filters by index and encodes with no ST_Transform, like ours.
TIPG_VIEWS = """
CREATE SCHEMA IF NOT EXISTS bench_tipg;
CREATE OR REPLACE VIEW bench_tipg.components AS SELECT id, code, state_code,
    geom_3857::geometry(Geometry, 3857) AS geom FROM public.components_component WHERE NOT retired;
CREATE OR REPLACE VIEW bench_tipg.grids AS SELECT id, code, name, level_id, parent_code,
    geom_3857::geometry(Geometry, 3857) AS geom FROM public.layers_grid;
CREATE INDEX IF NOT EXISTS bench_tipg_component_geom ON components_component
    USING gist ((geom_3857::geometry(Geometry, 3857))) WHERE NOT retired;
CREATE INDEX IF NOT EXISTS bench_tipg_grid_geom ON layers_grid USING gist ((geom_3857::geometry(Geometry, 3857)));
"""
# The nearest tipg has to each of our layers: plain columns (no class join), the level as a filter.
GRID_PROPS = "properties=code,name,level_id,parent_code"
TIPG_QUERY = {
    "components": ("bench_tipg.components", "properties=code,state_code"),
    "base_grids": ("bench_tipg.grids", f"{GRID_PROPS}&level_id=4"),
    "community_grids": ("bench_tipg.grids", f"{GRID_PROPS}&level_id=3"),
    "street_grids": ("bench_tipg.grids", f"{GRID_PROPS}&level_id=2"),
}


# --- preparation -------------------------------------------------------------------------------------


def prepare(scale: str, seed: int, database_url: str, redis_url: str) -> dict:
    """Bench database with the demo city, migrated to the latest migrations (idempotent, reused)."""
    os.environ["REDIS_URL"] = redis_url
    os.environ.setdefault("CELERY_BROKER_URL", redis_url)
    # Migrations that add generated columns rewrite 1M rows: more than the request timeout allows.
    os.environ["GRIDCITY_STATEMENT_TIMEOUT_MS"] = "0"
    ensure_database(database_url)
    t = time.perf_counter()
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        # tipg's views (below) depend on geom_3857: out of the way of any migration that changes it.
        conn.execute("DROP SCHEMA IF EXISTS bench_tipg CASCADE")
    env = setup_django(database_url)
    from django.db import connection

    from bench.lookup_bench import ensure_loaded
    from fixtures.demo_city import load_grids
    from layers.models import Grid

    loaded = ensure_loaded(scale, seed)  # components and, on a first load, the grids
    # load_grids re-checks every component's grid codes even when the grids are there: only when missing.
    grids_loaded = not Grid.objects.filter(level_id=1).exists()
    if grids_loaded:
        load_grids(scale, seed)

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FILTER (WHERE NOT retired) FROM components_component")
        components = cur.fetchone()[0]
        cur.execute("SELECT level_id, count(*) FROM layers_grid GROUP BY 1 ORDER BY 1")
        levels = dict(cur.fetchall())
        cur.execute("SELECT count(*) FROM components_component WHERE geom_3857 IS NULL AND NOT retired")
        if cur.fetchone()[0]:
            raise SystemExit("components without geom_3857: the bench database is not migrated")
        cur.execute(TIPG_VIEWS)
        if loaded.get("loaded") or grids_loaded:
            cur.execute("VACUUM ANALYZE components_component")
            cur.execute("VACUUM ANALYZE layers_grid")
            cur.execute("ANALYZE tiles_componentcell")
    env["GRIDCITY_STATEMENT_TIMEOUT_MS"] = "30000"  # the servers run with the usual timeout
    return {
        "env": env,
        "components": components,
        "grid_levels": levels,
        "prepare_seconds": round(time.perf_counter() - t, 1),
    }


def density_points(seed: int) -> list[tuple[float, float]]:
    """~4,000 live components' positions (lon, lat), chosen by a hash of their codes: the same for the
    same demo city whatever the physical row order."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM components_component "
            "WHERE NOT retired AND abs(hashtext(code || %s)) %% 256 = 0 ORDER BY code",
            [str(seed)],
        )
        return [(float(x), float(y)) for x, y in cur.fetchall()]


def _tiles_available(z: int) -> int:
    import mercantile

    a, b = mercantile.tile(DISTRICT[0], DISTRICT[3], z), mercantile.tile(DISTRICT[2], DISTRICT[1], z)
    return (b.x - a.x + 1) * (b.y - a.y + 1)


def _allocate(n: int) -> dict[int, int]:
    """Tiles per zoom: n split by ZOOM_WEIGHTS, capped by what the district holds at low zooms; the
    remainder goes to the zooms that still have room, by weight."""
    total = sum(ZOOM_WEIGHTS.values())
    want = {z: n * w / total for z, w in ZOOM_WEIGHTS.items()}
    cap = {z: _tiles_available(z) for z in ZOOM_WEIGHTS}
    alloc = {z: min(cap[z], int(round(want[z]))) for z in ZOOM_WEIGHTS}
    for _ in range(20):
        left = n - sum(alloc.values())
        room = {z: ZOOM_WEIGHTS[z] for z in alloc if alloc[z] < cap[z]}
        if left <= 0 or not room:
            break
        wsum = sum(room.values())
        for z in sorted(room, key=lambda z: -room[z]):
            add = min(cap[z] - alloc[z], max(1, int(round(left * room[z] / wsum))), n - sum(alloc.values()))
            alloc[z] += max(0, add)
    return alloc


def tile_set(n: int, seed: int, points: list[tuple[float, float]]) -> list[tuple[int, int, int]]:
    """n distinct (z, x, y), deterministic for (n, seed, points), in a seeded shuffled order."""
    import mercantile
    import numpy as np

    rng = np.random.default_rng(seed)
    out: list[tuple[int, int, int]] = []
    for z, count in _allocate(n).items():
        seen: set[tuple[int, int, int]] = set()
        if count >= _tiles_available(z):  # every tile of the district at this zoom
            seen.update((z, t.x, t.y) for t in mercantile.tiles(*DISTRICT, zooms=[z]))
        for _ in range(200 * count):
            if len(seen) >= count:
                break
            if points and rng.random() < DENSE_SHARE:
                lon, lat = points[int(rng.integers(len(points)))]
                w = 360.0 / 2**z  # jitter within about one tile
                lon, lat = lon + rng.uniform(-w / 2, w / 2), lat + rng.uniform(-w / 3, w / 3)
            else:
                lon, lat = rng.uniform(DISTRICT[0], DISTRICT[2]), rng.uniform(DISTRICT[1], DISTRICT[3])
            if not (DISTRICT[0] <= lon <= DISTRICT[2] and DISTRICT[1] <= lat <= DISTRICT[3]):
                continue
            t = mercantile.tile(lon, lat, z)
            seen.add((z, t.x, t.y))
        out.extend(sorted(seen)[:count])
    order = rng.permutation(len(out))
    return [out[i] for i in order]


def load_tile_set(n: int, seed: int, scale: str) -> list[tuple[int, int, int]]:
    path = DATA_DIR / f"tileset_{scale}_seed{seed}_n{n}.json"
    if path.exists():
        return [tuple(t) for t in json.loads(path.read_text())]
    tiles = tile_set(n, seed, density_points(seed))
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(tiles))
    return tiles


def requests_for(tiles, layer_ids) -> list[tuple[str, int, int, int]]:
    """(layer, z, x, y) for each tile and each layer served at that zoom (what a viewer asks for)."""
    from layers import catalogue

    specs = {lid: catalogue.get(lid).tiles for lid in layer_ids}
    return [(lid, z, x, y) for z, x, y in tiles for lid in layer_ids if specs[lid].minzoom <= z <= specs[lid].maxzoom]


# --- (a) the floor -----------------------------------------------------------------------------------


def statements(reqs) -> list[tuple[str, list]]:
    from layers import catalogue
    from tiles.sql import TileRequest, tile_sql

    return [tile_sql(TileRequest(catalogue.get(lid), z, x, y)) for lid, z, x, y in reqs]


def run_floor(database_url: str, stmts, concurrency: int) -> dict:
    """Each statement once, split over `concurrency` psycopg connections taking the next in turn."""
    import psycopg

    lock = threading.Lock()
    nxt = [0]
    lat = [0.0] * len(stmts)
    sizes = [0] * len(stmts)
    errors: list[str] = []

    def worker():
        with psycopg.connect(database_url, autocommit=True) as conn:
            while True:
                with lock:
                    i = nxt[0]
                    nxt[0] += 1
                if i >= len(stmts):
                    return
                sql, params = stmts[i]
                t = time.perf_counter()
                try:
                    row = conn.execute(sql, params).fetchone()
                except psycopg.Error as exc:
                    with lock:
                        errors.append(f"{exc.__class__.__name__}: {str(exc)[:200]}")
                    continue
                lat[i] = (time.perf_counter() - t) * 1000
                sizes[i] = len(row[0]) if row and row[0] else 0

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    seconds = time.perf_counter() - t0
    s = sorted(lat)
    return {
        "n": len(stmts),
        "ok": len(stmts) - len(errors),
        "bad": len(errors),
        "socket_errors": 0,
        "first_bad": errors[0] if errors else "",
        "seconds": round(seconds, 3),
        "rps": len(stmts) / seconds,
        "p50": _percentile(s, 50),
        "p95": _percentile(s, 95),
        "p99": _percentile(s, 99),
        "mean": sum(s) / len(s),
        "max": s[-1],
        "sizes": sizes,
        "latencies": lat,
        "complete": not errors,
    }


# --- is it right? --------------------------------------------------------------------------------


def _features(mvt: bytes) -> list:
    """A tile's features in a canonical order: the encoder writes them in the order the rows came, which
    a parallel or differently planned scan may change between two runs of the same statement."""
    import mapbox_vector_tile

    layers = mapbox_vector_tile.decode(mvt) if mvt else {}
    return sorted(
        json.dumps([name, f.get("id"), f["properties"], f["geometry"]], sort_keys=True)
        for name, layer in layers.items()
        for f in layer["features"]
    )


def compare_tiles(base: str, cookie: str, reqs, stmts, database_url: str, limit: int = 400) -> dict:
    """Untimed: ours (decompressed) against the floor's, tile by tile: the same bytes, or else the same
    features in another order (counted apart); anything else is a difference."""
    import httpx
    import psycopg

    checked = differ = reordered = 0
    first = ""
    with (
        psycopg.connect(database_url, autocommit=True) as conn,
        httpx.Client(base_url=base, cookies={"sessionid": cookie}, timeout=60) as client,
    ):
        for (lid, z, x, y), (sql, params) in list(zip(reqs, stmts))[:limit]:
            floor = bytes(conn.execute(sql, params).fetchone()[0] or b"")
            r = client.get(f"/tiles/{lid}/{z}/{x}/{y}.mvt", headers={"Accept-Encoding": "gzip"})
            body = r.content
            if r.headers.get("Content-Encoding") == "gzip" and body[:2] == b"\x1f\x8b":
                body = gzip.decompress(body)  # httpx decodes by itself; a tile stored gzipped may not be
            checked += 1
            if r.status_code in (200, 204) and body == floor:
                continue
            if r.status_code in (200, 204) and _features(body) == _features(floor):
                reordered += 1
            else:
                differ += 1
                first = first or f"{lid}/{z}/{x}/{y}: HTTP {r.status_code}, {len(body)} B vs floor {len(floor)} B"
    return {"checked": checked, "differ": differ, "reordered": reordered, "first": first}


# --- servers -----------------------------------------------------------------------------------------


def flush_tile_cache(redis_url: str) -> None:
    """Empties the bench's own Redis database (tile cache and cached sessions; sessions fall back to
    the database). Refuses database 0, which development uses."""
    import redis

    db = int((urlparse(redis_url).path or "/0").lstrip("/") or 0)
    if db == 0:
        raise SystemExit("refusing to flush Redis database 0: give the bench its own (--redis-url .../7)")
    redis.Redis.from_url(redis_url).flushdb()


def start_granian(
    env: dict, port: int, workers: int, threads: int, app: str = "gis_core.wsgi:application"
) -> subprocess.Popen:
    """`app` (default the whole Django application, fast path included) under granian's WSGI interface
    (`pip install granian`), set up like gunicorn: the same workers, `threads` blocking threads each."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--blocking-threads",
            str(threads),
            "--log-level",
            "warning",
            "--no-ws",
            app,
        ],
        cwd=ROOT,
        env={"GRIDCITY_OGC_CONCURRENT_PER_CLIENT": "0", **env, "GRIDCITY_LOG_LEVEL": "ERROR"},
    )


SERVICE_APP = "gis_core.tiles_wsgi:application"


def start_service(env: dict, port: int, workers: int = 2, threads: int = 2) -> subprocess.Popen:
    """The tile service (tiles/service.py through gis_core.tiles_wsgi) under granian, as
    docs/tiles.md runs it: `workers` processes (one per core), `threads` blocking threads each."""
    return start_granian(env, port, workers, threads, SERVICE_APP)


def start_baseline(rev: str, env: dict, port: int, workers: int, threads: int) -> subprocess.Popen:
    """gunicorn (as case b) on the tree of an earlier commit, exported with `git archive` under
    .local/bench/baseline-<rev>/: the path before a change, measured in the same run as after it."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    tree = STATE / f"baseline-{commit}"
    if not (tree / "gis_core" / "wsgi.py").exists():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    cmd = [str(gunicorn), "gis_core.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    cmd += ["--worker-class", "gthread", "--threads", str(threads), "--keep-alive", "30", "--log-level", "warning"]
    return subprocess.Popen(
        cmd,
        cwd=tree,
        env={"GRIDCITY_OGC_CONCURRENT_PER_CLIENT": "0", **env, "PYTHONPATH": str(tree), "GRIDCITY_LOG_LEVEL": "ERROR"},
    )


def repeated(runs: int, once) -> dict:
    """`once()` run `runs` times: the run with the median tiles/s, with every run's tiles/s and p99 and
    the spread ((max - min) / median tiles/s); failures of any run are kept."""
    ms = [once() for _ in range(max(1, runs))]
    mid = dict(sorted(ms, key=lambda m: m["rps"])[len(ms) // 2])
    rates = [m["rps"] for m in ms]
    mid["runs_rps"] = [round(r) for r in rates]
    mid["runs_p99"] = [round(m["p99"], 1) for m in ms]
    mid["spread"] = (max(rates) - min(rates)) / mid["rps"] if mid["rps"] else 0.0
    worst = max(ms, key=lambda m: m["bad"] + m.get("socket_errors", 0))
    for k in ("bad", "socket_errors", "first_bad"):
        if k in worst:
            mid[k] = worst[k]
    mid["ok"] = min(m["ok"] for m in ms)
    mid["complete"] = all(m.get("complete", True) for m in ms)
    return mid


def latency_by_zoom(base: str, reqs, cookie: str) -> dict[int, list[float]]:
    """Untimed as a rate: each tile once, one request at a time (httpx), its HTTP latency in ms by zoom;
    the caller empties the tile cache first, so these are cold tiles."""
    import httpx

    out: dict[int, list[float]] = {}
    with httpx.Client(base_url=base, cookies={"sessionid": cookie}, timeout=60.0) as client:
        for lid, z, x, y in reqs:
            t = time.perf_counter()
            client.get(f"/tiles/{lid}/{z}/{x}/{y}.mvt", headers={"Accept-Encoding": "gzip"})
            out.setdefault(z, []).append((time.perf_counter() - t) * 1000)
    return out


def start_tipg(database_url: str, port: int, workers: int) -> subprocess.Popen:
    u = urlparse(database_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIPG_", "DJANGO_"))}
    env.update(
        {
            "DATABASE_URL": f"postgresql://{u.username or 'postgres'}@{u.hostname}:{u.port or 5432}{u.path}",
            "TIPG_DB_SCHEMAS": '["bench_tipg"]',
            "TIPG_DB_TABLES": '["bench_tipg.components", "bench_tipg.grids"]',
            "TIPG_DB_MAX_CONN_SIZE": "10",
            "TIPG_DEBUG": "FALSE",
        }
    )
    uvicorn = Path(sys.executable).with_name("uvicorn")
    log = open(STATE / "tipg.log", "ab")
    return subprocess.Popen(
        [
            str(uvicorn),
            "tipg.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=STATE,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def render_template(src: Path, dest: Path, values: dict) -> Path:
    text = src.read_text()
    for k, v in values.items():
        text = text.replace(f"@{k}@", str(v))
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(text)
    return dest


def start_nginx(conf_body: Path, name: str, port: int) -> subprocess.Popen:
    """nginx in the foreground with its state under .local/bench/<name>/; `conf_body` is an http-level
    include (server blocks) rendered beforehand."""
    prefix = STATE / name
    for d in ("logs", "tmp"):
        (prefix / d).mkdir(parents=True, exist_ok=True)
    main = render_template(
        ROOT / "bench" / "nginx" / "main.conf.template",
        prefix / "nginx.conf",
        {"PREFIX": prefix, "BODY": conf_body, "USER": "user root;" if os.geteuid() == 0 else ""},
    )
    test = subprocess.run([NGINX, "-t", "-p", str(prefix), "-c", str(main)], capture_output=True, text=True)
    if test.returncode != 0:
        raise SystemExit(f"nginx config {main}: {test.stderr}")
    return subprocess.Popen(
        [NGINX, "-p", str(prefix), "-c", str(main)],
        stdout=subprocess.DEVNULL,
        stderr=open(prefix / "logs" / "stderr.log", "ab"),
    )


def warm_up(base: str, paths: list[str], connections: int, headers: dict) -> None:
    """Untimed: requests over `connections` connections (twice the server's threads), so that every
    worker thread has its database connection and every process its imports and catalogues: the
    cold pass measures a cold tile cache, not a cold process (our cache is flushed after this)."""
    run_wrk(base, paths[: 8 * connections], concurrency=connections, headers=headers)


def capture(base: str, paths: list[str], cookie: str, out_dir: Path) -> dict:
    """Untimed: every tile of `paths` as the server sends it with gzip (from its warm cache), written
    to out_dir as <path> (decoded) and <path>.gz (the gzip body, for nginx's gzip_static)."""
    import httpx

    if out_dir.exists():
        shutil.rmtree(out_dir)
    sizes: dict[str, tuple[int, int]] = {}
    bad = []
    with httpx.Client(
        base_url=base, cookies={"sessionid": cookie}, timeout=60.0, headers={"Accept-Encoding": "gzip"}
    ) as client:
        for p in paths:
            with client.stream("GET", p) as r:
                wire = b"".join(r.iter_raw())
                if r.status_code not in (200, 204):
                    bad.append(f"{p}: HTTP {r.status_code}")
                    continue
                gz = r.headers.get("content-encoding") == "gzip"
            raw = gzip.decompress(wire) if gz and wire else wire
            target = out_dir / p.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(raw)
            if gz:
                target.with_name(target.name + ".gz").write_bytes(wire)
            sizes[p] = (len(wire), len(raw))
    return {"sizes": sizes, "bad": bad}


# --- the run -----------------------------------------------------------------------------------------


def run(
    scale: str = "city",
    seed: int = 1,
    database_url: str | None = None,
    *,
    n_tiles: int = 1000,
    concurrency: int = 4,
    workers: int = 4,
    threads: int = 2,
    layer_ids=LAYERS,
    redis_url: str | None = None,
    skip=(),
    runs: int = 3,
    service_workers: int = 2,
    service_threads: int = 2,
    baseline: str | None = None,
) -> dict:
    database_url = database_url or os.environ.get("BENCH_TILES_DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = redis_url or os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS_URL
    n_tiles = max(10, min(int(n_tiles), 20000))
    STATE.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    prep = prepare(scale, seed, database_url, redis_url)
    env = {**prep["env"], "REDIS_URL": redis_url}
    print(
        f"bench database {database_url.rsplit('/', 1)[-1]}: {prep['components']:,} live components, grids per "
        f"level {prep['grid_levels']} ({prep['prepare_seconds']} s)",
        flush=True,
    )
    tiles = load_tile_set(n_tiles, seed, scale)
    reqs = requests_for(tiles, layer_ids)
    per_zoom = {}
    for z, _, _ in tiles:
        per_zoom[z] = per_zoom.get(z, 0) + 1
    print(
        f"tile set: {len(tiles)} tiles {dict(sorted(per_zoom.items()))}, {len(reqs)} layer tiles "
        f"({', '.join(layer_ids)}); {runs} runs per case",
        flush=True,
    )
    stmts = statements(reqs)
    cookie = session_cookie()
    versions = tool_versions()
    from django.db import connections

    connections.close_all()
    ours_paths = [f"/tiles/{lid}/{z}/{x}/{y}.mvt" for lid, z, x, y in reqs]
    # Warm-ups ask for other tiles (another seed's set, less the timed ones): a process gets its
    # connections, imports and prepared statements, not the timed tiles.
    timed = set(ours_paths)
    warm_paths = [
        f"/tiles/{lid}/{z}/{x}/{y}.mvt"
        for lid, z, x, y in requests_for(load_tile_set(n_tiles, seed + 1, scale), layer_ids)
    ]
    warm_paths = [p for p in warm_paths if p not in timed]
    tipg_paths = [
        f"/collections/{TIPG_QUERY[lid][0]}/tiles/WebMercatorQuad/{z}/{x}/{y}?{TIPG_QUERY[lid][1]}"
        for lid, z, x, y in reqs
    ]
    tipg_warm = [
        f"/collections/{TIPG_QUERY[lid][0]}/tiles/WebMercatorQuad/{z}/{x}/{y}?{TIPG_QUERY[lid][1]}"
        for lid, z, x, y in requests_for(load_tile_set(n_tiles, seed + 1, scale), layer_ids)
    ]
    headers = {"Accept-Encoding": "gzip"}
    ours_headers = {**headers, "Cookie": f"sessionid={cookie}"}
    load_before = os.getloadavg()
    cases: dict[str, dict] = {}
    checks: dict[str, dict] = {}
    http_zoom: dict[str, dict[int, list[float]]] = {}

    def record(name, label, m):
        m["label"] = label
        cases[name] = m
        spread = f", runs {m['runs_rps']} tiles/s (spread {m['spread']:.0%})" if "runs_rps" in m else ""
        print(
            f"  {label}: {m['rps']:.0f} tiles/s, p50 {m['p50']:.1f} ms, p99 {m['p99']:.1f} ms, "
            f"{m['ok']}/{m['n']} ok{' ' + m['first_bad'] if m['bad'] else ''}{spread}; load {os.getloadavg()[0]:.2f}",
            flush=True,
        )

    def cold(base):
        def once():
            flush_tile_cache(redis_url)
            return run_wrk(base, ours_paths, concurrency=concurrency, headers=ours_headers)

        return repeated(runs, once)

    def warm(base):
        return repeated(runs, lambda: run_wrk(base, ours_paths, concurrency=concurrency, headers=ours_headers))

    print("  (a) floor: warming PostgreSQL's buffers (untimed) ...", flush=True)
    run_floor(database_url, stmts, concurrency)
    floor_runs = []

    def floor_once():
        m = run_floor(database_url, stmts, concurrency)
        floor_runs.append(m)
        return m

    floor = repeated(runs, floor_once)
    floor_sizes, floor_lat = floor.pop("sizes"), floor.pop("latencies")
    record("floor", "(a) floor: raw ST_AsMVT SQL via psycopg", floor)
    sequential = run_floor(database_url, stmts, 1)  # per-zoom latency, one statement at a time
    http_zoom["floor"] = {}
    for (_, z, _, _), ms in zip(reqs, sequential["latencies"]):
        http_zoom["floor"].setdefault(z, []).append(ms)

    procs: list[subprocess.Popen] = []
    sizes_ours: dict[str, tuple[int, int]] = {}
    static_root = STATE / "static-tiles"
    try:

        def started(start, what: str, path: str, connections: int):
            """A server on a free port, answering, warmed up on tiles outside the timed set."""
            port = free_port()
            proc = start(port)
            procs.append(proc)
            url = f"http://127.0.0.1:{port}"
            wait_until_ok(f"{url}{path}", proc, what=what, cookies={"sessionid": cookie})
            warm_up(url, warm_paths, connections, ours_headers)
            return proc, url

        if baseline:
            proc, base = started(
                lambda port: start_baseline(baseline, env, port, workers, threads),
                "baseline gunicorn",
                "/tiles/",
                2 * workers * threads,
            )
            record("baseline_cold", f"(b0) before: gunicorn on {baseline}, cold", cold(base))
            stop(proc)

        gunicorn, base = started(
            lambda port: start_gunicorn(env, port, workers, threads), "gunicorn", "/tiles/", 2 * workers * threads
        )
        record("ours_cold", "(b) gunicorn gis_core.wsgi (tiles via tiles.service), cold", cold(base))
        record("ours_warm", "(c) gunicorn gis_core.wsgi, warm", warm(base))
        stop(gunicorn)

        # (h) the tile service on its own: what deploy/nginx routes the .mvt paths to.
        svc, sbase = started(
            lambda port: start_service(env, port, service_workers, service_threads),
            "tile service",
            ours_paths[0],
            2 * service_workers * service_threads,
        )
        record(
            "service_cold",
            f"(h) tile service (granian WSGI {service_workers}x{service_threads}), cold",
            cold(sbase),
        )
        record("service_warm", "(h) tile service, warm", warm(sbase))
        cap = capture(sbase, ours_paths, cookie, static_root)
        sizes_ours = cap["sizes"]
        if cap["bad"]:
            print(f"  capture: {len(cap['bad'])} failed, e.g. {cap['bad'][:3]}")
        flush_tile_cache(redis_url)
        checks["service"] = compare_tiles(sbase, cookie, reqs, stmts, database_url, limit=len(reqs))
        c = checks["service"]
        print(
            f"  (h) against the floor, decoded: {c['checked']} tiles, {c['differ']} differ, {c['reordered']} reordered"
            f"{' e.g. ' + c['first'] if c['first'] else ''}",
            flush=True,
        )
        flush_tile_cache(redis_url)
        http_zoom["service"] = latency_by_zoom(sbase, reqs, cookie)
        stop(svc)

        if "granian" not in skip and importlib.util.find_spec("granian") is not None:
            # The whole Django application (tiles through the same service code) under granian.
            granian, gbase = started(
                lambda port: start_granian(env, port, workers, threads), "granian", "/tiles/", 2 * workers * threads
            )
            record("granian_cold", "(g) gis_core.wsgi under granian (WSGI), cold", cold(gbase))
            stop(granian)

        if "tipg" not in skip:
            tport = free_port()
            tipg = start_tipg(database_url, tport, workers)
            procs.append(tipg)
            tbase = f"http://127.0.0.1:{tport}"
            wait_until_ok(f"{tbase}/collections/bench_tipg.grids", tipg, what="tipg", timeout=120)
            warm_up(tbase, tipg_warm, 2 * workers * threads, headers)  # its pool grows to 10 connections
            record(
                "tipg",
                "(d) tipg",
                repeated(runs, lambda: run_wrk(tbase, tipg_paths, concurrency=concurrency, headers=headers)),
            )
            stop(tipg)

        if "tegola" not in skip:  # skipped inside when no tegola binary was built (bench/README.md)
            from bench.tegola_case import run_case

            warm_reqs = requests_for(load_tile_set(n_tiles, seed + 1, scale), layer_ids)
            run_case(
                database_url,
                reqs,
                stmts,
                warm_reqs,
                concurrency=concurrency,
                runs=runs,
                repeated=repeated,
                record=record,
            )

        nport = free_port()
        body = render_template(
            ROOT / "bench" / "nginx" / "static-tiles.conf.template",
            STATE / "nginx-static" / "server.conf",
            {"LISTEN": f"127.0.0.1:{nport}", "ROOT": static_root},
        )
        nginx = start_nginx(body, "nginx-static", nport)
        procs.append(nginx)
        wait_until_ok(f"http://127.0.0.1:{nport}{ours_paths[0]}", nginx, what="nginx")
        record(
            "nginx",
            "(e) nginx: the same bytes from disk",
            repeated(
                runs, lambda: run_wrk(f"http://127.0.0.1:{nport}", ours_paths, concurrency=concurrency, headers=headers)
            ),
        )
        stop(nginx)

        recipe = ROOT / "deploy" / "nginx" / "gridcity.conf.template"
        if recipe.exists() and "recipe" not in skip:
            disk = STATE / "tile-disk"
            if disk.exists():
                shutil.rmtree(disk)
            disk.mkdir(parents=True)
            gport, sport, rport = free_port(), free_port(), free_port()
            disk_env = {**env, "GRIDCITY_TILE_DISK_DIR": str(disk)}
            gunicorn = start_gunicorn(disk_env, gport, workers, threads)
            procs.append(gunicorn)
            svc = start_service(disk_env, sport, service_workers, service_threads)
            procs.append(svc)
            wait_until_ok(f"http://127.0.0.1:{gport}/tiles/", gunicorn, what="gunicorn", cookies={"sessionid": cookie})
            wait_until_ok(
                f"http://127.0.0.1:{sport}{ours_paths[0]}", svc, what="service", cookies={"sessionid": cookie}
            )
            state = STATE / "nginx-recipe"
            body = render_template(
                recipe,
                state / "server.conf",
                {
                    "LISTEN": f"127.0.0.1:{rport}",
                    "UPSTREAM": f"127.0.0.1:{gport}",
                    "TILES_UPSTREAM": f"127.0.0.1:{sport}",
                    "TILE_DIR": disk,
                    "STATE": state,
                },
            )
            nginx = start_nginx(body, "nginx-recipe", rport)
            procs.append(nginx)
            rbase = f"http://127.0.0.1:{rport}"
            wait_until_ok(f"{rbase}/tiles/", nginx, what="nginx recipe", cookies={"sessionid": cookie})
            warm_up(rbase, warm_paths, 2 * workers * threads, ours_headers)

            def recipe_once():
                flush_tile_cache(redis_url)
                for d in disk.iterdir():  # what the warm-up or the previous run mirrored
                    shutil.rmtree(d)
                return run_wrk(rbase, ours_paths, concurrency=concurrency, headers=ours_headers)

            record("recipe_cold", "(f) nginx recipe + tile service, cold", repeated(runs, recipe_once))
            record("recipe_warm", "(f) nginx recipe, warm (disk)", warm(rbase))
    finally:
        for p in reversed(procs):
            stop(p)
    load_after = os.getloadavg()
    report = summarize(cases, reqs, floor_sizes, floor_lat, sizes_ours)
    report["checks"] = checks
    report["http_latency_by_zoom"] = {
        name: {
            str(z): {"n": len(v), "p50": _percentile(sorted(v), 50), "p99": _percentile(sorted(v), 99)}
            for z, v in sorted(by.items())
        }
        for name, by in http_zoom.items()
    }
    for name, c in checks.items():
        report["targets"].append(
            {
                "target": f"({name}) every tile = the floor's (decoded features and ids)",
                "value": f"{c['checked']} checked, {c['differ']} differ ({c['reordered']} only reordered)",
                "want": "0 differ",
                "ok": c["differ"] == 0 and c["checked"] == len(reqs),
            }
        )
    meta = {
        "scale": scale,
        "seed": seed,
        "tiles": len(tiles),
        "layer_tiles": len(reqs),
        "layers": list(layer_ids),
        "tiles_per_zoom": dict(sorted(per_zoom.items())),
        "concurrency": concurrency,
        "workers": workers,
        "threads": threads,
        "service": f"granian wsgi {service_workers}x{service_threads}",
        "runs": runs,
        "baseline": baseline,
        "components": prep["components"],
        "grid_levels": prep["grid_levels"],
        "versions": versions,
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "cpus": os.cpu_count(),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    print_report(meta, cases, report)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"tiles-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({**meta, "cases": cases, **report}, indent=1, default=str))
    print(f"results: {out.relative_to(ROOT)}")
    return {"cases": cases, **report}


def summarize(cases, reqs, floor_sizes, floor_lat, sizes_ours) -> dict:
    zooms: dict[int, dict] = {}
    lat_by_zoom: dict[int, list[float]] = {}
    for (lid, z, x, y), raw, ms in zip(reqs, floor_sizes, floor_lat):
        lat_by_zoom.setdefault(z, []).append(ms)
        row = zooms.setdefault(
            z, {"tiles": 0, "floor_max": 0, "floor_max_tile": "", "ours_max_raw": 0, "ours_max_gzip": 0}
        )
        row["tiles"] += 1
        if raw > row["floor_max"]:
            row["floor_max"], row["floor_max_tile"] = raw, f"{lid}/{z}/{x}/{y}"
        wire, decoded = sizes_ours.get(f"/tiles/{lid}/{z}/{x}/{y}.mvt", (0, 0))
        row["ours_max_raw"] = max(row["ours_max_raw"], decoded)
        row["ours_max_gzip"] = max(row["ours_max_gzip"], wire)
    for z, lat in lat_by_zoom.items():
        lat.sort()
        zooms[z]["floor_p50"], zooms[z]["floor_p99"] = _percentile(lat, 50), _percentile(lat, 99)
    largest = max([r["floor_max"] for r in zooms.values()] + [r["ours_max_raw"] for r in zooms.values()] or [0])
    # The targets are the production path's: the tile service (h) when measured, else gis_core.wsgi (b).
    f = cases.get("floor")
    c = cases.get("service_cold") or cases.get("ours_cold")
    w = cases.get("service_warm") or cases.get("ours_warm")
    case = "(h)" if "service_cold" in cases else "(b)"
    tipg, nginx = cases.get("tipg"), cases.get("nginx")
    targets = []

    def target(name, value, want, ok):
        targets.append({"target": name, "value": value, "want": want, "ok": bool(ok)})

    if f and c:
        target(
            f"{case} cold tiles/s >= 0.8 x floor",
            f"{c['rps']:.0f} vs {f['rps']:.0f} ({c['rps'] / f['rps']:.2f}x)",
            f">= {0.8 * f['rps']:.0f}",
            c["rps"] >= 0.8 * f["rps"],
        )
        target(
            f"{case} cold p99 <= 2 x floor p99",
            f"{c['p99']:.1f} ms vs {f['p99']:.1f} ms ({c['p99'] / f['p99']:.2f}x)",
            f"<= {2 * f['p99']:.1f} ms",
            c["p99"] <= 2 * f["p99"],
        )
    if c and tipg:
        target(
            f"{case} cold tiles/s >= 2 x tipg",
            f"{c['rps']:.0f} vs {tipg['rps']:.0f} ({c['rps'] / tipg['rps']:.2f}x)",
            f">= {2 * tipg['rps']:.0f}",
            c["rps"] >= 2 * tipg["rps"],
        )
    if w and nginx:
        target(
            f"{case} warm tiles/s >= 0.5 x nginx",
            f"{w['rps']:.0f} vs {nginx['rps']:.0f} ({w['rps'] / nginx['rps']:.2f}x)",
            f">= {0.5 * nginx['rps']:.0f}",
            w["rps"] >= 0.5 * nginx["rps"],
        )
    rc, rw = cases.get("recipe_cold"), cases.get("recipe_warm")
    if f and rc:
        target(
            "(f) recipe cold tiles/s >= 0.8 x floor",
            f"{rc['rps']:.0f} vs {f['rps']:.0f} ({rc['rps'] / f['rps']:.2f}x)",
            f">= {0.8 * f['rps']:.0f}",
            rc["rps"] >= 0.8 * f["rps"],
        )
        target(
            "(f) recipe cold p99 <= 2 x floor p99",
            f"{rc['p99']:.1f} ms vs {f['p99']:.1f} ms ({rc['p99'] / f['p99']:.2f}x)",
            f"<= {2 * f['p99']:.1f} ms",
            rc["p99"] <= 2 * f["p99"],
        )
    if rw and nginx:
        target(
            "(f) recipe warm tiles/s >= 0.5 x nginx",
            f"{rw['rps']:.0f} vs {nginx['rps']:.0f} ({rw['rps'] / nginx['rps']:.2f}x)",
            f">= {0.5 * nginx['rps']:.0f}",
            rw["rps"] >= 0.5 * nginx["rps"],
        )
    target("no tile > 500 KB", f"largest {largest:,} B", f"<= {MAX_TILE_BYTES:,} B", largest <= MAX_TILE_BYTES)
    for name, m in cases.items():
        if m["bad"] or m.get("socket_errors") or not m.get("complete", True):
            target(f"{name}: every tile answered", f"{m['ok']}/{m['n']} ok", "all", False)
    return {"zooms": {str(z): zooms[z] for z in sorted(zooms)}, "largest_tile": largest, "targets": targets}


def code_version() -> str:
    """The commit measured, and whether the work tree differed from it (a shared tree may)."""
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
    ).stdout.split("\n")
    changed = sorted({line[3:] for line in dirty if line.strip()})
    return head + (f" + uncommitted changes in {', '.join(changed)}" if changed else "")


def tool_versions() -> dict:
    import importlib.metadata as md

    out = {"wrk": wrk_version(), "code": code_version()}
    for pkg in ("tipg", "uvicorn", "granian", "gunicorn", "psycopg", "django"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "missing"
    r = subprocess.run([NGINX, "-v"], capture_output=True, text=True)
    out["nginx"] = r.stderr.strip().removeprefix("nginx version: ")
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT version(), postgis_lib_version()")
        pg, postgis = cur.fetchone()
    out["postgresql"] = pg.split(" on ")[0]
    out["postgis"] = postgis
    return out


def print_report(meta, cases, report) -> None:
    v = meta["versions"]
    print(
        f"\nVector tile benchmark: {meta['tiles']} tiles z10-z18 x layers {', '.join(meta['layers'])} = "
        f"{meta['layer_tiles']} tile requests per case (tiles per zoom {meta['tiles_per_zoom']}); "
        f"{meta['components']:,} live components, grids per level {meta['grid_levels']}"
    )
    print(
        f"Concurrency {meta['concurrency']} for every case; HTTP: {v['wrk']} (each path once, keep-alive, "
        f"Accept-Encoding: gzip); gunicorn {meta['workers']} workers x {meta['threads']} threads (gthread); "
        f"tile service = {meta['service']}; "
        f"tipg {v['tipg']} = uvicorn {meta['workers']} workers; nginx {v['nginx']}; {v['postgresql']}, PostGIS "
        f"{v['postgis']}"
    )
    print(f"Code: {v['code']}")
    print(
        f"Machine: {meta['cpus']} CPUs, load average before {meta['loadavg_before'][0]:.2f}, after "
        f"{meta['loadavg_after'][0]:.2f} (shared machine: other work may run)"
    )
    print()
    print(
        f"Runs per case: {meta['runs']} (the row is the run with the median tiles/s; every run's tiles/s and the "
        "spread, (max - min) / median, follow)"
    )
    print()
    floor_rps = cases["floor"]["rps"] if "floor" in cases else 0
    print(
        "| case | tiles/s | x floor | runs (tiles/s) | spread | p50 ms | p95 ms | p99 ms | max ms | ok | bytes sent |"
    )
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for m in cases.values():
        sent = f"{m['body_bytes']:,}" if "body_bytes" in m else "-"
        ratio = f"{m['rps'] / floor_rps:.2f}" if floor_rps else "-"
        print(
            f"| {m['label']} | {m['rps']:.0f} | {ratio} | {', '.join(map(str, m.get('runs_rps', [])))} | "
            f"{m.get('spread', 0):.0%} | {m['p50']:.1f} | {m['p95']:.1f} | {m['p99']:.1f} | {m['max']:.0f} | "
            f"{m['ok']}/{m['n']} | {sent} |"
        )
    print()
    by_zoom = report.get("http_latency_by_zoom") or {}
    if by_zoom:
        names = list(by_zoom)
        print(
            "Cold latency per zoom, one request at a time (floor: the SQL through psycopg; service: HTTP through "
            "httpx, the client's own ~0.1-0.2 ms included):"
        )
        print("| zoom | " + " | ".join(f"{n} p50 / p99 ms" for n in names) + " |")
        print("|---:|" + "---:|" * len(names))
        for z in sorted({z for n in names for z in by_zoom[n]}, key=int):
            cells = [
                f"{by_zoom[n][z]['p50']:.1f} / {by_zoom[n][z]['p99']:.1f}" if z in by_zoom[n] else "-" for n in names
            ]
            print(f"| {z} | " + " | ".join(cells) + " |")
        print()
    print(
        "| zoom | layer tiles | floor SQL p50 / p99 ms | largest raw MVT (floor) | largest ours decoded / gzip | "
        "largest tile |"
    )
    print("|---:|---:|---:|---:|---:|---|")
    for z, r in report["zooms"].items():
        print(
            f"| {z} | {r['tiles']} | {r['floor_p50']:.1f} / {r['floor_p99']:.1f} | {r['floor_max']:,} B | "
            f"{r['ours_max_raw']:,} / {r['ours_max_gzip']:,} B | {r['floor_max_tile']} |"
        )
    print()
    print("| target | measured | wanted | result |")
    print("|---|---|---|---|")
    for t in report["targets"]:
        print(f"| {t['target']} | {t['value']} | {t['want']} | {'pass' if t['ok'] else 'FAIL'} |")
