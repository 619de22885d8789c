"""After a boundary edit, components in the affected area get their grid codes again: at once, in the
edit's own transaction, when few stand where the boundary moved; otherwise by a job (Celery) after commit."""

from django.db import transaction
from django.utils import timezone

from components.services import assign_grid_codes

from .models import GridReassignment

# Components re-assigned inside the edit's transaction at most; more go to a job. An edit moving a
# border by metres touches a handful; each one that changes costs ~0.2 ms (its row, its history, the
# cluster cells: 70 took 14 ms, 210 took 41-76 ms, measured on 2 busy cores), so 100 keep an edit
# within ~20 ms more.
REASSIGN_NOW_MAX = 100


def reassign(bbox, area: bytes, reason: str) -> None:
    """Re-assigns the components standing in `area` (EWKB: where the boundary moved, inside `bbox`)
    now, in the current transaction, or queues a job for `bbox` when more than REASSIGN_NOW_MAX
    stand there. Both see the edit: the statement runs after it, the job after its commit."""
    if assign_grid_codes(bbox=bbox, area=area, at_most=REASSIGN_NOW_MAX) is None:
        schedule_reassignment(bbox, reason)


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
