"""The status columns: state, data source and the retired flag, each looked up once per distinct value."""

from __future__ import annotations

from components.models import ComponentState, DataSource
from components.validation import state_error

from .columns import checked

_TRUE = {"true", "t", "1", "yes", "y", "是", "已注销"}
_FALSE = {"false", "f", "0", "no", "n", "否", ""}


def status_columns(cols: dict, errors: list) -> dict[str, list]:
    values = {}
    if "state" in cols:
        values["state"] = checked(cols["state"], _state_lookup(), "state", errors)
    if "data_source" in cols:
        sources = {v: v for v in DataSource.values} | {label: v for v, label in DataSource.choices}
        values["data_source"] = checked(
            cols["data_source"],
            lambda v: (
                None
                if not v
                else sources.get(
                    v,
                    sources.get(
                        v.lower(), ValueError(f"unknown data source {v!r}; use {', '.join(DataSource.values)}")
                    ),
                )
            ),
            "data_source",
            errors,
        )
    if "retired" in cols:
        values["retired"] = checked(cols["retired"], _flag, "retired", errors)
    return values


def _state_lookup():
    states = {}
    for s in ComponentState.objects.all():
        states[s.code] = states[s.name] = s

    def state_of(v):
        if not v:
            return None
        s = states.get(v) or states.get(v.lower())
        if s is None:
            return ValueError(f"unknown state {v!r}; use one of {', '.join(sorted(x.code for x in states.values()))}")
        reason = state_error(s)
        return ValueError(reason) if reason else s.code

    return state_of


def _flag(v):
    low = v.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    return ValueError(f"{v!r} is not true/false")
