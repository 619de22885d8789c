"""The workflow table: every step the table does not hold is refused by the service with the allowed
next actions, and each role may take exactly the steps its rows name."""

import pytest

from components import roles
from layers.incidents import services, workflow
from layers.incidents.models import Case, CaseEvent
from layers.incidents.workflow import Action, State

from .conftest import LAT, LON

pytestmark = pytest.mark.django_db


def test_every_state_of_the_reference_is_there_with_its_code():
    assert {code: number for code, (number, _) in workflow.STATES.items()} == {
        "reported": 1,
        "dispatched": 3,
        "handling": 4,
        "verifying": 5,
        "closed": 6,
        "void": 7,
        "on_hold": 8,
        "supervision": 9,
    }


def test_closed_and_void_are_final():
    assert workflow.next_actions(State.CLOSED) == [] and workflow.next_actions(State.VOID) == []


def test_each_role_may_take_the_steps_of_its_rows():
    assert workflow.actions_of(roles.DISPATCHER) == sorted(
        [
            ("dispatched", "approve_extension"),
            ("dispatched", "reassign"),
            ("dispatched", "reject_extension"),
            ("dispatched", "supervise"),
            ("handling", "approve_extension"),
            ("handling", "reject_extension"),
            ("handling", "supervise"),
            ("on_hold", "resume"),
            ("on_hold", "void"),
            ("reported", "dispatch"),
            ("reported", "hold"),
            ("reported", "void"),
            ("supervision", "release"),
            ("verifying", "close"),
            ("verifying", "rework"),
        ]
        + [(state, "merge") for state in workflow.OPEN_STATES]
    )
    assert workflow.actions_of(roles.MAINTENANCE_UNIT) == sorted(
        [
            ("dispatched", "accept"),
            ("dispatched", "handle"),
            ("dispatched", "request_extension"),
            ("dispatched", "return"),
            ("handling", "handle"),
            ("handling", "request_extension"),
            ("supervision", "handle"),
        ]
    )
    assert workflow.actions_of(roles.GRID_WORKER) == sorted(
        [("reported", "self_handle"), ("verifying", "close"), ("verifying", "rework"), ("verifying", "verify")]
    )
    assert workflow.actions_of(roles.GIS_EDITOR) == []
    assert set(workflow.actions_of(roles.ADMINISTRATOR)) == set(workflow.TRANSITIONS)


def _case_in(state: str, unit) -> Case:
    case = services.report_case(None, "06010", (LON, LAT), "EPSG:4490", "垃圾")
    Case.objects.filter(pk=case.pk).update(state=state, assigned_org=unit)
    return Case.objects.get(pk=case.pk)


@pytest.mark.parametrize("state", list(workflow.STATES))
def test_every_illegal_step_is_refused_with_the_allowed_actions(state, unit, admin_user):
    case = _case_in(state, unit)
    events = CaseEvent.objects.count()
    for action in workflow.ACTIONS:
        if workflow.transition(state, action) is not None:
            continue
        with pytest.raises(services.TransitionRefused) as refused:
            services.act(admin_user, case, action, note="why")
        assert refused.value.status == 409
        assert refused.value.allowed == workflow.next_actions(state)
        for allowed in refused.value.allowed:
            assert allowed in refused.value.message
    case.refresh_from_db()
    assert case.state == state and CaseEvent.objects.count() == events


def test_a_step_for_another_role_is_refused_403(unit, grid_worker, dispatcher):
    case = _case_in(State.REPORTED, unit)
    with pytest.raises(services.RoleRefused) as refused:
        services.dispatch(grid_worker, case)
    assert refused.value.status == 403
    assert Case.objects.get(pk=case.pk).state == State.REPORTED


def test_a_unit_acts_only_on_its_own_cases(unit, other_unit_user, unit_user):
    case = _case_in(State.DISPATCHED, unit)
    with pytest.raises(services.RoleRefused):
        services.accept(other_unit_user, case)
    assert services.accept(unit_user, case).state == State.HANDLING


def test_a_reason_is_needed_to_return_void_or_rework(unit, unit_user, dispatcher):
    case = _case_in(State.DISPATCHED, unit)
    with pytest.raises(services.ServiceError) as refused:
        services.act(unit_user, case, Action.RETURN, note="  ")
    assert refused.value.field == "note"
    returned = services.return_case(unit_user, case, "不是我单位的路灯")
    assert returned.state == State.REPORTED and returned.assigned_org is None


def test_close_needs_an_on_site_verification_after_handling(unit, unit_user, grid_worker):
    case = _case_in(State.HANDLING, unit)
    services.handle(unit_user, case, "已更换灯泡")
    with pytest.raises(services.TransitionRefused) as refused:
        services.close(grid_worker, case)
    assert refused.value.allowed == [Action.VERIFY, Action.REWORK]
    services.verify(grid_worker, case, "现场已亮")
    assert services.close(grid_worker, case).state == State.CLOSED


def test_rework_sends_it_back_and_asks_for_a_new_verification(unit, unit_user, grid_worker):
    case = _case_in(State.HANDLING, unit)
    services.handle(unit_user, case)
    services.verify(grid_worker, case)
    services.rework(grid_worker, case, "仍不亮")
    services.handle(unit_user, case)
    with pytest.raises(services.TransitionRefused):
        services.close(grid_worker, case)


def test_unknown_action_is_a_400_naming_it(unit, admin_user):
    case = _case_in(State.REPORTED, unit)
    with pytest.raises(services.ServiceError) as refused:
        services.act(admin_user, case, "explode")
    assert refused.value.status == 400 and "explode" in refused.value.message


def test_self_handled_case_is_verified_and_closed_by_the_grid_worker(unit, grid_worker):
    case = _case_in(State.REPORTED, unit)
    services.self_handle(grid_worker, case, "已当场清理")
    services.verify(grid_worker, case)
    assert services.close(grid_worker, case).state == State.CLOSED
