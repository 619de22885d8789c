"""Keeps CaseStageDeadline in step: after every report and step (incidents_changed, sent after
commit) the deadline the clock left on each case is recorded under the state the case is in."""

import logging

from django.db import connection

from .signals import incidents_changed

log = logging.getLogger(__name__)

RECORD = """
INSERT INTO incidents_casestagedeadline (case_id, state, due_at)
SELECT id, state, due_at FROM incidents_case WHERE number = ANY(%s) AND due_at IS NOT NULL
ON CONFLICT (case_id, state) DO UPDATE SET due_at = EXCLUDED.due_at
"""


def record_stage_deadlines(numbers) -> None:
    if numbers:
        with connection.cursor() as cursor:
            cursor.execute(RECORD, [list(numbers)])


def _on_change(sender, numbers=None, **kwargs):
    # After commit: a failure here must not turn the committed step into an error for its caller;
    # the report then judges that stage without a recorded deadline.
    try:
        record_stage_deadlines(numbers or [])
    except Exception:  # noqa: BLE001
        log.exception("could not record stage deadlines of %s", numbers)


incidents_changed.connect(_on_change, dispatch_uid="incidents.reports.stage_deadlines")
