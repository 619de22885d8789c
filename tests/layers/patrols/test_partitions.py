import datetime as dt

import pytest
from django.contrib.gis.geos import Point
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from layers.patrols import partitions
from layers.patrols.models import PatrolFix

from .conftest import LAT, LON


def _fix(worker, when):
    return PatrolFix.objects.create(
        worker=worker, fix_time=when, receive_time=when, geom=Point(LON, LAT, srid=4490), source_crs="WGS84"
    )


def _partition_of(when) -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT tableoid::regclass::text FROM patrols_patrolfix WHERE fix_time = %s", [when])
        return cur.fetchone()[0]


def test_fixes_land_in_their_month_and_the_default_stays_empty(worker):
    now = timezone.now()
    _fix(worker, now)
    assert _partition_of(now) == f"patrols_patrolfix_{timezone.localtime(now):%Y%m}"
    assert partitions.default_partition()["rows"] == 0


def test_a_fix_outside_every_month_is_seen_in_the_default_partition(worker):
    far = timezone.now() + dt.timedelta(days=3 * 365)
    _fix(worker, far)
    assert _partition_of(far) == "patrols_patrolfix_default"
    assert partitions.default_partition()["rows"] == 1


def test_partitions_are_made_ahead_once(db):
    later = timezone.localdate() + dt.timedelta(days=366)
    assert partitions.make_partitions(months_ahead=0, today=later) == 1
    assert partitions.make_partitions(months_ahead=0, today=later) == 0


def test_one_fix_per_worker_and_time(worker):
    now = timezone.now()
    _fix(worker, now)
    with pytest.raises(IntegrityError), transaction.atomic():
        _fix(worker, now)
