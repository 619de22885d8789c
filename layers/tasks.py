from celery import shared_task

from .grids.assignment import run_reassignment


# Acknowledged when done and put back if the worker dies: run_reassignment is safe to run again.
# ignore_result: the job row holds the outcome, and a stored result costs the publisher a Redis
# subscribe and unsubscribe per edit (measured in the WFS-T update).
@shared_task(name="layers.reassign_components", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def reassign_components(reassignment_id: int) -> dict:
    return run_reassignment(reassignment_id)
