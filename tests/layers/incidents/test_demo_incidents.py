"""The demo cases (layers.incidents.demo_data, manage.py load_demo_incidents): counts, histories that
the workflow could have written, states that follow from them, and the same cases for the same seed."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from components.models import ComponentClass
from layers.incidents import demo_data, workflow
from layers.incidents.demo_data import ESCALATE, SCALES, DemoRefused, load
from layers.incidents.escalation_models import GridStaff, Level
from layers.incidents.intake_models import CaseReporter
from layers.incidents.models import Case, CaseEvent, RoutingRule
from layers.incidents.workflow import Action, State
from tests.factories import ComponentFactory

NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture
def components(db):
    """A few streetlights and manhole covers for the anomalies to snap to."""
    made = []
    for i, code in enumerate(["0118"] * 8 + ["0101"] * 4 + ["0102"] * 4):
        made.append(ComponentFactory(component_class=ComponentClass.objects.get(code=code)))
        assert made[-1].maintainer_id or made[-1].owner_id, i
    return made


def histories(cases):
    events = {}
    for e in CaseEvent.objects.filter(case__in=cases).order_by("case_id", "id"):
        events.setdefault(e.case_id, []).append(e)
    return events


def signature(cases):
    """What a case is, without its database identity (ids, numbers)."""
    events = histories(cases)
    return sorted(
        (
            c.case_class.code,
            c.source,
            c.severity,
            c.state,
            c.component.code if c.component_id else "",
            round(c.geom.x, 7),
            round(c.geom.y, 7),
            tuple((e.action, e.at, e.from_state, e.to_state, e.note, e.organisation_id) for e in events[c.pk]),
        )
        for c in cases.select_related("case_class", "component")
    )


def test_counts_and_a_mix_of_everything(components):
    summary = load(scale="tiny", seed=3, now=NOW)
    assert summary["cases"] == SCALES["tiny"] == Case.objects.count()
    assert summary["events"] == CaseEvent.objects.count() > 3 * SCALES["tiny"]
    assert Case.objects.filter(component__isnull=False).exists()  # anomalies about the components
    assert Case.objects.filter(case_class__kind="event").exists()
    assert Case.objects.values("source").distinct().count() >= 5
    assert Case.objects.filter(state=State.CLOSED).count() > SCALES["tiny"] / 2  # most closed
    assert Case.objects.exclude(state__in=[State.CLOSED, State.VOID]).exists()  # some open
    assert CaseEvent.objects.filter(action=ESCALATE).exists()
    reported = Case.objects.values_list("created_at", flat=True)
    assert NOW - dt.timedelta(days=demo_data.DAYS) <= min(reported) and max(reported) <= NOW
    # event classes are routed by the demo's routing rules, district-wide
    assert RoutingRule.objects.filter(grid_code="").exists()
    # the card lists each case's reporter; escalations reach the district's duty officer
    assert CaseReporter.objects.filter(from_case__isnull=True).count() == Case.objects.count()
    assert GridStaff.objects.filter(level=Level.DISTRICT, user__isnull=False).exists()


def test_histories_follow_the_workflow(components):
    load(scale="tiny", seed=4, now=NOW)
    events = histories(Case.objects.all())
    for case in Case.objects.select_related("component", "case_class"):
        log = events[case.pk]
        first = log[0]
        assert first.action == Action.REPORT and first.from_state == "" and first.to_state == State.REPORTED
        assert first.at == case.created_at and log[-1].at == case.updated_at
        assert [e.at for e in log] == sorted(e.at for e in log), case.number  # id order is time order
        assert all(e.at <= NOW for e in log)
        state, org, level = State.REPORTED, None, 0
        for e in log[1:]:
            assert e.from_state == state, (case.number, e.action)
            if e.action == ESCALATE:
                assert e.to_state == state
                level += 1
                continue
            step = workflow.transition(state, e.action)
            assert step is not None and step.to == e.to_state, (case.number, state, e.action)
            if step.requires_verify:
                assert [x.action for x in log if x.at <= e.at and x.action != ESCALATE][-2] == Action.VERIFY
            if step.routes:
                org = e.organisation_id
                assert org is not None
            elif e.action == Action.RETURN:
                org = None
            state = e.to_state
        assert case.state == state == log[-1].to_state
        assert case.assigned_org_id == org
        assert case.escalation_level == min(level, 3)
        if case.component_id:
            assert case.component.component_class_id == case.case_class.component_class_id
        assert case.number[:8] == f"{case.created_at.astimezone(demo_data.TZ):%Y%m%d}"


def test_deterministic_for_a_seed(components):
    load(scale="tiny", seed=5, now=NOW, count=60)
    first = Case.objects.all()
    before = signature(first)
    top = Case.objects.order_by("-id").values_list("id", flat=True).first()
    load(scale="tiny", seed=5, now=NOW, count=60)
    again = Case.objects.filter(id__gt=top)
    assert again.count() == 60
    assert signature(again) == before
    assert len(set(Case.objects.values_list("number", flat=True))) == 120  # numbers never reused
    top = Case.objects.order_by("-id").values_list("id", flat=True).first()
    load(scale="tiny", seed=6, now=NOW, count=60)
    assert signature(Case.objects.filter(id__gt=top)) != before


def test_command_if_empty_and_production(components, settings):
    out = StringIO()
    call_command("load_demo_incidents", "--scale", "tiny", "--count", "30", stdout=out)
    assert "30 cases" in out.getvalue()
    out = StringIO()
    call_command("load_demo_incidents", "--scale", "tiny", "--if-empty", stdout=out)
    assert "skipped" in out.getvalue() and Case.objects.count() == 30
    settings.ENVIRONMENT = "production"
    with pytest.raises(DemoRefused):
        load(scale="tiny")
    with pytest.raises(CommandError, match="production"):
        call_command("load_demo_incidents", "--scale", "tiny", stdout=StringIO())
    assert Case.objects.count() == 30


def test_without_components_only_event_classes(db):
    load(scale="tiny", seed=1, now=NOW, count=40)
    assert Case.objects.count() == 40
    assert not Case.objects.filter(component__isnull=False).exists()
    assert set(Case.objects.values_list("case_class__kind", flat=True)) == {"event"}
