"""The WMS benchmark's image comparison and run summary (no database, no servers)."""

import io

from PIL import Image, ImageDraw

from bench.wms_bench import _count, _drawn, _near, summarise


def _png(size=64, line_x=None, fill=False) -> bytes:
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    if fill:
        draw.rectangle([0, 0, size - 1, size - 1], fill=(15, 118, 110, 10))  # a grid's 4 % fill
    if line_x is not None:
        draw.line([(line_x, 0), (line_x, size - 1)], fill=(15, 118, 110, 255), width=1)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def test_ink_is_outlines_and_symbols_not_the_faint_fill():
    any_ink, ink = _drawn(_png(fill=True, line_x=10), 64)
    assert _count(any_ink) == 64 * 64 and _count(ink) == 64
    assert _drawn(_png(), 64)[0].getbbox() is None


def test_a_map_of_another_size_is_a_problem():
    assert _drawn(_png(size=32), 64) == "32x32 px, asked 64x64"


def test_ink_a_pixel_or_two_apart_is_the_same_drawing_further_is_not():
    _, a = _drawn(_png(line_x=10), 64)
    _, near = _drawn(_png(line_x=12), 64)
    _, far = _drawn(_png(line_x=20), 64)
    assert _near(a, near) == _count(a) == 64
    assert _near(a, far) == 0


def test_a_case_is_the_median_of_its_runs_with_the_spread_and_every_answer_counted():
    runs = [
        {
            "rps": r,
            "p50": p,
            "p95": 2 * p,
            "p99": 3 * p,
            "n": 10,
            "ok": 10,
            "bad": 0,
            "socket_errors": 0,
            "complete": True,
            "first_bad": "",
            "body_bytes": 100,
        }
        for r, p in ((50.0, 20.0), (80.0, 10.0), (60.0, 15.0))
    ]
    runs[1].update(bad=1, ok=9, first_bad="HTTP 500")
    m = summarise(runs)
    assert (m["rps"], m["p50"], m["runs"]) == (60.0, 15.0, 3)
    assert m["spread"]["rps"] == {"median": 60.0, "min": 50.0, "max": 80.0}
    assert (m["n"], m["ok"], m["bad"], m["first_bad"], m["complete"]) == (30, 29, 1, "HTTP 500", True)
