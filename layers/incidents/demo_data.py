"""Demo cases for the demo city: a seeded, plausible two months of a command centre's work.

    from layers.incidents.demo_data import load
    load(scale="demo", seed=1)            # ~2,000 cases over the last 60 days
    load(scale="city", seed=1)            # ~100,000 cases, in about a minute

Each case is simulated step by step (report, dispatch, accept, handle, verify, close, with the odd
回退, 返工, 督查, 挂账, 作废 and 自行处置) at working-time moments; steps that would lie in the future
are cut off, so recent cases are open at every state, and stalled ones are overdue and escalated.

DEMO-ONLY BULK PATH. The event log is append-only and `CaseEvent.at` is auto_now_add, so the services
cannot write a backdated history. This module INSERTs cases and events with explicit times by COPY
in one transaction (never an UPDATE or DELETE of an event: the log's triggers would refuse it), and
is refused in production. The real write path stays layers.incidents.services."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
import time
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction

from .workflow import OPEN_STATES, Action, State

SCALES = {"tiny": 150, "demo": 2_000, "city": 100_000}
DAYS = 60
ESCALATE = "escalate"  # the escalation event's action (helper "escalate" owns the real task)
LEVEL_NAMES = {1: "社区", 2: "街道", 3: "区"}
TZ = ZoneInfo(settings.TIME_ZONE)

# Event classes and the demo unit (fixtures.demo_city.orgs key) that answers for them everywhere.
EVENT_ROUTES = {
    "06": "huanwei",
    "06010": "huanwei",
    "06042": "huanwei",
    "06013": "shizheng",
    "07": "zhifa",
    "08": "zhujian",
    "09": "zhifa",
    "10": "zhifa",
}
# How often each event class is reported (a leaf class only; majors without sub-classes count as leaves).
EVENT_WEIGHTS = {"06010": 25, "06013": 15, "06042": 10, "09005": 12, "09006": 18, "09010": 6, "07": 6, "08": 5, "10": 3}
# Streetlights and manhole covers are most of what breaks in the street.
COMPONENT_CLASS_BOOST = {"0118": 6.0, "0101": 3.0, "0102": 3.0, "0103": 2.0, "0104": 2.0}
COMPONENT_SHARE = 0.55
SOURCE_WEIGHTS = {
    "grid_worker": 50,
    "hotline_12345": 18,
    "camera": 10,
    "open311": 8,
    "dispatcher": 7,
    "unit_patrol": 7,
}
SEVERITY_WEIGHTS = {"normal": 85, "major": 12, "urgent": 3}
SEVERITY_PACE = {"normal": 1.0, "major": 0.6, "urgent": 0.3}
GRID_WORKERS = [
    ("demo-grid-01", "王", "秀英"),
    ("demo-grid-02", "李", "建国"),
    ("demo-grid-03", "张", "丽"),
    ("demo-grid-04", "刘", "洋"),
    ("demo-grid-05", "陈", "静"),
    ("demo-grid-06", "杨", "磊"),
    ("demo-grid-07", "赵", "敏"),
    ("demo-grid-08", "黄", "勇"),
    ("demo-grid-09", "周", "艳"),
    ("demo-grid-10", "吴", "军"),
    ("demo-grid-11", "孔", "祥云"),
    ("demo-grid-12", "颜", "志刚"),
]

NOTES = {
    Action.VOID: ["重复上报，已合并处理", "经核实不属于城市管理范围", "现场核实无此问题"],
    Action.HOLD: ["涉及多部门，需协调后处置", "历史遗留问题，待专项整治", "需列入年度维修计划"],
    Action.RESUME: ["协调完毕，恢复处置", "专项整治启动"],
    Action.RETURN: ["非本单位管养范围，请改派", "权属不清，申请退回"],
    Action.SUPERVISE: ["超期未处置，督办", "群众多次反映，督查督办"],
    Action.RELEASE: ["督办完成"],
    Action.REWORK: ["现场核查未整改到位", "问题仍然存在，返工"],
    Action.HANDLE: ["已修复", "已处置完毕", "已更换", "已整改到位"],
    Action.VERIFY: ["现场核查已整改", "核查属实，已处置"],
    Action.SELF_HANDLE: ["现场已自行处置", "已劝离，现场恢复"],
    Action.ACCEPT: ["已接单", ""],
    Action.DISPATCH: [""],
    Action.CLOSE: ["", "结案"],
}
DESCRIPTIONS = {
    "grid_worker": "巡查发现{name}",
    "hotline_12345": "12345热线：群众反映{name}，请尽快处理",
    "camera": "视频监控发现{name}",
    "open311": "市民上报：{name}",
    "dispatcher": "指挥中心发现{name}",
    "unit_patrol": "单位巡查发现{name}",
}


class DemoRefused(Exception):
    pass


@dataclass
class Ev:
    at: dt.datetime
    action: str
    from_state: str
    to_state: str
    actor: int | None = None
    note: str = ""
    org: int | None = None


@dataclass
class Plan:
    number: str = ""
    id: int = 0
    source: str = ""
    class_id: int = 0
    severity: str = "normal"
    description: str = ""
    lon: float = 0.0
    lat: float = 0.0
    component_id: int | None = None
    reporter: int | None = None
    events: list[Ev] = field(default_factory=list)


# --- the world the cases happen in ------------------------------------------------------------------


def _demo_org(key: str):
    """A demo-city organisation by its fixed key (created when the demo city was not loaded)."""
    from components.models import Organisation
    from components.services import upsert_organisation
    from fixtures.demo_city import organisations

    row = next(o for o in organisations() if o["key"] == key)
    found = Organisation.objects.filter(uscc=row["uscc"]).first()
    if found is not None:
        return found
    return upsert_organisation(uscc=row["uscc"], name=row["name"], kinds=row["kinds"], phone=row["phone"])


def ensure_routing() -> dict[int, int]:
    """RoutingRule rows (everywhere) for the event classes the demo reports, unless an admin already set
    one; returns {case class id: organisation id} of every rule that applies district-wide."""
    from .models import CaseClass, RoutingRule

    for cls in CaseClass.objects.filter(code__in=EVENT_ROUTES, kind=CaseClass.Kind.EVENT, active=True):
        if not RoutingRule.objects.filter(case_class=cls, grid_code="").exists():
            RoutingRule.objects.create(case_class=cls, grid_code="", organisation=_demo_org(EVENT_ROUTES[cls.code]))
    return dict(RoutingRule.objects.filter(grid_code="").values_list("case_class_id", "organisation_id"))


def _demo_user(username: str, group, last: str = "", first: str = "", organisation=None) -> int:
    """A demo actor without a usable password: it only appears in histories and rankings."""
    from django.contrib.auth import get_user_model

    from components.models import UserProfile

    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"last_name": last, "first_name": first, "email": f"{username}@demo.invalid"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        if organisation is not None:
            UserProfile.objects.update_or_create(user=user, defaults={"organisation": organisation})
    user.groups.add(group)
    return user.pk


def ensure_people(org_ids) -> dict:
    """The actors: twelve named grid workers, three dispatchers, and one account per unit that has none
    (all demo-* without a usable password), plus the published demo accounts when they exist."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from components import roles
    from components.models import Organisation, UserProfile

    User = get_user_model()
    group = {name: Group.objects.get_or_create(name=name)[0] for name in roles.ALL}
    workers = [_demo_user(u, group[roles.GRID_WORKER], last, first) for u, last, first in GRID_WORKERS]
    dispatchers = [_demo_user(f"demo-dispatch-0{i}", group[roles.DISPATCHER], "调度", f"{i}号") for i in (1, 2, 3)]
    for username, bucket in (("grid_worker", workers), ("dispatcher", dispatchers)):
        pk = User.objects.filter(username=username).values_list("pk", flat=True).first()
        if pk:
            bucket.append(pk)
    units = dict(
        UserProfile.objects.filter(organisation_id__in=org_ids).order_by("pk").values_list("organisation_id", "user_id")
    )
    for org in Organisation.objects.filter(pk__in=set(org_ids) - set(units)).order_by("pk"):
        units[org.pk] = _demo_user(
            f"demo-unit-{org.uscc}", group[roles.MAINTENANCE_UNIT], first=org.name[:150], organisation=org
        )
    return {"workers": workers, "dispatchers": dispatchers, "units": units}


def component_pool(limit: int, seed: int) -> list[tuple]:
    """Live components an anomaly can be about (their class has a leaf anomaly class, someone maintains
    or owns them): (id, anomaly class id, component class code, lon, lat, maintainer else owner).
    Chosen by a hash of the code and the seed: the same for the same city whatever the row order."""
    with connection.cursor() as cur:
        cur.execute(
            """WITH leaf AS (
                   SELECT k.id, k.component_class_id FROM incidents_caseclass k
                   WHERE k.active AND k.component_class_id IS NOT NULL
                     AND NOT EXISTS (SELECT 1 FROM incidents_caseclass c WHERE c.parent_id = k.id)
               )
               SELECT c.id, min(leaf.id), cc.code, ST_X(ST_PointOnSurface(c.geom)), ST_Y(ST_PointOnSurface(c.geom)),
                      coalesce(c.maintainer_id, c.owner_id)
               FROM components_component c
               JOIN leaf ON leaf.component_class_id = c.component_class_id
               JOIN components_componentclass cc ON cc.id = c.component_class_id
               WHERE NOT c.retired AND coalesce(c.maintainer_id, c.owner_id) IS NOT NULL
               GROUP BY c.id, cc.code
               ORDER BY hashtext(c.code || %s), c.id
               LIMIT %s""",
            [str(seed), limit],
        )
        return cur.fetchall()


def event_classes() -> list[tuple[int, str, float]]:
    """(id, code, weight) of the reportable event classes the demo uses."""
    from .models import CaseClass

    rows = CaseClass.objects.filter(kind=CaseClass.Kind.EVENT, active=True, code__in=EVENT_WEIGHTS, children=None)
    return sorted((c.pk, c.code, float(EVENT_WEIGHTS[c.code])) for c in rows)


# --- time ---------------------------------------------------------------------------------------------


def _work(t: dt.datetime, rng: random.Random) -> dt.datetime:
    """The next working moment at or after `t` (08:30-12:00, 13:30-17:30, Monday to Friday, local): people
    act in office hours. Holidays are the clock's business, not the demo's."""
    local = t.astimezone(TZ)
    for _ in range(10):
        day_start = local.replace(hour=8, minute=30, second=0, microsecond=0)
        if local.weekday() >= 5:
            local = (day_start + dt.timedelta(days=7 - local.weekday())) + dt.timedelta(minutes=rng.uniform(0, 60))
            continue
        minutes = local.hour * 60 + local.minute
        if minutes < 8 * 60 + 30:
            return day_start + dt.timedelta(minutes=rng.uniform(0, 45))
        if 12 * 60 <= minutes < 13 * 60 + 30:
            return local.replace(hour=13, minute=30, second=0) + dt.timedelta(minutes=rng.uniform(0, 30))
        if minutes >= 17 * 60 + 30:
            local = day_start + dt.timedelta(days=1, minutes=rng.uniform(0, 45))
            continue
        return local
    return local


def _delay(rng: random.Random, median_min: float, spread: float, lo: float, hi: float) -> dt.timedelta:
    return dt.timedelta(minutes=min(hi, max(lo, rng.lognormvariate(math.log(median_min), spread))))


def _report_time(rng: random.Random, now: dt.datetime, days: int, source: str) -> dt.datetime:
    """Most reports in the day, some in the evening; cameras and the hotline around the clock."""
    day = (now - dt.timedelta(days=days * rng.random() ** 1.2)).astimezone(TZ)  # a little busier lately
    if source in ("camera", "hotline_12345") and rng.random() < 0.3:
        minute = rng.uniform(0, 24 * 60)
    elif rng.random() < 0.85:
        minute = rng.uniform(7.5 * 60, 18.5 * 60)
    else:
        minute = rng.uniform(18.5 * 60, 22.5 * 60)
    t = day.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(minutes=minute, seconds=rng.random())
    if t >= now:  # today, later than now: earlier today instead
        since_midnight = (now - now.astimezone(TZ).replace(hour=0, minute=0, second=0, microsecond=0)).total_seconds()
        t = now - dt.timedelta(seconds=rng.uniform(60, max(120, since_midnight)))
    return t


# --- one case's history ---------------------------------------------------------------------------------


class _Story:
    """Appends the steps of one case, each a little after the one before."""

    def __init__(self, rng, plan: Plan, people: dict, pace: float):
        self.rng, self.plan, self.people, self.pace = rng, plan, people, pace
        self.state = State.REPORTED
        self.t = None
        self.worker = plan.reporter if plan.reporter in people["workers"] else rng.choice(people["workers"])

    def note(self, action):
        return self.rng.choice(NOTES.get(action, [""]))

    def dispatcher(self):
        d = self.people["dispatchers"]
        return self.rng.choice(d) if d else None

    def step(self, action, to, delay, actor=None, org=None, note=None, office=True):
        t = self.t + delay * self.pace
        t = _work(t, self.rng) if office else t
        t = max(t, self.t + dt.timedelta(seconds=1))
        self.plan.events.append(Ev(t, action, self.state, to, actor, self.note(action) if note is None else note, org))
        self.state, self.t = to, t

    def escalations(self, until: dt.datetime, start_level: int = 0) -> int:
        """An escalation a working day or so into a stall, one level at a time, up to the district."""
        level, t = start_level, self.t
        while level < 3:
            t = _work(t + dt.timedelta(hours=self.rng.uniform(20, 30)), self.rng)
            if t >= until:
                break
            level += 1
            self.plan.events.append(
                Ev(t, ESCALATE, self.state, self.state, None, f"超时未处置，升级至{LEVEL_NAMES[level]}级")
            )
            self.t = t
        return level


def simulate(rng: random.Random, plan: Plan, org: int, other_orgs: list[int], people: dict, pace: float) -> None:
    s = _Story(rng, plan, people, pace)
    s.t = plan.events[0].at
    unit = people["units"].get
    u = rng.random()
    stalled = rng.random() < 0.08  # a step that drags on for days: overdue, then escalated
    long = dt.timedelta(days=rng.uniform(3, 15))
    if u < 0.04:
        s.step(Action.VOID, State.VOID, _delay(rng, 60, 1.0, 5, 600), s.dispatcher())
        return
    if u < 0.08:
        s.step(Action.HOLD, State.ON_HOLD, _delay(rng, 90, 1.0, 10, 900), s.dispatcher())
        if rng.random() < 0.5:
            return  # still parked
        s.step(Action.RESUME, State.REPORTED, dt.timedelta(days=rng.uniform(2, 12)), s.dispatcher())
    elif plan.source == "grid_worker" and u < 0.22:
        s.step(Action.SELF_HANDLE, State.VERIFYING, _delay(rng, 20, 0.8, 2, 120), plan.reporter, office=False)
        s.step(Action.VERIFY, State.VERIFYING, _delay(rng, 60, 0.8, 5, 600), s.worker)
        s.step(Action.CLOSE, State.CLOSED, _delay(rng, 30, 1.0, 2, 600), s.worker)
        return
    if other_orgs and rng.random() < 0.05:  # sent to the wrong unit first: 回退 and dispatched again
        wrong = rng.choice(other_orgs)
        s.step(Action.DISPATCH, State.DISPATCHED, _delay(rng, 40, 1.0, 3, 480), s.dispatcher(), wrong)
        s.step(Action.RETURN, State.REPORTED, _delay(rng, 120, 1.0, 10, 1440), unit(wrong))
    s.step(Action.DISPATCH, State.DISPATCHED, _delay(rng, 40, 1.0, 3, 480), s.dispatcher(), org)
    if stalled and rng.random() < 0.5:
        before = s.t
        s.escalations(before + long * pace)  # nobody takes the case
        s.t = before
        s.step(Action.ACCEPT, State.HANDLING, long, unit(org))
    else:
        s.step(Action.ACCEPT, State.HANDLING, _delay(rng, 90, 1.0, 5, 2880), unit(org))
    if rng.random() < 0.04:
        s.step(Action.SUPERVISE, State.SUPERVISION, dt.timedelta(days=rng.uniform(1, 4)), s.dispatcher())
    if stalled and s.state == State.HANDLING and not any(e.action == ESCALATE for e in plan.events):
        before = s.t
        s.escalations(before + long * pace)
        s.t = before
        s.step(Action.HANDLE, State.VERIFYING, long, unit(org))
    else:
        s.step(Action.HANDLE, State.VERIFYING, _delay(rng, 600, 1.0, 30, 6 * 1440), unit(org))
    s.step(Action.VERIFY, State.VERIFYING, _delay(rng, 180, 1.0, 10, 2880), s.worker)
    if rng.random() < 0.06:
        s.step(Action.REWORK, State.HANDLING, _delay(rng, 20, 1.0, 1, 240), s.worker)
        s.step(Action.HANDLE, State.VERIFYING, _delay(rng, 600, 1.0, 30, 4 * 1440), unit(org))
        s.step(Action.VERIFY, State.VERIFYING, _delay(rng, 180, 1.0, 10, 2880), s.worker)
    s.step(Action.CLOSE, State.CLOSED, _delay(rng, 30, 1.0, 2, 600), s.worker)


def _sort_and_cut(plan: Plan, now: dt.datetime) -> None:
    """Events in time order (an escalation falls between the steps it happened between), none in the
    future; the escalations' states follow the step before them."""
    events = sorted(plan.events, key=lambda e: e.at)
    kept, state = [], ""
    for e in events:
        if e.at > now:
            break
        if e.action == ESCALATE:
            e.from_state = e.to_state = state
        kept.append(e)
        state = e.to_state
    plan.events = kept


def plan_cases(n: int, seed: int, now: dt.datetime, days: int, world: dict) -> list[Plan]:
    """n case histories, deterministic for (n, seed, now, world)."""
    rng = random.Random(seed)
    pool, events, routes, people = world["pool"], world["event_classes"], world["routes"], world["people"]
    orgs = sorted(set(routes.values()) | {p[5] for p in pool})
    # cumulative once: rng.choices with plain weights sums them again on every call (200,000 a time)
    pool_cum = list(itertools.accumulate(COMPONENT_CLASS_BOOST.get(p[2], 1.0) for p in pool))
    sources, source_w = list(SOURCE_WEIGHTS), list(SOURCE_WEIGHTS.values())
    sev, sev_w = list(SEVERITY_WEIGHTS), list(SEVERITY_WEIGHTS.values())
    names = world["class_names"]
    plans = []
    routable_events = [c for c in events if routes.get(c[0]) or routes.get(world["parents"].get(c[0]))]
    for _ in range(n):
        plan = Plan(source=rng.choices(sources, source_w)[0], severity=rng.choices(sev, sev_w)[0])
        if pool and (rng.random() < COMPONENT_SHARE or not routable_events):
            comp_id, class_id, _code, lon, lat, org = rng.choices(pool, cum_weights=pool_cum)[0]
            plan.component_id, plan.class_id = comp_id, class_id
            plan.lon, plan.lat = lon + rng.gauss(0, 2e-5), lat + rng.gauss(0, 2e-5)  # a few metres off
        elif routable_events:
            class_id, _code, _w = rng.choices(routable_events, [c[2] for c in routable_events])[0]
            plan.class_id = class_id
            org = routes.get(class_id) or routes.get(world["parents"].get(class_id))
            if pool:  # where people and things are: near a component, on the street side
                _c, _k, _cc, lon, lat, _o = pool[rng.randrange(len(pool))]
                d, a = rng.uniform(5, 40), rng.uniform(0, 2 * math.pi)
                plan.lon = lon + d * math.cos(a) / (111_320 * math.cos(math.radians(lat)))
                plan.lat = lat + d * math.sin(a) / 110_574
            else:
                minx, miny, maxx, maxy = settings.GRIDCITY_DISTRICT_BBOX
                plan.lon, plan.lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        else:
            raise DemoRefused("no case class to report: seed the classes (manage.py seed_classes) first")
        plan.description = DESCRIPTIONS[plan.source].format(name=names[plan.class_id])
        if plan.source == "grid_worker" and people["workers"]:
            plan.reporter = rng.choice(people["workers"])
        elif plan.source in ("dispatcher", "hotline_12345") and people["dispatchers"]:
            plan.reporter = rng.choice(people["dispatchers"])
        elif plan.source == "unit_patrol":
            plan.reporter = people["units"].get(org)
        t0 = _report_time(rng, now, days, plan.source)
        plan.events.append(Ev(t0, Action.REPORT, "", State.REPORTED, plan.reporter))
        others = [o for o in orgs if o != org]
        simulate(rng, plan, org, others, people, SEVERITY_PACE[plan.severity])
        _sort_and_cut(plan, now)
        plans.append(plan)
    return plans


# --- writing ------------------------------------------------------------------------------------------


def _numbers(plans: list[Plan]) -> None:
    """Date + serial from the same per-day counter the services use, raised once per day by the
    day's count, so later live reports continue after the demo's numbers."""
    by_day: dict[dt.date, list[Plan]] = {}
    for p in sorted(plans, key=lambda p: p.events[0].at):
        by_day.setdefault(p.events[0].at.astimezone(TZ).date(), []).append(p)
    with connection.cursor() as cur:
        for day, group in by_day.items():
            cur.execute(
                """INSERT INTO incidents_casenumbercounter (day, last_serial) VALUES (%s, %s)
                   ON CONFLICT (day) DO UPDATE SET last_serial = incidents_casenumbercounter.last_serial + %s
                   RETURNING last_serial""",
                [day, len(group), len(group)],
            )
            last = cur.fetchone()[0]
            if last > 999_999:
                raise DemoRefused(f"no case numbers left for {day}")
            for i, p in enumerate(group):
                p.number = f"{day:%Y%m%d}{last - len(group) + i + 1:06d}"


def _state_of(plan: Plan) -> tuple[str, int | None, int]:
    org, level = None, 0
    for e in plan.events:
        if e.action in (Action.DISPATCH, Action.REASSIGN):
            org = e.org
        elif e.action == Action.RETURN:
            org = None
        elif e.action == ESCALATE:
            level = min(3, level + 1)
    return plan.events[-1].to_state, org, level


def write(plans: list[Plan]) -> int:
    """COPY into a staging table, then one INSERT that fixes each case's grid codes from the grids it
    lies in (as the services do at registration), then COPY the events. Returns the events written."""
    _numbers(plans)
    plans.sort(key=lambda p: (p.events[0].at, p.number))
    with connection.cursor() as cur:
        cur.execute(
            "SELECT nextval(pg_get_serial_sequence('incidents_case', 'id')) FROM generate_series(1, %s)", [len(plans)]
        )
        for p, (pk,) in zip(plans, cur.fetchall()):
            p.id = pk
        cur.execute("DROP TABLE IF EXISTS demo_case_stage")
        cur.execute(
            """CREATE TEMP TABLE demo_case_stage (
                   id bigint, number text, source text, case_class_id bigint, severity text, description text,
                   lon float8, lat float8, component_id bigint, state text, assigned_org_id bigint,
                   reporter_id bigint, escalation_level smallint, stage_started_at timestamptz,
                   created_at timestamptz, updated_at timestamptz) ON COMMIT DROP"""
        )
        with cur.cursor.copy("COPY demo_case_stage FROM STDIN") as copy:
            for p in plans:
                state, org, level = _state_of(p)
                last = p.events[-1].at
                # the current stage began with the last step (an escalation does not restart it)
                stage = next(e.at for e in reversed(p.events) if e.action != ESCALATE)
                copy.write_row(
                    (p.id, p.number, p.source, p.class_id, p.severity, p.description, p.lon, p.lat, p.component_id,
                     state, org, p.reporter, level, stage if state in OPEN_STATES else None, p.events[0].at, last)
                )  # fmt: skip
        grid = (
            "coalesce((SELECT g.code FROM layers_grid g WHERE g.level_id = {} AND ST_Intersects(g.geom, s.geom) "
            "ORDER BY g.code LIMIT 1), '')"
        )
        cur.execute(
            f"""INSERT INTO incidents_case (id, number, source, case_class_id, severity, description, geom,
                    component_id, grid_code, community_code, street_code, state, assigned_org_id, reporter_id,
                    due_at, warn_at, stage_started_at, calendar_known, escalation_level, client_token,
                    created_at, updated_at)
                SELECT s.id, s.number, s.source, s.case_class_id, s.severity, s.description, s.geom,
                       s.component_id, {grid.format(4)}, {grid.format(3)}, {grid.format(2)}, s.state,
                       s.assigned_org_id, s.reporter_id, NULL, NULL, s.stage_started_at, TRUE,
                       s.escalation_level, '', s.created_at, s.updated_at
                FROM (SELECT *, ST_SetSRID(ST_MakePoint(lon, lat), 4490) AS geom FROM demo_case_stage) s
                ORDER BY s.id"""
        )
        cur.execute("DROP TABLE demo_case_stage")  # a caller's outer transaction may go on (tests)
        n_events = 0
        with cur.cursor.copy(
            "COPY incidents_caseevent (case_id, at, actor_id, from_state, to_state, action, note, organisation_id) "
            "FROM STDIN"
        ) as copy:
            for p in plans:
                for e in p.events:
                    copy.write_row((p.id, e.at, e.actor, e.from_state, e.to_state, e.action, e.note, e.org))
                    n_events += 1
    return n_events


def _refuse_in_production() -> None:
    from components.auth import is_production

    if is_production():
        raise DemoRefused("demo incidents are refused in production (GRIDCITY_ENV=production)")


def load(
    scale: str = "demo",
    seed: int = 1,
    if_empty: bool = False,
    now: dt.datetime | None = None,
    days: int = DAYS,
    count: int | None = None,
) -> dict:
    """Loads `count` (default: the scale's) demo cases over the `days` before `now`. Returns a summary."""
    from .models import Case, CaseClass
    from .seed import seed_case_classes

    _refuse_in_production()
    started = time.perf_counter()
    if if_empty and Case.objects.exists():
        return {"skipped": True, "existing": Case.objects.count()}
    n = SCALES[scale] if count is None else count
    now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    with transaction.atomic():
        with connection.cursor() as cur:
            # one bulk load, not a request: at city scale the grid lookup of 100,000 points alone takes
            # longer than the requests' statement timeout (GRIDCITY_STATEMENT_TIMEOUT_MS)
            cur.execute("SET LOCAL statement_timeout = 0")
        if not CaseClass.objects.exists():
            seed_case_classes()
        routes = ensure_routing()
        pool = component_pool(max(50, min(3 * n, 200_000)), seed)
        world = {
            "routes": routes,
            "people": ensure_people(set(routes.values()) | {p[5] for p in pool}),
            "pool": pool,
            "event_classes": event_classes(),
            "class_names": dict(CaseClass.objects.values_list("pk", "name")),
            "parents": dict(CaseClass.objects.filter(parent__isnull=False).values_list("pk", "parent_id")),
        }
        plans = plan_cases(n, seed, now, days, world)
        planned = time.perf_counter()
        n_events = write(plans)
        _first_reporters([p.number for p in plans])
        ensure_staff(world["people"]["dispatchers"])
    with connection.cursor() as cur:
        cur.execute("ANALYZE incidents_case")
        cur.execute("ANALYZE incidents_caseevent")
    recomputed = _recompute(now)
    _drop_tiles(plans)
    states: dict[str, int] = {}
    for p in plans:
        states[p.events[-1].to_state] = states.get(p.events[-1].to_state, 0) + 1
    return {
        "skipped": False,
        "cases": len(plans),
        "events": n_events,
        "states": dict(sorted(states.items())),
        "escalated": sum(1 for p in plans if any(e.action == ESCALATE for e in p.events)),
        "recomputed": recomputed,
        "plan_seconds": round(planned - started, 1),
        "seconds": round(time.perf_counter() - started, 1),
    }


def ensure_staff(dispatchers: list[int]) -> int:
    """Who answers when a case goes up (escalation.py): a 社区网格长 per community, a 街道指挥中心 per
    street (reached by phone) and the district's duty officer (a demo dispatcher's account, so the
    escalation messages reach an inbox). Only where a level has nobody yet; returns the rows added."""
    from django.conf import settings

    from layers.grids.models import Grid

    from .escalation_models import GridStaff, Level

    have = set(GridStaff.objects.values_list("level", "grid_code"))
    rows = []
    for grid in Grid.objects.filter(level_id__in=(2, 3)).order_by("code"):
        level = Level.COMMUNITY if grid.level_id == 3 else Level.STREET
        if (level, grid.code) in have:
            continue
        duty = "社区网格长" if level == Level.COMMUNITY else "街道指挥中心值班"
        phone = f"0537-34{int(grid.code[-6:]) % 100000:05d}"
        rows.append(GridStaff(level=level, grid_code=grid.code, name=f"{grid.name}{duty}", phone=phone, duty=duty))
    district = settings.GRIDCITY_ADMIN_CODE
    if (Level.DISTRICT, district) not in have:
        rows.append(
            GridStaff(
                level=Level.DISTRICT,
                grid_code=district,
                user_id=dispatchers[0] if dispatchers else None,
                name="区城市运行管理服务中心值班长",
                phone="0537-3412345",
                duty="值班长",
            )
        )
    GridStaff.objects.bulk_create(rows)
    return len(rows)


def _first_reporters(numbers: list[str]) -> None:
    """Each loaded case's first reporter row, as report_case writes it (the card lists reporters)."""
    with connection.cursor() as cur:
        cur.execute(
            """INSERT INTO incidents_casereporter (case_id, user_id, name, phone, source, reported_at, from_case_id)
               SELECT c.id, c.reporter_id, LEFT(COALESCE(u.username, ''), 50), '', c.source, c.created_at, NULL
               FROM incidents_case c LEFT JOIN auth_user u ON u.id = c.reporter_id
               WHERE c.number = ANY(%s)""",
            [numbers],
        )


def _recompute(now) -> int | None:
    """Deadlines of the open cases by the clock, from the loaded event logs."""
    from . import deadlines

    return deadlines.recompute_open()


def _drop_tiles(plans: list[Plan]) -> None:
    from .models import Case
    from .signals import incidents_changed

    if not plans:
        return
    xs, ys = [p.lon for p in plans], [p.lat for p in plans]
    incidents_changed.send(sender=Case, numbers=[p.number for p in plans], bbox=(min(xs), min(ys), max(xs), max(ys)))
