"""Running an ImportJob: progress written where the API can read it while the import's own
transaction is still open (through a second database connection), and the outcome at the end."""
from __future__ import annotations

import time
import traceback

from django.db import connection, connections
from django.utils import timezone

from .models import ImportJob

MAX_STORED_ERRORS = 1000


class JobProgress:
    """progress(rows_done, rows_total) callable that updates an ImportJob at most every `every` seconds."""

    def __init__(self, job: ImportJob, every: float = 0.5):
        self.job_id = job.pk
        self.every = every
        self.started = time.monotonic()
        self.last = 0.0
        self._side = None

    def __call__(self, done: int, total: int, phase: str | None = None):
        now = time.monotonic()
        if done < total and done > 0 and now - self.last < self.every:
            return
        self.last = now
        rate = done / max(now - self.started, 1e-6)
        phase = phase or ("writing" if done else "validating")
        self._update(rows_done=done, rows_total=total, rows_per_s=rate, phase=phase)

    def _update(self, **fields):
        sets = ", ".join(f"{k} = %s" for k in fields)
        params = [*fields.values(), self.job_id]
        if connection.in_atomic_block:
            # The import's transaction is open: write through a connection of our own, so readers see it now.
            if self._side is None:
                self._side = connections.create_connection("default")
            with self._side.cursor() as cur:
                cur.execute(f"UPDATE components_importjob SET {sets} WHERE id = %s", params)
        else:
            with connection.cursor() as cur:
                cur.execute(f"UPDATE components_importjob SET {sets} WHERE id = %s", params)

    def close(self):
        if self._side is not None:
            self._side.close()
            self._side = None


def run_job(job_id) -> dict:
    """Runs one ImportJob to the end and stores its outcome. Returns the job as a dict."""
    from . import import_file

    job = ImportJob.objects.get(pk=job_id)
    if job.status not in (ImportJob.Status.PENDING, ImportJob.Status.RUNNING):
        return job.as_dict()
    job.status, job.phase, job.started_at = ImportJob.Status.RUNNING, "reading", timezone.now()
    job.save(update_fields=["status", "phase", "started_at"])
    progress = JobProgress(job)
    try:
        result = import_file(job.file, srid=job.srid or None, encoding=job.encoding or None, mapping=job.mapping or None,
                             dry_run=job.dry_run, user=job.created_by, job=job, progress=progress)
    except Exception as exc:  # noqa: BLE001 - a crash must still end the job
        job.refresh_from_db()
        job.status, job.phase, job.finished_at = ImportJob.Status.FAILED, "done", timezone.now()
        job.message = f"the import stopped unexpectedly: {exc.__class__.__name__}: {exc}"[:2000]
        job.save()
        traceback.print_exc()
        return job.as_dict()
    finally:
        progress.close()
    job.refresh_from_db()
    job.phase = "done"
    job.finished_at = timezone.now()
    job.rows_total = result.rows
    job.rows_done = result.rows if result.ok else 0
    job.rows_per_s = result.rows / result.seconds if result.seconds and result.ok else 0
    job.created, job.updated, job.unchanged = result.created, result.updated, result.unchanged
    job.error_count = len(result.errors)
    job.errors = [e.as_dict() for e in result.errors[:MAX_STORED_ERRORS]]
    if result.ok:
        job.status = ImportJob.Status.SUCCEEDED
        job.message = ("dry run: nothing written. " if result.dry_run else "") + \
            f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged" + \
            ("; " + "; ".join(result.warnings) if result.warnings else "")
    else:
        job.status = ImportJob.Status.FAILED
        first = result.errors[0]
        where = f"row {first.row}, " if first.row else ""
        job.message = (f"nothing was written: {len(result.errors)} error(s); first: {where}{first.field}: {first.reason}")[:2000]
    job.save()
    return job.as_dict()
