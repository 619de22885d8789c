"""Escalation up the grid levels: unclaimed and overdue cases go up one level per step, each step an
`escalate` event with the state unchanged, the new level's staff told; closed, parked and top-level
cases stay; a second run at the same moment does nothing."""

from datetime import timedelta

import pytest
from django.conf import settings

from layers.incidents import escalation, services
from layers.incidents.models import Case, CaseEvent, Notification
from layers.incidents.signals import incidents_changed

from .escalation_setup import BASE, COMMUNITY, STREET, garbage_fixture, now, set_times, staff_fixture  # noqa: F401

pytestmark = pytest.mark.django_db
LONG_AGO = timedelta(days=10)  # always more than a few working hours, whatever the time of the run


def escalations(case):
    return list(CaseEvent.objects.filter(case=case, action="escalate").order_by("id"))


def test_an_overdue_case_goes_up_one_level_with_an_event(garbage, staff, django_capture_on_commit_callbacks):
    set_times(garbage, due_at=now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert escalation.escalate_due() == 1
    garbage.refresh_from_db()
    assert garbage.escalation_level == 1 and garbage.state == "reported"
    [event] = escalations(garbage)
    assert (event.from_state, event.to_state, event.actor_id) == ("reported", "reported", None)
    assert "社区" in event.note and "超期" in event.note
    [told] = Notification.objects.filter(case=garbage)
    assert told.recipient == staff[1].user and told.kind == "escalated"


def test_a_second_run_at_the_same_moment_escalates_nothing(garbage, staff):
    set_times(garbage, due_at=now() - timedelta(minutes=5))
    assert escalation.escalate_due() == 1
    assert escalation.escalate_due() == 0
    assert Case.objects.get(pk=garbage.pk).escalation_level == 1


def test_it_keeps_climbing_one_step_per_interval_and_stops_at_the_district(garbage, staff):
    set_times(garbage, due_at=now() - timedelta(minutes=5))
    assert escalation.escalate_due() == 1
    # A step (4 working hours) after each escalation: ten days on, one more level per run.
    later = now() + LONG_AGO
    assert escalation.escalate_due(later) == 1
    assert escalation.escalate_due(later + LONG_AGO) == 1
    assert escalation.escalate_due(later + 2 * LONG_AGO) == 0
    garbage.refresh_from_db()
    assert garbage.escalation_level == 3
    assert [e.note[:4] for e in escalations(garbage)] == ["升级至社", "升级至街", "升级至区"]
    assert sorted(Notification.objects.filter(case=garbage).values_list("recipient__username", flat=True)) == [
        "staff_level_1",
        "staff_level_2",
        "staff_level_3",
    ]


def test_an_unclaimed_report_escalates_after_its_limit_only(garbage, staff):
    # Reported seconds ago: not yet. Ten days after the report (the last step): up one level.
    set_times(garbage, due_at=None)  # the unclaimed rule alone, without the clock's dispatch deadline
    assert escalation.escalate_due() == 0
    assert escalation.escalate_due(now() + LONG_AGO) == 1
    assert "未受理" in escalations(garbage)[0].note


def test_the_limit_counts_from_the_last_step_not_the_stage(garbage, staff, settings):
    # The clock says the stage began long ago, but the case was just (re)sent: its holder gets the time.
    settings.GRIDCITY_ESCALATE_UNCLAIMED_HOURS = {"reported": 2}
    set_times(garbage, stage_started_at=now() - LONG_AGO)
    assert escalation.escalate_due() == 0


def test_a_dispatched_case_not_accepted_escalates(garbage, staff, dispatcher, unit):
    services.dispatch(dispatcher, garbage, organisation=unit)
    assert escalation.escalate_due() == 0
    assert escalation.escalate_due(now() + LONG_AGO) == 1
    assert Case.objects.get(pk=garbage.pk).state == "dispatched"


def test_an_unclaimed_escalation_does_not_delay_the_overdue_one(garbage, staff):
    set_times(garbage, due_at=None)  # first the unclaimed rule alone, without the clock's deadline
    assert escalation.escalate_due(now() + LONG_AGO) == 1  # unclaimed
    set_times(garbage, due_at=now() + timedelta(seconds=1))
    assert escalation.escalate_due(now() + timedelta(seconds=2)) == 1  # and now overdue: at once
    assert [e.note[-6:] for e in escalations(garbage)] == ["超时未受理）", "超期未办结）"]


def test_an_accepted_case_in_time_does_not_escalate(garbage, staff, dispatcher, unit, unit_user):
    services.dispatch(dispatcher, garbage, organisation=unit)
    services.accept(unit_user, garbage)
    set_times(garbage, due_at=now() + timedelta(days=100))
    assert escalation.escalate_due(now() + LONG_AGO) == 0


@pytest.mark.parametrize("state", ["closed", "void", "on_hold"])
def test_closed_void_and_parked_cases_stay(garbage, staff, state):
    set_times(garbage, state=state, due_at=now() - LONG_AGO)
    assert escalation.escalate_due(now() + LONG_AGO) == 0
    assert escalations(garbage) == []


def test_the_service_refuses_above_the_district(garbage):
    set_times(garbage, escalation_level=3, due_at=now() - LONG_AGO)
    assert escalation.escalate(garbage, escalation.OVERDUE) is None
    assert escalation.escalate_due() == 0
    assert escalations(garbage) == []


def test_the_map_hears_of_an_escalation_after_commit(garbage, django_capture_on_commit_callbacks):
    heard = []

    def listener(sender, numbers, bbox, **kw):
        heard.append(numbers)

    incidents_changed.connect(listener)
    try:
        set_times(garbage, due_at=now() - timedelta(minutes=1))
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            escalation.escalate_due()
        assert heard == []
        for callback in callbacks:
            callback()
        assert heard == [[garbage.number]]
    finally:
        incidents_changed.disconnect(listener)


def test_grid_staff_lists_grid_community_street_then_the_district_once_escalated(garbage, staff):
    staff[2].active = False
    staff[2].save()
    listed = escalation.grid_staff(garbage)
    assert [(s["level"], s["level_name"], s["name"]) for s in listed] == [(0, "网格", "员工0"), (1, "社区", "员工1")]
    assert listed[0]["phone"] == "13800000000"
    set_times(garbage, escalation_level=3)
    assert [s["level"] for s in escalation.grid_staff(garbage)] == [0, 1, 3]


def test_staff_codes_come_from_the_case_and_the_district_from_its_admin_code(garbage):
    from layers.incidents.notify import staff_codes

    assert staff_codes(garbage) == {0: BASE, 1: COMMUNITY, 2: STREET, 3: "370812"}
    garbage.grid_code = garbage.community_code = garbage.street_code = ""
    assert staff_codes(garbage) == {3: settings.GRIDCITY_ADMIN_CODE}


def test_staff_constraints_hold_in_the_database(db):
    from django.db import IntegrityError, transaction

    from layers.incidents.models import GridStaff

    for bad in ({"level": 4, "grid_code": BASE}, {"level": 0, "grid_code": "12ab"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            GridStaff.objects.create(name="x", **bad)


def test_a_decision_taken_on_a_stale_level_steps_nothing(garbage, staff):
    # Two overlapping runs saw level 0; the first stepped it to 1, the second must not make it 2.
    set_times(garbage, due_at=now() - timedelta(minutes=1))
    assert escalation.escalate(garbage, escalation.OVERDUE, expected_level=0) is not None
    assert escalation.escalate(garbage, escalation.OVERDUE, expected_level=0) is None
    assert Case.objects.get(pk=garbage.pk).escalation_level == 1
