"""Accept a lead delivery in the request, capture it in a worker.

A webhook sender wants a fast answer and retries when it does not get one. `inbound_accept` validates the
contact (a bad phone is still a 400 naming the field), stores the delivery once per idempotency key or
source lead id, and queues its capture after commit; `inbound_process` runs crm.services.lead_capture in
the worker. A broker outage only delays the capture: the sweep re-queues what is still pending.
"""

import dataclasses
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from crm import services as crm
from crm.models import ServiceType, Source
from events.services import enqueue

from .models import InboundLead

MAX_ATTEMPTS = 5


@dataclass
class Accepted:
    inbound: InboundLead
    created: bool


def inbound_accept(
    *,
    source: Source,
    contact: crm.LeadIn,
    channel: str,
    attribution: dict | None = None,
    external_id: str = "",
    idempotency_key: str = "",
    raw_payload: dict | None = None,
) -> Accepted:
    """Validate and store one delivery; the same key or source lead id again returns the first one."""
    external_id, idempotency_key = str(external_id or "")[:200], str(idempotency_key or "")[:200]
    phone, email = crm.contact_normalize(contact)  # raises ApplicationError naming the field
    fields = {
        f.name: getattr(contact, f.name) for f in dataclasses.fields(contact) if f.name != "service_type"
    }
    fields.update(
        phone=phone, email=email, service_type_id=contact.service_type.pk if contact.service_type else None
    )
    try:
        with transaction.atomic():
            inbound = InboundLead.objects.create(
                source=source,
                channel=channel[:60],
                external_id=external_id,
                idempotency_key=idempotency_key,
                contact=fields,
                attribution=attribution or {},
                raw_payload=raw_payload or {},
            )
            transaction.on_commit(lambda: enqueue("integrations.tasks.process_inbound_lead", inbound.pk))
    except IntegrityError:
        existing = _existing(source, external_id, idempotency_key)
        if existing:
            return Accepted(existing, False)
        raise
    return Accepted(inbound, True)


def _existing(source: Source, external_id: str, idempotency_key: str) -> InboundLead | None:
    if external_id:
        found = InboundLead.objects.filter(source=source, external_id=external_id).first()
        if found:
            return found
    if idempotency_key:
        return InboundLead.objects.filter(source=source, idempotency_key=idempotency_key).first()
    return None


def inbound_process(*, inbound_id: int) -> InboundLead:
    """Capture a stored delivery as a lead, once. Safe to run twice. Only the delivery's row is locked
    (`of=("self",)`): the lead source joined in is read, never locked, so accepts and other captures
    of the same source never queue behind this one."""
    with transaction.atomic():
        inbound = (
            InboundLead.objects.select_for_update(of=("self",)).select_related("source").get(pk=inbound_id)
        )
        if inbound.status != InboundLead.Status.PENDING:
            return inbound
        inbound.attempts += 1
        try:
            with transaction.atomic():
                captured = crm.lead_capture(
                    source=inbound.source,
                    contact=_contact(inbound.contact),
                    actor_label=inbound.channel,
                    attribution=inbound.attribution,
                    external_id=inbound.external_id,
                    idempotency_key=inbound.idempotency_key,
                    raw_payload=inbound.raw_payload,
                    arrived_at=inbound.received_at,
                    unseen=True,  # this delivery is locked and pending: its lead is not written yet
                )
        except Exception as exc:
            inbound.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if inbound.attempts >= MAX_ATTEMPTS:
                inbound.status = InboundLead.Status.FAILED
        else:
            inbound.lead, inbound.status = captured.lead, InboundLead.Status.DONE
            inbound.processed_at, inbound.last_error = timezone.now(), ""
        # Only what changed: the delivery's payloads are not written again.
        inbound.save(update_fields=["attempts", "last_error", "status", "lead", "processed_at"])
    return inbound


def _contact(fields: dict) -> crm.LeadIn:
    fields = dict(fields)
    service_type_id = fields.pop("service_type_id", None)
    known = {f.name for f in dataclasses.fields(crm.LeadIn)}
    contact = crm.LeadIn(**{k: v for k, v in fields.items() if k in known and k != "service_type"})
    contact.service_type = ServiceType.objects.filter(pk=service_type_id).first() if service_type_id else None
    return contact


def inbound_sweep(*, grace: timedelta = timedelta(seconds=20)) -> int:
    """Re-queue deliveries still pending (a broker outage, a crashed worker, a failed attempt)."""
    ids = list(
        InboundLead.objects.filter(
            status=InboundLead.Status.PENDING, received_at__lte=timezone.now() - grace
        ).values_list("pk", flat=True)[:500]
    )
    for pk in ids:
        enqueue("integrations.tasks.process_inbound_lead", pk)
    return len(ids)
