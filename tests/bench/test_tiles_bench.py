"""The tile benchmark's fixed tile set and its wrk client (no database needed)."""

import http.server
import shutil
import threading

import mercantile
import pytest

from bench.tiles_bench import DISTRICT, ZOOM_WEIGHTS, _allocate, _tiles_available, tile_set
from bench.wrk_load import run_wrk

POINTS = [(116.80 + i * 1e-4, 35.57 + (i % 7) * 1e-4) for i in range(500)]


def test_allocation_fills_n_and_respects_what_the_district_holds():
    alloc = _allocate(1000)
    assert sum(alloc.values()) == 1000
    assert set(alloc) == set(ZOOM_WEIGHTS)
    for z, count in alloc.items():
        assert 0 < count <= _tiles_available(z)
    assert alloc[10] == _tiles_available(10)  # fewer z10 tiles than its share: all of them
    assert max(alloc, key=alloc.get) in (15, 16)


def test_tile_set_is_deterministic_distinct_and_inside_the_district():
    a, b = tile_set(300, 1, POINTS), tile_set(300, 1, POINTS)
    assert a == b and len(a) == 300 == len(set(a))
    assert tile_set(300, 2, POINTS) != a
    for z, x, y in a:
        w, s, e, n = mercantile.bounds(x, y, z)
        assert e >= DISTRICT[0] and w <= DISTRICT[2] and n >= DISTRICT[1] and s <= DISTRICT[3]


def test_tile_set_prefers_dense_places():
    tiles = tile_set(300, 1, POINTS)
    dense = mercantile.tile(116.80, 35.57, 14)
    at_z14 = [t for t in tiles if t[0] == 14]
    near = [t for t in at_z14 if abs(t[1] - dense.x) <= 1 and abs(t[2] - dense.y) <= 1]
    assert len(near) >= 3


@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk comes with scripts/install-bench-deps.sh")
def test_wrk_requests_each_path_once_and_counts_failures():
    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            seen.append(self.path)
            status = 404 if self.path == "/missing" else 200
            body = b"tile" if status == 200 else b"no"
            self.send_response(status)
            self.send_header("Content-Type", "application/vnd.mapbox-vector-tile")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        paths = [f"/t/{i}" for i in range(50)] + ["/missing"]
        # One connection: with several, the last path races the uncounted repeats (the first n answers
        # to arrive are counted), so which answer is the 404 would be left to chance.
        m = run_wrk(f"http://127.0.0.1:{server.server_port}", paths, concurrency=1, max_seconds=60)
        assert m["complete"] and m["n"] == 51 and m["ok"] == 50 and m["bad"] == 1
        assert m["first_bad"].startswith("404")
        assert set(paths) <= set(seen)
        assert m["p50"] > 0 and m["rps"] > 0
        typed = run_wrk(
            f"http://127.0.0.1:{server.server_port}", paths[:5], concurrency=2, max_seconds=60, expect_type="image/png"
        )
        assert typed["bad"] == 5
    finally:
        server.shutdown()
