"""Cameras benchmark: "which cameras see this point", at city scale (8,600 cameras), over real HTTP.

    .venv/bin/python -m bench cameras [--scale city] [--seed 1] [--requests 1000] [--repeat 3]

1. Its own database (default gridcity_bench_cameras; the name must contain `bench`): migrated, the
   demo city's grid hierarchy (fixtures.demo_city.load_grids, no components needed) and the demo
   cameras of that scale (layers.cameras.demo.load: junctions, then mid-block, through the service),
   loaded once and reused.
2. Query points: half uniform over the district polygon (most of them seen by nobody), half within
   150 m of a random camera (many seen, some by several, some only by a PTZ camera that could turn).
3. Starts gunicorn (bench.lookup_bench), a dispatcher's session, one keep-alive httpx client,
   sequential: GET /api/cameras/seeing/?lon=&lat= for every point, `--repeat` times; p50/p95/p99
   per run, the median of the runs and their spread.
4. Checks (untimed) the answers for a sample of points against brute force: every camera's geodesic
   distance and bearing to the point (pyproj Geod.inv over all cameras at once) against its range and
   lens (or pan range): the API's `cameras` and `could_turn` must be exactly the cameras brute force
   finds, leaving out only cameras within 1 m / 0.05 degrees of their sector's edge (the polygon's
   chords), and nearest first.
5. Prints a table, writes bench/results/cameras-<time>.json. Target: p50 <= 10 ms (median of the
   runs). Exit status 1 when the target is missed, a request failed or a check disagreed.
Only 127.0.0.1 is contacted; every loop is bounded."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import time

from bench.lookup_bench import (
    RESULTS_DIR,
    ensure_database,
    free_port,
    measure,
    session_cookie,
    setup_django,
    start_gunicorn,
    wait_until_ok,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:54329/gridcity_bench_cameras"
TARGET_MS = 10.0
EDGE_M = 1.0
EDGE_DEG = 0.05


def prepare(scale: str, seed: int) -> dict:
    from django.db import connection

    from fixtures.demo_city import load_grids
    from layers.cameras import demo
    from layers.cameras.models import Camera
    from layers.models import Grid

    state = {}
    if not Grid.objects.filter(level_id=4).exists():
        t = time.perf_counter()
        print(f"loading the {scale} grid hierarchy ...", flush=True)
        with connection.cursor() as cur:
            cur.execute("SET statement_timeout = 0")  # the topology check of ~15,000 grids at once
        load_grids(scale, seed, assign=False)
        state["grids_seconds"] = round(time.perf_counter() - t, 1)
    want = demo.COUNTS[scale]
    if Camera.objects.count() < want:
        t = time.perf_counter()
        print(f"loading {want:,} demo cameras ({scale}) ...", flush=True)
        summary = demo.load(count=want, scale=scale, seed=seed)
        state["cameras_seconds"] = round(time.perf_counter() - t, 1)
        state["cameras_loaded"] = summary
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE cameras_camera")
    state["cameras"] = Camera.objects.count()
    state["base_grids"] = Grid.objects.filter(level_id=4).count()
    return state


def query_points(n: int, seed: int) -> list[tuple[float, float]]:
    import numpy as np
    import shapely

    from layers.cameras.models import Camera
    from layers.models import Grid

    district = Grid.objects.filter(level_id=1).first()
    if district is None:
        raise SystemExit("the bench database holds no district grid")
    area = shapely.from_wkb(bytes(district.geom.wkb))
    x0, y0, x1, y1 = area.bounds
    rng = np.random.default_rng(seed)
    xy = [(g.x, g.y) for g in Camera.objects.order_by("pk").values_list("geom", flat=True)]
    points = []
    while len(points) < n:
        if rng.random() < 0.5:
            x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
            if not area.contains(shapely.Point(x, y)):
                continue
        else:
            cx, cy = xy[rng.integers(len(xy))]
            d, a = rng.uniform(0, 150), rng.uniform(0, 2 * np.pi)
            x, y = cx + d * np.sin(a) / (111320 * np.cos(np.radians(cy))), cy + d * np.cos(a) / 110574
        points.append((float(x), float(y)))
    return points


class BruteForce:
    """Every camera's geodesic distance and bearing to a point, against its range and angles."""

    def __init__(self):
        import numpy as np

        from layers.cameras.models import Camera

        rows = list(
            Camera.objects.order_by("pk").values_list(
                "pk", "geom", "azimuth", "h_fov", "range_m", "ptz", "pan_min", "pan_max"
            )
        )
        self.pk = np.array([r[0] for r in rows])
        self.lon = np.array([r[1].x for r in rows])
        self.lat = np.array([r[1].y for r in rows])
        az, fov = np.array([r[2] for r in rows]), np.array([r[3] for r in rows])
        self.range = np.array([r[4] for r in rows])
        ptz = np.array([r[5] for r in rows])
        pan_min = np.array([r[6] if r[6] is not None else 0.0 for r in rows])
        pan_max = np.array([r[7] if r[7] is not None else 0.0 for r in rows])
        self.fixed = ptz == "fixed"
        self.view = (az - fov / 2, np.minimum(fov, 360.0))
        reach_start = np.where(ptz == "pan_range", pan_min - fov / 2, self.view[0])
        reach_sweep = np.where(ptz == "pan_range", (pan_max - pan_min) % 360 + fov, self.view[1])
        self.reach = (reach_start, np.where(ptz == "dome", 360.0, np.minimum(reach_sweep, 360.0)))

    def _inside(self, bearing, dist, start, sweep):
        """(surely inside, near the edge) per camera."""
        import numpy as np

        rel = (bearing - start) % 360
        disc = sweep >= 360
        in_angle = disc | (rel <= sweep)
        edge_angle = ~disc & ((np.minimum(rel, 360 - rel) < EDGE_DEG) | (np.abs(rel - sweep) < EDGE_DEG))
        inside = (dist <= self.range) & in_angle
        edge = (np.abs(dist - self.range) < EDGE_M) | (edge_angle & (dist <= self.range + EDGE_M)) | (dist < EDGE_M)
        return inside & ~edge, edge

    def answer(self, lon: float, lat: float):
        import numpy as np
        from pyproj import Geod

        geod = Geod(ellps="GRS80")
        n = len(self.pk)
        fwd, _, dist = geod.inv(self.lon, self.lat, np.full(n, lon), np.full(n, lat))
        sees, sees_edge = self._inside(fwd % 360, dist, *self.view)
        reach, reach_edge = self._inside(fwd % 360, dist, *self.reach)
        could = reach & ~self.fixed & ~sees & ~sees_edge
        return (set(self.pk[sees]), set(self.pk[sees_edge])), (
            set(self.pk[could]),
            set(self.pk[reach_edge | sees_edge]),
        )


def check(brute: BruteForce, point, body) -> str | None:
    (sees, sees_edge), (could, could_edge) = brute.answer(*point)
    got = [c["id"] for c in body["cameras"]]
    got_could = [c["id"] for c in body["could_turn"]]
    for label, ids, want, edge in (("cameras", got, sees, sees_edge), ("could_turn", got_could, could, could_edge)):
        diff = (set(ids) ^ want) - edge
        if diff:
            return f"{label} differ from brute force at {point}: api {sorted(ids)} brute {sorted(want)}"
    for label, rows in (("cameras", body["cameras"]), ("could_turn", body["could_turn"])):
        d = [c["distance_m"] for c in rows]
        if d != sorted(d):
            return f"{label} not nearest first at {point}"
    return None


def sql_floor(database_url: str, points) -> float:
    """p50 of the seeing statement alone, through psycopg on one connection (no Django, no HTTP)."""
    import psycopg

    from layers.cameras.selectors import SEEING_SQL

    sql = SEEING_SQL.format(scope="TRUE")
    times = []
    with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as conn:
        conn.execute(sql, [points[0][0], points[0][1]]).fetchall()
        for x, y in points:
            t = time.perf_counter()
            conn.execute(sql, [x, y]).fetchall()
            times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def run(
    scale: str = "city",
    seed: int = 1,
    database_url: str | None = None,
    *,
    requests: int = 1000,
    repeat: int = 3,
    sample: int = 300,
    workers: int = 2,
    threads: int = 2,
) -> dict:
    import httpx

    database_url = database_url or os.environ.get("BENCH_CAMERAS_DATABASE_URL") or DEFAULT_DATABASE_URL
    requests = max(10, min(int(requests), 20_000))
    repeat = max(1, min(int(repeat), 10))
    ensure_database(database_url)
    env = setup_django(database_url)
    state = prepare(scale, seed)
    cookie = session_cookie()
    points = query_points(requests, seed)
    brute = BruteForce()
    from django.db import connections

    connections.close_all()
    urls = [f"/api/cameras/seeing/?lon={x:.7f}&lat={y:.7f}" for x, y in points]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    load_before = os.getloadavg()
    proc = start_gunicorn(env, port, workers, threads)
    runs, problems, seen_counts = [], [], []
    try:
        wait_until_ok(
            f"{base}/api/cameras/seeing/?lon=116.83&lat=35.55", proc, what="gunicorn", cookies={"sessionid": cookie}
        )
        measure(base, cookie, urls[: min(100, len(urls))], 1)  # warm up connections and caches
        for _ in range(repeat):
            m = measure(base, cookie, urls, 1)
            runs.append(m)
            problems.extend(m["first_errors"])
        # Context for a shared machine: an authenticated request that does almost nothing, same client.
        floor = measure(base, cookie, ["/api/states/"] * min(len(urls), 300), 1)
        with httpx.Client(base_url=base, cookies={"sessionid": cookie}, timeout=10.0) as client:
            for point, url in list(zip(points, urls, strict=True))[:sample]:
                body = client.get(url).json()
                seen_counts.append((len(body["cameras"]), len(body["could_turn"])))
                problem = check(brute, point, body)
                if problem:
                    problems.append(problem)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    load_after = os.getloadavg()
    sql_ms = sql_floor(database_url, points[:300])
    p50s = [r["p50"] for r in runs]
    summary = {
        "p50_median": statistics.median(p50s),
        "p50_min": min(p50s),
        "p50_max": max(p50s),
        "p95_median": statistics.median(r["p95"] for r in runs),
        "p99_median": statistics.median(r["p99"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
        "checked": len(seen_counts),
        "seen_by_nobody": sum(1 for s, c in seen_counts if s == 0 and c == 0),
        "seen": sum(1 for s, _ in seen_counts if s > 0),
        "only_could_turn": sum(1 for s, c in seen_counts if s == 0 and c > 0),
        "max_cameras": max((s for s, _ in seen_counts), default=0),
        "floor_http_p50": floor["p50"],
        "sql_p50": sql_ms,
        "check_failures": len([p for p in problems if "brute force" in p or "nearest" in p]),
    }
    summary["load_average"] = {"before": [round(v, 2) for v in load_before], "after": [round(v, 2) for v in load_after]}
    summary["ok"] = summary["errors"] == 0 and not problems and summary["p50_median"] <= TARGET_MS
    print(
        f"\ncameras benchmark: {state['cameras']:,} cameras, {state['base_grids']:,} base grids, "
        f"{len(urls)} points x {repeat} runs, gunicorn {workers}x{threads}, one keep-alive client"
    )
    print(f"{'run':>4} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>7} {'errors':>6}")
    for i, r in enumerate(runs, 1):
        print(
            f"{i:>4} {r['n']:>6} {r['p50']:>8.2f} {r['p95']:>8.2f} {r['p99']:>8.2f} {r['rps']:>7.0f} {r['errors']:>6}"
        )
    print(
        f"p50 median {summary['p50_median']:.2f} ms (spread {summary['p50_min']:.2f}-{summary['p50_max']:.2f}), "
        f"target <= {TARGET_MS:.0f} ms: {'ok' if summary['p50_median'] <= TARGET_MS else 'MISSED'}"
    )
    print(
        f"floors: GET /api/states/ (session, nearly no work) p50 {summary['floor_http_p50']:.2f} ms; "
        f"the seeing SQL alone (psycopg) p50 {summary['sql_p50']:.2f} ms"
    )
    print(
        f"brute-force check on {summary['checked']} points: {summary['check_failures']} disagreements; "
        f"{summary['seen_by_nobody']} seen by nobody, {summary['seen']} seen, {summary['only_could_turn']} only "
        f"by a camera that could turn, at most {summary['max_cameras']} cameras on one point"
    )
    for p in problems[:5]:
        print(f"    {p}")
    print(
        f"machine load average (1/5/15 min) before {summary['load_average']['before']}, after "
        f"{summary['load_average']['after']} on {os.cpu_count()} CPUs: a shared machine slows every number"
    )
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"cameras-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(
        json.dumps(
            {"state": state, "scale": scale, "seed": seed, "workers": workers, "threads": threads,
             "target_p50_ms": TARGET_MS, "summary": summary, "runs": runs, "problems": problems[:20]},
            indent=1,
        )
    )  # fmt: skip
    print(f"results: {out.relative_to(RESULTS_DIR.parent.parent)}")
    return summary
