"""WMS benchmark: our /wms GetMap against MapServer 8 on the same tables, same extents, same client.

    .venv/bin/python -m bench wms [--scale city] [--seed 1] [--maps 200] [--concurrency 4] [--repeat 3]

1. The bench database of `python -m bench tiles` (default gridcity_bench_tiles: ~1M components,
   ~15,000 base grids), prepared the same way (bench.tiles_bench.prepare).
2. Extents: the first `--maps` positions of the tiles benchmark's tile set (z10-z18, weighted like map
   use, dense areas first): a 256 x 256 map is the tile's extent; a 1024 x 1024 map is the 4 x 4 tiles
   around it (its z-2 parent), so both sizes draw at the tile's own scale. EPSG:3857, PNG, transparent.
3. Servers, both with persistent processes: ours = gunicorn (`--workers` x `--threads`, each worker with
   its mapnik render processes), logged in by a dispatcher's session cookie; MapServer 8 = `--workers`
   mapserv FastCGI processes (spawn-fcgi) behind nginx, mapfile bench/mapserver/gridcity.map.template
   (PostGIS layers on the same geom_3857 columns, styled like the catalogue's raster_style).
4. Cases: {256, 1024} px x {base_grids, components}. Per case each server first draws `WARM_MAPS`
   extents that are not in the timed set (untimed warm-up), then the timed set (every extent once with
   wrk at `--concurrency` connections) `--repeat` times (at least 3), ours and MapServer taking turns;
   medians with the spread (min-max) of the runs. An answer counts only if it is HTTP 200 and image/png.
5. Images, untimed, after the timing: extents spread over each case's timed set are drawn by both
   servers and decoded (Pillow) until `SAMPLES` of them hold a drawing (extents empty for both are
   skipped and counted; fewer than SAMPLES / 2 with a drawing is a problem). Each must be a PNG of the
   asked size, and where MapServer drew anything (alpha > 0) ours must have too. The two drawings are
   compared on their strong ink (alpha >= `INK`: outlines and symbols, not a grid's 4 % fill), each
   widened by `NEAR_PX` pixels (the renderers antialias and place a 0.8 px outline differently): the
   share of ours' ink near MapServer's ("ours only where the data are") must be >= `AGREE`, and for
   base_grids also the share of MapServer's ink near ours. For components the latter is printed but
   no target: MapServer draws every point, while ours merges points within a pixel and caps a layer
   at 250,000 rows per map (tiles/raster/render.py), so ours may draw fewer symbols by design. The
   compared pairs are kept in .local/bench/wms-samples/ to look at.
Targets: ours within 1.2x of MapServer per case (median maps/s >= MapServer's / 1.2 and median p50 <=
1.2 x its p50), every map a PNG, and the image checks above; exit status 1 when one is missed.
Writes bench/results/wms-*.json. Only 127.0.0.1 is contacted; every loop is bounded."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

from bench.context import context, finish, line
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
SAMPLES = 8  # extents per case whose images are compared between the servers
WARM_MAPS = 16  # extents per case drawn untimed first, none of them in the timed set
NEAR_PX = 2  # drawn pixels within this many pixels of the other server's count as the same drawing
INK = 64  # alpha from which a pixel is "strong ink" (outline, symbol), compared between the servers
AGREE = 0.9  # share of drawn pixels that must lie near the other server's


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


def _drawn(png: bytes, size: int):
    """(any-ink mask, strong-ink mask) as L images of 0/255, or a problem text. Any ink: alpha > 0
    (a grid's 4 % fill counts); strong ink: alpha >= INK (outlines and symbols, not the fill), what the
    two drawings are compared on."""
    import io

    from PIL import Image

    img = Image.open(io.BytesIO(png))
    if img.size != (size, size):
        return f"{img.size[0]}x{img.size[1]} px, asked {size}x{size}"
    alpha = img.convert("RGBA").getchannel("A")
    return alpha.point(lambda v: 255 if v else 0), alpha.point(lambda v: 255 if v >= INK else 0)


def _count(mask) -> int:
    return mask.histogram()[255]


def _near(a, b) -> int:
    """Drawn pixels of mask a within NEAR_PX pixels of a drawn pixel of mask b."""
    from PIL import ImageChops, ImageFilter

    wide = b.filter(ImageFilter.MaxFilter(2 * NEAR_PX + 1))
    return _count(ImageChops.multiply(a, wide))


def compare_images(servers, layers: str, size: int, boxes, cookie: str) -> dict:
    """Untimed: extents spread over the timed set from both servers, decoded and compared (see the
    module's note 5) until SAMPLES of them have a drawing (many tile-set extents at the district's edge
    are empty for both). Keeps each pair in .local/bench/wms-samples/."""
    import httpx

    out_dir = STATE / "wms-samples"
    out_dir.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    counts = {"ours": 0, "ms": 0, "ours_near_ms": 0, "ms_near_ours": 0}
    drawn: dict[str, list[int]] = {"ours": [], "ms": []}
    step = max(1, len(boxes) // (4 * SAMPLES))
    tried = empty = 0
    clients = {
        "ours": httpx.Client(base_url=servers[0][1], cookies={"sessionid": cookie}, timeout=120.0),
        "ms": httpx.Client(base_url=servers[1][1], timeout=120.0),
    }
    prefixes = {"ours": servers[0][2], "ms": servers[1][2]}
    try:
        for i in range(0, len(boxes), step):
            if len(drawn["ms"]) >= SAMPLES:
                break
            tried += 1
            masks = {}
            for who, client in clients.items():
                r = client.get(prefixes[who] + getmap_query(layers, boxes[i], size))
                if r.status_code != 200 or not r.headers.get("content-type", "").startswith("image/png"):
                    problems.append(f"{who} map {i}: HTTP {r.status_code} {r.headers.get('content-type')}")
                    continue
                got = _drawn(r.content, size)
                if isinstance(got, str):
                    problems.append(f"{who} map {i}: {got}")
                    continue
                masks[who] = (got, r.content)
            if len(masks) < 2:
                continue
            (ours_any, ours_ink), (ms_any, ms_ink) = masks["ours"][0], masks["ms"][0]
            if not _count(ours_any) and not _count(ms_any):
                empty += 1
                continue
            if _count(ms_any) and not _count(ours_any):
                problems.append(f"map {i}: MapServer drew {_count(ms_any)} pixels, ours none")
            for who in ("ours", "ms"):
                (out_dir / f"{layers}-{size}-{len(drawn['ms'])}-{who}.png").write_bytes(masks[who][1])
            drawn["ours"].append(_count(ours_ink))
            drawn["ms"].append(_count(ms_ink))
            counts["ours"] += drawn["ours"][-1]
            counts["ms"] += drawn["ms"][-1]
            counts["ours_near_ms"] += _near(ours_ink, ms_ink)
            counts["ms_near_ours"] += _near(ms_ink, ours_ink)
    finally:
        for client in clients.values():
            client.close()
    if len(drawn["ms"]) < SAMPLES // 2:
        problems.append(f"only {len(drawn['ms'])} of {tried} extents tried had a drawing ({empty} empty for both)")
    return {
        "maps": len(drawn["ms"]),
        "tried": tried,
        "empty_for_both": empty,
        "ink_ours": drawn["ours"],
        "ink_mapserver": drawn["ms"],
        # Shares over all compared maps' strong-ink pixels (1.0 when neither drew any).
        "ours_near_mapserver": counts["ours_near_ms"] / counts["ours"] if counts["ours"] else 1.0,
        "mapserver_near_ours": counts["ms_near_ours"] / counts["ms"] if counts["ms"] else 1.0,
        "problems": problems,
    }


def _runs(runs: list[dict], key: str) -> dict:
    values = [r[key] for r in runs]
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def summarise(runs: list[dict]) -> dict:
    """One case and server over its timed runs: medians and spread, counts summed."""
    return {
        "runs": len(runs),
        "rps": statistics.median(r["rps"] for r in runs),
        "p50": statistics.median(r["p50"] for r in runs),
        "p95": statistics.median(r["p95"] for r in runs),
        "p99": statistics.median(r["p99"] for r in runs),
        "rps_runs": [round(r["rps"], 2) for r in runs],
        "p50_runs": [round(r["p50"], 1) for r in runs],
        "spread": {"rps": _runs(runs, "rps"), "p50": _runs(runs, "p50")},
        "n": sum(r["n"] for r in runs),
        "ok": sum(r["ok"] for r in runs),
        "bad": sum(r["bad"] for r in runs),
        "socket_errors": sum(r["socket_errors"] for r in runs),
        "complete": all(r["complete"] for r in runs),
        "first_bad": next((r["first_bad"] for r in runs if r["bad"]), ""),
        "body_bytes": sum(r["body_bytes"] for r in runs),
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
    repeats: int = 3,
) -> dict:
    database_url = database_url or os.environ.get("BENCH_TILES_DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = redis_url or os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS_URL
    n_maps = max(4, min(int(n_maps), n_tiles - WARM_MAPS))
    repeats = max(3, int(repeats))
    ctx = context()
    STATE.mkdir(parents=True, exist_ok=True)
    for exe in (MAPSERV, SPAWN_FCGI):
        if not Path(exe).exists():
            raise SystemExit(f"{exe} is missing: run scripts/install-bench-deps.sh")
    t0 = time.perf_counter()
    prep = prepare(scale, seed, database_url, redis_url)
    env = {**prep["env"], "REDIS_URL": redis_url}
    tiles = load_tile_set(n_tiles, seed, scale)
    every = extents(tiles, n_maps + WARM_MAPS)
    # The timed set, and the warm-up extents after it in the tile set (never timed).
    boxes = {size: every[size][:n_maps] for size in SIZES}
    warm_boxes = {size: every[size][n_maps:] for size in SIZES}
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
    images: dict[str, dict] = {}
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
            # every MapServer process connected: more connections than processes, untimed, off the timed set.
            warm = [prefix + getmap_query("base_grids", b, 256) for b in warm_boxes[256]]
            run_wrk(base, warm * 4, concurrency=2 * workers * threads, headers=headers, expect_type="image/png")
        for size in SIZES:
            for layers in LAYER_CASES:
                case = f"GetMap {size}x{size} {layers}"
                runs: dict[str, list[dict]] = {server: [] for server, *_ in servers}
                for _, base, prefix, headers in servers:
                    warm = [prefix + getmap_query(layers, b, size) for b in warm_boxes[size]]
                    run_wrk(base, warm, concurrency=concurrency, headers=headers, expect_type="image/png")
                for r in range(repeats):
                    for server, base, prefix, headers in servers:  # taking turns: load drifts hit both
                        print(f"  {case} / {server}, run {r + 1} of {repeats} ...", flush=True)
                        runs[server].append(
                            run_wrk(
                                base,
                                [prefix + getmap_query(layers, b, size) for b in boxes[size]],
                                concurrency=concurrency,
                                headers=headers,
                                expect_type="image/png",
                                max_seconds=1800,
                                timeout_s=120,
                            )
                        )
                images[case] = compare_images(servers, layers, size, boxes[size], cookie)
                for server, *_ in servers:
                    m = summarise(runs[server])
                    m.update({"case": case, "server": server, "size": size, "layers": layers})
                    cases.append(m)
                    print(
                        f"    {server}: {m['rps']:.1f} maps/s (runs {min(m['rps_runs']):.1f}-{max(m['rps_runs']):.1f}), "
                        f"p50 {m['p50']:.0f} ms (runs {min(m['p50_runs']):.0f}-{max(m['p50_runs']):.0f}), "
                        f"p95 {m['p95']:.0f} ms, {m['ok']}/{m['n']} ok{' ' + m['first_bad'] if m['bad'] else ''}",
                        flush=True,
                    )
                im = images[case]
                print(
                    f"    images: {im['maps']} maps with a drawing ({im['empty_for_both']} empty for both skipped), "
                    f"ours' ink near MapServer's {im['ours_near_mapserver']:.1%}, "
                    f"MapServer's ink near ours {im['mapserver_near_ours']:.1%}"
                    + (f"; problems: {im['problems'][:3]}" if im["problems"] else ""),
                    flush=True,
                )
    finally:
        for p in reversed(procs):
            stop(p)
        stop_pids(pids)
    targets = judge(cases, images)
    finish(ctx)
    meta = {
        "scale": scale,
        "seed": seed,
        "maps_per_case": n_maps,
        "warm_maps_per_case": WARM_MAPS,
        "repeats": repeats,
        "concurrency": concurrency,
        "workers": workers,
        "threads": threads,
        "components": prep["components"],
        "grid_levels": prep["grid_levels"],
        "versions": versions,
        "context": ctx,
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "cpus": os.cpu_count(),
        "seconds": round(time.perf_counter() - t0, 1),
        "image_check": {"samples": SAMPLES, "near_px": NEAR_PX, "ink_alpha": INK, "agree": AGREE},
    }
    print_report(meta, cases, targets, images)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"wms-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({**meta, "cases": cases, "targets": targets, "images": images}, indent=1, default=str))
    print(f"results: {out.relative_to(ROOT)}; sample images: {(STATE / 'wms-samples').relative_to(ROOT)}/")
    return {"cases": cases, "targets": targets}


def judge(cases: list[dict], images: dict[str, dict]) -> list[dict]:
    by = {(c["case"], c["server"]): c for c in cases}
    targets = []
    for c in cases:
        if c["server"] != "ours":
            continue
        m = by.get((c["case"], "MapServer 8"))
        if m is None:
            continue
        ok = c["rps"] >= m["rps"] / RATIO and c["p50"] <= RATIO * m["p50"]
        targets.append(
            {
                "target": f"{c['case']}: ours within {RATIO}x of MapServer (medians of {c['runs']} runs)",
                "value": f"{c['rps']:.1f} vs {m['rps']:.1f} maps/s, p50 {c['p50']:.0f} vs {m['p50']:.0f} ms",
                "want": f">= {m['rps'] / RATIO:.1f} maps/s, p50 <= {RATIO * m['p50']:.0f} ms",
                "ok": bool(ok),
            }
        )
    for c in cases:
        if c["bad"] or c["socket_errors"] or not c["complete"]:
            targets.append(
                {
                    "target": f"{c['case']} / {c['server']}: every map a PNG",
                    "value": f"{c['ok']}/{c['n']} ok, {c['socket_errors']} socket errors",
                    "want": "all",
                    "ok": False,
                }
            )
    for case, im in images.items():
        targets.append(
            {
                "target": f"{case}: {im['maps']} extents with a drawing, PNGs of the asked size, ours drew where MapServer did",
                "value": "; ".join(im["problems"][:3]) or "yes",
                "want": "no problem",
                "ok": not im["problems"],
            }
        )
        targets.append(
            {
                "target": f"{case}: ours' ink (alpha >= {INK}) within {NEAR_PX} px of MapServer's",
                "value": f"{im['ours_near_mapserver']:.1%}",
                "want": f">= {AGREE:.0%}",
                "ok": im["ours_near_mapserver"] >= AGREE,
            }
        )
        if "base_grids" in case:  # components: ours caps and merges points, MapServer draws each
            targets.append(
                {
                    "target": f"{case}: MapServer's ink (alpha >= {INK}) within {NEAR_PX} px of ours",
                    "value": f"{im['mapserver_near_ours']:.1%}",
                    "want": f">= {AGREE:.0%}",
                    "ok": im["mapserver_near_ours"] >= AGREE,
                }
            )
    return targets


def print_report(meta, cases, targets, images) -> None:
    v = meta["versions"]
    print(
        f"\nWMS benchmark: GetMap EPSG:3857 PNG, {meta['maps_per_case']} extents per case (the tile set's first "
        f"positions, z10-z18), {meta['repeats']} timed runs per case and server after {meta['warm_maps_per_case']} "
        f"untimed other extents; {meta['components']:,} live components, grids per level {meta['grid_levels']}"
    )
    print(
        f"Concurrency {meta['concurrency']}; HTTP: {v['wrk']}; ours = gunicorn {meta['workers']} workers x "
        f"{meta['threads']} threads (mapnik render processes per worker); {v['mapserver']} = {meta['workers']} "
        f"mapserv FastCGI processes (spawn-fcgi) behind nginx"
    )
    print(line(meta["context"]) + " (shared machine: other work may run)")
    print()
    print("| case | server | maps/s median (runs) | p50 ms median (runs) | p95 ms | p99 ms | ok | mean PNG bytes |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for c in cases:
        mean_bytes = c["body_bytes"] // max(1, c["n"])
        rps, p50 = c["spread"]["rps"], c["spread"]["p50"]
        print(
            f"| {c['case']} | {c['server']} | {c['rps']:.1f} ({rps['min']:.1f}-{rps['max']:.1f}) | "
            f"{c['p50']:.0f} ({p50['min']:.0f}-{p50['max']:.0f}) | {c['p95']:.0f} | {c['p99']:.0f} | "
            f"{c['ok']}/{c['n']} | {mean_bytes:,} |"
        )
    print()
    print(
        "| case | maps compared (empty skipped) | ours' ink near MapServer's | MapServer's ink near ours | problems |"
    )
    print("|---|---:|---:|---:|---|")
    for case, im in images.items():
        print(
            f"| {case} | {im['maps']} ({im['empty_for_both']}) | {im['ours_near_mapserver']:.1%} | "
            f"{im['mapserver_near_ours']:.1%} | "
            f"{'; '.join(im['problems'][:2]) or '-'} |"
        )
    print()
    print("| target | measured | wanted | result |")
    print("|---|---|---|---|")
    for t in targets:
        print(f"| {t['target']} | {t['value']} | {t['want']} | {'pass' if t['ok'] else 'FAIL'} |")
