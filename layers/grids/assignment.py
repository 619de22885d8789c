"""After a boundary edit commits, components in the affected area get their grid codes again (Celery)."""

from django.db import transaction
from django.utils import timezone

from components.services import assign_grid_codes

from .models import GridReassignment


def schedule_reassignment(bbox, reason: str) -> None:
    """Queues a re-assignment of the components within `bbox` once the current transaction commits."""

    def enqueue():
        from ..tasks import reassign_components

        job = GridReassignment.objects.create(reason=reason[:200], bbox=list(bbox) if bbox else None)
        reassign_components.delay(job.pk)

    transaction.on_commit(enqueue)


def run_reassignment(reassignment_id: int) -> dict:
    """Idempotent, for a task delivered again after its worker died: the codes and the outcome commit
    together, and a job already done is not run (nor its count overwritten) a second time."""
    job = GridReassignment.objects.get(pk=reassignment_id)
    if job.status == GridReassignment.Status.DONE:
        return {"reassignment": job.pk, "components_changed": job.components_changed}
    job.status = GridReassignment.Status.RUNNING
    job.save(update_fields=["status"])
    try:
        with transaction.atomic():
            changed = assign_grid_codes(bbox=tuple(job.bbox) if job.bbox else None)
            job.status, job.components_changed, job.finished_at = GridReassignment.Status.DONE, changed, timezone.now()
            job.save(update_fields=["status", "components_changed", "finished_at"])
    except Exception as exc:
        job.status, job.error, job.finished_at = GridReassignment.Status.FAILED, str(exc)[:500], timezone.now()
        job.save(update_fields=["status", "error", "finished_at"])
        raise
    return {"reassignment": job.pk, "components_changed": changed}
