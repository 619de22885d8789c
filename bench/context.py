"""What every benchmark prints and stores beside its figures: the commit measured, when, and how busy
the machine was (a shared 2-core machine slows every number; a reader must be able to tell)."""

import datetime as dt
import os


def machine_load() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def context() -> dict:
    from bench.tiles_bench import code_version

    return {
        "commit": code_version(),
        "utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "load_before": machine_load(),
    }


def finish(ctx: dict) -> dict:
    ctx["load_after"] = machine_load()
    return ctx


def line(ctx: dict) -> str:
    after = f", after {ctx['load_after']}" if "load_after" in ctx else ""
    return (
        f"{ctx['utc']}, code {ctx['commit']}; {ctx['cpus']} CPUs, load average (1/5/15 min) "
        f"before {ctx['load_before']}{after}"
    )
