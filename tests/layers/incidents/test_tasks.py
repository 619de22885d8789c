"""The beat tasks run the escalation and the reminders (called directly and through Celery's eager
apply, as beat would), and the schedule names them."""

from datetime import timedelta

import pytest
from django.conf import settings

from layers.incidents import tasks
from layers.incidents.models import Case

from .escalation_setup import garbage_fixture, now, set_times, staff_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


def test_the_escalation_task_escalates_and_announces(garbage, staff, django_capture_on_commit_callbacks):
    set_times(garbage, due_at=now() - timedelta(minutes=2))
    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.escalate_cases.apply().get()
    assert result == {"escalated": 1, "announced": 1}
    assert Case.objects.get(pk=garbage.pk).escalation_level == 1
    assert tasks.escalate_cases() == {"escalated": 0, "announced": 1}  # announcing again is harmless


def test_the_reminder_task_answers_with_a_count(garbage):
    result = tasks.send_reminders.apply().get()
    assert isinstance(result["sent"], int)


def test_beat_runs_both_tasks():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {tasks.escalate_cases.name, tasks.send_reminders.name} <= scheduled
