"""The render processes: a small pool per web worker process, created on first use, with the
'spawn' start method (a fresh interpreter that imports only tiles.raster.worker, so mapnik never
enters the Django process and a forked copy of Django's connections never enters mapnik's).

Size: GRIDCITY_RASTER_PROCESSES (default 2; each process holds one mapnik.Map). A render that
outlives RENDER_TIMEOUT raises RenderTimeout; a crashed process breaks the pool, which is rebuilt
once for the next job."""

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool

RENDER_TIMEOUT = float(os.environ.get("GRIDCITY_RASTER_TIMEOUT", "30"))


class RenderTimeout(Exception):
    pass


class RenderDatabaseError(RenderTimeout):
    """A render process's own query failed (statement timeout, connection): answered like a timeout."""


_executor: ProcessPoolExecutor | None = None
_owner_pid = 0
_lock = threading.Lock()


def processes() -> int:
    try:
        return max(1, int(os.environ.get("GRIDCITY_RASTER_PROCESSES", "2")))
    except ValueError:
        return 2


def _pool() -> ProcessPoolExecutor:
    global _executor, _owner_pid
    with _lock:
        # A forked web worker (gunicorn --preload) must not use its parent's pool.
        if _executor is None or _owner_pid != os.getpid():
            from . import worker_entry

            _executor = ProcessPoolExecutor(
                max_workers=processes(), mp_context=multiprocessing.get_context("spawn"), initializer=worker_entry.init
            )
            _owner_pid = os.getpid()
            # The executor starts a process only when no started one is idle: these no-op jobs, queued
            # together, start them all now rather than the second one at the first busy moment (~1 s).
            for _ in range(processes()):
                _executor.submit(worker_entry.ready)
        return _executor


def _reset(broken: ProcessPoolExecutor):
    global _executor
    with _lock:
        if _executor is broken:
            _executor = None
    broken.shutdown(wait=False, cancel_futures=True)


def render(job: dict, timeout: float = RENDER_TIMEOUT):
    from . import worker_entry

    for attempt in (1, 2):
        pool = _pool()
        try:
            return pool.submit(worker_entry.render, job).result(timeout=timeout)
        except BrokenProcessPool:
            _reset(pool)
            if attempt == 2:
                raise
        except FutureTimeout:
            raise RenderTimeout(f"rendering took longer than {timeout:.0f} s") from None


def shutdown():
    global _executor
    with _lock:
        pool, _executor = _executor, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)
