"""The sequences engine: enroll, run what is due, stop.

An enrollment points at its next action step (`position`) and stores when it is due (`due_at`); the
waits before an action are added up when the enrollment gets there (`_schedule`), so the scheduler only
ever finds actions to do. `automations_tick` takes what is due in batches under row locks (SKIP LOCKED on
PostgreSQL: two workers never take the same enrollment) and runs each enrollment's steps in the
transaction that advances it: the message is queued (the outbox sends it after commit), the task is
created and the log row written together, or none of it, so a worker killed mid-step leaves the step to
be done once by the next tick. No countdown ever sits in the broker.

Before every step the exit rules are checked (`exit_reason`): the customer replied, the estimate was
accepted or declined, a job was booked, the lead was lost, the number opted out. The milestones that end
an enrollment also stop it at once (crm.automations.subscribers). Caps (messaging.frequency) make a step
wait, with the reason on the enrollment, never drop it.
"""

import logging
import re
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from common.errors import ApplicationError
from customers import services as customer_services
from customers.models import Customer
from events.models import EventLink
from messaging import services as messaging
from messaging.frequency import frequency_history, frequency_release
from messaging.models import Message
from users.models import Business

from .models import AutomationSettings, Enrollment, EnrollmentStep, Sequence, Step, Task

logger = logging.getLogger(__name__)
Outcome = EnrollmentStep.Outcome
MERGE_FIELDS = {
    "first_name": "Ana",
    "last_name": "Ruiz",
    "business_name": "",
    "business_phone": "",
    "estimate_link": "https://example.com/e/abc123/",
    "estimate_total": "$1,895.00",
    "estimate_number": "EST-2026-000123",
    "technician": "Jake",
    "job_number": "J-1042",
    "review_link": "https://example.com/r/abc123",
}
FIELD = re.compile(r"\{(\w*)\}")
BATCH = 200
STALE_TRIGGER = timedelta(days=1)
RETRY_AFTER_ERROR = timedelta(minutes=15)


# --- Templates ------------------------------------------------------------------------------------------


def template_check(text: str, *, field: str = "body") -> str:
    """The text, or an error naming the first merge field this product does not fill."""
    for name in FIELD.findall(text or ""):
        if name not in MERGE_FIELDS:
            known = ", ".join("{" + f + "}" for f in MERGE_FIELDS)
            raise ApplicationError(f"Unknown merge field {{{name}}}. Use one of: {known}.", field=field)
    return (text or "").strip()


def render(text: str, *, customer: Customer | None, context: dict) -> str:
    extra = {name: context.get(name, "") for name in MERGE_FIELDS if name in context}
    return messaging.render_template(text, customer=customer, extra=extra)


def preview(sequence: Sequence, customer: Customer, context: dict | None = None) -> list[dict]:
    """Each step as this customer would get it (the merge fields a trigger fills shown as examples)."""
    context = {**{k: v for k, v in MERGE_FIELDS.items() if k not in _CUSTOMER_FIELDS}, **(context or {})}
    return [
        {
            "step": step,
            "subject": render(step.subject, customer=customer, context=context) if step.subject else "",
            "body": render(step.body or step.task_title, customer=customer, context=context),
        }
        for step in sequence.steps.all()
        if step.kind != Step.Kind.WAIT
    ]


_CUSTOMER_FIELDS = {"first_name", "last_name", "business_name", "business_phone"}


# --- Sequences ------------------------------------------------------------------------------------------


def sequence_activate(*, sequence: Sequence, actor=None) -> Sequence:
    steps = list(sequence.steps.all())
    if not any(step.kind != Step.Kind.WAIT for step in steps):
        raise ApplicationError("Add a text, an e-mail or a task before switching it on.", field="steps")
    for step in steps:
        template_check(step.body)
        template_check(step.subject, field="subject")
        template_check(step.task_title, field="task_title")
    sequence.active = True
    sequence.save(update_fields=["active", "updated_at"])
    return sequence


def sequence_pause(*, sequence: Sequence, actor=None) -> Sequence:
    """Off: nobody new is enrolled and the enrollments under way wait (they go on when it is back on)."""
    sequence.active = False
    sequence.save(update_fields=["active", "updated_at"])
    return sequence


def step_save(*, sequence: Sequence, step: Step | None = None, actor=None, **values) -> Step:
    """Add (at the end) or change a step; the texts are checked for unknown merge fields."""
    kind = values.get("kind") or (step.kind if step else "")
    if kind not in Step.Kind.values:
        raise ApplicationError("Choose what the step does.", field="kind")
    for name in ("body", "subject", "task_title"):
        if name in values:
            values[name] = template_check(values[name], field=name)
    if kind in (Step.Kind.SMS, Step.Kind.EMAIL) and not values.get("body", step.body if step else ""):
        raise ApplicationError("Write the message.", field="body")
    if kind == Step.Kind.EMAIL and not values.get("subject", step.subject if step else ""):
        raise ApplicationError("Give the e-mail a subject.", field="subject")
    if kind == Step.Kind.TASK and not values.get("task_title", step.task_title if step else ""):
        raise ApplicationError("Say what the task is.", field="task_title")
    if (
        kind == Step.Kind.WAIT
        and not (values.get("wait_days") or values.get("wait_hours") or values.get("at_time"))
        and values.get("weekday") is None
    ):
        raise ApplicationError("Say how long to wait.", field="wait_days")
    with transaction.atomic():
        if step is None:
            last = sequence.steps.order_by("-position").values_list("position", flat=True).first()
            step = Step(sequence=sequence, position=0 if last is None else last + 1)
        for name, value in values.items():
            setattr(step, name, value)
        step.save()
    return step


def step_move(*, step: Step, by: int, actor=None) -> None:
    """Move a step up (-1) or down (+1); the positions stay 0..n-1. Refused while a customer is between
    the two steps (done with the first, not the second): swapped, one would come twice and one never."""
    with transaction.atomic():
        steps = list(Sequence.objects.select_for_update().get(pk=step.sequence_id).steps.all())
        index = next(i for i, s in enumerate(steps) if s.pk == step.pk)
        target = index + by
        if not 0 <= target < len(steps):
            return
        between = Enrollment.objects.filter(
            sequence_id=step.sequence_id, state=Enrollment.State.ACTIVE, position=max(index, target)
        ).count()
        if between:
            raise ApplicationError(
                f"{between} customer{'s are' if between != 1 else ' is'} between these two steps: swapped, "
                "they would get one twice and miss the other. Move it once they are past, or add a step.",
                field="steps",
            )
        steps[index], steps[target] = steps[target], steps[index]
        for position, each in enumerate(steps):
            if each.position != position:
                Step.objects.filter(pk=each.pk).update(position=position)


def step_remove(*, step: Step, actor=None) -> None:
    """Remove a step; the customers part way through keep their place (one past it goes on from the same
    next step, one about to reach it goes on to the step after)."""
    with transaction.atomic():
        sequence = Sequence.objects.select_for_update().get(pk=step.sequence_id)
        removed = step.position
        step.delete()
        for position, each in enumerate(sequence.steps.all()):
            if each.position != position:
                Step.objects.filter(pk=each.pk).update(position=position)
        Enrollment.objects.filter(
            sequence=sequence, state=Enrollment.State.ACTIVE, position__gt=removed
        ).update(position=F("position") - 1)


# --- Enrollment -----------------------------------------------------------------------------------------


def enroll(
    *,
    sequence: Sequence,
    customer: Customer,
    origin: str,
    actor=None,
    lead=None,
    subject_key: str = "",
    context: dict | None = None,
    now: datetime | None = None,
) -> Enrollment:
    """Start `customer` on `sequence` (once per subject: an active enrollment is returned as it is)."""
    if not sequence.active:
        raise ApplicationError(f"{sequence} is switched off.", field="sequence")
    if customer.merged_into_id:
        customer = customer.merged_into
    now = now or timezone.now()
    found = Enrollment.objects.filter(
        sequence=sequence, customer=customer, subject_key=subject_key, state=Enrollment.State.ACTIVE
    ).first()
    if found:
        return found
    try:
        with transaction.atomic():
            enrollment = Enrollment.objects.create(
                sequence=sequence,
                customer=customer,
                lead=lead,
                subject_key=subject_key,
                context=context or {},
                origin=origin[:60],
                started_at=now,
                enrolled_by=actor if actor is not None and actor.is_authenticated else None,
            )
            _log(enrollment, Outcome.ENROLLED, now, note=f"Enrolled ({origin})")
            _schedule(enrollment, list(sequence.steps.all()), now, Business.current())
            enrollment.save(update_fields=["position", "due_at"])
    except IntegrityError:  # enrolled at the same moment by another delivery
        return Enrollment.objects.get(
            sequence=sequence, customer=customer, subject_key=subject_key, state=Enrollment.State.ACTIVE
        )
    return enrollment


def enroll_by_trigger(
    *, trigger: str, customer_id: int | None, origin: str, now: datetime, **kwargs
) -> list[Enrollment]:
    """Enroll in every active sequence with this trigger. A milestone delivered over a day late (a
    backlog, a replay, old demo data) starts nothing: its moment for a follow-up has passed."""
    customer = Customer.objects.filter(pk=customer_id).first() if customer_id else None
    if customer is None or now < timezone.now() - STALE_TRIGGER:
        return []
    return [
        enroll(sequence=sequence, customer=customer, origin=origin, now=now, **kwargs)
        for sequence in Sequence.objects.filter(trigger=trigger, active=True)
    ]


def stop(*, enrollment: Enrollment, reason: str, now: datetime | None = None, actor=None) -> Enrollment:
    with transaction.atomic():
        enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
        if enrollment.state == Enrollment.State.ACTIVE:
            _stop(enrollment, reason, now or timezone.now())
    return enrollment


def stop_where(query: Q, *, reason: str, now: datetime | None = None) -> int:
    """Stop every active enrollment matching `query` (a milestone that ends them)."""
    now = now or timezone.now()
    stopped = 0
    with transaction.atomic():
        for enrollment in Enrollment.objects.select_for_update().filter(query, state=Enrollment.State.ACTIVE):
            _stop(enrollment, reason, now)
            stopped += 1
    return stopped


def _stop(enrollment: Enrollment, reason: str, now: datetime) -> None:
    enrollment.state, enrollment.stop_reason = Enrollment.State.STOPPED, reason[:200]
    enrollment.due_at, enrollment.finished_at, enrollment.waiting_reason = None, now, ""
    enrollment.save(update_fields=["state", "stop_reason", "due_at", "finished_at", "waiting_reason"])
    _log(enrollment, Outcome.STOPPED, now, note=reason)


def _log(enrollment: Enrollment, outcome: str, now: datetime, *, position=None, note="", message=None):
    return EnrollmentStep.objects.create(
        enrollment=enrollment, position=position, outcome=outcome, note=note[:300], message=message, at=now
    )


# --- Waits ----------------------------------------------------------------------------------------------


def wait_until(step: Step, start: datetime, business: Business) -> datetime:
    """The end of a wait step begun at `start`: the duration, then the time of day and/or the weekday
    (the business's clock)."""
    due = start + timedelta(days=step.wait_days, hours=step.wait_hours)
    if step.at_time is None and step.weekday is None:
        return due
    local = timezone.localtime(due, business.tzinfo)
    at = step.at_time or time(9, 0)
    candidate = datetime.combine(local.date(), at, business.tzinfo)
    if candidate < local:
        candidate += timedelta(days=1)
    if step.weekday is not None:
        candidate += timedelta(days=(step.weekday - candidate.weekday()) % 7)
    return candidate


def _schedule(enrollment: Enrollment, steps: list[Step], now: datetime, business: Business) -> None:
    """Add up the waits from `position` to the next action: that action's due time."""
    due = now
    while enrollment.position < len(steps) and steps[enrollment.position].kind == Step.Kind.WAIT:
        due = wait_until(steps[enrollment.position], due, business)
        enrollment.position += 1
    enrollment.due_at = due


# --- The scheduler --------------------------------------------------------------------------------------


def automations_tick(*, now: datetime | None = None, batch: int = BATCH, limit: int | None = None) -> int:
    """Run every due step; returns steps run. A batch of due enrollments is taken with row locks (SKIP
    LOCKED: two workers never take the same one) and handed to the outbox in one transaction with a
    fixed handful of statements (`_run_batch`); a batch that fails is run again one enrollment at a time,
    each in its own savepoint, so one enrollment's trouble never holds up the rest."""
    now = now or timezone.now()
    business, rules = Business.current(), AutomationSettings.current()
    steps_of: dict[int, list[Step]] = {}
    done = 0
    while limit is None or done < limit:
        with transaction.atomic():
            due = _due(now, batch)
            if not due:
                break
            for enrollment in due:
                if enrollment.sequence_id not in steps_of:
                    steps_of[enrollment.sequence_id] = list(enrollment.sequence.steps.all())
            try:
                with transaction.atomic():
                    done += _run_batch(due, steps_of, now, business, rules)
            except Exception:
                logger.exception("An automations batch failed; running it one enrollment at a time")
                for enrollment in _due(now, batch, pks=[e.pk for e in due]):
                    done += _run_safely(enrollment, steps_of[enrollment.sequence_id], now, business, rules)
    return done


def _due(now: datetime, batch: int, *, pks: list[int] | None = None) -> list[Enrollment]:
    query = (
        Enrollment.objects.select_for_update(skip_locked=pks is None, of=("self",))
        .select_related("sequence", "customer", "lead")
        .prefetch_related("customer__phones", "customer__emails", "customer__properties")
        .filter(state=Enrollment.State.ACTIVE, due_at__lte=now, sequence__active=True)
    )
    if pks is not None:
        query = query.filter(pk__in=pks)
    return list(query.order_by("due_at", "pk")[:batch])


ENROLLMENT_FIELDS = ("state", "stop_reason", "position", "due_at", "waiting_reason", "finished_at")


class _Batch:
    """What one batch writes, gathered first and written in a few statements at the end."""

    def __init__(self, now: datetime, business: Business, rules: AutomationSettings):
        self.now, self.business, self.rules = now, business, rules
        self.logs: list[EnrollmentStep] = []
        self.changed: dict[int, Enrollment] = {}
        self.texts: list[tuple[Enrollment, Step, messaging.TextOut]] = []

    def log(self, enrollment, outcome, *, position=None, note="", message=None) -> None:
        self.logs.append(
            EnrollmentStep(
                enrollment=enrollment,
                position=position,
                outcome=outcome,
                note=note[:300],
                message=message,
                at=self.now,
            )
        )

    def stop(self, enrollment: Enrollment, reason: str) -> None:
        enrollment.state, enrollment.stop_reason = Enrollment.State.STOPPED, reason[:200]
        enrollment.due_at, enrollment.finished_at, enrollment.waiting_reason = None, self.now, ""
        self.changed[enrollment.pk] = enrollment
        self.log(enrollment, Outcome.STOPPED, note=reason)

    def advance(self, enrollment: Enrollment, steps: list[Step]) -> None:
        if enrollment.state != Enrollment.State.ACTIVE:
            return
        enrollment.position += 1
        enrollment.waiting_reason = ""
        _schedule(enrollment, steps, self.now, self.business)
        self.changed[enrollment.pk] = enrollment

    def write(self) -> None:
        EnrollmentStep.objects.bulk_create(self.logs)
        # One UPDATE per distinct outcome (a batch's enrollments mostly move the same way: the same next
        # step due at the same time), not a CASE per row and field.
        groups: dict[tuple, list[int]] = {}
        for enrollment in self.changed.values():
            values = tuple(getattr(enrollment, field) for field in ENROLLMENT_FIELDS)
            groups.setdefault(values, []).append(enrollment.pk)
        for values, pks in groups.items():
            Enrollment.objects.filter(pk__in=pks).update(**dict(zip(ENROLLMENT_FIELDS, values, strict=True)))


def _run_batch(due: list[Enrollment], steps_of: dict[int, list[Step]], now, business, rules) -> int:
    """One action step of each due enrollment (the next due action of one whose waits are already over
    runs in the tick's next batch): exits, caps and texts decided for the batch at once."""
    work = _Batch(now, business, rules)
    reasons = exit_reasons(due)
    history = frequency_history(customer_ids=sorted({e.customer_id for e in due}), now=now)
    ran = 0
    for enrollment in due:
        steps = steps_of[enrollment.sequence_id]
        if reasons[enrollment.pk]:
            work.stop(enrollment, reasons[enrollment.pk])
            continue
        if enrollment.position >= len(steps):
            enrollment.state, enrollment.due_at, enrollment.finished_at = Enrollment.State.DONE, None, now
            enrollment.waiting_reason = ""
            work.changed[enrollment.pk] = enrollment
            work.log(enrollment, Outcome.DONE, note="Every step done")
            continue
        step = steps[enrollment.position]
        if step.kind != Step.Kind.SMS or _below_amount(enrollment, step):
            ran += _run(enrollment, steps, now, business, rules, once=True)  # tasks, e-mails, skips
            continue
        ran += _text_or_wait(work, enrollment, step, steps, history[enrollment.customer_id])
    messages = messaging.texts_queue_many(
        texts=[text for _, _, text in work.texts], purpose=Message.Purpose.AUTOMATED, now=now
    )
    for (enrollment, step, text), message in zip(work.texts, messages, strict=True):
        outcome = {
            Message.Status.HELD: Outcome.HELD,
            Message.Status.SUPPRESSED: Outcome.SUPPRESSED,
        }.get(message.status, Outcome.SENT)
        note = message.error_message if outcome == Outcome.SUPPRESSED else f"Text to {text.to}"
        work.log(enrollment, outcome, position=step.position, note=note, message=message)
        if outcome == Outcome.SUPPRESSED:
            work.stop(enrollment, f"Opted out: {message.error_message}")
        work.advance(enrollment, steps_of[enrollment.sequence_id])
    work.write()
    return ran


def _text_or_wait(work: _Batch, enrollment: Enrollment, step: Step, steps: list[Step], history) -> int:
    to = _address(enrollment, step)
    if not to:
        work.log(
            enrollment,
            Outcome.SKIPPED,
            position=step.position,
            note="The customer has no number that takes texts",
        )
        work.advance(enrollment, steps)
        return 1
    subject = f"sequence:{enrollment.sequence_id}"
    at, why = frequency_release(
        customer=enrollment.customer,
        number=to,
        subject=subject,
        now=work.now,
        per_day=work.rules.max_per_day,
        per_week=work.rules.max_per_week,
        history=history,
    )
    if at is not None:
        if enrollment.waiting_reason != why:
            work.log(enrollment, Outcome.CAPPED, position=step.position, note=why)
        enrollment.due_at, enrollment.waiting_reason = at, why
        work.changed[enrollment.pk] = enrollment
        return 0
    history.insert(0, (work.now, subject))  # the customer's next text in this batch counts this one
    body = render(step.body, customer=enrollment.customer, context=enrollment.context)
    work.texts.append(
        (
            enrollment,
            step,
            messaging.TextOut(
                to=to, body=body, customer=enrollment.customer, lead=enrollment.lead, template=subject
            ),
        )
    )
    return 1


def _below_amount(enrollment: Enrollment, step: Step) -> bool:
    return (
        step.min_estimate_total is not None
        and _amount(enrollment.context.get("estimate_amount")) < step.min_estimate_total
    )


def _run_safely(enrollment, steps, now, business, rules) -> int:
    try:
        with transaction.atomic():
            return _run(enrollment, steps, now, business, rules)
    except Exception as exc:  # one enrollment's trouble never holds up the rest of the batch
        logger.exception("Automation step failed for enrollment %s", enrollment.pk)
        Enrollment.objects.filter(pk=enrollment.pk).update(
            due_at=now + RETRY_AFTER_ERROR, waiting_reason=f"Error, retrying: {exc}"[:200]
        )
        return 0


def _run(enrollment: Enrollment, steps: list[Step], now: datetime, business, rules, *, once=False) -> int:
    """The enrollment's due actions, in order, until a wait, a cap or the end (`once`: one action; the
    batch has checked the exit rules)."""
    ran = 0
    while enrollment.due_at is not None and enrollment.due_at <= now:
        if once and ran:
            return ran
        reason = "" if once else exit_reason(enrollment)
        if reason:
            _stop(enrollment, reason, now)
            return ran
        if enrollment.position >= len(steps):
            enrollment.state, enrollment.due_at, enrollment.finished_at = Enrollment.State.DONE, None, now
            enrollment.waiting_reason = ""
            enrollment.save(update_fields=["state", "due_at", "finished_at", "waiting_reason"])
            _log(enrollment, Outcome.DONE, now, note="Every step done")
            return ran
        step = steps[enrollment.position]
        capped = _act(enrollment, step, now, rules)
        if capped is not None:
            at, why = capped
            if enrollment.waiting_reason != why:
                _log(enrollment, Outcome.CAPPED, now, position=step.position, note=why)
            enrollment.due_at, enrollment.waiting_reason = at, why
            enrollment.save(update_fields=["due_at", "waiting_reason"])
            return ran
        ran += 1
        if enrollment.state != Enrollment.State.ACTIVE:
            return ran
        enrollment.position += 1
        enrollment.waiting_reason = ""
        _schedule(enrollment, steps, now, business)
        enrollment.save(update_fields=["position", "due_at", "waiting_reason"])
    return ran


def _act(enrollment: Enrollment, step: Step, now: datetime, rules) -> tuple[datetime, str] | None:
    """Do one action step; (when, why) when a cap makes it wait."""
    customer, context = enrollment.customer, enrollment.context
    if (
        step.min_estimate_total is not None
        and _amount(context.get("estimate_amount")) < step.min_estimate_total
    ):
        _log(
            enrollment, Outcome.SKIPPED, now, position=step.position, note="Below the step's estimate amount"
        )
        return None
    if step.kind == Step.Kind.TASK:
        task = Task.objects.create(
            title=render(step.task_title, customer=customer, context=context)[:150],
            customer=customer,
            lead=enrollment.lead,
            enrollment=enrollment,
            due_at=now + timedelta(hours=step.task_due_hours),
        )
        _log(enrollment, Outcome.TASK, now, position=step.position, note=task.title)
        return None
    to = _address(enrollment, step)
    if not to:
        what = "no number that takes texts" if step.kind == Step.Kind.SMS else "no e-mail address"
        _log(enrollment, Outcome.SKIPPED, now, position=step.position, note=f"The customer has {what}")
        return None
    subject = f"sequence:{enrollment.sequence_id}"
    at, why = frequency_release(
        customer=customer,
        number=to if step.kind == Step.Kind.SMS else "",
        subject=subject,
        now=now,
        per_day=rules.max_per_day,
        per_week=rules.max_per_week,
    )
    if at is not None:
        return at, why
    body = render(step.body, customer=customer, context=context)
    if step.kind == Step.Kind.SMS:
        message = messaging.message_queue(
            to=to,
            body=body,
            purpose=Message.Purpose.AUTOMATED,
            customer=customer,
            lead=enrollment.lead,
            template=subject,
            now=now,
        )
    else:
        message = messaging.email_queue(
            to=to,
            subject=render(step.subject, customer=customer, context=context),
            body=body,
            customer=customer,
            purpose=Message.Purpose.AUTOMATED,
            template=subject,
        )
    outcome = {
        Message.Status.HELD: Outcome.HELD,
        Message.Status.SUPPRESSED: Outcome.SUPPRESSED,
    }.get(message.status, Outcome.SENT)
    note = message.error_message if outcome == Outcome.SUPPRESSED else f"{step.get_kind_display()} to {to}"
    _log(enrollment, outcome, now, position=step.position, note=note, message=message)
    if outcome == Outcome.SUPPRESSED:
        _stop(enrollment, f"Opted out: {message.error_message}", now)
    return None


def _amount(value) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return Decimal("0")


def _address(enrollment: Enrollment, step: Step) -> str:
    customer = enrollment.customer
    if step.kind == Step.Kind.SMS:  # read from the batch's prefetch
        phones = sorted(
            (p for p in customer.phones.all() if p.textable), key=lambda p: (not p.is_primary, p.pk)
        )
        return phones[0].number.as_e164 if phones else ""
    emails = sorted(customer.emails.all(), key=lambda e: (not e.is_primary, e.pk))
    return emails[0].email if emails else ""


# --- Exit rules -----------------------------------------------------------------------------------------

ENDING = {
    "estimate": ("estimate.accepted", "estimate.declined"),
    "lead": ("lead.lost", "lead.booked"),
}


def exit_reason(enrollment: Enrollment) -> str:
    """Why the enrollment must stop before its next step ('' when it goes on)."""
    return exit_reasons([enrollment])[enrollment.pk]


def exit_reasons(enrollments: list[Enrollment]) -> dict[int, str]:
    """`exit_reason` for a batch in two queries: the customers' latest inbound message, and the ending
    milestones on their own timelines (EventLink's index, never a scan of the log's JSON)."""
    if not enrollments:
        return {}
    customer_ids = {e.customer_id for e in enrollments}
    since = min(e.started_at for e in enrollments)
    last_inbound = dict(
        Message.objects.filter(
            customer_id__in=customer_ids, direction=Message.Direction.INBOUND, created_at__gte=since
        )
        .values("customer_id")
        .annotate(last=Max("created_at"))
        .values_list("customer_id", "last")
    )
    milestones = {*ENDING["estimate"], *ENDING["lead"], "job.scheduled"}
    endings: dict[int, list[tuple]] = {}
    rows = (
        EventLink.objects.filter(
            target_type=ContentType.objects.get_for_model(Customer),
            target_id__in=[str(pk) for pk in customer_ids],
            event__milestone__in=milestones,
            event__occurred_at__gte=since,
        )
        .order_by("event__occurred_at", "event_id")
        .values_list("target_id", "event__milestone", "event__data", "event__occurred_at")
    )
    for target_id, milestone, data, at in rows:
        endings.setdefault(int(target_id), []).append((milestone, data, at))
    today = timezone.localdate(timezone.now(), Business.current().tzinfo).isoformat()
    return {e.pk: _exit_for(e, last_inbound, endings.get(e.customer_id, []), today) for e in enrollments}


def _exit_for(enrollment: Enrollment, last_inbound: dict, endings: list[tuple], today: str) -> str:
    expires = enrollment.context.get("expires_on")
    if expires and expires < today:
        return "The estimate expired"
    if enrollment.customer.merged_into_id:
        return "The customer was merged into another"
    replied = last_inbound.get(enrollment.customer_id)
    if replied is not None and replied >= enrollment.started_at:
        return "The customer replied"
    kind, _, ident = enrollment.subject_key.partition(":")
    for milestone, data, at in endings:
        if at < enrollment.started_at:
            continue
        estimate = kind == "estimate" and ident.isdigit() and data.get("estimate_id") == int(ident)
        if estimate and milestone in ENDING["estimate"]:
            return STOP_REASONS[milestone]
        if enrollment.lead_id and milestone in ENDING["lead"] and data.get("lead_id") == enrollment.lead_id:
            return STOP_REASONS[milestone]
        if (
            enrollment.sequence.stop_on_booking
            and milestone in ("job.scheduled", "lead.booked")
            and data.get("customer_id") == enrollment.customer_id
        ):
            return STOP_REASONS[milestone]
    return ""


STOP_REASONS = {
    "estimate.accepted": "The estimate was accepted",
    "estimate.declined": "The estimate was declined",
    "lead.lost": "The lead was lost",
    "lead.booked": "A job was booked",
    "job.scheduled": "A job was booked",
}


def customer_refusal(customer: Customer, number: str) -> str:
    return customer_services.consent_check(number=number, purpose=Message.Purpose.AUTOMATED) if number else ""
