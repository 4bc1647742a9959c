"""CRM reactions to milestones: won follows the work; new leads get an instant text; customers get
their appointment texts (confirmation, day-before reminder, on my way, completed) from fsm's milestones.

Appointment texts and their purpose. The confirmation, "on my way" and "completed" texts are customer
care: each follows something a person just did about the customer's own appointment (the office booked
it, the technician left, the job was finished) and is only useful now; holding "on my way" until 9:00
would be absurd. They go at once to anyone who has not opted out. The day-before reminder is different:
a machine sends it on a schedule and nobody waits for it at that minute, so it is "automated": quiet
hours hold it until the customer's window opens, and a number that asked to stop does not get it.

Each is sent once: the events Delivery record runs a subscriber once per event and the Message row
commits with it; fsm publishes visit.reminder_due once per visit (Visit.reminder_sent_at).
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from customers.models import Customer
from events import services as events
from events.registry import subscriber
from messaging import services as messaging
from messaging.models import Message, MessagingSettings
from users.models import Business

from . import services
from .models import Lead, Source

INSTANT_REPLY_KINDS = (
    Source.Kind.WEB_FORM,
    Source.Kind.WEBHOOK,
    Source.Kind.GOOGLE_ADS,
    Source.Kind.GOOGLE_LSA,
    Source.Kind.FACEBOOK,
)


@subscriber("job.completed", "estimate.accepted", name="crm.win_lead_from_work")
def win_lead_from_work(event) -> None:
    """The job or estimate that came from a lead was completed or accepted: the lead is won."""
    lead_id = event.data["origin_lead_id"]
    if not lead_id:
        return
    lead = Lead.objects.filter(pk=lead_id).first()
    if lead is None or lead.state not in (Lead.State.QUALIFIED, Lead.State.BOOKED):
        return
    services.lead_win(lead=lead, actor=None, actor_label=event.milestone, reason=event.milestone)


@subscriber(
    "estimate.sent",
    "estimate.accepted",
    "estimate.declined",
    name="crm.estimate_on_lead_timeline",
    when=lambda data: bool(data.get("origin_lead_id")),
)
def estimate_on_lead_timeline(event) -> None:
    """An estimate made for a lead shows on the lead's timeline: sent, accepted, declined."""
    lead_id = event.data["origin_lead_id"]
    if Lead.objects.filter(pk=lead_id).exists():
        events.event_links_add(event=event, links=[(Lead, lead_id)])


@subscriber(
    "lead.created",
    name="crm.instant_reply",
    when=lambda data: data.get("source_kind", INSTANT_REPLY_KINDS[0]) in INSTANT_REPLY_KINDS,
)
def instant_reply(event) -> None:
    """A lead from a form, a webhook or an ad gets a text within a second (once: the delivery is recorded)."""
    lead = Lead.objects.select_related("source", "customer").filter(pk=event.data.get("lead_id")).first()
    rules = MessagingSettings.current()
    if lead is None or not lead.phone or lead.state != Lead.State.NEW or not rules.instant_reply_enabled:
        return
    if lead.source.kind not in INSTANT_REPLY_KINDS or not lead.source.instant_reply_enabled:
        return
    template = lead.source.instant_reply_template or rules.instant_reply_template
    message = messaging.message_queue(
        to=lead.phone,
        body=messaging.render_template(template, customer=lead.customer),
        purpose="automated",
        template="instant_reply",
        customer=lead.customer,
        lead=lead,
    )
    if message.status == "queued":  # a text held for quiet hours is not an answer yet
        services.lead_record_response(lead=lead, at=message.created_at, channel="auto-sms")


# --- Appointment texts (why care or automated: the module docstring) -------------------------------------


@subscriber("job.scheduled", "visit.rescheduled", name="crm.appointment_confirmation")
def appointment_confirmation(event) -> None:
    """The job's first visit is on the board, or a visit moved to another day: tell the customer the
    day and the arrival window (the confirmation text, with the new date)."""
    if not _upcoming(event.data):
        _not_sent(event, "confirmation", "the visit had already started when it was processed")
        return
    _appointment_text(event, kind="confirmation", purpose=Message.Purpose.CARE, extra=_visit_fields(event))


@subscriber("visit.reminder_due", name="crm.appointment_reminder")
def appointment_reminder(event) -> None:
    """The day before a visit (fsm.tasks.visit_reminders): an automated reminder, held by quiet hours."""
    if not _upcoming(event.data):
        _not_sent(event, "reminder", "the visit had already started when it was processed")
        return
    _appointment_text(event, kind="reminder", purpose=Message.Purpose.AUTOMATED, extra=_visit_fields(event))


STALE_ON_MY_WAY = timedelta(hours=1)  # an "on my way" that old is no news (a backlog, old demo work)
LATE_DELIVERY = timedelta(minutes=5)  # a delivery later than this is late (an outage, a backlog)
STALE_COMPLETED = timedelta(hours=12)


@subscriber("job.en_route", name="crm.on_my_way_text")
def on_my_way_text(event) -> None:
    """The technician heads out: their first name and the estimated arrival ("any minute now" when the
    drive is a couple of minutes). A delivery on time always texts; a late one (an outage, a backlog)
    does not once the estimated arrival has passed, or an hour after departure, and says so on the
    job's and the customer's timelines."""
    eta, minutes = _when(event.data.get("eta")), event.data.get("eta_minutes")
    # When the technician left: the estimate less the drive (a departure entered after the fact is in
    # the past), else when the milestone was published.
    departed = eta - timedelta(minutes=minutes) if eta and minutes is not None else event.occurred_at
    now = timezone.now()
    late = now - departed
    if late > LATE_DELIVERY and (eta or departed + STALE_ON_MY_WAY) < now:
        after = round(late.total_seconds() / 60)
        _not_sent(event, "on-my-way", f"it was processed {after} min after departure, past the arrival")
        return
    extra = {
        "technician": event.data.get("technician_first_name") or "your technician",
        "eta": _eta_text(eta, departed, _zone(event.data.get("time_zone"))),
    }
    _appointment_text(event, kind="on_my_way", purpose=Message.Purpose.CARE, extra=extra)


def _not_sent(event, kind: str, reason: str) -> None:
    events.record_beside(
        event,
        "crm.text.skipped",
        actor_label="texts",
        summary=f"The {kind} text was not sent: {reason}.",
        data={"kind": kind, "reason": reason},
    )


@subscriber("job.completed", name="crm.job_completed_text")
def job_completed_text(event) -> None:
    """The work is done: thank the customer (a review link can join this text later); not for work
    finished more than 12 hours ago (a completion entered late, old demo jobs)."""
    finished = _when(event.data.get("at")) or event.occurred_at
    if finished + STALE_COMPLETED < timezone.now():
        _not_sent(event, "job-completed", "the work was finished over 12 hours before it was processed")
        return
    _appointment_text(event, kind="completed", purpose=Message.Purpose.CARE, extra={})


def _appointment_text(event, *, kind: str, purpose: str, extra: dict) -> Message | None:
    """Queue the owner's `<kind>_template` for the event's customer, unless it is switched off or the
    customer has no number that takes texts. Consent (opted out: suppressed) is message_queue's call."""
    rules = MessagingSettings.current()
    template = getattr(rules, f"{kind}_template").strip()
    if not getattr(rules, f"{kind}_text_enabled") or not template:
        return None
    customer = _customer(event.data.get("customer_id"))
    number = event.data.get("phone") or _textable_number(customer)
    if not number:
        _not_sent(event, kind.replace("_", "-"), "the customer has no number that takes texts")
        return None
    fields = {"job_number": event.data.get("job_number") or "", **extra}
    return messaging.message_queue(
        to=number,
        body=messaging.render_template(template, customer=customer, extra=fields),
        purpose=purpose,
        template=f"appointment_{kind}",
        customer=customer,
    )


def _customer(customer_id) -> Customer | None:
    """The event's customer, or the one it was merged into since."""
    customer = Customer.objects.filter(pk=customer_id).first() if customer_id else None
    while customer is not None and customer.merged_into_id:
        customer = customer.merged_into
    return customer


def _textable_number(customer: Customer | None) -> str:
    phone = customer.phones.filter(textable=True).order_by("-is_primary", "pk").first() if customer else None
    return phone.number.as_e164 if phone else ""


def _upcoming(data: dict) -> bool:
    """A visit already under way (a delivery late by hours, a seeded past job) needs no notice."""
    start = _when(data.get("start"))
    return start is not None and start > timezone.now()


def _visit_fields(event) -> dict:
    """{date} and {window} on the customer's clock: "Tuesday, June 4", "between 9:00 AM and 11:00 AM"
    (the arrival window promised), else "at 9:00 AM" (the visit's start)."""
    tz = _zone(event.data.get("time_zone"))
    start = timezone.localtime(_when(event.data["start"]), tz)
    window = [_when(event.data.get(key)) for key in ("arrival_window_start", "arrival_window_end")]
    if all(window):
        first, last = (timezone.localtime(value, tz) for value in window)
        return {"date": _day(first.date()), "window": f"between {_clock(first)} and {_clock(last)}"}
    return {"date": _day(start.date()), "window": f"at {_clock(start)}"}


def _eta_text(eta: datetime | None, departed: datetime, tz: ZoneInfo) -> str:
    """{eta}: "around 9:40 AM"; "any minute now" when the drive is a couple of minutes or less (the
    technician is next door); "soon" when fsm could not place the technician or the address."""
    if eta is None:
        return "soon"
    if eta - departed <= timedelta(minutes=2):
        return "any minute now"
    return f"around {_clock(timezone.localtime(eta, tz))}"


def _when(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else Business.current().tzinfo
    except (ZoneInfoNotFoundError, ValueError):
        return Business.current().tzinfo


def _day(day: date) -> str:
    return f"{day:%A}, {day:%B} {day.day}"


def _clock(moment: datetime) -> str:
    return f"{moment.hour % 12 or 12}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


from .automations import subscribers as automations  # noqa: E402, F401 (its subscribers register on import)
from .segments import subscribers as segments  # noqa: E402, F401
