"""python -m bench lookup|import|wfs|tiles|wms|incidents|patrols|cameras|all [options]: each benchmark prints its own table.

`all` runs each benchmark in its own process (Django binds one database per process: the lookup
benchmark keeps its 1M components in gridcity_bench, the import benchmark truncates its own
gridcity_bench_import)."""

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_IMPORT_DATABASE_URL = "postgres://postgres@127.0.0.1:54329/gridcity_bench_import"


def _lookup(args):
    from bench.lookup_bench import run

    results = run(
        scale=args.scale,
        seed=args.seed,
        database_url=args.database_url,
        requests=args.requests or 2000,
        concurrency=args.concurrency,
        workers=args.workers,
        threads=args.threads,
    )
    return 0 if all(r["ok"] for r in results) else 1


def _import(args):
    """The demo city's GeoPackage (same scale/seed) through bench.import_bench.run()."""
    database_url = args.database_url or os.environ.get("BENCH_IMPORT_DATABASE_URL") or DEFAULT_IMPORT_DATABASE_URL
    from bench.lookup_bench import DATA_DIR, ensure_database, setup_django

    ensure_database(database_url)
    setup_django(database_url)
    from components.services import upsert_organisation
    from fixtures.demo_city import generate, organisations

    info = generate(scale=args.scale, seed=args.seed, out_dir=DATA_DIR, reuse=True)
    for org in organisations():  # the file refers to them by USCC
        upsert_organisation(uscc=org["uscc"], name=org["name"], kinds=org["kinds"])
    from bench.import_bench import run

    skip = {s.strip() for s in (args.skip or "").split(",") if s.strip()}
    return 0 if run(info["gpkg"], database_url, repeats=args.repeat or 3, skip=skip)["ok"] else 1


def _wfs(args):
    """Our /wfs against QGIS Server 3.22 on the same table: bench.wfs_bench.run()."""
    from bench.wfs_bench import run

    results = run(
        scale=args.scale,
        seed=args.seed,
        database_url=args.database_url,
        repeat=args.repeat or 20,
        transactions=args.transactions,
        workers=args.workers,
        threads=args.threads,
    )
    return 0 if all(r["ok"] is not False for r in results) else 1


def _tiles(args):
    """Our vector tiles against the SQL floor, tipg and nginx: bench.tiles_bench.run()."""
    from bench.tiles_bench import LAYERS, run

    layers = tuple(args.layers.split(",")) if args.layers else LAYERS
    result = run(
        scale=args.scale,
        seed=args.seed,
        database_url=args.database_url,
        n_tiles=args.tiles,
        concurrency=args.concurrency,
        workers=args.workers,
        threads=args.threads,
        layer_ids=layers,
        redis_url=args.redis_url,
        skip=tuple(args.skip.split(",")) if args.skip else (),
        runs=args.runs,
        service_workers=args.service_workers,
        service_threads=args.service_threads,
        baseline=args.baseline,
    )
    return 0 if all(t["ok"] for t in result["targets"]) else 1


def _wms(args):
    """Our /wms GetMap against MapServer 8 on the same tables: bench.wms_bench.run()."""
    from bench.wms_bench import run

    result = run(
        scale=args.scale,
        seed=args.seed,
        database_url=args.database_url,
        n_maps=args.maps,
        concurrency=args.concurrency,
        workers=args.workers,
        threads=args.threads,
        redis_url=args.redis_url,
        repeats=args.repeat or 3,
    )
    return 0 if all(t["ok"] for t in result["targets"]) else 1


def _incidents(args):
    """Case queue, list, transition, weekly report and incident tiles: bench.incidents_bench.run()."""
    from bench.incidents_bench import run

    result = run(
        scale=args.scale,
        seed=args.seed,
        database_url=args.database_url,
        repeats=args.repeat or 3,
        requests=args.requests or 200,
        n_tiles=args.tiles,
        concurrency=args.concurrency,
        workers=args.workers,
        threads=args.threads,
        redis_url=args.redis_url,
    )
    return 0 if all(t["ok"] is not False for t in result["targets"]) else 1


def _patrols(args):
    """Ingest against raw COPY, tracks tiles against the floor, playback, coverage: bench.patrols_bench.run()."""
    from bench.patrols_bench import run

    result = run(
        scale=args.scale if args.scale in ("demo", "city") else "demo",
        seed=args.seed,
        database_url=args.database_url,
        repeats=args.repeat or 3,
        n_batches=args.batches,
        requests=args.requests or 300,
        n_tiles=args.tiles if args.tiles != 1000 else 300,
        concurrency=args.concurrency,
        skip=tuple((args.skip or "").split(",")),
        baseline=args.baseline,
        workers=args.workers,
        threads=args.threads,
        redis_url=args.redis_url,
    )
    return 0 if all(t["ok"] is not False for t in result["targets"]) else 1


def _cameras(args):
    """Which cameras see a point, 8,600 cameras: bench.cameras_bench.run()."""
    from bench.cameras_bench import run

    summary = run(
        scale=args.scale,
        seed=args.seed,
        database_url=args.database_url,
        requests=args.requests or 1000,
        repeat=args.repeat or 3,
        workers=args.workers,
        threads=args.threads,
    )
    return 0 if summary["ok"] else 1


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "which", choices=["lookup", "import", "wfs", "tiles", "wms", "incidents", "patrols", "cameras", "all"]
    )
    parser.add_argument("--scale", default="city", help="demo city scale: city (~1M, default), demo (~50k), tiny")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url",
        default=None,
        help="bench database (name must contain 'bench'); default gridcity_bench / gridcity_bench_import "
        "/ gridcity_bench_wfs / gridcity_bench_tiles (tiles and wms) / gridcity_bench_incidents (incidents)",
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=None,
        help="lookup: requests per case and mode (default 2000, max 20000); "
        "incidents: per case and repeat (default 200)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=4,
        help="lookup, tiles, wms: concurrent keep-alive clients (every case of a run alike)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=4,
        help="lookup, wfs, tiles, wms: gunicorn workers "
        "(tiles: also tipg's uvicorn workers; wms: also MapServer FastCGI processes)",
    )
    parser.add_argument("--threads", type=int, default=2, help="lookup, wfs, tiles, wms: threads per gunicorn worker")
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="wfs: timed full GetFeature requests per case and server (default 20); incidents, wms, import: repeats "
        "(default 3)",
    )
    parser.add_argument("--transactions", type=int, default=200, help="wfs: timed Update transactions per server")
    parser.add_argument("--tiles", type=int, default=1000, help="tiles: tile positions z10-z18 (each x layers)")
    parser.add_argument(
        "--layers",
        default=None,
        help="tiles: comma-separated tile layers (default components,base_grids,community_grids,street_grids)",
    )
    parser.add_argument(
        "--skip",
        default=None,
        help="cases to leave out, comma-separated: tiles: tipg, granian, recipe, tegola; patrols: coverage; "
        "import: upsert (the upsert mode into an empty registry)",
    )
    parser.add_argument("--runs", type=int, default=3, help="tiles: timed runs per case (median and spread)")
    parser.add_argument(
        "--service-workers", type=int, default=2, help="tiles: the tile service's granian workers (processes)"
    )
    parser.add_argument(
        "--service-threads", type=int, default=2, help="tiles: the tile service's blocking threads per worker"
    )
    parser.add_argument(
        "--baseline",
        default=None,
        help="tiles, patrols: also measure gunicorn on this commit's tree (git archive), cold tiles: before and "
        "after in one run",
    )
    parser.add_argument("--batches", type=int, default=10, help="patrols: 10,000-fix batches per ingest pass")
    parser.add_argument("--maps", type=int, default=200, help="wms: map extents per size")
    parser.add_argument(
        "--redis-url",
        default=None,
        help="tiles, wms: the bench's own Redis database, flushed for cold passes (default redis://127.0.0.1:63799/7)",
    )
    args = parser.parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    if args.which == "all":
        # Each benchmark keeps its own database: a --database-url is not passed on to both.
        rest, skip = [], False
        for a in argv if argv is not None else sys.argv[1:]:
            if skip or a == "all" or a.startswith("--database-url="):
                skip = False
                continue
            if a == "--database-url":
                skip = True
                continue
            rest.append(a)
        codes = [
            subprocess.call([sys.executable, "-m", "bench", which, *rest], cwd=ROOT) for which in ("import", "lookup")
        ]
        return max(codes)
    if args.which == "wfs":
        return _wfs(args)
    if args.which == "incidents":
        return _incidents(args)
    if args.which == "patrols":
        return _patrols(args)
    if args.which == "cameras":
        return _cameras(args)
    if args.which in ("tiles", "wms"):
        return _tiles(args) if args.which == "tiles" else _wms(args)
    return _import(args) if args.which == "import" else _lookup(args)


if __name__ == "__main__":
    sys.exit(main())
