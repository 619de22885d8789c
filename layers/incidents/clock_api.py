"""The clock in the case API: the properties of one case (deadline, light, time left, limit), the
`overdue` filter and the `ordering=time_left` queue order. The numbers are computed from the log at
the moment of the request (deadlines.statuses, once per page); filter and order use the stored
due_at, which refresh/recompute_open keep current."""

from django.db.models import F
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from gis_core.errors import ClientError

from . import deadlines
from .clock_models import UNIT_VALUES, Stage
from .workflow import Action

PARAMS = [
    OpenApiParameter("overdue", bool, description="true: past the deadline (红灯); false: not (or no deadline)"),
    OpenApiParameter(
        "ordering",
        str,
        enum=["time_left"],
        description="time_left: the queue, least time left first (no deadline last)",
    ),
]


def attach(cases, now=None) -> None:
    """Computes the clock of a page of cases in one go (for case_properties)."""
    cases = list(cases)
    found = deadlines.statuses(cases, now or timezone.now())
    for case in cases:
        case._clock = found[case.pk]


def _status(case):
    status = getattr(case, "_clock", None)
    if status is None:
        status = case._clock = deadlines.status_of(case)
    return status


def possible(case, actions: list[str]) -> list[str]:
    """The workflow's next actions less the 延期 steps the log rules out: a request while one is
    pending, a decision while none is."""
    pending = _status(case).extension_pending
    return [
        a
        for a in actions
        if a not in (Action.REQUEST_EXTENSION, Action.APPROVE_EXTENSION, Action.REJECT_EXTENSION)
        or (a == Action.REQUEST_EXTENSION) != pending
    ]


def properties(case) -> dict:
    status = _status(case)
    return {
        "due_at": status.due_at,
        "warn_at": status.warn_at,
        "stage_started_at": status.started_at,
        "light": status.light,
        "time_left_minutes": status.time_left_minutes,
        "limit": status.limit_dict(),
        "calendar_known": status.calendar_known,
        "clock_paused": status.paused,
    }


def filter_and_order(qs, params, default_order=("-created_at", "-id")):
    overdue = params.get("overdue")
    if overdue is not None:
        if overdue not in ("true", "false"):
            raise ClientError("overdue: true or false", field="overdue")
        now = timezone.now()
        qs = qs.filter(due_at__lt=now) if overdue == "true" else qs.exclude(due_at__lt=now)
    ordering = params.get("ordering")
    if ordering is None:
        return qs.order_by(*default_order)
    if ordering != "time_left":
        raise ClientError(f"ordering: unknown value {ordering!r}: one of time_left", field="ordering")
    # Time left grows with due_at (same calendar for all; unit hours may differ by minutes).
    return qs.order_by(F("due_at").asc(nulls_last=True), "id")


class LimitSerializer(serializers.Serializer):
    amount = serializers.FloatField()
    unit = serializers.ChoiceField(choices=UNIT_VALUES)
    stage = serializers.ChoiceField(choices=Stage.values)


class ClockPropertiesSerializer(serializers.Serializer):
    """Documentation of properties(): mixed into the case answer."""

    due_at = serializers.DateTimeField(allow_null=True, help_text="deadline of the current stage")
    warn_at = serializers.DateTimeField(allow_null=True, help_text="yellow light (黄灯) from this moment")
    stage_started_at = serializers.DateTimeField(allow_null=True)
    light = serializers.ChoiceField(choices=["green", "yellow", "red"], allow_null=True)
    time_left_minutes = serializers.IntegerField(
        allow_null=True, help_text="working minutes (wall minutes for calendar limits) left; negative when overdue"
    )
    limit = LimitSerializer(allow_null=True, help_text="the current stage's limit (null: no clock)")
    calendar_known = serializers.BooleanField(help_text="false: the deadline crosses a year outside the calendar")
    clock_paused = serializers.BooleanField(help_text="挂账 or a pending 延期 request stops the clock")


class ExtensionFields(serializers.Serializer):
    """Action body fields of request_extension / approve_extension."""

    amount = serializers.DecimalField(
        max_digits=8, decimal_places=2, required=False, allow_null=True, help_text="延期: how much more time"
    )
    unit = serializers.ChoiceField(choices=UNIT_VALUES, required=False, allow_null=True, help_text="延期: its unit")


def extension_of(data) -> dict | None:
    if data.get("amount") is None and data.get("unit") is None:
        return None
    return {"amount": data.get("amount"), "unit": data.get("unit")}
