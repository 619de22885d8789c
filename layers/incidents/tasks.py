"""Periodic incident tasks, run by Celery beat (CELERY_BEAT_SCHEDULE, "incidents escalation" in
gis_core/settings.py). Thin: the rules live in escalation.py and reminders.py. Both are safe to run
again or concurrently: an escalation step re-checks the case under its row lock, and a reminder is
unique per case, kind and stage."""

from celery import shared_task

from .escalation import announce_lights, escalate_due
from .intake_tasks import sweep_case_photos  # noqa: F401 - found by the worker through this module
from .reminders import send_reminders as _send_reminders
from .reports_tasks import refresh_safety_index  # noqa: F401


@shared_task(name="incidents.escalate_cases")
def escalate_cases() -> dict:
    return {"escalated": escalate_due(), "announced": announce_lights()}


@shared_task(name="incidents.send_reminders")
def send_reminders() -> dict:
    return {"sent": _send_reminders()}
