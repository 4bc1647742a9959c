"""Demo pipeline: sources, campaigns, service types and two weeks of leads in every state, then the history
before them (crm.demo_history)."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from customers.models import Customer
from events.backdate import backdated
from users.models import User

from . import services
from .automations import engine
from .automations.defaults import defaults_install
from .automations.models import Sequence
from .automations.review_demo import seed_reviews
from .demo_history import seed_history
from .models import Campaign, Lead, LostReason, ServiceType, Source, WebForm

SERVICES = [
    "AC repair",
    "AC tune-up",
    "Furnace repair",
    "Water heater replacement",
    "Drain cleaning",
    "Leak repair",
    "Electrical panel upgrade",
    "New AC install",
    "Toilet repair",
    "Gas leak check",
]
SOURCES = [
    ("Website", "website", Source.Kind.WEB_FORM),
    ("Google Ads", "google-ads", Source.Kind.GOOGLE_ADS),
    ("Google Local Services", "google-lsa", Source.Kind.GOOGLE_LSA),
    ("Facebook lead ads", "facebook", Source.Kind.FACEBOOK),
    ("Angi (Zapier)", "angi", Source.Kind.WEBHOOK),
    ("Thumbtack (Zapier)", "thumbtack", Source.Kind.WEBHOOK),
    ("Phone call", "phone", Source.Kind.PHONE),
    ("Text message", "sms", Source.Kind.SMS),
    ("Entered by staff", "office", Source.Kind.MANUAL),
    ("Referral", "referral", Source.Kind.REFERRAL),
]
MESSAGES = [
    "Upstairs unit blowing warm air",
    "No hot water since this morning",
    "Kitchen sink backs up",
    "Breaker keeps tripping",
    "Want a quote for a new system",
    "Water stain on the ceiling",
    "Furnace makes a banging noise",
    "Annual maintenance please",
    "",
]


def seed(*, rng, log, history_days: int = 0, **_):
    for name in SERVICES:
        ServiceType.objects.get_or_create(name=name)
    sources = {
        slug: Source.objects.get_or_create(slug=slug, defaults={"name": name, "kind": kind})[0]
        for name, slug, kind in SOURCES
    }
    today = timezone.localdate()
    campaigns = [
        Campaign.objects.create(
            name="Fall furnace tune-up",
            source=sources["google-ads"],
            utm_campaign="fall-furnace",
            cost="1800.00",
            cost_type="monthly",
            starts_on=today - timedelta(days=60),
        ),
        Campaign.objects.create(
            name="Water heater promo",
            source=sources["facebook"],
            utm_campaign="wh-promo",
            cost="2400.00",
            cost_type="total",
            starts_on=today - timedelta(days=45),
            ends_on=today + timedelta(days=15),
        ),
        Campaign.objects.create(
            name="Local Services Ads",
            source=sources["google-lsa"],
            utm_campaign="lsa",
            cost="950.00",
            cost_type="monthly",
            starts_on=today - timedelta(days=120),
        ),
    ]
    form = WebForm.objects.create(
        name="Website request form",
        source=sources["website"],
        headline="Request service",
        allowed_origins=["http://127.0.0.1:8000", "http://localhost:8000"],
    )
    form.services.set(ServiceType.objects.filter(name__in=SERVICES[:6]))
    office = User.objects.filter(username="office").first()
    customers = list(Customer.objects.active().prefetch_related("phones", "properties").order_by("?")[:70])
    for i, customer in enumerate(customers):
        _seed_lead(rng, i, customer, sources, campaigns, office)
    _seed_conversations(rng, customers[:10], office)
    log(
        f"{len(SOURCES)} sources, {len(campaigns)} campaigns, a website form, {len(customers)} leads "
        "and 10 text conversations."
    )
    seed_history(rng=rng, log=log, days=history_days, sources=sources, campaigns=campaigns)
    _seed_automations(log, office)
    seed_reviews(rng=rng, log=log)


def seed_after(*, rng, log, **_) -> None:
    """Once fsm's history is there: the past reactivation campaign (it needs customers' work history)."""
    from .segments.demo import seed_after as seed_past_campaign

    seed_past_campaign(rng=rng, log=log)


def _seed_automations(log, office) -> None:
    """The default sequences switched on (the worker enrolls the estimates the demo sends), and the open
    new leads in the nurture sequence."""
    defaults_install(active=True)
    nurture = Sequence.objects.get(key="new-lead-nurture")
    fresh = Lead.objects.filter(state=Lead.State.NEW, customer__isnull=False).order_by("-arrived_at")[:4]
    for lead in fresh:
        engine.enroll(
            sequence=nurture,
            customer=lead.customer,
            origin="lead.created",
            lead=lead,
            subject_key=f"lead:{lead.pk}",
            now=lead.arrived_at,
        )
    log(f"3 default sequences switched on; {len(fresh)} new leads in the nurture sequence.")


TEXTS = [
    ("Hi, is anyone available today? Water heater is leaking", "We can be there by 2pm. Does that work?"),
    ("What time is the tech coming?", "Luis is on his way, about 20 minutes out."),
    ("Can you send me the quote again?", "Just sent it to your e-mail. Any questions, text us here."),
    ("Thanks, the AC is working great now!", "Glad to hear it! Thanks for choosing us."),
    ("Do you do drain cleaning on weekends?", ""),
]


def _seed_conversations(rng, customers, office):
    from datetime import timedelta

    from django.utils import timezone

    from messaging.models import Message
    from messaging.services import message_receive

    for i, customer in enumerate(customers):
        phones = customer.phones.all()
        if not phones:
            continue
        number = phones[0].number.as_e164
        inbound, reply = TEXTS[i % len(TEXTS)]
        at = timezone.now() - timedelta(minutes=rng.randint(5, 3000))
        message, _ = message_receive(
            from_number=number, to_number="+15555550100", body=inbound, provider_sid=f"SMdemo{i:04d}in"
        )
        Message.objects.filter(pk=message.pk).update(created_at=at)
        if reply:
            Message.objects.create(
                conversation=message.conversation,
                customer=customer,
                direction="out",
                purpose="care",
                to_number=number,
                from_number="+15555550100",
                body=reply,
                status="delivered",
                provider_sid=f"SMdemo{i:04d}out",
                created_by=office,
                created_at=at + timedelta(minutes=3),
                sent_at=at + timedelta(minutes=3),
                delivered_at=at + timedelta(minutes=3),
            )
        last = at + timedelta(minutes=3 if reply else 0)
        message.conversation.__class__.objects.filter(pk=message.conversation_id).update(
            last_message_at=last,
            last_message_preview=(reply or inbound)[:160],
            unread_count=0 if reply else 1,
        )


@transaction.atomic
def _seed_lead(rng, i, customer, sources, campaigns, office):
    source = rng.choice(list(sources.values()))
    campaign = next((c for c in campaigns if c.source_id == source.pk), None)
    phone = customer.phones.all()[0].number.as_e164 if customer.phones.all() else ""
    prop = customer.properties.all()[0] if customer.properties.all() else None
    service = rng.choice(SERVICES)
    now = timezone.now()
    arrived = (  # the answered ones arrived long enough ago for their story to have happened since
        now - timedelta(minutes=rng.randint(6 * 60, 14 * 24 * 60))
        if i >= 6
        else now - timedelta(minutes=rng.choice([1, 3, 4, 7, 12, 25]))
    )
    contact = services.LeadIn(
        name=customer.display_name,
        phone=phone,
        service=service,
        message=rng.choice(MESSAGES),
        street=prop.street if prop else "",
        city=prop.city if prop else "",
        state=prop.state if prop else "",
        zip_code=prop.zip_code if prop else "",
    )
    with backdated(arrived):
        lead = services.lead_capture(
            source=source,
            contact=contact,
            campaign=campaign,
            arrived_at=arrived,
            actor_label="demo data",
            external_id=f"demo-{i}",
            attribution={"utm_campaign": campaign.utm_campaign} if campaign else {},
        ).lead
    Lead.objects.filter(pk=lead.pk).update(created_at=arrived)
    if i < 6:
        return  # fresh and unanswered: the board's clocks run on these
    answered = arrived + timedelta(seconds=rng.choice([25, 40, 70, 180, 240, 420, 900, 3600]))
    Lead.objects.filter(pk=lead.pk).update(first_response_at=answered)
    _seed_lead_story(rng, Lead.objects.get(pk=lead.pk), office, service, answered)


def _seed_lead_story(rng, lead, office, service, answered) -> None:
    """What happened after the first answer, each step later than the one before and none after now."""
    steps = _moments(rng, answered)
    path = rng.choice(["contacted", "qualified", "qualified", "booked", "booked", "won", "lost", "lost"])
    with backdated(next(steps)):
        lead = services.lead_mark_contacted(lead=lead, actor=office)
    if path == "lost":
        with backdated(closed := next(steps)):
            services.lead_lose(lead=lead, actor=office, reason=rng.choice(LostReason.values))
        Lead.objects.filter(pk=lead.pk).update(closed_at=closed)
        return
    if path == "contacted":
        return
    with backdated(next(steps)):
        lead = services.lead_qualify(lead=lead, actor=office)
    if path in ("booked", "won"):
        with backdated(booked := next(steps)):
            lead = services.lead_book(
                lead=lead, actor=office, service=service, notes="Customer prefers mornings"
            )
        Lead.objects.filter(pk=lead.pk).update(booked_at=booked)
    if path == "won":
        with backdated(closed := next(steps)):
            services.lead_win(lead=lead, actor=office)
        Lead.objects.filter(pk=lead.pk).update(closed_at=closed)


def _moments(rng, start):
    """`start`, then moments minutes to hours apart, in order, none later than now."""
    moment, now = start, timezone.now()
    while True:
        yield min(moment, now)
        moment += timedelta(minutes=rng.randint(5, 240))
