"""CRM reactions to field-service milestones: won follows the work."""

from events.registry import subscriber

from . import services
from .models import Lead


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
