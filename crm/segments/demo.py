"""The demo's past reactivation campaign: a saved segment of customers whose last job was a while ago,
texted five weeks ago through the real launch and scheduler with the clock moved back, a few replies,
and the yeses booked as leads of its campaign (fsm's second pass works them into jobs, invoices and
payments, finance's posts them), so its results page has real figures.

Runs after every app has seeded (seed_demo's second pass), because the segment reads the work history
fsm's milestones left behind."""

from datetime import UTC, datetime, time, timedelta

from django.utils import timezone

from customers import services as customer_services
from events.backdate import clock_at
from events.models import Delivery
from events.services import deliveries_replay, delivery_attempt
from messaging.models import Message
from messaging.services import message_receive
from users.models import Business, User

from .. import services as lead_services
from . import outreach as campaigns
from . import services as segments
from .models import Outreach, OutreachRecipient
from .services import SegmentSpec

BODY = (
    "Hi {first_name}, it's {business_name}. It has been a while since we were out: book a furnace "
    "safety check before the cold sets in and get $25 off. Reply YES and we'll call you."
)
REPLIES = ("YES please", "Yes, mornings are best", "How much is it?", "Yes! Thursday?")
SERVICE = "Furnace repair"  # fsm's job type for the safety check


HISTORY = (
    "crm.segments.job_completed",
    "crm.segments.invoice_paid",
    "crm.segments.refund",
    "crm.segments.equipment",
)


def _history_delivered() -> None:
    """The customers' work history from the demo's milestones now (the worker would, a moment later)."""
    for name in HISTORY:
        deliveries_replay(subscriber=name, since=datetime(2000, 1, 1, tzinfo=UTC))
    pending = Delivery.objects.filter(subscriber__in=HISTORY, status=Delivery.Status.PENDING)
    for pk in pending.order_by("event_id").values_list("pk", flat=True):
        delivery_attempt(delivery_id=pk, force=True)


def _book(recipient, campaign, at: datetime, office) -> None:
    """The office calls back a yes and books the visit (a lead from the campaign, booked)."""
    customer, number = recipient.customer, recipient.message.to_number
    prop = customer.properties.first()
    with clock_at(at + timedelta(minutes=12)):
        captured = lead_services.lead_capture(
            source=campaign.source,
            contact=lead_services.LeadIn(
                name=customer.display_name,
                phone=number,
                service=SERVICE,
                street=prop.street if prop else "",
                city=prop.city if prop else "",
                state=prop.state if prop else "",
                zip_code=prop.zip_code if prop else "",
            ),
            campaign=campaign,
            actor_label="demo data",
            external_id=f"demo-outreach-{recipient.pk}",
            attribution={"utm_campaign": campaign.utm_campaign},
        )
        lead = lead_services.lead_mark_contacted(lead=captured.lead, actor=office, channel="phone")
        lead = lead_services.lead_qualify(lead=lead, actor=office)
        lead_services.lead_book(lead=lead, actor=office, service=SERVICE)


def seed_after(*, rng, log, **_) -> None:
    _history_delivered()
    office = User.objects.filter(username="office").first()
    business = Business.current()
    tz = business.tzinfo
    sent_on = timezone.localdate() - timedelta(days=35)
    starts_at = datetime.combine(sent_on, time(10, 0), tz)
    spec = SegmentSpec(last_job_months=1)
    segment = segments.segment_save(name="No visit in a month or more", spec=spec)
    matching = list(segments.segment_queryset(spec, now=starts_at).order_by("pk")[:400])
    if not matching:
        log("No past campaign: the demo has no work history (--years 0).")
        return
    phones = [p for p in (c.phones.filter(textable=True).first() for c in matching) if p]
    # Most of them ticked "text me offers" when they booked; at least one did, whatever the draw (a small
    # demo can match only a few, and a campaign reaching no one cannot be launched).
    opted = [p for p in phones if rng.random() < 0.7] or phones[:1]
    with clock_at(starts_at - timedelta(days=60)):
        for phone in opted:
            customer_services.consent_record(number=phone.number.as_e164, state="opted_in", method="web form")
    if not opted:
        log("No past campaign: none of the customers it would reach has a number to text.")
        return
    outreach = Outreach.objects.create(
        name="Furnace safety check", segment=segment, body=BODY, starts_at=starts_at, rate_per_hour=60
    )
    with clock_at(starts_at):
        campaigns.outreach_launch(outreach=outreach, now=starts_at)
    moment = starts_at
    while OutreachRecipient.objects.filter(outreach=outreach, state=OutreachRecipient.State.PENDING).exists():
        moment += timedelta(hours=1)
        with clock_at(moment):
            campaigns.outreach_tick(now=moment)
    sent = list(outreach.recipients.filter(message__isnull=False).select_related("message"))
    for recipient in sent:  # the carrier's receipts, for a campaign long delivered
        Message.objects.filter(pk=recipient.message_id).update(
            status=Message.Status.DELIVERED, sent_at=recipient.sent_at, delivered_at=recipient.sent_at
        )
    replied = [r for r in sent if rng.random() < 0.15]
    campaign = Outreach.objects.get(pk=outreach.pk).campaign
    for i, recipient in enumerate(replied):
        at = recipient.sent_at + timedelta(minutes=rng.randint(4, 300))
        body = rng.choice(REPLIES)
        with clock_at(at):
            message_receive(
                from_number=recipient.message.to_number,
                to_number=recipient.message.from_number or "+15555550100",
                body=body,
                provider_sid=f"SMdemooutreach{i:04d}",
            )
        if body.lower().startswith("yes"):
            _book(recipient, campaign, at, office)
    with clock_at(moment):
        campaigns.outreach_tick(now=moment)
    results = campaigns.outreach_results(Outreach.objects.get(pk=outreach.pk))
    log(
        f"A past reactivation campaign: {results.sent} texts, {results.replied} replies, "
        f"{results.leads} booked (fsm works them into jobs next)."
    )
