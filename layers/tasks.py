from celery import shared_task

from .grids.assignment import run_reassignment


@shared_task(name="layers.reassign_components")
def reassign_components(reassignment_id: int) -> dict:
    return run_reassignment(reassignment_id)
