"""合并: a duplicate case merged into the case kept. The duplicate goes to 作废 (void) with a `merge` event
naming the case kept; the case kept gets a `merged_in` event and the duplicate's reporters. Void rather
than a state of its own: a merged case is closed without work like any voided one, and `merged_into`
(the CaseMerge row) tells the two apart without touching every consumer of the state list."""

from django.db import transaction

from gis_core.errors import ServiceError

from . import deadlines, photos, reporters, selectors, services, workflow
from .intake_models import CaseMerge, CaseReporter
from .models import Case, CaseEvent
from .workflow import Action

MERGED_IN = "merged_in"  # an event on the case kept; not a transition of the table


class MergeRefused(ServiceError):
    """The case named to keep cannot take a merge (409)."""

    status = 409


def _refresh_clock(*cases) -> None:
    for case in cases:
        deadlines.refresh(case)


@transaction.atomic
def merge(user, duplicate: Case, into, note: str = "", photos_ids=None) -> Case:
    """Merges `duplicate` into the case numbered `into`. Refused: no or unknown target (400), the case
    itself (400), another class (400), a target closed or void (409), a duplicate that cannot be voided
    from its state (409, with the allowed actions), a role other than dispatcher or administrator (403)."""
    _mergeable(duplicate)
    if not isinstance(into, str) or not into.strip():
        raise ServiceError({"target": "name the case to merge into (its number)"})
    into = into.strip()
    if into == duplicate.number:
        raise ServiceError({"target": "a case cannot be merged into itself"})
    acting = services._acting(user)
    scope = selectors.visible_cases(user) if acting is not None else Case.objects.all()
    kept_pk = scope.filter(number=into).values_list("pk", flat=True).first() if into.isdigit() else None
    if kept_pk is None:
        raise ServiceError({"target": f"no case {into}"})
    # Both rows locked in id order: two merges crossing (A into B, B into A) wait instead of deadlocking.
    locked = {
        c.pk: c
        for c in Case.objects.select_for_update(of=("self",))
        .select_related("case_class")
        .filter(pk__in=[duplicate.pk, kept_pk])
        .order_by("pk")
    }
    dup, kept = locked[duplicate.pk], locked[kept_pk]
    step = _mergeable(dup)  # again, now that the row is locked
    services._check_role(user, dup, step, Action.MERGE)
    note = services._text(note, "note", services.NOTE_MAX)
    if kept.state not in workflow.OPEN_STATES:
        raise MergeRefused({"target": f"{kept.number} is {workflow.STATES[kept.state][1]}: merge into an open case"})
    if kept.case_class_id != dup.case_class_id:
        raise ServiceError(
            {"target": f"{kept.number} is {kept.case_class}, not {dup.case_class}: only cases of one class merge"}
        )
    from_state = dup.state
    dup.state = step.to
    dup.save(update_fields=["state", "updated_at"])
    event = services._event(dup, user, Action.MERGE, from_state, _joined(f"合并至 {kept.number}", note))
    photos.attach(acting, dup, event, photos_ids)
    CaseMerge.objects.create(duplicate=dup, kept=kept, by=acting, note=note)
    CaseReporter.objects.bulk_create(
        CaseReporter(
            case=kept,
            user=r.user,
            name=r.name,
            phone=r.phone,
            source=r.source,
            reported_at=r.reported_at,
            from_case=dup,
        )
        for r in reporters.reporters_of(dup)
    )
    CaseEvent.objects.create(
        case=kept,
        actor=acting,
        action=MERGED_IN,
        from_state=kept.state,
        to_state=kept.state,
        note=_joined(f"合并 {dup.number}", note),
    )
    kept.save(update_fields=["updated_at"])
    _refresh_clock(dup, kept)
    services._announce(dup)
    services._announce(kept)
    return dup


def _mergeable(case: Case) -> workflow.Transition:
    step = workflow.transition(case.state, Action.MERGE)
    if step is None:
        raise services.TransitionRefused(
            f"cannot merge a case in state {case.state}", workflow.next_actions(case.state)
        )
    return step


def _joined(head: str, note: str) -> str:
    return f"{head}：{note}" if note else head


def merged_into(case: Case) -> str | None:
    row = CaseMerge.objects.filter(duplicate=case).select_related("kept").first()
    return row.kept.number if row is not None else None


def merged_from(case: Case) -> list[str]:
    return list(case.merged_from_rows.order_by("at", "id").values_list("duplicate__number", flat=True))
