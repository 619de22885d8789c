"""What the escalation part adds to the `incidents` layer (map_layers.py): the overdue / warning
lights and the escalation level as tile columns and WFS/WMS properties, and the tile filters grid,
date range, overdue and escalated.

Lights depend on now(): a cached tile keeps the colour it was drawn with until the case is announced
again. escalation.announce_lights() announces the cases that turned yellow or red since the last run
of the escalation task, so a tile is at most one beat interval late."""

import datetime as dt

from django.db.models import BooleanField, Case, Q, Value, When
from django.db.models.functions import Now

from layers.catalogue import Property, TileFilter

from .workflow import OPEN_STATES

_OPEN = ", ".join(f"'{s}'" for s in sorted(OPEN_STATES))  # constants of ours, no request value
OVERDUE_SQL = f"(t.state IN ({_OPEN}) AND COALESCE(t.due_at < now(), FALSE))"
WARNING_SQL = f"(t.state IN ({_OPEN}) AND COALESCE(t.warn_at <= now() AND now() <= t.due_at, FALSE))"
# The district's own local day: a date filter means a day in Beijing time, whatever the server's zone.
LOCAL_DAY = "(%s::date::timestamp AT TIME ZONE 'Asia/Shanghai')"

COLUMNS = (
    ("overdue", OVERDUE_SQL),
    ("warning", WARNING_SQL),
    ("escalation_level", "t.escalation_level"),
)

PROPERTIES = (
    Property("overdue", "overdue", "boolean", "超期 (红灯)"),
    Property("warning", "warning", "boolean", "预警 (黄灯)"),
    Property("escalation_level", "escalation_level", "int", "升级层级 (0 网格 1 社区 2 街道 3 区)"),
)


def with_lights(qs):
    """The layer's queryset with the `overdue` and `warning` annotations behind the properties."""
    open_ = Q(state__in=sorted(OPEN_STATES))
    return qs.annotate(
        overdue=Case(
            When(open_ & Q(due_at__lt=Now()), then=Value(True)), default=Value(False), output_field=BooleanField()
        ),
        warning=Case(
            When(open_ & Q(warn_at__lte=Now(), due_at__gte=Now()), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
    )


def _grids(values: list[str]) -> list:
    bad = [v for v in values if not (v.isascii() and v.isdigit() and 6 <= len(v) <= 18)]
    if bad:
        raise ValueError(f"not a grid code: {bad[0][:20]}")
    return [values, values, values]


def _one_date(values: list[str]) -> list:
    if len(values) != 1:
        raise ValueError("give one date YYYY-MM-DD")
    try:
        return [dt.date.fromisoformat(values[0])]
    except ValueError:
        raise ValueError("must be a date YYYY-MM-DD") from None


def _boolean(values: list[str]) -> list:
    if len(values) != 1 or values[0].lower() not in ("true", "false"):
        raise ValueError("true or false")
    return [values[0].lower() == "true"]


FILTERS = (
    TileFilter(
        "grid",
        "网格、社区或街道代码",
        _grids,
        "(t.grid_code = ANY(%s) OR t.community_code = ANY(%s) OR t.street_code = ANY(%s))",
    ),
    TileFilter("date_from", "上报日期起 (含)", _one_date, f"t.created_at >= {LOCAL_DAY}"),
    TileFilter("date_to", "上报日期止 (含)", _one_date, f"t.created_at < {LOCAL_DAY} + interval '1 day'"),
    TileFilter("overdue", "超期 true/false", _boolean, f"{OVERDUE_SQL} = %s"),
    TileFilter("escalated", "已升级 true/false", _boolean, "(t.escalation_level > 0) = %s"),
)

# Points: the state's colour inside, a ring red when overdue, amber when warned, white otherwise.
RING_COLOUR = [
    "case",
    ["==", ["get", "overdue"], True],
    "#dc2626",
    ["==", ["get", "warning"], True],
    "#f59e0b",
    "#ffffff",
]
RING_WIDTH = ["case", ["any", ["==", ["get", "overdue"], True], ["==", ["get", "warning"], True]], 3, 1.5]
