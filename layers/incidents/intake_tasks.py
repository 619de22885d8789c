"""Periodic upkeep of case photos (Celery beat): see photos.sweep(). Imported by layers/incidents/tasks.py
so the worker registers it; scheduled hourly in CELERY_BEAT_SCHEDULE."""

from celery import shared_task

from . import photos


@shared_task(name="incidents.sweep_case_photos")
def sweep_case_photos() -> dict:
    return photos.sweep()
