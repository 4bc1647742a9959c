"""CRM reactions to milestones: won follows the work; new leads get an instant text."""

from events.registry import subscriber

from . import messaging, services
from .models import Lead, MessagingSettings, Source

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
    lead_id = event.data.get("origin_lead_id") or event.data.get("lead_id")
    if not lead_id:
        return
    lead = Lead.objects.filter(pk=lead_id).first()
    if lead is None or lead.state not in (Lead.State.QUALIFIED, Lead.State.BOOKED):
        return
    services.lead_win(lead=lead, actor=None, actor_label=event.milestone, reason=event.milestone)


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
