"""Celery tasks of the reports part. The lead imports this module from layers/incidents/tasks.py
(autodiscovery finds `tasks` modules only) and schedules refresh_safety_index in the beat."""

from celery import shared_task


@shared_task(name="incidents.refresh_safety_index", acks_late=True)
def refresh_safety_index() -> int:
    from .safety_index import refresh

    return refresh()
