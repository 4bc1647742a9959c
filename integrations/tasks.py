from celery import shared_task

from . import inbound


@shared_task(name="integrations.tasks.process_inbound_lead")
def process_inbound_lead(inbound_id: int) -> str:
    return inbound.inbound_process(inbound_id=inbound_id).status


@shared_task(name="integrations.tasks.sweep_inbound_leads")
def sweep_inbound_leads() -> int:
    return inbound.inbound_sweep()
