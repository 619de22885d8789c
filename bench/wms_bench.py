"""WMS benchmark: our /wms GetMap against MapServer 8 on the same tables, same extents, same client.

    .venv/bin/python -m bench wms [--scale city] [--seed 1] [--maps 200] [--concurrency 4]

1. The bench database of `python -m bench tiles` (default gridcity_bench_tiles: ~1M components,
   ~15,000 base grids), prepared the same way (bench.tiles_bench.prepare).
2. Extents: the first `--maps` positions of the tiles benchmark's tile set (z10-z18, weighted like map
   use, dense areas first): a 256 x 256 map is the tile's extent; a 1024 x 1024 map is the 4 x 4 tiles
   around it (its z-2 parent), so both sizes draw at the tile's own scale. EPSG:3857, PNG, transparent.
3. Servers, both with persistent processes: ours = gunicorn (`--workers` x `--threads`, each worker with
   its mapnik render processes), logged in by a dispatcher's session cookie; MapServer 8 = `--workers`
   mapserv FastCGI processes (spawn-fcgi) behind nginx, mapfile bench/mapserver/gridcity.map.template
   (PostGIS layers on the same geom_3857 columns, styled like the catalogue's raster_style).
4. Cases: {256, 1024} px x {base_grids, components}; each server gets one untimed pass of 8 maps, then
   every extent once with wrk at `--concurrency` connections. An answer counts only if it is HTTP 200
   and image/png. A few maps of each server are decoded (Pillow) and must have drawn pixels; they are
   kept in .local/bench/wms-samples/ to look at.
Target: ours within 1.2x of MapServer per case (maps/s >= MapServer's / 1.2 and p50 <= 1.2 x its p50).
Writes bench/results/wms-*.json. Only 127.0.0.1 is contacted; every loop is bounded."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

from bench.lookup_bench import RESULTS_DIR, ROOT, free_port, session_cookie, start_gunicorn, wait_until_ok
from bench.tiles_bench import (
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    STATE,
    code_version,
    load_tile_set,
    prepare,
    render_template,
    start_nginx,
)
from bench.wfs_bench import stop
from bench.wrk_load import run_wrk, wrk_version

MAPSERV = "/usr/lib/cgi-bin/mapserv"
SPAWN_FCGI = "/usr/bin/spawn-fcgi"
SIZES = (256, 1024)
LAYER_CASES = ("base_grids", "components")
RATIO = 1.2
SAMPLES = 3


def extents(tiles, n: int) -> dict[int, list[tuple[float, float, float, float]]]:
    import mercantile

    out: dict[int, list] = {256: [], 1024: []}
    for z, x, y in tiles[:n]:
        b = mercantile.xy_bounds(x, y, z)
        out[256].append((b.left, b.bottom, b.right, b.top))
        p = mercantile.xy_bounds(x >> 2, y >> 2, z - 2)
        out[1024].append((p.left, p.bottom, p.right, p.top))
    return out


def getmap_query(layers: str, bbox, size: int) -> str:
    return (
        "SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS="
        + layers
        + "&STYLES=&CRS=EPSG:3857&BBOX="
        + ",".join(f"{v:.3f}" for v in bbox)
        + f"&WIDTH={size}&HEIGHT={size}&FORMAT=image/png&TRANSPARENT=TRUE"
    )


def start_mapserver(database_url: str, port: int, processes: int) -> tuple[list[int], Path]:
    """`processes` persistent mapserv FastCGI processes on 127.0.0.1:port (spawn-fcgi); returns their pids."""
    u = urlparse(database_url)
    state = STATE / "mapserver"
    state.mkdir(parents=True, exist_ok=True)
    errors = state / "ms_error.txt"
    mapfile = render_template(
        ROOT / "bench" / "mapserver" / "gridcity.map.template",
        state / "gridcity.map",
        {
            "CONNECTION": f"host={u.hostname or '127.0.0.1'} port={u.port or 5432} dbname={u.path.lstrip('/')} "
            f"user={u.username or 'postgres'}",
            "ERRORFILE": errors,
        },
    )
    conf = render_template(
        ROOT / "bench" / "mapserver" / "mapserver.conf.template",
        state / "mapserver.conf",
        {"MAPFILE": mapfile, "ERRORFILE": errors},
    )
    pidfile = state / "fcgi.pids"
    pidfile.unlink(missing_ok=True)
    env = {"PATH": "/usr/bin:/bin", "MAPSERVER_CONFIG_FILE": str(conf)}
    r = subprocess.run(
        [SPAWN_FCGI, "-a", "127.0.0.1", "-p", str(port), "-F", str(processes), "-P", str(pidfile), "--", MAPSERV],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    if r.returncode != 0:
        raise SystemExit(f"spawn-fcgi failed: {r.stderr} {r.stdout}")
    pids = [int(p) for p in pidfile.read_text().split()] if pidfile.exists() else []
    if len(pids) != processes:
        stop_pids(pids)
        raise SystemExit(f"spawn-fcgi started {len(pids)} of {processes} mapserv processes: {r.stderr}")
    return pids, mapfile


def stop_pids(pids: list[int]) -> None:
    import signal

    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    # mapserv (FastCGI) may only note the first SIGTERM while it waits for a request: what is still
    # there after a few seconds is killed.
    deadline = time.monotonic() + 5
    for pid in pids:
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                break
            time.sleep(0.05)


def check_samples(base: str, paths: list[str], name: str, cookies: dict | None = None) -> dict:
    """Decodes a few maps: PNG of the asked size with drawn (non-transparent) pixels. Kept for a look."""
    import io

    import httpx
    from PIL import Image

    out_dir = STATE / "wms-samples"
    out_dir.mkdir(parents=True, exist_ok=True)
    drawn, problems = [], []
    with httpx.Client(base_url=base, cookies=cookies or {}, timeout=120.0) as client:
        for i, p in enumerate(paths[:SAMPLES]):
            r = client.get(p)
            if r.status_code != 200 or not r.headers.get("content-type", "").startswith("image/png"):
                problems.append(f"HTTP {r.status_code} {r.headers.get('content-type')}: {r.content[:200]!r}")
                continue
            (out_dir / f"{name}-{i}.png").write_bytes(r.content)
            img = Image.open(io.BytesIO(r.content)).convert("RGBA")
            alpha = img.getchannel("A")
            drawn.append(sum(alpha.histogram()[1:]))
    return {
        "drawn_pixels": drawn,
        "problems": problems,
        "ok": not problems and len(drawn) == min(SAMPLES, len(paths)) and all(d > 0 for d in drawn),
    }


def run(
    scale: str = "city",
    seed: int = 1,
    database_url: str | None = None,
    *,
    n_maps: int = 200,
    concurrency: int = 4,
    workers: int = 4,
    threads: int = 2,
    redis_url: str | None = None,
    n_tiles: int = 1000,
) -> dict:
    database_url = database_url or os.environ.get("BENCH_TILES_DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = redis_url or os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS_URL
    n_maps = max(4, min(int(n_maps), n_tiles))
    STATE.mkdir(parents=True, exist_ok=True)
    for exe in (MAPSERV, SPAWN_FCGI):
        if not Path(exe).exists():
            raise SystemExit(f"{exe} is missing: run scripts/install-bench-deps.sh")
    t0 = time.perf_counter()
    prep = prepare(scale, seed, database_url, redis_url)
    env = {**prep["env"], "REDIS_URL": redis_url}
    tiles = load_tile_set(n_tiles, seed, scale)
    boxes = extents(tiles, n_maps)
    cookie = session_cookie()
    from django.db import connections

    connections.close_all()
    versions = {
        "wrk": wrk_version(),
        "code": code_version(),
        "mapserver": subprocess.run([MAPSERV, "-v"], capture_output=True, text=True).stdout.split(" OUTPUT")[0],
    }
    load_before = os.getloadavg()
    cases: list[dict] = []
    samples: dict[str, dict] = {}
    procs: list[subprocess.Popen] = []
    pids: list[int] = []
    try:
        gport, fport, nport = free_port(), free_port(), free_port()
        gunicorn = start_gunicorn(env, gport, workers, threads)
        procs.append(gunicorn)
        ours = f"http://127.0.0.1:{gport}"
        wait_until_ok(
            f"{ours}/wms?SERVICE=WMS&REQUEST=GetCapabilities", gunicorn, what="gunicorn", cookies={"sessionid": cookie}
        )
        pids, mapfile = start_mapserver(database_url, fport, workers)
        body = render_template(
            ROOT / "bench" / "nginx" / "mapserver-fcgi.conf.template",
            STATE / "nginx-mapserver" / "server.conf",
            {"LISTEN": f"127.0.0.1:{nport}", "FCGI": f"127.0.0.1:{fport}"},
        )
        nginx = start_nginx(body, "nginx-mapserver", nport)
        procs.append(nginx)
        ms = f"http://127.0.0.1:{nport}"
        wait_until_ok(
            f"{ms}/?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetCapabilities",
            nginx,
            what="MapServer",
            ok=lambda r: r.status_code == 200 and b"WMS_Capabilities" in r.content[:3000],
        )
        servers = (("ours", ours, "/wms?", {"Cookie": f"sessionid={cookie}"}), ("MapServer 8", ms, "/?", {}))
        for _, base, prefix, headers in servers:
            # Every worker and render process up (ours start their mapnik processes on first use),
            # every MapServer process connected: more connections than processes, untimed.
            warm = [prefix + getmap_query("base_grids", b, 256) for b in boxes[256][:64]]
            run_wrk(base, warm, concurrency=2 * workers * threads, headers=headers, expect_type="image/png")
        for size in SIZES:
            for layers in LAYER_CASES:
                case = f"GetMap {size}x{size} {layers}"
                for server, base, prefix, headers in servers:
                    paths = [prefix + getmap_query(layers, b, size) for b in boxes[size]]
                    key = f"{server}|{size}|{layers}"
                    samples[key] = check_samples(
                        base,
                        paths,
                        f"{server.split()[0].lower()}-{size}-{layers}",
                        {"sessionid": cookie} if server == "ours" else None,
                    )
                    run_wrk(base, paths[-8:], concurrency=concurrency, headers=headers, expect_type="image/png")
                    print(f"  {case} / {server} ...", flush=True)
                    m = run_wrk(
                        base,
                        paths,
                        concurrency=concurrency,
                        headers=headers,
                        expect_type="image/png",
                        max_seconds=1800,
                        timeout_s=120,
                    )
                    m.update(
                        {
                            "case": case,
                            "server": server,
                            "size": size,
                            "layers": layers,
                            "samples_ok": samples[key]["ok"],
                        }
                    )
                    cases.append(m)
                    print(
                        f"    {m['rps']:.1f} maps/s, p50 {m['p50']:.0f} ms, p95 {m['p95']:.0f} ms, "
                        f"{m['ok']}/{m['n']} ok{' ' + m['first_bad'] if m['bad'] else ''}",
                        flush=True,
                    )
    finally:
        for p in reversed(procs):
            stop(p)
        stop_pids(pids)
    targets = judge(cases)
    meta = {
        "scale": scale,
        "seed": seed,
        "maps_per_case": n_maps,
        "concurrency": concurrency,
        "workers": workers,
        "threads": threads,
        "components": prep["components"],
        "grid_levels": prep["grid_levels"],
        "versions": versions,
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "cpus": os.cpu_count(),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    print_report(meta, cases, targets, samples)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"wms-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({**meta, "cases": cases, "targets": targets, "samples": samples}, indent=1, default=str))
    print(f"results: {out.relative_to(ROOT)}; sample images: {(STATE / 'wms-samples').relative_to(ROOT)}/")
    return {"cases": cases, "targets": targets}


def judge(cases: list[dict]) -> list[dict]:
    by = {(c["case"], c["server"]): c for c in cases}
    targets = []
    for c in cases:
        if c["server"] != "ours":
            continue
        m = by.get((c["case"], "MapServer 8"))
        if m is None:
            continue
        clean = c["complete"] and not c["bad"] and not c["socket_errors"] and c["samples_ok"]
        ok = clean and c["rps"] >= m["rps"] / RATIO and c["p50"] <= RATIO * m["p50"]
        targets.append(
            {
                "target": f"{c['case']}: ours within {RATIO}x of MapServer",
                "value": f"{c['rps']:.1f} vs {m['rps']:.1f} maps/s, p50 {c['p50']:.0f} vs {m['p50']:.0f} ms",
                "want": f">= {m['rps'] / RATIO:.1f} maps/s, p50 <= {RATIO * m['p50']:.0f} ms",
                "ok": bool(ok),
            }
        )
    for c in cases:
        if c["bad"] or c["socket_errors"] or not c["complete"] or not c["samples_ok"]:
            targets.append(
                {
                    "target": f"{c['case']} / {c['server']}: every map a drawn PNG",
                    "value": f"{c['ok']}/{c['n']} ok, samples {'ok' if c['samples_ok'] else 'BAD'}",
                    "want": "all",
                    "ok": False,
                }
            )
    return targets


def print_report(meta, cases, targets, samples) -> None:
    v = meta["versions"]
    print(
        f"\nWMS benchmark: GetMap EPSG:3857 PNG, {meta['maps_per_case']} extents per case (the tile set's first "
        f"positions, z10-z18); {meta['components']:,} live components, grids per level {meta['grid_levels']}"
    )
    print(
        f"Concurrency {meta['concurrency']}; HTTP: {v['wrk']}; ours = gunicorn {meta['workers']} workers x "
        f"{meta['threads']} threads (mapnik render processes per worker); {v['mapserver']} = {meta['workers']} "
        f"mapserv FastCGI processes (spawn-fcgi) behind nginx"
    )
    print(f"Code: {v['code']}")
    print(
        f"Machine: {meta['cpus']} CPUs, load average before {meta['loadavg_before'][0]:.2f}, after "
        f"{meta['loadavg_after'][0]:.2f} (shared machine: other work may run)"
    )
    print()
    print("| case | server | maps/s | p50 ms | p95 ms | p99 ms | ok | mean PNG bytes |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for c in cases:
        mean_bytes = c["body_bytes"] // max(1, c["n"])
        print(
            f"| {c['case']} | {c['server']} | {c['rps']:.1f} | {c['p50']:.0f} | {c['p95']:.0f} | {c['p99']:.0f} | "
            f"{c['ok']}/{c['n']} | {mean_bytes:,} |"
        )
    print()
    print("| target | measured | wanted | result |")
    print("|---|---|---|---|")
    for t in targets:
        print(f"| {t['target']} | {t['value']} | {t['want']} | {'pass' if t['ok'] else 'FAIL'} |")
    for key, s in samples.items():
        if s["problems"]:
            print(f"    samples {key}: {s['problems'][:2]}")
