"""Celery tasks of the component registry."""

from celery import shared_task


# Acknowledged when done, and given back to the queue if the worker dies (settings: the broker delivers
# it again after CELERY_BROKER_TRANSPORT_OPTIONS' visibility timeout): run_job claims the job and commits
# rows and outcome together, so running it again never writes twice.
@shared_task(bind=True, name="components.run_import", acks_late=True, reject_on_worker_lost=True, max_retries=None)
def run_import(self, job_id: str) -> dict:
    """Runs an ImportJob (created by POST /api/imports/); progress and outcome are on the job row."""
    from .importing.jobs import JobBusy, run_job

    try:
        return run_job(job_id)
    except JobBusy:
        # A second delivery while the first still runs: look again later, when it has ended or died.
        raise self.retry(countdown=10) from None
