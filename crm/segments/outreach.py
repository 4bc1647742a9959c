"""Reactivation campaigns: a text (or a sequence) to a segment, throttled, and what came of it.

Launching takes the segment as it is then: one recipient row per customer, each due at its place in
the queue (`rate_per_hour` spaced evenly from the start). `outreach_tick` sends what is due like the
sequences' scheduler does (row locks, SKIP LOCKED, each send in the transaction that marks it sent), as
marketing: consent, quiet hours and the frequency caps apply, and a capped recipient waits. A yearly
campaign is scheduled again for the same date next year when a run ends (a fresh segment then).

Each campaign is an attribution source: launching makes its crm Campaign row (source "Reactivation"),
and the results count, per recipient, what happened within `attribution_days` of the text: replies,
opt-outs, leads, jobs booked and their posted revenue."""

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from common.errors import ApplicationError
from customers.models import ConsentEvent, Customer, PhoneNumber
from events.models import Event, EventLink
from finance import selectors as ledger
from messaging import services as messaging
from messaging.frequency import frequency_history, frequency_release
from messaging.models import Message
from messaging.segments import segment_count as sms_segments
from users.models import Business

from ..automations import engine
from ..automations.models import AutomationSettings
from ..models import Campaign, Source
from .models import Outreach, OutreachRecipient
from .services import SegmentSpec, segment_queryset

logger = logging.getLogger(__name__)
SENDING_HOURS = (time(9, 0), time(20, 0))  # inside every state's quiet-hour window (the strictest)


@dataclass(frozen=True)
class Plan:
    recipients: int
    segments_per_text: int
    cost: Decimal
    finishes_at: datetime | None
    days: int


def send_slots(start: datetime, count: int, rate_per_hour: int, tz) -> list[datetime]:
    """`count` send times `rate_per_hour` apart from `start`, inside the sending hours of each day (the
    business's clock), so quiet hours never pile a night's texts up for the morning."""
    gap, slots, moment = timedelta(seconds=3600 / rate_per_hour), [], start
    first, last = SENDING_HOURS
    while len(slots) < count:
        local = timezone.localtime(moment, tz)
        if local.time() < first:
            moment = datetime.combine(local.date(), first, tz)
        elif local.time() >= last:
            moment = datetime.combine(local.date() + timedelta(days=1), first, tz)
        slots.append(moment)
        moment += gap
    return slots


def outreach_plan(outreach: Outreach, *, now: datetime | None = None) -> Plan:
    """Who it would reach now, what the texts cost, and when the last one goes at the set rate."""
    now = now or timezone.now()
    count = segment_queryset(SegmentSpec.from_json(outreach.segment.spec), now=now, marketing=True).count()
    parts = (
        sms_segments(engine.render(outreach.body, customer=None, context={})).segments if outreach.body else 0
    )
    cost = (Decimal(count * parts) * Decimal(str(settings.SMS_SEGMENT_PRICE))).quantize(Decimal("0.01"))
    if not count:
        return Plan(0, parts, cost, None, 0)
    tz = Business.current().tzinfo
    start = max(outreach.starts_at, now)
    finishes = send_slots(start, count, outreach.rate_per_hour, tz)[-1]
    days = (timezone.localdate(finishes, tz) - timezone.localdate(start, tz)).days + 1
    return Plan(count, parts, cost, finishes, days)


def outreach_check(outreach: Outreach) -> None:
    if not outreach.body.strip() and outreach.sequence_id is None:
        raise ApplicationError("Write the text, or choose a sequence to enroll them in.", field="body")
    if outreach.body:
        engine.template_check(outreach.body)
    if outreach.sequence_id and not outreach.sequence.active:
        raise ApplicationError("That sequence is switched off.", field="sequence")
    if not 1 <= outreach.rate_per_hour <= 5000:
        raise ApplicationError("Send between 1 and 5,000 an hour.", field="rate_per_hour")


def outreach_test_send(*, outreach: Outreach, actor) -> Message:
    """The text, to the person launching it (their own phone), before anyone else gets it."""
    outreach_check(outreach)
    if not getattr(actor, "phone", None):
        raise ApplicationError("Add your mobile number to your profile to get a test text.", field="test")
    message = messaging.message_queue(
        to=actor.phone.as_e164,
        body="[Test] " + engine.render(outreach.body or "(enrolls in a sequence)", customer=None, context={}),
        purpose=Message.Purpose.CARE,
        find_customer=False,
        template=f"outreach-test:{outreach.pk}",
        actor=actor,
    )
    Outreach.objects.filter(pk=outreach.pk).update(test_sent_at=timezone.now())
    return message


def outreach_launch(*, outreach: Outreach, actor=None, now: datetime | None = None) -> Outreach:
    """Draft -> scheduled: the segment's customers queued at the rate from `starts_at`. Refused when
    nobody matches (it would reach no one)."""
    now = now or timezone.now()
    outreach_check(outreach)
    with transaction.atomic():
        outreach = Outreach.objects.select_for_update().get(pk=outreach.pk)
        if outreach.state not in (Outreach.State.DRAFT, Outreach.State.DONE):
            raise ApplicationError("This campaign is already under way.", field="state")
        customers = list(
            segment_queryset(SegmentSpec.from_json(outreach.segment.spec), now=now, marketing=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not customers:
            raise ApplicationError(
                "Nobody matches the segment: there is no one to send it to.", field="segment"
            )
        if outreach.campaign_id is None:
            outreach.campaign = _attribution_source(outreach, now)
        outreach.run += 1
        slots = send_slots(
            max(outreach.starts_at, now), len(customers), outreach.rate_per_hour, Business.current().tzinfo
        )
        OutreachRecipient.objects.bulk_create(
            OutreachRecipient(outreach=outreach, run=outreach.run, customer_id=pk, due_at=at)
            for pk, at in zip(customers, slots, strict=True)
        )
        outreach.state, outreach.launched_at, outreach.finished_at = Outreach.State.SCHEDULED, now, None
        outreach.save()
    return outreach


def _attribution_source(outreach: Outreach, now: datetime) -> Campaign:
    source, _ = Source.objects.get_or_create(
        slug="reactivation", defaults={"name": "Reactivation campaigns", "kind": Source.Kind.MANUAL}
    )
    return Campaign.objects.create(
        name=outreach.name,
        source=source,
        utm_campaign=f"reactivation-{outreach.pk}",
        cost_type=Campaign.CostType.TOTAL,
        cost=Decimal("0"),
        starts_on=timezone.localdate(now, Business.current().tzinfo),
    )


def outreach_cancel(*, outreach: Outreach, actor=None) -> Outreach:
    with transaction.atomic():
        outreach = Outreach.objects.select_for_update().get(pk=outreach.pk)
        OutreachRecipient.objects.filter(outreach=outreach, state=OutreachRecipient.State.PENDING).update(
            state=OutreachRecipient.State.SKIPPED, note="Campaign canceled"
        )
        outreach.state, outreach.finished_at = Outreach.State.CANCELED, timezone.now()
        outreach.save(update_fields=["state", "finished_at"])
    return outreach


# --- Sending ---------------------------------------------------------------------------------------------


def outreach_tick(*, now: datetime | None = None, batch: int = 200) -> int:
    """Send every due recipient, a batch per transaction (consent, quiet hours and the first-text rules
    decided for the batch at once by `texts_queue_many`); finish the runs with nobody left waiting. A
    batch that fails is sent again one recipient at a time, so one recipient's trouble holds up no one."""
    now = now or timezone.now()
    rules = AutomationSettings.current()
    sent = 0
    while True:
        with transaction.atomic():
            due = list(
                OutreachRecipient.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("outreach", "customer")
                .prefetch_related("customer__properties")
                .filter(
                    state=OutreachRecipient.State.PENDING,
                    due_at__lte=now,
                    outreach__state__in=[Outreach.State.SCHEDULED, Outreach.State.SENDING],
                )
                .order_by("due_at", "pk")[:batch]
            )
            sent += _send_safely(due, now, rules)
        if len(due) < batch:
            break
    _finish_runs(now)
    return sent


def _send_safely(due: list[OutreachRecipient], now: datetime, rules) -> int:
    if not due:
        return 0
    try:
        with transaction.atomic():
            return _send(due, now, rules)
    except Exception as exc:
        if len(due) > 1:
            return sum(_send_safely([recipient], now, rules) for recipient in due)
        if isinstance(exc, ApplicationError):  # this text cannot be sent (e.g. too long with their name)
            OutreachRecipient.objects.filter(pk=due[0].pk).update(
                state=OutreachRecipient.State.SKIPPED, note=f"Not sent: {exc.message}"[:200]
            )
            return 0
        logger.exception("Outreach send failed for recipient %s", due[0].pk)
        OutreachRecipient.objects.filter(pk=due[0].pk).update(
            due_at=now + timedelta(minutes=15), note=f"Error, retrying: {exc}"[:200]
        )
        return 0


def _send(due: list[OutreachRecipient], now: datetime, rules) -> int:
    """The batch's texts queued together, its sequence enrollments made, its skips and waits noted."""
    Outreach.objects.filter(pk__in={r.outreach_id for r in due}, state=Outreach.State.SCHEDULED).update(
        state=Outreach.State.SENDING
    )
    customer_ids = sorted({r.customer_id for r in due})
    history = frequency_history(customer_ids=customer_ids, now=now)
    numbers = _textable_numbers(customer_ids)
    texts: list[tuple[OutreachRecipient, messaging.TextOut]] = []
    for recipient in due:
        outreach, customer = recipient.outreach, recipient.customer
        if customer.merged_into_id:
            _skip(recipient, "Merged into another customer")
        elif outreach.sequence_id:
            engine.enroll(
                sequence=outreach.sequence,
                customer=customer,
                origin=f"campaign:{outreach.pk}",
                now=now,
                subject_key=f"outreach:{outreach.pk}:{outreach.run}",
            )
            _sent(recipient, now, None)
        elif customer.pk not in numbers:
            _skip(recipient, "No number that takes texts")
        else:
            text = _text_or_wait(recipient, numbers[customer.pk], now, rules, history[customer.pk])
            if text is not None:
                texts.append((recipient, text))
    messages = messaging.texts_queue_many(
        texts=[text for _, text in texts], purpose=Message.Purpose.MARKETING, now=now
    )
    for (recipient, _), message in zip(texts, messages, strict=True):
        if message.status == Message.Status.SUPPRESSED:
            _skip(recipient, message.error_message, message=message)
        else:
            _sent(recipient, now, message)
    OutreachRecipient.objects.bulk_update(due, ["state", "sent_at", "message", "note", "due_at"])
    return sum(1 for r in due if r.state == OutreachRecipient.State.SENT)


def _textable_numbers(customer_ids: list[int]) -> dict[int, str]:
    """Each customer's number for texts: the primary textable one, else the first (one query)."""
    numbers: dict[int, str] = {}
    for customer_id, number in (
        PhoneNumber.objects.filter(customer_id__in=customer_ids, textable=True)
        .order_by("customer_id", "-is_primary", "pk")
        .values_list("customer_id", "number")
    ):
        numbers.setdefault(customer_id, number.as_e164)
    return numbers


def _text_or_wait(recipient, number: str, now: datetime, rules, history) -> messaging.TextOut | None:
    """The recipient's text, or None when a frequency cap makes it wait (its due time moves on)."""
    subject = f"outreach:{recipient.outreach_id}"
    at, why = frequency_release(
        customer=recipient.customer,
        number=number,
        subject=subject,
        now=now,
        per_day=rules.max_per_day,
        per_week=rules.max_per_week,
        history=history,
    )
    if at is not None:
        recipient.due_at, recipient.note = at, why[:200]
        return None
    history.insert(0, (now, subject))  # a second text to the customer in this batch counts this one
    return messaging.TextOut(
        to=number,
        body=engine.render(recipient.outreach.body, customer=recipient.customer, context={}),
        customer=recipient.customer,
        template=subject,
    )


def _sent(recipient, now, message) -> None:
    recipient.state, recipient.sent_at, recipient.message, recipient.note = (
        OutreachRecipient.State.SENT,
        now,
        message,
        "",
    )


def _skip(recipient, note: str, *, message=None) -> None:
    recipient.state, recipient.note, recipient.message = OutreachRecipient.State.SKIPPED, note[:200], message


def _finish_runs(now: datetime) -> None:
    for outreach in Outreach.objects.filter(state=Outreach.State.SENDING):
        if outreach.recipients.filter(run=outreach.run, state=OutreachRecipient.State.PENDING).exists():
            continue
        outreach.state, outreach.finished_at = Outreach.State.DONE, now
        if outreach.campaign_id:  # what the texts cost, for the lead reports' cost and ROI
            texts = outreach.recipients.filter(state=OutreachRecipient.State.SENT).count()
            Campaign.objects.filter(pk=outreach.campaign_id).update(cost=_cost(outreach, texts))
        if outreach.repeat == Outreach.Repeat.YEARLY:
            outreach.starts_at = _next_year(outreach.starts_at)
        outreach.save(update_fields=["state", "finished_at", "starts_at"])


def _next_year(moment: datetime) -> datetime:
    try:
        return moment.replace(year=moment.year + 1)
    except ValueError:  # February 29th
        return moment.replace(year=moment.year + 1, day=28)


def outreach_relaunch_yearly(*, now: datetime | None = None) -> int:
    """Yearly campaigns whose date has come round again: launched on a fresh segment."""
    now = now or timezone.now()
    launched = 0
    for outreach in Outreach.objects.filter(
        repeat=Outreach.Repeat.YEARLY, state=Outreach.State.DONE, starts_at__lte=now
    ):
        try:
            outreach_launch(outreach=outreach, now=now)
            launched += 1
        except ApplicationError as error:
            logger.warning("Yearly campaign %s not relaunched: %s", outreach.pk, error.message)
    return launched


# --- Results ---------------------------------------------------------------------------------------------


@dataclass
class Results:
    recipients: int
    sent: int
    delivered: int
    replied: int
    opted_out: int
    leads: int
    jobs_booked: int
    revenue: Decimal
    cost: Decimal

    @property
    def roi(self) -> Decimal | None:
        return (self.revenue / self.cost).quantize(Decimal("0.01")) if self.cost else None


def outreach_results(outreach: Outreach, *, now: datetime | None = None) -> Results:
    """Counted per recipient within `attribution_days` of their text (a handful of queries)."""
    now = now or timezone.now()
    rows = list(
        outreach.recipients.filter(run=outreach.run).values_list(
            "customer_id", "state", "sent_at", "message__status"
        )
    )
    sent = {customer: at for customer, state, at, _ in rows if state == OutreachRecipient.State.SENT}
    delivered = sum(1 for *_, status in rows if status in (Message.Status.DELIVERED, Message.Status.SENT))
    window = timedelta(days=outreach.attribution_days)
    if not sent:
        return Results(len(rows), 0, 0, 0, 0, 0, 0, Decimal("0.00"), _cost(outreach, 0))
    first = min(sent.values())
    inbound = Message.objects.filter(
        customer_id__in=sent, direction=Message.Direction.INBOUND, created_at__gte=first
    ).values_list("customer_id", "created_at")
    replied = {c for c, at in inbound if sent[c] <= at <= sent[c] + window}
    numbers = {
        str(number): pk
        for number, pk in Customer.objects.filter(pk__in=sent).values_list("phones__number", "pk")
    }
    opted = ConsentEvent.objects.filter(
        number__in=[n for n in numbers if n], state=ConsentEvent.State.OPTED_OUT, created_at__gte=first
    ).values_list("number", "created_at")
    opted_out = set()
    for number, at in opted:
        customer = numbers.get(str(number))
        if customer in sent and sent[customer] <= at <= sent[customer] + window:
            opted_out.add(customer)
    customer_type = ContentType.objects.get_for_model(Customer)
    links = EventLink.objects.filter(target_type=customer_type, target_id__in=[str(c) for c in sent]).values(
        "event_id"
    )
    booked_events = Event.objects.filter(
        pk__in=links, milestone__in=("lead.created", "job.scheduled"), occurred_at__gte=first
    ).values_list("milestone", "data", "occurred_at")
    leads, jobs = set(), {}
    for milestone, data, at in booked_events:
        customer = data.get("customer_id")
        if customer not in sent or not sent[customer] <= at <= sent[customer] + window:
            continue
        if milestone == "lead.created":
            leads.add(data.get("lead_id"))
        else:
            jobs[data["job_id"]] = customer
    business = Business.current()
    start = timezone.localdate(first, business.tzinfo)
    end = timezone.localdate(now, business.tzinfo)
    by_job = ledger.revenue_by_job(start=start, end=end) if jobs else {}
    revenue = sum((by_job.get(job, Decimal("0")) for job in jobs), Decimal("0.00"))
    return Results(
        recipients=len(rows),
        sent=len(sent),
        delivered=delivered,
        replied=len(replied),
        opted_out=len(opted_out),
        leads=len(leads),
        jobs_booked=len(jobs),
        revenue=revenue,
        cost=_cost(outreach, len(sent)),
    )


def _cost(outreach: Outreach, sent: int) -> Decimal:
    parts = sms_segments(outreach.body).segments if outreach.body else 0
    return (Decimal(sent * parts) * Decimal(str(settings.SMS_SEGMENT_PRICE))).quantize(Decimal("0.01"))
