"""Keeping stored deadlines true to the clock tables: any save or delete of a time limit, working
hours row or calendar entry (admin, shell, command) recomputes the open cases after commit, in the
worker; a beat entry refreshes paused cases, whose deadlines move on while they stay paused."""

import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .clock_models import CalendarOverride, CalendarYear, TimeLimit, WorkingHoursSetting

log = logging.getLogger(__name__)


@shared_task(name="incidents.recompute_open_cases", acks_late=True, reject_on_worker_lost=True)
def recompute_open_cases() -> int:
    from .deadlines import recompute_open

    return recompute_open()


@shared_task(name="incidents.refresh_paused_cases")
def refresh_paused_cases() -> int:
    from .deadlines import refresh_paused

    return refresh_paused()


def recompute_after_commit() -> None:
    """Bulk loads (load_holidays) write with bulk_create, which sends no signals, and call this once."""

    def run():
        from .models import Case
        from .workflow import OPEN_STATES

        if not Case.objects.filter(state__in=OPEN_STATES).exists():
            return  # seeding, or a quiet installation: nothing to recompute, nothing to queue
        if getattr(settings, "GRIDCITY_INCIDENT_RECOMPUTE_IN_WORKER", True):
            try:
                recompute_open_cases.delay()
                return
            except Exception:  # noqa: BLE001 - no broker: slower here, but no stale deadlines
                log.exception("could not queue the recompute of open cases; running it in the request")
        recompute_open_cases()

    transaction.on_commit(run)


@receiver(post_save, sender=TimeLimit)
@receiver(post_delete, sender=TimeLimit)
@receiver(post_save, sender=WorkingHoursSetting)
@receiver(post_delete, sender=WorkingHoursSetting)
@receiver(post_save, sender=CalendarOverride)
@receiver(post_delete, sender=CalendarOverride)
@receiver(post_save, sender=CalendarYear)
@receiver(post_delete, sender=CalendarYear)
def _tables_changed(sender, raw=False, **kwargs):
    if raw:  # loaddata: no cases to speak of yet
        return
    recompute_after_commit()
