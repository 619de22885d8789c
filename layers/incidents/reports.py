"""Daily, weekly and any-range case reports per street, community, base grid or unit, and the grid
worker ranking (issue 10 section 5). Definitions are in docs/incidents-reports.md.

Everything is counted by a few set-based queries: the cases touched in the period (reported in it,
with an event in it, or overdue during it) are aggregated once per case over their event log, then
grouped with a total row (ROLLUP). Only the working-time average is finished in Python, over the
close events of the period, with a prefix sum of working periods (one bisect per moment) instead of
walking the calendar for each case."""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from components import roles
from components.models import Organisation
from layers.models import Grid

from . import clock

LEVELS = {
    "street": ("street_code", "街道"),
    "community": ("community_code", "社区"),
    "grid": ("grid_code", "基础网格"),
    "unit": ("assigned_org_id", "处置单位"),
}
PERIODS = ("day", "week", "range")
MAX_RANGE_DAYS = 366

# (key, Chinese header) in the order of the CSV and XLSX columns.
COLUMNS = (
    ("code", "代码"),
    ("name", "名称"),
    ("received", "受理数"),
    ("registered", "立案数"),
    ("dispatched", "派遣数"),
    ("closed", "结案数"),
    ("dispatch_done", "派遣阶段完成数"),
    ("dispatch_on_time", "按时派遣数"),
    ("handle_done", "处置阶段完成数"),
    ("handle_on_time", "按时处置数"),
    ("close_done", "结案阶段完成数"),
    ("close_on_time", "按时结案数"),
    ("on_time_rate", "按时结案率(%)"),
    ("overdue", "超期数"),
    ("escalated", "升级数"),
    ("solved_in_grid", "网格内解决数"),
    ("solved_escalated", "升级后解决数"),
    ("solved_by_law", "执法解决数"),
    ("share_in_grid", "网格内解决占比(%)"),
    ("share_escalated", "升级解决占比(%)"),
    ("share_by_law", "执法解决占比(%)"),
    ("avg_handling_hours", "平均处置时长(工作小时)"),
)
COUNTS = [key for key, _ in COLUMNS[2:] if not key.startswith(("share_", "avg_", "on_time_rate"))]
RANKING_COLUMNS = (
    ("rank", "名次"),
    ("username", "账号"),
    ("name", "姓名"),
    ("reports", "上报数"),
    ("verified_closes", "核查结案数"),
)
RANKING_SIZE = 20

# A stage ends with these actions (from any state): 派遣 ends 受理/立案 (or the worker fixes it
# on the spot), 处置反馈 ends handling, 结案 ends verification.
STAGE_ENDS = {"dispatch": ("dispatch", "self_handle"), "handle": ("handle",), "close": ("close",)}


@dataclass(frozen=True)
class Period:
    kind: str
    first: dt.date  # first day
    last: dt.date  # last day, inclusive

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first, dt.time(), clock.SHANGHAI)

    @property
    def end(self) -> dt.datetime:
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(), clock.SHANGHAI)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "first": self.first.isoformat(), "last": self.last.isoformat()}


def period(kind: str, day: dt.date | None = None, first: dt.date | None = None, last: dt.date | None = None) -> Period:
    """A calendar day, the week (Monday to Sunday) holding `day`, or the days first..last (Shanghai)."""
    today = timezone.now().astimezone(clock.SHANGHAI).date()
    if kind == "day":
        return Period(kind, day or today, day or today)
    if kind == "week":
        monday = (day or today) - dt.timedelta(days=(day or today).weekday())
        return Period(kind, monday, monday + dt.timedelta(days=6))
    if kind == "range":
        if first is None or last is None or last < first:
            raise ValueError("a range needs date_from <= date_to")
        if (last - first).days >= MAX_RANGE_DAYS:
            raise ValueError(f"a range covers at most {MAX_RANGE_DAYS} days")
        return Period(kind, first, last)
    raise ValueError(f"period: one of {', '.join(PERIODS)}")


def law_enforcement_ids() -> list[int]:
    """Organisations counted as law enforcement (综合行政执法): their name holds a marker."""
    markers = getattr(settings, "GRIDCITY_LAW_ENFORCEMENT_MARKERS", ("执法",))
    ids: set[int] = set()
    for marker in markers:
        ids.update(Organisation.objects.filter(name__contains=marker).values_list("pk", flat=True))
    return sorted(ids)


def _stage_sql(stage: str) -> tuple[str, str]:
    actions = ", ".join(f"'{a}'" for a in STAGE_ENDS[stage])  # constants of this module
    done = f"e.action IN ({actions}) AND e.at >= %(s)s"
    # The deadline of the stage left: the one recorded for that state, else (结案 only) the case's own.
    deadline = "COALESCE(dl.due_at, CASE WHEN e.action = 'close' THEN c.due_at END)"
    return (
        f"count(*) FILTER (WHERE {done}) AS {stage}_done",
        f"count(*) FILTER (WHERE {done} AND ({deadline} IS NULL OR e.at <= {deadline})) AS {stage}_on_time",
    )


def _main_sql(key_column: str) -> str:
    stages = ",\n            ".join(part for stage in STAGE_ENDS for part in _stage_sql(stage))
    stage_sums = ", ".join(
        f"COALESCE(sum({s}_done), 0) AS {s}_done, COALESCE(sum({s}_on_time), 0) AS {s}_on_time" for s in STAGE_ENDS
    )
    return f"""
WITH touched AS (
    SELECT id FROM incidents_case WHERE created_at >= %(s)s AND created_at < %(e)s
    UNION
    SELECT case_id FROM incidents_caseevent WHERE at >= %(s)s AND at < %(e)s
),
per_case AS (
    SELECT c.{key_column} AS key,
           c.created_at >= %(s)s AND c.created_at < %(e)s AS received,
           COALESCE(c.assigned_org_id = ANY(%(law)s), FALSE) AS law,
           ev.*
      FROM touched t
      JOIN incidents_case c ON c.id = t.id
     CROSS JOIN LATERAL (
        SELECT
            COALESCE(bool_or(e.action = 'dispatch' AND e.at >= %(s)s), FALSE) AS registered,
            count(*) FILTER (WHERE e.action IN ('dispatch', 'reassign') AND e.at >= %(s)s) AS dispatches,
            max(e.at) FILTER (WHERE e.action = 'close') AS closed_at,
            COALESCE(bool_or(e.action = 'escalate' AND e.at >= %(s)s), FALSE) AS escalated_now,
            COALESCE(bool_or(e.action = 'escalate'), FALSE) AS ever_escalated,
            {stages}
          FROM incidents_caseevent e
          LEFT JOIN incidents_casestagedeadline dl ON dl.case_id = e.case_id AND dl.state = e.from_state
         WHERE e.case_id = c.id AND e.at < %(e)s
     ) ev
),
active AS (
    SELECT GROUPING(key) = 1 AS is_total, key,
           count(*) FILTER (WHERE received) AS received,
           count(*) FILTER (WHERE registered) AS registered,
           COALESCE(sum(dispatches), 0) AS dispatched,
           count(*) FILTER (WHERE closed_at >= %(s)s) AS closed,
           {stage_sums},
           count(*) FILTER (WHERE escalated_now) AS escalated,
           count(*) FILTER (WHERE closed_at >= %(s)s AND NOT law AND NOT ever_escalated) AS solved_in_grid,
           count(*) FILTER (WHERE closed_at >= %(s)s AND NOT law AND ever_escalated) AS solved_escalated,
           count(*) FILTER (WHERE closed_at >= %(s)s AND law) AS solved_by_law
      FROM per_case
     GROUP BY ROLLUP (key)
),
-- Overdue during the period: past the deadline before its end (or now), not void, and not closed
-- before the period began nor by the deadline. Open cases need no event; only the cases closed
-- since the period began look up their close.
late AS (
    SELECT GROUPING(key) = 1 AS is_total, key, count(*) AS overdue
      FROM (SELECT c.{key_column} AS key FROM incidents_case c
             WHERE c.due_at < %(c)s AND c.created_at < %(e)s AND c.state <> 'void'
               AND (c.state <> 'closed'
                    OR (c.updated_at >= %(s)s AND EXISTS (
                        SELECT 1 FROM incidents_caseevent x
                         WHERE x.case_id = c.id AND x.action = 'close' AND x.at >= %(s)s AND x.at > c.due_at)))
           ) o
     GROUP BY ROLLUP (key)
)
SELECT COALESCE(a.is_total, l.is_total), CASE WHEN a.is_total IS NULL THEN l.key ELSE a.key END,
       COALESCE(a.received, 0), COALESCE(a.registered, 0), COALESCE(a.dispatched, 0), COALESCE(a.closed, 0),
       {", ".join(f"COALESCE(a.{s}_done, 0), COALESCE(a.{s}_on_time, 0)" for s in STAGE_ENDS)},
       COALESCE(l.overdue, 0), COALESCE(a.escalated, 0),
       COALESCE(a.solved_in_grid, 0), COALESCE(a.solved_escalated, 0), COALESCE(a.solved_by_law, 0)
  FROM active a
  FULL JOIN late l ON l.is_total = a.is_total AND COALESCE(l.key::text, '') = COALESCE(a.key::text, '')
"""


CLOSED_SQL = """
SELECT c.{key}, c.created_at, e.at
  FROM incidents_caseevent e JOIN incidents_case c ON c.id = e.case_id
 WHERE e.action = 'close' AND e.at >= %(s)s AND e.at < %(e)s
"""


class WorkingTimeline:
    """Working minutes since an origin at any moment, from the clock's calendar and working hours:
    the working periods of the days first..last with a running sum, so the working time between
    two moments is two bisects. Matches clock.elapsed_working for spans without pauses."""

    def __init__(
        self,
        first: dt.date,
        last: dt.date,
        hours: clock.WorkingHours = clock.DEFAULT_HOURS,
        calendar: clock.WorkingCalendar = clock.DEFAULT_CALENDAR,
    ):
        # POSIX seconds: bisecting and subtracting floats is several times faster than datetimes.
        self.starts: list[float] = []
        self.ends: list[float] = []
        self.before: list[float] = []  # working minutes before each period starts
        total = 0.0
        day = first
        while day <= last:
            if calendar.day(day).working:
                for begin, end in hours.intervals(day):
                    self.starts.append(begin.timestamp())
                    self.ends.append(end.timestamp())
                    self.before.append(total)
                    total += (end - begin).total_seconds() / 60
            day += dt.timedelta(days=1)
        self.total = total

    def at(self, moment: dt.datetime) -> float:
        t = moment.timestamp()
        i = bisect.bisect_right(self.starts, t) - 1
        if i < 0:
            return 0.0
        return self.before[i] + (min(t, self.ends[i]) - self.starts[i]) / 60

    def minutes(self, start: dt.datetime, end: dt.datetime) -> float:
        return max(0.0, self.at(end) - self.at(start))


def _working_time(first: dt.date) -> tuple[clock.WorkingHours, clock.WorkingCalendar]:
    """The district's working hours and the database calendar (admin overrides, 调休) as the clock
    part keeps them (deadlines.load_tables); the package calendar and default hours without it."""
    try:
        from .deadlines import load_tables
    except ImportError:
        return clock.DEFAULT_HOURS, clock.DEFAULT_CALENDAR
    tables = load_tables(since=first)
    return tables.hours_of(None), tables.calendar


def _average_hours(key_column: str, params: dict) -> tuple[dict, float | None]:
    """Mean working hours from report to close of the cases closed in the period, per key and overall."""
    with connection.cursor() as cursor:
        cursor.execute(CLOSED_SQL.format(key=key_column), params)
        rows = cursor.fetchall()
    if not rows:
        return {}, None
    first = min(r[1] for r in rows).astimezone(clock.SHANGHAI).date()
    last = max(r[2] for r in rows).astimezone(clock.SHANGHAI).date()
    timeline = WorkingTimeline(first, last, *_working_time(first))
    sums: dict = {}
    for key, created, closed in rows:
        total, count = sums.get(key, (0.0, 0))
        sums[key] = (total + timeline.minutes(created, closed), count + 1)
    overall = sum(t for t, _ in sums.values()) / sum(n for _, n in sums.values()) / 60
    return {k: t / n / 60 for k, (t, n) in sums.items()}, overall


def _names(level: str, keys: list) -> dict:
    if level == "unit":
        found = Organisation.objects.filter(pk__in=[k for k in keys if k is not None]).values_list("pk", "uscc", "name")
        return {pk: (uscc, name) for pk, uscc, name in found}
    found = Grid.objects.filter(code__in=[k for k in keys if k]).values_list("code", "name")
    return {code: (code, name) for code, name in found}


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _finish(row: dict, hours: float | None) -> dict:
    row["on_time_rate"] = _percent(row["close_on_time"], row["close_done"])
    solved = row["solved_in_grid"] + row["solved_escalated"] + row["solved_by_law"]
    row["share_in_grid"] = _percent(row["solved_in_grid"], solved)
    row["share_escalated"] = _percent(row["solved_escalated"], solved)
    row["share_by_law"] = _percent(row["solved_by_law"], solved)
    row["avg_handling_hours"] = round(hours, 2) if hours is not None else None
    return {key: row.get(key) for key, _ in COLUMNS}


def ranking(p: Period, size: int = RANKING_SIZE) -> list[dict]:
    """Grid workers by cases they reported in the period, then by their on-site checks (核查) in the
    period of cases that are closed now."""
    user_table = get_user_model()._meta.db_table
    sql = f"""
WITH reported AS (
    SELECT reporter_id AS uid, count(*) AS n FROM incidents_case
     WHERE created_at >= %(s)s AND created_at < %(e)s AND reporter_id IS NOT NULL GROUP BY reporter_id
), verified AS (
    SELECT e.actor_id AS uid, count(DISTINCT e.case_id) AS n
      FROM incidents_caseevent e JOIN incidents_case c ON c.id = e.case_id
     WHERE e.action = 'verify' AND e.at >= %(s)s AND e.at < %(e)s AND c.state = 'closed' AND e.actor_id IS NOT NULL
     GROUP BY e.actor_id
)
SELECT u.username, trim(u.last_name || u.first_name), COALESCE(r.n, 0), COALESCE(v.n, 0)
  FROM reported r FULL JOIN verified v ON v.uid = r.uid
  JOIN {user_table} u ON u.id = COALESCE(r.uid, v.uid)
 WHERE EXISTS (SELECT 1 FROM {user_table}_groups ug JOIN auth_group g ON g.id = ug.group_id
                WHERE ug.user_id = u.id AND g.name = %(role)s)
 ORDER BY COALESCE(r.n, 0) + COALESCE(v.n, 0) DESC, COALESCE(v.n, 0) DESC, u.username
 LIMIT %(size)s
"""
    with connection.cursor() as cursor:
        cursor.execute(sql, {"s": p.start, "e": p.end, "role": roles.GRID_WORKER, "size": size})
        rows = cursor.fetchall()
    return [
        {"rank": i, "username": u, "name": name or u, "reports": n, "verified_closes": v}
        for i, (u, name, n, v) in enumerate(rows, 1)
    ]


def build(p: Period, level: str = "street", now: dt.datetime | None = None) -> dict:
    """The report for a period at a level: rows per code (sorted), a total row, the ranking."""
    if level not in LEVELS:
        raise ValueError(f"level: one of {', '.join(LEVELS)}")
    key_column, level_name = LEVELS[level]
    now = now or timezone.now()
    params = {"s": p.start, "e": p.end, "c": min(p.end, now), "law": law_enforcement_ids()}
    # A year's report at city scale reads every case and event of the year: more than the
    # per-request statement timeout allows, so the report's own read gets a longer one.
    timeout_ms = int(getattr(settings, "GRIDCITY_REPORT_STATEMENT_TIMEOUT_MS", 60_000))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(timeout_ms)])
        cursor.execute(_main_sql(key_column), params)
        names = [c.name for c in cursor.description]
        raw = cursor.fetchall()
        hours, overall = _average_hours(key_column, params)
    counts = ["is_total", "key", "received", "registered", "dispatched", "closed"]
    counts += [f"{s}_{part}" for s in STAGE_ENDS for part in ("done", "on_time")]
    counts += ["overdue", "escalated", "solved_in_grid", "solved_escalated", "solved_by_law"]
    assert len(names) == len(counts)
    labels = _names(level, [r[1] for r in raw if not r[0]])
    rows, total = [], None
    for values in raw:
        row = {k: (int(v) if k not in ("is_total", "key") else v) for k, v in zip(counts, values)}
        if row["is_total"]:
            row.update(code="", name="合计")
            total = _finish(row, overall)
            continue
        key = row["key"]
        code, name = labels.get(key, (key if isinstance(key, str) else "", None))
        row.update(
            code=code or "", name=name or ("（未派遣）" if level == "unit" else "（无网格）" if not key else code)
        )
        rows.append(_finish(row, hours.get(key)))
    rows.sort(key=lambda r: (r["code"] == "", r["code"]))
    if total is None:
        total = _finish({k: 0 for k in COUNTS} | {"code": "", "name": "合计"}, None)
    return {
        "period": p.as_dict(),
        "level": level,
        "level_name": level_name,
        "columns": [{"key": k, "title": t} for k, t in COLUMNS],
        "rows": rows,
        "total": total,
        "ranking_columns": [{"key": k, "title": t} for k, t in RANKING_COLUMNS],
        "ranking": ranking(p),
    }
