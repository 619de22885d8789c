"""The case workflow as data: states, and the table (state, action) -> (next state, roles allowed).

Services read this table and nothing else to decide whether a step is allowed, so a change of the
workflow is a change of the table. State codes follow a real system's numbering (STANDARDS.md):
1 待受理, 3 立案派遣, 4 处理中, 5 核查结案, 6 结案, 7 作废, 8 挂账, 9 督查."""

from dataclasses import dataclass

from components.roles import ADMINISTRATOR, DISPATCHER, GRID_WORKER, MAINTENANCE_UNIT


class State:
    REPORTED = "reported"
    DISPATCHED = "dispatched"
    HANDLING = "handling"
    VERIFYING = "verifying"
    CLOSED = "closed"
    VOID = "void"
    ON_HOLD = "on_hold"
    SUPERVISION = "supervision"


STATES = {
    State.REPORTED: (1, "待受理"),
    State.DISPATCHED: (3, "立案派遣"),
    State.HANDLING: (4, "处理中"),
    State.VERIFYING: (5, "核查结案"),
    State.CLOSED: (6, "结案"),
    State.VOID: (7, "作废"),
    State.ON_HOLD: (8, "挂账"),
    State.SUPERVISION: (9, "督查"),
}
STATE_CHOICES = [(code, f"{number} {name}") for code, (number, name) in STATES.items()]
OPEN_STATES = frozenset(STATES) - {State.CLOSED, State.VOID}


class Action:
    REPORT = "report"  # the first event of every case; not a transition of the table
    DISPATCH = "dispatch"  # 立案派遣: register and send to the unit that answers for it
    VOID = "void"  # 作废
    HOLD = "hold"  # 挂账
    RESUME = "resume"  # back from 挂账
    SELF_HANDLE = "self_handle"  # 自行处置: the grid worker fixed it on the spot
    ACCEPT = "accept"  # the unit takes the case
    RETURN = "return"  # 回退: not ours (wrong unit), back to the dispatcher with a reason
    REASSIGN = "reassign"  # 改派: the dispatcher sends it to another unit
    HANDLE = "handle"  # 处置反馈: the unit reports it handled
    VERIFY = "verify"  # 核查: the grid worker checked on site that it is fixed
    REWORK = "rework"  # 返工: not fixed, back to the unit
    CLOSE = "close"  # 结案
    SUPERVISE = "supervise"  # 督查 / 督办
    RELEASE = "release"  # end of supervision, back to handling
    REQUEST_EXTENSION = "request_extension"  # 延期申请: the unit asks for more time (the clock pauses)
    APPROVE_EXTENSION = "approve_extension"  # 延期批准: the limit grows by the granted amount
    REJECT_EXTENSION = "reject_extension"  # 延期驳回
    MERGE = "merge"  # 合并: a duplicate merged into the case kept (layers/incidents/merging.py), then 作废


@dataclass(frozen=True)
class Transition:
    to: str
    roles: frozenset
    note_required: bool = False
    requires_verify: bool = False  # closing needs an on-site verification since the last handling
    routes: bool = False  # the step sends the case to a unit (dispatch, reassign)


_DESK = frozenset({DISPATCHER, ADMINISTRATOR})
_UNIT = frozenset({MAINTENANCE_UNIT, ADMINISTRATOR})
_FIELD = frozenset({GRID_WORKER, ADMINISTRATOR})

TRANSITIONS: dict[tuple[str, str], Transition] = {
    (State.REPORTED, Action.DISPATCH): Transition(State.DISPATCHED, _DESK, routes=True),
    (State.REPORTED, Action.VOID): Transition(State.VOID, _DESK, note_required=True),
    (State.REPORTED, Action.HOLD): Transition(State.ON_HOLD, _DESK, note_required=True),
    (State.REPORTED, Action.SELF_HANDLE): Transition(State.VERIFYING, _FIELD),
    (State.ON_HOLD, Action.RESUME): Transition(State.REPORTED, _DESK),
    (State.ON_HOLD, Action.VOID): Transition(State.VOID, _DESK, note_required=True),
    (State.DISPATCHED, Action.ACCEPT): Transition(State.HANDLING, _UNIT),
    (State.DISPATCHED, Action.RETURN): Transition(State.REPORTED, _UNIT, note_required=True),
    (State.DISPATCHED, Action.REASSIGN): Transition(State.DISPATCHED, _DESK, routes=True),
    (State.DISPATCHED, Action.HANDLE): Transition(State.VERIFYING, _UNIT),
    (State.DISPATCHED, Action.SUPERVISE): Transition(State.SUPERVISION, _DESK, note_required=True),
    (State.HANDLING, Action.HANDLE): Transition(State.VERIFYING, _UNIT),
    (State.HANDLING, Action.SUPERVISE): Transition(State.SUPERVISION, _DESK, note_required=True),
    (State.SUPERVISION, Action.HANDLE): Transition(State.VERIFYING, _UNIT),
    (State.SUPERVISION, Action.RELEASE): Transition(State.HANDLING, _DESK),
    (State.VERIFYING, Action.VERIFY): Transition(State.VERIFYING, _FIELD),
    (State.VERIFYING, Action.REWORK): Transition(State.HANDLING, _FIELD | _DESK, note_required=True),
    (State.VERIFYING, Action.CLOSE): Transition(State.CLOSED, _FIELD | _DESK, requires_verify=True),
}
# 延期 leaves the state as it is; whether a request is pending is checked by layers.incidents.extensions.
for _state in (State.DISPATCHED, State.HANDLING):
    TRANSITIONS[(_state, Action.REQUEST_EXTENSION)] = Transition(_state, _UNIT, note_required=True)
    TRANSITIONS[(_state, Action.APPROVE_EXTENSION)] = Transition(_state, _DESK)
    TRANSITIONS[(_state, Action.REJECT_EXTENSION)] = Transition(_state, _DESK, note_required=True)
# Any open case may turn out to repeat another; merging.merge() names the case kept.
TRANSITIONS.update({(s, Action.MERGE): Transition(State.VOID, _DESK) for s in sorted(OPEN_STATES)})
ACTIONS = sorted({action for _, action in TRANSITIONS})


def transition(state: str, action: str) -> Transition | None:
    return TRANSITIONS.get((state, action))


def next_actions(state: str, roles: set | frozenset | None = None) -> list[str]:
    """Actions allowed from `state` (to any of `roles`, when given), in a stable order."""
    return sorted(
        action for (s, action), t in TRANSITIONS.items() if s == state and (roles is None or t.roles & set(roles))
    )


def actions_of(role: str) -> list[tuple[str, str]]:
    """Every (state, action) pair a role may take."""
    return sorted(key for key, t in TRANSITIONS.items() if role in t.roles)
