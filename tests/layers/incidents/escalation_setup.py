"""Fixtures shared by the escalation tests (imported by name: the incidents conftest is shared by
every part of issue 10): import `garbage_fixture` and `staff_fixture`, ask for `garbage` and `staff`. A garbage case (06010) inside a built grid hierarchy, and the staff of each
level of that hierarchy, each with a login."""

from datetime import datetime

import pytest
from django.utils import timezone

from components import roles
from layers.incidents import services
from layers.incidents.clock import SHANGHAI
from layers.incidents.models import Case, GridStaff
from tests.factories import make_user
from tests.layers.test_grid_assignment import build_hierarchy

from .conftest import LAT, LON

BASE, COMMUNITY, STREET, DISTRICT = "37081200100101", "370812001001", "370812001", "370812"
CODES = (BASE, COMMUNITY, STREET, DISTRICT)
# A Monday morning with no holiday near it (working time), and the Saturday before it (not).
MONDAY_10 = datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)
SATURDAY_10 = datetime(2026, 12, 5, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(name="staff")
def staff_fixture(db):
    """{level: GridStaff} for the hierarchy's grid, community, street and district."""
    out = {}
    for level, code in enumerate(CODES):
        user = make_user(f"staff_level_{level}", roles.GRID_WORKER)
        out[level] = GridStaff.objects.create(
            level=level, grid_code=code, user=user, name=f"员工{level}", phone=f"1380000000{level}", duty="值班"
        )
    return out


@pytest.fixture(name="garbage")
def garbage_fixture(dispatcher, django_capture_on_commit_callbacks):
    build_hierarchy()
    with django_capture_on_commit_callbacks(execute=True):
        return services.report_case(dispatcher, "06010", (LON, LAT), "EPSG:4490", "暴露垃圾")


def set_times(case: Case, **fields) -> Case:
    """What the clock helper writes (due_at, warn_at, stage_started_at), set directly."""
    Case.objects.filter(pk=case.pk).update(**fields)
    case.refresh_from_db()
    return case


def now():
    return timezone.now()
