"""Running an ImportJob: progress written where the API can read it while the import's own
transaction is still open (through a second database connection), and the outcome at the end."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

from .errors import no_paths
from .models import ImportJob

log = logging.getLogger(__name__)

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


class JobBusy(Exception):
    """Another worker is running this job now (a second delivery of its task): try again later."""


def _claim(job_id) -> bool:
    """Holds the job for the current transaction; False when another worker holds it."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_xact_lock(hashtext('components.importjob'), hashtext(%s))", [str(job_id)])
        return cur.fetchone()[0]


@transaction.atomic
def run_job(job_id) -> dict:
    """Runs one ImportJob to the end and stores its outcome. Returns the job as a dict.

    The rows and the job's outcome commit in one transaction, and the job is claimed for that
    transaction: a task delivered again after its worker died finds either nothing committed (and runs
    the job afresh) or the job ended (and does nothing); never a second write of the same rows. Once
    the job has ended, its uploaded file is removed."""
    if not _claim(job_id):
        raise JobBusy(str(job_id))
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None:
        return {"id": str(job_id), "status": "gone"}  # removed (e.g. the queue refused it at upload)
    path = job.file
    # After commit: a worker killed before it keeps the upload for the task's next delivery.
    transaction.on_commit(lambda: remove_upload(path))
    if job.status not in (ImportJob.Status.PENDING, ImportJob.Status.RUNNING):
        return job.as_dict()
    return _run(job)


def upload_folder(path) -> Path | None:
    """The folder an upload was stored in (MEDIA_ROOT/imports/<job id>/), or None for a file elsewhere
    (e.g. a path given to the job by a test or a script, which is not ours to delete)."""
    if not path:
        return None
    uploads = (Path(settings.MEDIA_ROOT) / "imports").resolve()
    folder = Path(path).resolve().parent
    return folder if folder.parent == uploads else None


def remove_upload(path) -> None:
    folder = upload_folder(path)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def _say(text, job: ImportJob) -> str:
    """Text for the job row and the API: names the upload as its client named it, no server path."""
    replace = {str(settings.MEDIA_ROOT): ""}
    if job.file:
        shown = job.filename or Path(job.file).name
        replace[job.file] = shown
        replace[Path(job.file).name] = shown
    return no_paths(text, replace=replace)


def _run(job: ImportJob) -> dict:
    from . import import_file

    progress = JobProgress(job)
    started = timezone.now()
    # Through progress's own connection, so the API shows "running" while this transaction is open.
    progress._update(status=ImportJob.Status.RUNNING, phase="reading", started_at=started)
    try:
        with transaction.atomic():
            result = import_file(
                job.file,
                srid=job.srid or None,
                encoding=job.encoding or None,
                mapping=job.mapping or None,
                dry_run=job.dry_run,
                user=job.created_by,
                job=job,
                progress=progress,
                name=job.filename or None,
            )
    except Exception as exc:  # noqa: BLE001 - a crash must still end the job
        log.exception("import job %s stopped unexpectedly", job.pk)
        job.refresh_from_db()
        job.started_at = job.started_at or started
        job.status, job.phase, job.finished_at = ImportJob.Status.FAILED, "done", timezone.now()
        job.message = _say(f"the import stopped unexpectedly ({exc.__class__.__name__}); nothing was written", job)[
            :2000
        ]
        job.save()
        return job.as_dict()
    finally:
        progress.close()
    job.refresh_from_db()
    job.started_at = job.started_at or started
    job.phase = "done"
    job.finished_at = timezone.now()
    job.rows_total = result.rows
    job.rows_done = result.rows if result.ok else 0
    job.rows_per_s = result.rows / result.seconds if result.seconds and result.ok else 0
    job.created, job.updated, job.unchanged = result.created, result.updated, result.unchanged
    job.error_count = len(result.errors)
    job.errors = [
        {"row": e.row, "field": e.field if e.field is None else _say(e.field, job), "reason": _say(e.reason, job)}
        for e in result.errors[:MAX_STORED_ERRORS]
    ]
    if result.ok:
        job.status = ImportJob.Status.SUCCEEDED
        job.message = (
            ("dry run: nothing written. " if result.dry_run else "")
            + f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged"
            + ("; " + "; ".join(result.warnings) if result.warnings else "")
        )
    else:
        job.status = ImportJob.Status.FAILED
        first = result.errors[0]
        where = f"row {first.row}, " if first.row else ""
        job.message = f"nothing was written: {len(result.errors)} error(s); first: {where}{first.field}: {first.reason}"
    job.message = _say(job.message, job)[:2000]
    job.save()
    return job.as_dict()
