"""延期 (extension): a unit asks for more time, the dispatch desk approves (possibly less) or rejects.
The state does not change; the request pauses the clock until decided, and an approval grows the
stage's limit by the granted amount (deadlines.py). Amounts live in CaseExtension rows, one per event."""

from decimal import Decimal, InvalidOperation

from gis_core.errors import ServiceError

from . import deadlines, workflow
from .clock import Limit, Unit
from .clock_models import DAY_UNITS, UNIT_VALUES, CaseExtension
from .workflow import Action

ACTIONS = (Action.REQUEST_EXTENSION, Action.APPROVE_EXTENSION, Action.REJECT_EXTENSION)
MAX_AMOUNT = Decimal("999")


def _limit(extension) -> Limit | None:
    if not extension or extension.get("amount") is None:
        return None
    try:
        amount = Decimal(str(extension["amount"]))
    except (InvalidOperation, ValueError, TypeError):
        raise ServiceError({"amount": "must be a number"}) from None
    if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT:
        raise ServiceError({"amount": f"must be more than 0 and at most {MAX_AMOUNT}"})
    if amount.as_tuple().exponent < -2:
        raise ServiceError({"amount": "at most two decimal places"})
    unit = extension.get("unit")
    if unit not in UNIT_VALUES:
        raise ServiceError({"unit": f"one of {', '.join(UNIT_VALUES)}"})
    if unit in DAY_UNITS and amount != amount.to_integral_value():
        raise ServiceError({"amount": "days are whole numbers: use hours for parts of a day"})
    return Limit(amount, Unit(unit))


def _requested(events) -> Limit | None:
    for event in reversed(events):
        if event.action == Action.REQUEST_EXTENSION:
            return deadlines._amount(event)
    return None


def prepare(case, action: str, extension: dict | None) -> Limit | None:
    """Before a step is written: refuses what the log does not allow (a second request while one is
    pending, a decision with none pending: 409) and returns the amount to record with the event."""
    if action not in ACTIONS:
        if extension and extension.get("amount") is not None:
            raise ServiceError({"amount": f"{action} takes no amount"})
        return None
    from .services import TransitionRefused

    events = list(case.events.select_related("extension").order_by("at", "id"))
    line = deadlines.read_log(events, case.state)
    pending = line is not None and line.request_since is not None
    allowed = [
        a for a in workflow.next_actions(case.state) if a not in ACTIONS or (a == Action.REQUEST_EXTENSION) != pending
    ]
    if action == Action.REQUEST_EXTENSION:
        if pending:
            raise TransitionRefused("a 延期 request is already waiting for a decision", allowed)
        limit = _limit(extension)
        if limit is None:
            raise ServiceError({"amount": "request_extension needs an amount and a unit"})
        return limit
    if not pending:
        raise TransitionRefused(f"no 延期 request is pending, nothing to {action.split('_')[0]}", allowed)
    if action == Action.REJECT_EXTENSION:
        if extension and extension.get("amount") is not None:
            raise ServiceError({"amount": "a rejection grants no time"})
        return None
    # Approving without an amount grants what was asked.
    return _limit(extension) or _requested(events)


def record(event, limit: Limit | None) -> None:
    if limit is not None:
        CaseExtension.objects.create(event=event, amount=limit.amount, unit=limit.unit.value)


def pending(case) -> bool:
    events = list(case.events.order_by("at", "id"))
    line = deadlines.read_log(events, case.state)
    return line is not None and line.request_since is not None
