"""What starts and ends enrollments: fsm's and crm's milestones (imported by crm.subscribers, so the
registry finds them). Each is safe to run twice: an active enrollment per subject is enrolled once, and
stopping a stopped one does nothing."""

from django.db.models import Q

from events.registry import subscriber

from . import engine, reviews
from .models import Sequence
from .services import estimate_context


@subscriber("estimate.sent", name="crm.automations.enroll_estimate")
def enroll_estimate(event) -> None:
    """An estimate went out (or was shown on site): the unsold-estimate follow-up starts."""
    data = event.data
    engine.enroll_by_trigger(
        trigger=Sequence.Trigger.ESTIMATE_SENT,
        customer_id=data["customer_id"],
        origin="estimate.sent",
        subject_key=f"estimate:{data['estimate_id']}",
        context=estimate_context(data),
        now=event.occurred_at,
    )


@subscriber("lead.created", name="crm.automations.enroll_lead")
def enroll_lead(event) -> None:
    """A new lead: the nurture sequence (its first wait gives the office time to answer)."""
    from ..models import Lead

    data = event.data
    lead = Lead.objects.filter(pk=data["lead_id"]).first()
    if lead is None or lead.state not in Lead.OPEN_STATES:
        return
    engine.enroll_by_trigger(
        trigger=Sequence.Trigger.LEAD_CREATED,
        customer_id=data.get("customer_id"),
        origin="lead.created",
        lead=lead,
        subject_key=f"lead:{lead.pk}",
        now=event.occurred_at,
    )


@subscriber("job.canceled", name="crm.automations.enroll_canceled")
def enroll_canceled(event) -> None:
    """An appointment was canceled: the rebook sequence."""
    data = event.data
    engine.enroll_by_trigger(
        trigger=Sequence.Trigger.JOB_CANCELED,
        customer_id=data.get("customer_id"),
        origin="job.canceled",
        subject_key=f"job:{data['job_id']}",
        context={"job_number": data.get("job_number", "")},
        now=event.occurred_at,
    )


@subscriber("estimate.accepted", "estimate.declined", name="crm.automations.stop_on_estimate")
def stop_on_estimate(event) -> None:
    reason = engine.STOP_REASONS[event.milestone]
    engine.stop_where(Q(subject_key=f"estimate:{event.data['estimate_id']}"), reason=reason)


@subscriber("message.received", name="crm.automations.stop_on_reply")
def stop_on_reply(event) -> None:
    if event.data.get("customer_id"):
        engine.stop_where(Q(customer_id=event.data["customer_id"]), reason="The customer replied")


@subscriber("lead.lost", name="crm.automations.stop_on_lost")
def stop_on_lost(event) -> None:
    lead_id = event.data["lead_id"]
    engine.stop_where(Q(lead_id=lead_id) | Q(subject_key=f"lead:{lead_id}"), reason="The lead was lost")


@subscriber("lead.booked", "job.scheduled", name="crm.automations.stop_on_booking")
def stop_on_booking(event) -> None:
    customer_id = event.data.get("customer_id")
    if customer_id:
        engine.stop_where(
            Q(customer_id=customer_id, sequence__stop_on_booking=True), reason="A job was booked"
        )


# --- Review requests (crm.automations.reviews) ----------------------------------------------------------


@subscriber("invoice.paid", "job.completed", name="crm.reviews.request")
def review_request(event) -> None:
    """The configured moment (paid in full, or the job done): a pending request, once per invoice or job.
    Which milestone counts is the owner's setting, read here (it may change after fan-out)."""
    reviews.review_request_from_milestone(event)


@subscriber("message.received", name="crm.reviews.score", when=lambda data: bool(data.get("customer_id")))
def review_score(event) -> None:
    """A reply that is a 1-5 score goes on the customer's latest review request (a low one: a call task
    for the owner). It never touches what was or will be sent: the link went with the request."""
    reviews.review_score_record(customer_id=event.data["customer_id"], body=event.data.get("body", ""))
