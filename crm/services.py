"""Lead capture and the pipeline. Every channel (forms, webhooks, ads, calls, texts, staff, imports)
captures through `lead_capture`; every state change goes through one function here."""

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_fsm import can_proceed, has_transition_perm

from common.errors import ApplicationError
from customers import selectors as customer_selectors
from customers import services as customer_services
from customers.addresses import address_parts
from customers.models import Customer, Property
from events import services as events
from users.models import User
from users.roles import Role

from .models import Campaign, Lead, LostReason, PipelineSettings, ServiceType, Source, SourceKey, WebForm

ATTRIBUTION_KEYS = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "gclid",
    "fbclid",
    "landing_page",
    "referrer",
    "campaign_id",
    "adgroup_id",
    "ad_id",
    "form_id",
)


class Forbidden(ApplicationError):
    status_code = 403


@dataclass
class LeadIn:
    """A lead's contact details as a channel received them (any formatting)."""

    name: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    email: str = ""
    street: str = ""
    unit: str = ""
    city: str = ""
    state: str = ""
    zip_code: str = ""
    service: str = ""
    service_type: ServiceType | None = None
    message: str = ""
    warnings: list[str] = field(default_factory=list)

    def names(self) -> tuple[str, str]:
        first, last = self.first_name.strip(), self.last_name.strip()
        if not (first or last) and self.name.strip():
            first, _, last = self.name.strip().rpartition(" ")
            if not first:
                first, last = last, ""
        return first[:100], last[:100]

    def has_address(self) -> bool:
        return all((self.street, self.city, self.state, self.zip_code))


@dataclass
class Captured:
    lead: Lead
    created: bool


# --- Capture ------------------------------------------------------------------------------------------


def lead_capture(
    *,
    source: Source,
    contact: LeadIn,
    actor=None,
    actor_label: str = "",
    attribution: dict | None = None,
    campaign: Campaign | None = None,
    web_form: WebForm | None = None,
    external_id: str = "",
    idempotency_key: str = "",
    raw_payload: dict | None = None,
    spam: bool = False,
    arrived_at: datetime | None = None,
    unseen: bool = False,
) -> Captured:
    """Capture one lead onto the one customer record. A retried delivery returns the first lead.
    `unseen`: the caller knows no lead has this source's key yet (a delivery it holds locked and
    pending), so it is not looked up first; the unique constraint still answers a duplicate."""
    external_id, idempotency_key = str(external_id or "")[:200], str(idempotency_key or "")[:200]
    existing = None if unseen else _existing_lead(source, external_id, idempotency_key)
    if existing:
        return Captured(existing, False)
    phone, email = contact_normalize(contact)
    try:
        with transaction.atomic():
            _lock_contact(phone, email)
            lead = _capture(
                source=source,
                contact=contact,
                phone=phone,
                email=email,
                actor=actor,
                actor_label=actor_label,
                attribution=_clean_attribution(attribution or {}),
                campaign=campaign,
                web_form=web_form,
                external_id=external_id,
                idempotency_key=idempotency_key,
                raw_payload=raw_payload or {},
                spam=spam,
                arrived_at=arrived_at or timezone.now(),
            )
    except IntegrityError:
        existing = _existing_lead(source, external_id, idempotency_key)
        if existing:
            return Captured(existing, False)
        raise
    return Captured(lead, True)


def lead_capture_from_phone(
    *, phone: str, kind: str, message: str = "", external_id: str = "", actor_label: str = ""
) -> Captured:
    """A call or a text from a number (the messaging issue's entry point): one lead per call/message sid.

    `kind` is Source.Kind.PHONE or Source.Kind.SMS; the source of that kind is created on first use.
    A number that already belongs to a customer lands on that customer.
    """
    if kind not in (Source.Kind.PHONE, Source.Kind.SMS):
        raise ApplicationError("A phone lead comes from a call or a text.", field="kind")
    source = Source.objects.filter(kind=kind, is_active=True).order_by("pk").first()
    if source is None:  # first use; two callers at once both get the one row (get_or_create retries)
        source, _ = Source.objects.get_or_create(
            slug=f"inbound-{kind}",
            defaults={"kind": kind, "name": "Phone call" if kind == Source.Kind.PHONE else "Text message"},
        )
    return lead_capture(
        source=source,
        contact=LeadIn(phone=phone, message=message),
        external_id=external_id,
        actor_label=actor_label or source.name,
    )


def _existing_lead(source: Source, external_id: str, idempotency_key: str) -> Lead | None:
    """The lead an earlier delivery of the same thing made. Almost always none: the id is looked up
    first (a one-column query) and the lead loaded only when a retry found one."""
    for name, value in (("external_id", external_id), ("idempotency_key", idempotency_key)):
        if value:
            found = Lead.objects.filter(source=source, **{name: value}).values_list("pk", flat=True).first()
            if found is not None:
                return Lead.objects.get(pk=found)
    return None


def contact_address_line(contact: LeadIn, line: str) -> None:
    """A one-line address ("12 Elm St, Austin, TX 78704", or only the street beside a separate city, state
    and ZIP) fills the address parts the channel did not send. One that still leaves a part missing is
    kept in the lead's message and named in its warnings: the lead comes in, and the office sees the
    address as it was given."""
    line = (line or "").strip()
    if not line or contact.has_address():
        return
    parts = address_parts(line)
    for name in ("street", "unit", "city", "state", "zip_code"):
        if not getattr(contact, name):
            setattr(contact, name, getattr(parts, name))
    missing = [label for name, label in ADDRESS_PARTS if not getattr(contact, name)]
    if missing:
        contact.warnings.append(
            f'The address "{line[:200]}" could not be read in full (no {" or ".join(missing)} found): send '
            '"street, city, ST 12345", or street, city, state and zip as separate fields.'
        )
        contact.message = "\n\n".join(part for part in (contact.message, f"Address as given: {line}") if part)


ADDRESS_PARTS = (("street", "street"), ("city", "city"), ("state", "state"), ("zip_code", "ZIP"))


def unknown_fields_warnings(payload: dict, known: set[str]) -> list[str]:
    """One warning per field of `payload` that the channel does not read (it stays in the raw payload)."""
    return [
        f'"{key}" is not a field this channel reads: ignored (kept in the raw payload).'
        for key in sorted(set(payload) - known, key=str)
    ]


def contact_normalize(contact: LeadIn) -> tuple[str, str]:
    """The lead's phone in E.164 and e-mail, or an ApplicationError naming the field; one is required."""
    phone = (
        customer_services.phone_normalize(contact.phone, field_name="phone") if contact.phone.strip() else ""
    )
    email = (
        customer_services.email_normalize(contact.email, field_name="email") if contact.email.strip() else ""
    )
    if not (phone or email):
        raise ApplicationError(
            "Give a phone number or an e-mail address.", field="phone", code="contact_required"
        )
    return phone, email


def _lock_contact(phone: str, email: str) -> None:
    """Serialize captures for the same person, so two deliveries at once never make two customers."""
    if connection.vendor != "postgresql":
        return  # SQLite runs write transactions one at a time already (immediate mode)
    with connection.cursor() as cursor:
        for key in sorted(k.lower() for k in (phone, email) if k):
            digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [digest])


def _clean_attribution(raw: dict) -> dict:
    return {k: str(raw[k])[:500] for k in ATTRIBUTION_KEYS if raw.get(k) not in (None, "")}


def _capture(
    *,
    source,
    contact,
    phone,
    email,
    actor,
    actor_label,
    attribution,
    campaign,
    web_form,
    external_id,
    idempotency_key,
    raw_payload,
    spam,
    arrived_at,
) -> Lead:
    if spam:  # held apart: spam never creates or changes a customer record
        customer, new_customer, prop = (
            customer_selectors.customer_find_by_contact(phone=phone, email=email),
            False,
            None,
        )
    else:
        customer, new_customer, prop = _find_or_create_customer(contact, phone, email, actor, actor_label)
    campaign = campaign or _campaign_for(attribution) or (web_form.campaign if web_form else None)
    first_source, first_campaign = (
        _first_touch(customer, source, campaign) if customer and not new_customer else (source, campaign)
    )
    if contact.warnings:
        raw_payload = {**raw_payload, "_warnings": contact.warnings}
    first, last = contact.names()
    lead = Lead(
        customer=customer,
        property=prop,
        name=f"{first} {last}".strip()[:200],
        phone=phone,
        email=email,
        service_type=contact.service_type,
        service=(contact.service or (contact.service_type.name if contact.service_type else ""))[:200],
        message=contact.message[:5000],
        source=source,
        campaign=campaign,
        first_touch_source=first_source,
        first_touch_campaign=first_campaign,
        attribution=attribution,
        web_form=web_form,
        external_id=external_id,
        idempotency_key=idempotency_key,
        raw_payload=raw_payload,
        arrived_at=arrived_at,
        assigned_to=None if spam else _round_robin_next(),
        state=Lead.State.SPAM if spam else Lead.State.NEW,
    )
    lead.save()
    summary = f"New lead from {source.name}" + (f": {lead.service}" if lead.service else "")
    data = {
        "lead_id": lead.pk,
        "customer_id": customer.pk if customer else None,
        "new_customer": new_customer,
        "source": source.slug,
        "source_kind": source.kind,
        "campaign_id": campaign.pk if campaign else None,
        "phone": phone,
        "email": email,
    }
    if spam:
        events.record(
            "crm.lead.spam_captured",
            subject=lead,
            actor=actor,
            actor_label=actor_label,
            links=[customer],
            summary=f"Spam held from {source.name}",
            data=data,
        )
    else:
        events.publish(
            "lead.created",
            subject=lead,
            actor=actor,
            actor_label=actor_label,
            code="crm.lead.created",
            links=[customer],
            summary=summary,
            data=data,
        )
    return lead


def _find_or_create_customer(
    contact, phone, email, actor, actor_label
) -> tuple[Customer, bool, Property | None]:
    """The customer with this phone or e-mail (contacts and address added), or a new one with its phone,
    e-mail and property written in one go (customers_create_bulk: an INSERT each, one event)."""
    customer = customer_selectors.customer_find_by_contact(phone=phone, email=email)
    if customer is not None:
        customer_services.customer_add_contacts(
            customer=customer, actor=actor, actor_label=actor_label, phones=[phone], emails=[email]
        )
        return customer, False, _property_for(customer, contact, actor, actor_label)
    first, last = contact.names()
    if not (first or last):
        first = "Unknown"
        last = phone or email
    address = _address_in(contact)
    item = customer_services.CustomerIn(
        first_name=first,
        last_name=last,
        phones=[customer_services.PhoneIn(number=phone)] if phone else [],
        emails=[customer_services.EmailIn(email=email)] if email else [],
        properties=[address] if address else [],
    )
    try:
        checked = customer_services.customer_check(item)
    except ApplicationError as error:
        if not (address and error.field.startswith("properties")):
            raise
        contact.warnings.append(f"Address not saved: {error.message}")
        item.properties = []
        checked = customer_services.customer_check(item)
    [made] = customer_services.customers_create_bulk(
        customers=[checked], actor=actor, actor_label=actor_label
    )
    return made.customer, True, (made.properties[0] if made.properties else None)


def _address_in(contact: LeadIn) -> customer_services.PropertyIn | None:
    if not contact.has_address():
        return None
    return customer_services.PropertyIn(
        street=contact.street[:200],
        unit=contact.unit[:40],
        city=contact.city[:100],
        state=contact.state[:40],
        zip_code=contact.zip_code.strip()[:10],
    )


def _property_for(customer, contact: LeadIn, actor, actor_label):
    address = _address_in(contact)
    if address is None:
        return None
    try:
        with transaction.atomic():
            return customer_services.property_find_or_add(
                customer=customer, address=address, actor=actor, actor_label=actor_label
            )
    except ApplicationError as error:
        contact.warnings.append(f"Address not saved: {error.message}")
        return None


def _campaign_for(attribution: dict) -> Campaign | None:
    for key in ("utm_campaign", "campaign_id"):
        value = attribution.get(key)
        if value:
            found = Campaign.objects.filter(is_active=True, utm_campaign__iexact=value).order_by("pk").first()
            if found:
                return found
    return None


def _first_touch(customer: Customer, source: Source, campaign: Campaign | None):
    earliest = (
        Lead.objects.filter(customer=customer).exclude(state=Lead.State.SPAM).order_by("arrived_at", "pk")
    )
    earliest = earliest.select_related("first_touch_source", "first_touch_campaign").first()
    if earliest:
        return earliest.first_touch_source, earliest.first_touch_campaign
    return source, campaign


def _round_robin_next():
    """The next user in the rotation; the settings row is locked only when the rotation is on, so
    captures do not queue behind each other otherwise."""
    if not PipelineSettings.objects.filter(round_robin_enabled=True).exists():
        return None
    rules = PipelineSettings.objects.select_for_update().order_by("pk").first()
    if rules is None or not rules.round_robin_enabled:
        return None
    pool = list(rules.round_robin_users.filter(is_active=True).order_by("pk"))
    if not pool:
        return None
    after = [u for u in pool if rules.round_robin_last_id and u.pk > rules.round_robin_last_id]
    chosen = after[0] if after else pool[0]
    rules.round_robin_last = chosen
    rules.save(update_fields=["round_robin_last"])
    return chosen


# --- The pipeline ------------------------------------------------------------------------------------

VERBS = {
    "mark_contacted": "marked contacted",
    "qualify": "qualified",
    "book": "booked",
    "win": "won",
    "lose": "lost",
    "mark_spam": "marked as spam",
    "reopen": "reopened",
}
MILESTONES = {"qualify": "lead.qualified", "book": "lead.booked", "lose": "lead.lost"}
TARGETS = {
    "mark_contacted": Lead.State.CONTACTED,
    "qualify": Lead.State.QUALIFIED,
    "book": Lead.State.BOOKED,
    "win": Lead.State.WON,
    "lose": Lead.State.LOST,
    "mark_spam": Lead.State.SPAM,
    "reopen": Lead.State.NEW,
}


def _transition(
    *,
    lead: Lead,
    action: str,
    actor,
    changes: dict | None = None,
    data: dict | None = None,
    actor_label: str = "",
    why: str = "",
) -> Lead:
    """One state change: locked, checked against the machine and the actor's role, saved, logged (`why`
    says on the timeline what it happened for, e.g. "while booking")."""
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        if lead.state == TARGETS[action]:
            return lead
        method = getattr(lead, action)
        if not can_proceed(method):
            raise ApplicationError(
                f"A {lead.get_state_display().lower()} lead cannot be {VERBS[action]}.",
                field="state",
                code="illegal_transition",
            )
        if actor is not None and actor.is_authenticated and not has_transition_perm(method, actor):
            raise Forbidden("Your role cannot move leads this way.", code="forbidden")
        before = lead.state
        method()
        for name, value in (changes or {}).items():
            setattr(lead, name, value)
        now = timezone.now()
        if lead.state in (Lead.State.WON, Lead.State.LOST, Lead.State.SPAM):
            lead.closed_at = now
        elif action == "reopen":
            lead.closed_at = None
        lead.save()
        payload = {
            "lead_id": lead.pk,
            "customer_id": lead.customer_id,
            "from": before,
            "to": lead.state,
            **(data or {}),
        }
        summary = f"Lead {VERBS[action]}{f' {why}' if why else ''} ({before} → {lead.state})"
        if action in MILESTONES:
            events.publish(
                MILESTONES[action],
                subject=lead,
                actor=actor,
                actor_label=actor_label,
                code=f"crm.lead.{action}",
                links=[lead.customer],
                summary=summary,
                data=payload,
            )
        else:
            events.record(
                f"crm.lead.{action}",
                subject=lead,
                actor=actor,
                actor_label=actor_label,
                links=[lead.customer],
                summary=summary,
                data=payload,
            )
    return lead


def lead_mark_contacted(*, lead: Lead, actor, channel: str = "manual") -> Lead:
    now = timezone.now()
    changes = {} if lead.first_response_at else {"first_response_at": now, "first_response_channel": channel}
    return _transition(lead=lead, action="mark_contacted", actor=actor, changes=changes)


def lead_qualify(*, lead: Lead, actor, why: str = "") -> Lead:
    changes = (
        {}
        if lead.first_response_at
        else {"first_response_at": timezone.now(), "first_response_channel": "manual"}
    )
    return _transition(lead=lead, action="qualify", actor=actor, changes=changes, why=why)


def lead_book(
    *,
    lead: Lead,
    actor,
    service: str = "",
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    notes: str = "",
    slot_technician_id: int | None = None,
    slot_start: datetime | None = None,
    slot_end: datetime | None = None,
) -> Lead:
    """Hand the lead to field service: lead.booked carries what a job needs, nothing to retype.

    A slot (technician, start, end: all three or none, e.g. from fsm's open times) asks fsm.job_from_lead
    to schedule the visit too; if the time is gone by then, the job waits in the unscheduled queue.

    A new or contacted lead is qualified on the way (office staff book on the first call), in the same
    transaction, and the timeline says so ("Lead qualified while booking").
    """
    if window_start and window_end and window_end <= window_start:
        raise ApplicationError("The window must end after it starts.", field="window_end")
    service = (service or lead.service).strip()
    if not service:
        raise ApplicationError("Say what service is booked.", field="service")
    slot = _booking_slot(slot_technician_id, slot_start, slot_end)
    data = {
        "property_id": lead.property_id,
        "service": service,
        "service_type_id": lead.service_type_id,
        "window_start": window_start.isoformat() if window_start else None,
        "window_end": window_end.isoformat() if window_end else None,
        "notes": notes,
        "description": lead.message,
        "phone": lead.phone,
        "email": lead.email,
        **({"slot": slot} if slot else {}),
    }
    changes = {
        "service": service[:200],
        "requested_window_start": window_start,
        "requested_window_end": window_end,
        "booking_notes": notes,
        "booked_at": timezone.now(),
    }
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        if lead.state in Lead.QUALIFIED_WHILE_BOOKING:
            lead = lead_qualify(lead=lead, actor=actor, why="while booking")
        return _transition(lead=lead, action="book", actor=actor, changes=changes, data=data)


def _booking_slot(technician_id: int | None, start: datetime | None, end: datetime | None) -> dict | None:
    """The chosen slot as lead.booked carries it, or None; refuses a partial, reversed or unstaffed one."""
    given = {"slot_technician": technician_id, "slot_start": start, "slot_end": end}
    if all(value is None for value in given.values()):
        return None
    missing = next((name for name, value in given.items() if value is None), None)
    if missing:
        raise ApplicationError("Choose the time again: part of it is missing.", field=missing)
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise ApplicationError("Give the time with its time zone.", field="slot_start")
    if end <= start:
        raise ApplicationError("The chosen time must end after it starts.", field="slot_end")
    technicians = User.objects.filter(pk=technician_id, is_active=True, groups__name=Role.TECHNICIAN)
    if not technicians.exists():
        raise ApplicationError("That technician cannot take visits.", field="slot_technician")
    return {"technician_id": technician_id, "start": start.isoformat(), "end": end.isoformat()}


def lead_win(*, lead: Lead, actor, actor_label: str = "", reason: str = "") -> Lead:
    return _transition(lead=lead, action="win", actor=actor, actor_label=actor_label, data={"reason": reason})


def lead_lose(*, lead: Lead, actor, reason: str, note: str = "") -> Lead:
    if reason not in LostReason.values:
        raise ApplicationError("Pick why the lead was lost.", field="reason", code="reason_required")
    return _transition(
        lead=lead,
        action="lose",
        actor=actor,
        changes={"lost_reason": reason, "lost_note": note},
        data={"reason": reason, "note": note},
    )


def lead_mark_spam(*, lead: Lead, actor) -> Lead:
    return _transition(lead=lead, action="mark_spam", actor=actor)


def lead_reopen(*, lead: Lead, actor) -> Lead:
    """Back to new. Spam held without a customer record gets one now (it turned out to be a person)."""
    changes = {"lost_reason": "", "lost_note": ""}
    with transaction.atomic():
        if lead.customer_id is None:
            contact = LeadIn(name=lead.name, phone=lead.phone, email=lead.email)
            changes["customer"], _, _ = _find_or_create_customer(contact, lead.phone, lead.email, actor, "")
        return _transition(lead=lead, action="reopen", actor=actor, changes=changes)


def lead_move(*, lead: Lead, to_state: str, actor, **kwargs) -> Lead:
    """The board's drag and drop: the target column decides the transition; the machine may refuse."""
    actions = {
        Lead.State.CONTACTED: lead_mark_contacted,
        Lead.State.QUALIFIED: lead_qualify,
        Lead.State.BOOKED: lead_book,
        Lead.State.WON: lead_win,
        Lead.State.LOST: lead_lose,
        Lead.State.SPAM: lead_mark_spam,
        Lead.State.NEW: lead_reopen,
    }
    if to_state not in actions:
        raise ApplicationError(f"Unknown column {to_state!r}.", field="state")
    return actions[to_state](lead=lead, actor=actor, **kwargs)


def lead_record_response(*, lead: Lead, at: datetime | None = None, channel: str, actor=None) -> Lead:
    """The first answer to a lead (a text, a call, an e-mail) starts its speed-to-lead clock's stop."""
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        if lead.first_response_at is None:
            lead.first_response_at = at or timezone.now()
            lead.first_response_channel = channel
            lead.save(update_fields=["first_response_at", "first_response_channel", "updated_at"])
        if lead.state == Lead.State.NEW:
            lead = _transition(lead=lead, action="mark_contacted", actor=None, actor_label=channel)
    return lead


def lead_assign(*, lead: Lead, assignee, actor) -> Lead:
    if assignee is not None and not assignee.has_role("owner", "office"):
        raise ApplicationError("Leads are assigned to office staff or the owner.", field="assigned_to")
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        if lead.assigned_to_id == (assignee.pk if assignee else None):
            return lead
        lead.assigned_to = assignee
        lead.save(update_fields=["assigned_to", "updated_at"])
        events.record(
            "crm.lead.assigned",
            subject=lead,
            actor=actor,
            links=[lead.customer],
            summary=f"Assigned to {assignee}" if assignee else "Unassigned",
            data={"assigned_to": assignee.pk if assignee else None},
        )
    return lead


# --- Source keys -------------------------------------------------------------------------------------


def _hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def source_key_create(*, source: Source, actor, label: str = "") -> tuple[SourceKey, str]:
    """A new webhook key for the source. The raw key is returned once and never stored."""
    raw = f"lk_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        key = SourceKey.objects.create(
            source=source, prefix=raw[:10], key_hash=_hash_key(raw), label=label[:100], created_by=actor
        )
        events.record(
            "crm.source.key_created", subject=source, actor=actor, summary=f"API key {key.prefix}… created"
        )
    return key, raw


def source_key_revoke(*, key: SourceKey, actor) -> SourceKey:
    with transaction.atomic():
        key = SourceKey.objects.select_for_update().get(pk=key.pk)
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            events.record(
                "crm.source.key_revoked",
                subject=key.source,
                actor=actor,
                summary=f"API key {key.prefix}… revoked",
            )
    return key


def source_authenticate(*, source: Source, raw_key: str) -> bool:
    """True when `raw_key` is a live key of this source (looked up by its hash)."""
    return source_for_key(slug=source.slug, raw_key=raw_key) is not None


def source_for_key(*, slug: str, raw_key: str) -> Source | None:
    """The active source behind `slug` when `raw_key` is one of its live keys: one query per request."""
    if not raw_key:
        return None
    key = (
        SourceKey.objects.select_related("source")
        .filter(
            key_hash=_hash_key(raw_key), revoked_at__isnull=True, source__slug=slug, source__is_active=True
        )
        .first()
    )
    if key is None:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > KEY_USE_RESOLUTION:
        SourceKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key.source


KEY_USE_RESOLUTION = timedelta(minutes=1)  # "last used" is kept to the minute: no write per request
