"""Celery tasks of the component registry."""
from celery import shared_task


# acks_late + reject_on_worker_lost: a worker killed mid-import leaves the message to be delivered
# again, and run_job ends that job (failed, nothing written: its transaction died with the worker)
# instead of leaving it "running" for ever or running it a second time.
@shared_task(name="components.run_import", acks_late=True, reject_on_worker_lost=True)
def run_import(job_id: str) -> dict:
    """Runs an ImportJob (created by POST /api/imports/); progress and outcome are on the job row."""
    from .importing.jobs import run_job

    return run_job(job_id)
