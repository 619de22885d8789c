"""Month partitions of the fix table, made ahead (beat task and after migrate), and the watch on the
DEFAULT partition: rows there mean a month was not made in time and that month can no longer be
attached until they are moved out."""

import logging

from django.conf import settings
from django.db import connection
from django.utils import timezone

log = logging.getLogger(__name__)


def make_partitions(months_ahead: int | None = None, today=None) -> int:
    """This month and the next `months_ahead` (GRIDCITY_PATROL_PARTITIONS_AHEAD); returns how many were new."""
    ahead = settings.GRIDCITY_PATROL_PARTITIONS_AHEAD if months_ahead is None else months_ahead
    today = today or timezone.localdate()
    with connection.cursor() as cur:
        cur.execute("SELECT patrols_make_partitions(%s, %s)", [today, ahead + 1])
        made = cur.fetchone()[0]
    report = default_partition()
    if report["rows"]:
        log.error("patrols: %(rows)s fixes in the default partition (%(first_fix)s .. %(last_fix)s)", report)
    return made


def default_partition() -> dict:
    """{"rows", "first_fix", "last_fix"} of the DEFAULT partition (should be 0 rows)."""
    with connection.cursor() as cur:
        cur.execute("SELECT rows, first_fix, last_fix FROM patrols_default_rows()")
        rows, first, last = cur.fetchone()
    return {"rows": rows, "first_fix": first, "last_fix": last}
