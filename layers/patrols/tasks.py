from celery import shared_task

from . import partitions


@shared_task(name="patrols.make_partitions")
def make_partitions() -> int:
    return partitions.make_partitions()


@shared_task(name="patrols.compute_coverage")
def compute_coverage(day: str | None = None) -> dict:
    """A day's coverage (default yesterday): beat runs it nightly; `today` refreshes the day so far."""
    import datetime as dt

    from django.utils import timezone

    from . import coverage

    today = timezone.localdate()
    when = today if day == "today" else dt.date.fromisoformat(day) if day else today - dt.timedelta(days=1)
    return coverage.compute_day(when)


@shared_task(name="patrols.prune_heatmaps")
def prune_heatmaps() -> dict:
    """Heat-map COGs on disk: unused for GRIDCITY_PATROL_HEATMAP_CACHE_DAYS, or beyond the size cap."""
    from . import heatmap

    return heatmap.prune_cache()
