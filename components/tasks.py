"""Celery tasks of the component registry."""
from celery import shared_task


@shared_task(name="components.run_import", acks_late=False)
def run_import(job_id: str) -> dict:
    """Runs an ImportJob (created by POST /api/imports/); progress and outcome are on the job row."""
    from .importing.jobs import run_job

    return run_job(job_id)
