"""The writes of the automations pages that the engine (crm.automations.engine) does not do itself: a
sequence's own fields, enrolling and stopping by hand, tasks done, the owner's message limits. Each writes
its activity row (crm.sequence.*, crm.enrollment.*, crm.task.done) with the actor in its transaction."""

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from common import money
from common.errors import ApplicationError
from customers.models import Customer
from events import services as events

from . import engine, selectors
from .models import AutomationSettings, Enrollment, Sequence, Task

MAX_LIMIT = 50


def sequence_save(
    *,
    sequence: Sequence | None = None,
    name: str,
    trigger: str,
    stop_on_booking: bool,
    description: str = "",
    actor=None,
) -> Sequence:
    """Create a sequence (switched off, no steps yet) or change its name, trigger and exit rule."""
    name = (name or "").strip()
    if not name:
        raise ApplicationError("Give the sequence a name.", field="name")
    if trigger not in Sequence.Trigger.values:
        raise ApplicationError("Choose what starts the sequence.", field="trigger")
    with transaction.atomic():
        if sequence is None:
            sequence = Sequence(active=False)
        else:
            sequence = Sequence.objects.select_for_update().get(pk=sequence.pk)
        sequence.name, sequence.trigger = name[:120], trigger
        sequence.stop_on_booking, sequence.description = stop_on_booking, (description or "").strip()[:300]
        created = sequence.pk is None
        sequence.save()
        events.record(
            "crm.sequence.created" if created else "crm.sequence.changed",
            subject=sequence,
            actor=actor,
            summary=f"Sequence {sequence.name} {'created' if created else 'changed'}",
            data={"trigger": trigger, "stop_on_booking": stop_on_booking},
        )
    return sequence


def sequence_switch(*, sequence: Sequence, on: bool, actor=None) -> Sequence:
    """Switch a sequence on (the engine refuses one without a message or task) or pause it."""
    with transaction.atomic():
        sequence = Sequence.objects.select_for_update().get(pk=sequence.pk)
        if sequence.active == on:
            return sequence
        if on:
            sequence = engine.sequence_activate(sequence=sequence, actor=actor)
        else:
            sequence = engine.sequence_pause(sequence=sequence, actor=actor)
        word = "switched on" if on else "paused"
        events.record(
            f"crm.sequence.{'activated' if on else 'paused'}",
            subject=sequence,
            actor=actor,
            summary=f"Sequence {sequence.name} {word}",
        )
    return sequence


def enroll_by_hand(*, sequence: Sequence, customer: Customer, actor, lead=None) -> Enrollment:
    """A person enrolls the customer (about a lead, when started from its page); enrolled once per subject.
    A sequence whose texts need what its trigger knows (an estimate's link, a job's number) is refused:
    by hand they would go out blank."""
    missing = selectors.trigger_fields(sequence)
    if missing:
        fields = ", ".join("{" + name + "}" for name in missing)
        raise ApplicationError(
            f"{sequence.name} uses {fields}, which only its trigger fills: it cannot be started by hand.",
            field="sequence",
        )
    subject_key = f"lead:{lead.pk}" if lead is not None else ""
    return _enroll_recorded(
        sequence=sequence, customer=customer, actor=actor, lead=lead, subject_key=subject_key
    )


def _enroll_recorded(
    *, sequence: Sequence, customer: Customer, actor, subject_key: str, lead=None, context=None, about=""
) -> Enrollment:
    """`engine.enroll` by a person, with its activity row the first time (a second click finds it)."""
    who = actor.get_full_name() or actor.get_username()
    with transaction.atomic():
        already = Enrollment.objects.filter(
            sequence=sequence,
            customer=customer.merged_into or customer,
            subject_key=subject_key,
            state=Enrollment.State.ACTIVE,
        ).exists()
        enrollment = engine.enroll(
            sequence=sequence,
            customer=customer,
            origin=f"by hand ({who})",
            actor=actor,
            lead=lead,
            subject_key=subject_key,
            context=context,
        )
        if not already:
            events.record(
                "crm.enrollment.started",
                subject=enrollment,
                actor=actor,
                summary=f"Enrolled in {sequence.name}" + (f" about {about}" if about else ""),
                links=[(Customer, enrollment.customer_id), lead],
            )
    return enrollment


def estimate_context(data: dict) -> dict:
    """What an estimate's follow-ups merge, from its `estimate.sent` milestone: the link, the lowest
    option's total, the estimate number, who prepared it, when it expires."""
    amounts = []
    for total in data.get("option_totals") or []:
        try:
            amounts.append(Decimal(total))
        except (InvalidOperation, TypeError):
            continue
    lowest, highest = (min(amounts), max(amounts)) if amounts else (None, None)
    return {
        "estimate_id": data["estimate_id"],
        "estimate_number": data.get("estimate_number", ""),
        "estimate_link": data.get("public_url", ""),
        "estimate_total": money.format_money(lowest) if lowest is not None else "",
        # The most the customer may spend: what a step's "at least" amount compares (a call for big jobs).
        "estimate_amount": str(highest) if highest is not None else "",
        "technician": data.get("prepared_by_first_name", ""),
        "expires_on": str(data.get("expires_on") or ""),
    }


def enroll_for_estimate(*, sequence: Sequence, estimate_id: int, actor) -> Enrollment:
    """A person starts a follow-up from an estimate's page: as if the estimate had just been sent (its
    link and totals merged, stopped by its acceptance or decline), once per estimate and sequence. An
    estimate never sent, or already decided, is refused: there is nothing to follow up."""
    sent, ended = selectors.estimate_story(estimate_id)
    if sent is None:
        raise ApplicationError(
            "Send the estimate first: its follow-ups link to it and quote its total.", field="sequence"
        )
    if ended:
        raise ApplicationError(
            f"{engine.STOP_REASONS[ended]}: there is nothing to follow up.", field="sequence"
        )
    if set(selectors.trigger_fields(sequence)) - selectors.ESTIMATE_FIELDS:
        raise ApplicationError(
            f"{sequence.name} needs what only its own trigger knows: it cannot follow up an estimate.",
            field="sequence",
        )
    customer = Customer.objects.filter(pk=sent.data.get("customer_id")).first()
    if customer is None:
        raise ApplicationError("The estimate's customer is gone.", field="sequence")
    return _enroll_recorded(
        sequence=sequence,
        customer=customer,
        actor=actor,
        subject_key=f"estimate:{estimate_id}",
        context=estimate_context(sent.data),
        about=f"estimate {sent.data.get('estimate_number', '')}".strip(),
    )


def enrollment_stop(*, enrollment: Enrollment, actor) -> Enrollment:
    who = actor.get_full_name() or actor.get_username()
    with transaction.atomic():
        was_active = (
            Enrollment.objects.select_for_update()
            .filter(pk=enrollment.pk, state=Enrollment.State.ACTIVE)
            .exists()
        )
        enrollment = engine.stop(enrollment=enrollment, reason=f"Stopped by {who}", actor=actor)
        if was_active and enrollment.state == Enrollment.State.STOPPED:
            events.record(
                "crm.enrollment.stopped",
                subject=enrollment,
                actor=actor,
                summary=f"{enrollment.sequence} stopped by hand",
                links=[(Customer, enrollment.customer_id)],
            )
    return enrollment


def task_complete(*, task: Task, actor) -> Task:
    """Mark a task done (once: a second click keeps the first time and person)."""
    with transaction.atomic():
        task = Task.objects.select_for_update().get(pk=task.pk)
        if task.done_at is None:
            task.done_at, task.done_by = timezone.now(), actor
            task.save(update_fields=["done_at", "done_by"])
            events.record(
                "crm.task.done",
                subject=task,
                actor=actor,
                summary=f"Task done: {task.title}",
                links=[(Customer, task.customer_id)],
            )
    return task


def automation_settings_update(*, max_per_day: int, max_per_week: int, actor=None) -> AutomationSettings:
    """The owner's limits on automated messages per customer; a day's limit never above the week's."""
    for field, value in (("max_per_day", max_per_day), ("max_per_week", max_per_week)):
        if not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
            raise ApplicationError(f"Enter a whole number from 1 to {MAX_LIMIT}.", field=field)
    if max_per_day > max_per_week:
        raise ApplicationError("A day's limit cannot be more than the week's.", field="max_per_day")
    with transaction.atomic():
        rules = AutomationSettings.current()
        rules = AutomationSettings.objects.select_for_update().get(pk=rules.pk)
        rules.max_per_day, rules.max_per_week = max_per_day, max_per_week
        rules.save(update_fields=["max_per_day", "max_per_week"])
        events.record(
            "crm.automation_settings.changed",
            subject=rules,
            actor=actor,
            summary=f"Automated message limits: {max_per_day} a day, {max_per_week} a week",
        )
    return rules
