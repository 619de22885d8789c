"""The one HTTP load tool of the tile and WMS benchmarks: wrk (Debian package), a C client that costs
the shared CPU far less than the servers it measures, so a fast server (nginx) is not capped by its
client. bench/wrk_paths.lua makes it request a fixed list of paths exactly once each over
`concurrency` keep-alive connections and report latency percentiles from wrk's own histogram."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

LUA = Path(__file__).with_name("wrk_paths.lua")


def wrk_version() -> str:
    r = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10)
    return (r.stdout or r.stderr).splitlines()[0].strip() if (r.stdout or r.stderr) else "?"


def run_wrk(
    base_url: str,
    paths: list[str],
    *,
    concurrency: int = 4,
    headers: dict | None = None,
    max_seconds: int = 900,
    timeout_s: int = 60,
    expect_type: str = "",
) -> dict:
    """GETs each path once (in order) against base_url; returns counts, ms percentiles and requests/s.

    A path failing or timing out is counted, not retried; with expect_type, so is an answer of another
    Content-Type. max_seconds bounds the whole run."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: run scripts/install-bench-deps.sh")
    with tempfile.TemporaryDirectory(prefix="wrk-") as tmp:
        listing, out = Path(tmp) / "paths.txt", Path(tmp) / "out.json"
        listing.write_text("\n".join(paths) + "\n")
        cmd = [
            "wrk",
            "-t1",
            f"-c{max(1, min(concurrency, len(paths)))}",
            f"-d{max_seconds}s",
            f"--timeout={timeout_s}s",
            "-s",
            str(LUA),
        ]
        for k, v in (headers or {}).items():
            cmd += ["-H", f"{k}: {v}"]
        cmd.append(base_url)
        r = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=max_seconds + 60,
            env={
                "WRK_PATHS": str(listing),
                "WRK_OUT": str(out),
                "WRK_EXPECT_TYPE": expect_type,
                "PATH": "/usr/bin:/bin",
            },
        )
        if r.returncode != 0 or not out.exists():
            raise SystemExit(f"wrk failed ({r.returncode}): {r.stderr[-500:]} {r.stdout[-500:]}")
        raw = json.loads(out.read_text())
    seconds = raw["duration_us"] / 1e6  # wrk's own clock: start to the SIGINT after the last answer
    done = raw["ok"] + raw["bad"]  # wrk's own count may hold a repeat or two past the last path
    errors = sum(raw["errors"].values()) - raw["errors"]["status"]
    return {
        "n": done,
        "expected": len(paths),
        "ok": raw["ok"],
        "bad": raw["bad"],
        "socket_errors": errors,
        "first_bad": raw["first_bad"],
        "seconds": round(seconds, 3),
        "rps": done / seconds if seconds else 0.0,
        "p50": raw["p50_us"] / 1000,
        "p95": raw["p95_us"] / 1000,
        "p99": raw["p99_us"] / 1000,
        "mean": raw["mean_us"] / 1000,
        "max": raw["max_us"] / 1000,
        "body_bytes": raw["body_bytes"],
        "largest_body": raw["largest_body"],
        "complete": done == len(paths),
    }
