"""Case (i) of the tile benchmark: Tegola over the same tables and geom_3857 columns, same tile set.

Tegola (a Go tile server) is not a Python package: the case runs a `tegola` binary built by hand from
its source (TEGOLA_BIN, default .local/tegola/tegola; never committed, see bench/README.md) and is
skipped with a message when there is none, so `make bench` does not need it.

What Tegola does differently (bench/README.md says the same): its classic `postgis` provider reads
WKB rows and clips, simplifies and encodes in Go (ours and the floor: ST_AsMVTGeom/ST_AsMVT in
PostgreSQL); no auth, no per-user scope, no clustering (components are raw features at every zoom,
where ours sends stored cluster cells below z16), no grid label points, no tile cache here (none is
configured, so every request is cold). Each layer keeps our 20,000-feature cap and tile buffer 64.
Only 127.0.0.1 is contacted; wrk's loops are bounded (bench/wrk_load.py)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

from bench.lookup_bench import ROOT, free_port, wait_until_ok
from bench.wfs_bench import stop
from bench.wrk_load import run_wrk

STATE = ROOT / ".local" / "bench" / "tegola"
DEFAULT_BIN = ROOT / ".local" / "tegola" / "tegola"
FEATURE_LIMIT = 20000  # as the catalogue's Tiles.feature_limit
# Each query in a subquery: Tegola appends its own LIMIT when it inspects a layer at start.
COMPONENTS_SQL = (
    "SELECT * FROM (SELECT t.id AS fid, ST_AsBinary(t.geom_3857) AS geom, t.code AS code, k.code AS class_code, "
    "k.major_code AS major_code, t.state_code AS state FROM components_component t "
    "JOIN components_componentclass k ON k.id = t.component_class_id "
    f"WHERE t.geom_3857 && !BBOX! AND NOT t.retired LIMIT {FEATURE_LIMIT}) q"
)
GRID_SQL = (
    "SELECT * FROM (SELECT id AS fid, ST_AsBinary(geom_3857) AS geom, code, name, level_id AS level, parent_code "
    f"FROM layers_grid WHERE geom_3857 && !BBOX! AND level_id = {{level}} LIMIT {FEATURE_LIMIT}) q"
)
# Below the catalogue's clusters_below, our component tiles are cluster points read from the stored
# cell counts: Tegola reads the same cells of the same tile (its !X!/!Y!/!ZOOM! tokens), one ring of
# neighbours included, as tiles.sql does; only the cluster point inside the buffered tile is kept.
CLUSTERS_SQL = (
    "SELECT fid, ST_AsBinary(pt) AS geom, count, cluster FROM (SELECT (cx::bigint << 24) + cy AS fid, "
    "ST_SetSRID(ST_MakePoint(sx / n, sy / n), 3857) AS pt, n AS count, true AS cluster "
    "FROM (SELECT cx, cy, sum(n)::int AS n, sum(sx) AS sx, sum(sy) AS sy FROM {table} WHERE z = !ZOOM! "
    "AND cx BETWEEN !X! * {per_tile} - 1 AND (!X! + 1) * {per_tile} "
    "AND cy BETWEEN !Y! * {per_tile} - 1 AND (!Y! + 1) * {per_tile} GROUP BY cx, cy) c "
    "WHERE n > 0) q WHERE pt && !BBOX!"
)
GRID_LEVEL = {"base_grids": 4, "community_grids": 3, "street_grids": 2}


def binary() -> Path | None:
    path = Path(os.environ.get("TEGOLA_BIN") or DEFAULT_BIN)
    return path if path.is_file() and os.access(path, os.X_OK) else None


def version(path: Path) -> str:
    r = subprocess.run([str(path), "version"], capture_output=True, text=True, timeout=10)
    lines = [line.split(":", 1)[1].strip() for line in r.stdout.splitlines() if line.strip().startswith("version:")]
    return lines[0] if lines else "?"


def config(database_url: str, port: int, zooms: dict[str, tuple[int, int]], clusters_below: int = 0) -> Path:
    """tegola.toml: one provider on the bench database, one map per layer of ours (named like it, so
    /maps/<layer>/z/x/y answers the tile of that one layer), each within our layer's zoom range."""
    u = urlparse(database_url)
    uri = f"postgres://{u.username or 'postgres'}@{u.hostname}:{u.port or 5432}{u.path}?sslmode=disable"
    lines = [
        "[webserver]",
        f'port = "127.0.0.1:{port}"',
        "",
        "[[providers]]",
        'name = "gridcity"',
        'type = "postgis"',
        f'uri = "{uri}&pool_max_conns=10"',
        "srid = 3857",
    ]
    for lid in zooms:
        sql = COMPONENTS_SQL if lid == "components" else GRID_SQL.format(level=GRID_LEVEL[lid])
        lines += [
            "",
            "  [[providers.layers]]",
            f'  name = "{lid}"',
            '  geometry_fieldname = "geom"',
            '  id_fieldname = "fid"',
            "  srid = 3857",
        ]
        if lid != "components":  # components mix points, lines and polygons: Tegola infers per row
            lines.append('  geometry_type = "MultiPolygon"')
        lines.append(f"  sql = {json.dumps(sql)}")
    if "components" in zooms and clusters_below:
        from layers import catalogue
        from tiles.cells import CELL_LEVELS

        table = catalogue.get("components").tiles.cells.table
        sql = CLUSTERS_SQL.format(table=table, per_tile=2**CELL_LEVELS)
        lines += ["", "  [[providers.layers]]", '  name = "component_clusters"', '  geometry_fieldname = "geom"']
        lines += ['  id_fieldname = "fid"', "  srid = 3857", '  geometry_type = "Point"', f"  sql = {json.dumps(sql)}"]
    for lid, (lo, hi) in zooms.items():
        lines += ["", "[[maps]]", f'name = "{lid}"', "tile_buffer = 64"]
        spans = [(lid, lo, hi)]
        if lid == "components" and clusters_below:  # the same layer name, clusters below, features from
            spans = [("component_clusters", lo, clusters_below - 1), (lid, clusters_below, hi)]
        for provider_layer, a, b in spans:
            lines += ["", "  [[maps.layers]]", f'  name = "{lid}"', f'  provider_layer = "gridcity.{provider_layer}"']
            lines += [f"  min_zoom = {a}", f"  max_zoom = {b}"]
    STATE.mkdir(parents=True, exist_ok=True)
    path = STATE / "tegola.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _decoded(body: bytes) -> dict:
    """{feature id: properties} of a tile's features, label points (ours only) left out; cluster
    points (ours carry no id) as {"clusters": their counts, sorted}."""
    import mapbox_vector_tile

    out: dict = {}
    for layer in (mapbox_vector_tile.decode(body) if body else {}).values():
        for f in layer["features"]:
            props = f["properties"]
            if props.get("cluster"):
                out.setdefault("clusters", []).append(props.get("count"))
            elif not props.get("label"):
                out[f.get("id")] = {k: v for k, v in props.items() if k != "label"}
    if "clusters" in out:
        out["clusters"].sort()
    return out


def compare(base: str, reqs, stmts, database_url: str) -> dict:
    """Untimed: each Tegola tile against the floor's (= ours) for the same request, decoded. Geometry is
    not compared (Tegola clips and simplifies its own way): feature ids and properties are, and for
    cluster tiles the cluster counts."""
    import httpx
    import psycopg

    same = differ = missing = extra = other = 0
    first = ""
    with psycopg.connect(database_url, autocommit=True) as conn, httpx.Client(base_url=base, timeout=60) as client:
        for (lid, z, x, y), (sql, params) in zip(reqs, stmts):
            ours = _decoded(bytes(conn.execute(sql, params).fetchone()[0] or b""))
            r = client.get(f"/maps/{lid}/{z}/{x}/{y}.pbf", headers={"Accept-Encoding": "gzip"})
            theirs = _decoded(r.content) if r.status_code == 200 else None  # httpx has un-gzipped it
            if theirs == ours:
                same += 1
                continue
            differ += 1
            if theirs is None:
                first = first or f"{lid}/{z}/{x}/{y}: HTTP {r.status_code}"
                continue
            m, e = len(set(ours) - set(theirs)), len(set(theirs) - set(ours))
            o = sum(1 for k in set(ours) & set(theirs) if ours[k] != theirs[k])
            missing, extra, other = missing + m, extra + e, other + o
            first = first or (
                f"{lid}/{z}/{x}/{y}: {len(theirs)} features vs {len(ours)} "
                f"({m} missing, {e} extra, {o} with other properties or cluster counts)"
            )
    return {"same": same, "differ": differ, "missing": missing, "extra": extra, "other": other, "first": first}


def run_case(database_url: str, reqs, stmts, warm_reqs, *, concurrency: int, runs: int, repeated, record) -> None:
    """Case (i), measured as the other HTTP cases (wrk, `repeated` runs) and handed to `record`; a
    message instead when there is no tegola binary."""
    from layers import catalogue

    path = binary()
    if path is None:
        print(
            f"  (i) tegola: skipped, no binary at {os.environ.get('TEGOLA_BIN') or DEFAULT_BIN} "
            "(TEGOLA_BIN; built by hand, see bench/README.md)",
            flush=True,
        )
        return
    layer_ids = list(dict.fromkeys(lid for lid, _, _, _ in reqs))
    zooms = {lid: (catalogue.get(lid).tiles.minzoom, catalogue.get(lid).tiles.maxzoom) for lid in layer_ids}
    port = free_port()
    clusters_below = catalogue.get("components").tiles.clusters_below or 0
    conf = config(database_url, port, zooms, clusters_below)
    log = open(STATE / "tegola.log", "ab")
    proc = subprocess.Popen(
        [str(path), "serve", "--config", str(conf), "--no-cache"],
        cwd=STATE,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(STATE)},
    )
    base = f"http://127.0.0.1:{port}"
    headers = {"Accept-Encoding": "gzip"}
    paths = [f"/maps/{lid}/{z}/{x}/{y}.pbf" for lid, z, x, y in reqs]
    timed = set(paths)
    warm = [p for p in (f"/maps/{lid}/{z}/{x}/{y}.pbf" for lid, z, x, y in warm_reqs) if p not in timed]
    try:
        wait_until_ok(f"{base}/capabilities", proc, what="tegola", timeout=60)
        run_wrk(base, warm[: 8 * 2 * concurrency], concurrency=2 * concurrency, headers=headers)
        m = repeated(runs, lambda: run_wrk(base, paths, concurrency=concurrency, headers=headers))
        t = time.perf_counter()
        m["compared"] = compare(base, reqs, stmts, database_url)
        m["compare_seconds"] = round(time.perf_counter() - t, 1)
    finally:
        stop(proc)
        log.close()
    m["version"] = version(path)
    record("tegola", f"(i) tegola {m['version']} (postgis provider: no auth, no scope, own clip/simplify)", m)
    c = m["compared"]
    print(
        f"  (i) against the floor, decoded (ids, properties, cluster counts; not geometry): {c['same']} same, "
        f"{c['differ']} differ: {c['missing']} of our features missing, {c['extra']} extra, {c['other']} with other "
        f"properties (or cluster counts){'; e.g. ' + c['first'] if c['first'] else ''} ({m['compare_seconds']} s)",
        flush=True,
    )
