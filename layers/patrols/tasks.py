from celery import shared_task

from . import partitions


@shared_task(name="patrols.make_partitions")
def make_partitions() -> int:
    return partitions.make_partitions()
