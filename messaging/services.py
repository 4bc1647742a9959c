"""Messages in and out, on one conversation per customer. Outbound messages are an outbox: the Message row
commits first, a worker sends it (messaging.outbox, through the channel's transport), so nothing is lost
and nothing is sent twice.

Who may be texted is decided here, once, for every sender (inbox replies, automations, keywords):
an opted-out number gets nothing but the confirmation of its own opt-out; a landline gets nothing; a
number that asked to stop in a sentence gets no automated or marketing text until a person clears it.
"""

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from common.errors import ApplicationError
from customers import selectors as customer_selectors
from customers import services as customer_services
from customers.models import Customer
from events import services as events
from users.models import Business

from . import outbox
from .models import Conversation, Message
from .quiet_hours import quiet_hours_release, quiet_hours_release_many

logger = logging.getLogger(__name__)

OPT_OUT_FOOTER = "Reply STOP to opt out."
HELD_PURPOSES = (Message.Purpose.AUTOMATED, Message.Purpose.MARKETING)


def conversation_for(customer: Customer) -> Conversation:
    return Conversation.objects.get_or_create(customer=customer)[0]


def render_template(template: str, *, customer: Customer | None = None, extra: dict | None = None) -> str:
    """Merge fields: {first_name}, {last_name}, {business_name}, {business_phone}, plus `extra`."""
    business = Business.current()
    values = {
        "first_name": (customer.first_name if customer else "") or "there",
        "last_name": customer.last_name if customer else "",
        "business_name": business.name,
        "business_phone": business.phone.as_national if business.phone else settings.TWILIO_PHONE_NUMBER,
        **(extra or {}),
    }
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m[1], m[0])), template).strip()


def message_queue(
    *,
    to: str,
    body: str,
    purpose: str = Message.Purpose.CARE,
    customer: Customer | None = None,
    lead=None,  # crm.Lead (messaging never imports crm)
    template: str = "",
    actor=None,
    now: datetime | None = None,
    refusal: str | None = None,
    contacted_at: datetime | None = None,
    find_customer: bool = True,
    claimed_until: datetime | None = None,
) -> Message:
    """Put one text in the outbox; the send is queued after commit. Returns the Message, possibly
    `suppressed` (opted out, landline) or `held` until quiet hours end (automated and marketing only).

    `refusal`: what `consent_check` just said for this number and purpose, when the caller read it.
    `contacted_at`: when the recipient called or texted us, if the caller knows (quiet hours exempt
    a reply within 10 minutes). `find_customer=False`: no customer given is not looked up by number
    (the caller attaches one later, as caller identification does). `claimed_until`: the caller sends
    the committed row itself (a worker already running, e.g. the missed-call text-back, saves a trip
    through the broker): a sendable row is created `sending`, one attempt, leased until then; the
    outbox sweep still covers a crash."""
    to = customer_services.phone_normalize(to, field_name="to")
    body = (body or "").strip()
    if not body:
        raise ApplicationError("Write a message.", field="body")
    if len(body) > 1600:
        raise ApplicationError("A text can be at most 1,600 characters.", field="body")
    now = now or timezone.now()
    if customer is None and find_customer:
        customer = customer_selectors.customer_find_by_contact(phone=to)
    if purpose == Message.Purpose.KEYWORD:
        refusal = ""
    elif refusal is None:
        refusal = customer_services.consent_check(number=to, purpose=purpose)
    hold = None
    if not refusal and purpose in HELD_PURPOSES:
        hold = quiet_hours_release(
            now=now, number=to, customer=customer, purpose=purpose, contacted_at=contacted_at
        )
    with transaction.atomic(savepoint=False):  # nothing in it is caught and recovered from
        if purpose == Message.Purpose.AUTOMATED and not refusal and _first_automated_to(to):
            body = _with_identity(body)
        message = Message.objects.create(
            conversation=conversation_for(customer) if customer else None,
            customer=customer,
            lead=lead,
            direction=Message.Direction.OUTBOUND,
            purpose=purpose,
            to_number=to,
            from_number=settings.TWILIO_PHONE_NUMBER,
            body=body,
            template=template,
            created_by=actor if actor is not None and actor.is_authenticated else None,
            created_at=now,
            **_first_state(refusal=refusal, hold=hold, claimed_until=claimed_until),
        )
        _touch_conversation(message, unread=False)
        _record(message, actor, "queued" if not refusal else "suppressed")
        if message.status == Message.Status.QUEUED:
            transaction.on_commit(lambda: outbox.message_enqueue(message))
    return message


@dataclass(frozen=True)
class TextOut:
    """One text of a batch (`texts_queue_many`): to a known customer, from a template already merged."""

    to: str
    body: str
    customer: Customer
    lead: object = None  # crm.Lead
    template: str = ""


def texts_queue_many(*, texts: list[TextOut], purpose: str, now: datetime | None = None) -> list[Message]:
    """`message_queue` for a batch of automated or marketing texts to known customers, decided the same
    way (consent, quiet hours, the first automated text's identity line) in a fixed handful of statements
    rather than a dozen per text: a scheduler hands thousands to the outbox in one tick. The caller's
    transaction holds the batch; the sends are queued after it commits. Prefetch the customers'
    `properties` to spare a query per text (quiet hours read the first one)."""
    if purpose not in HELD_PURPOSES:
        raise ValueError("texts_queue_many is for automated and marketing texts")
    if not texts:
        return []
    now = now or timezone.now()
    numbers = [customer_services.phone_normalize(text.to, field_name="to") for text in texts]
    for text in texts:
        if not text.body.strip() or len(text.body.strip()) > 1600:
            raise ApplicationError("Write a message of at most 1,600 characters.", field="body")
    refusals = customer_services.consent_check_many(numbers=sorted(set(numbers)), purpose=purpose)
    holds = quiet_hours_release_many(
        now=now, recipients=[(n, t.customer) for n, t in zip(numbers, texts, strict=True)], purpose=purpose
    )
    introduced = set(
        Message.objects.filter(
            to_number__in=set(numbers),
            direction=Message.Direction.OUTBOUND,
            purpose=Message.Purpose.AUTOMATED,
        )
        .exclude(status=Message.Status.SUPPRESSED)
        .values_list("to_number", flat=True)
    )
    conversations = _conversations_for({text.customer.pk: text.customer for text in texts})
    messages = []
    for number, text, hold in zip(numbers, texts, holds, strict=True):
        refusal, body = refusals[number], text.body.strip()
        if purpose == Message.Purpose.AUTOMATED and not refusal and number not in introduced:
            body = _with_identity(body)
            introduced.add(number)
        messages.append(
            Message(
                conversation=conversations[text.customer.pk],
                customer=text.customer,
                lead=text.lead,
                direction=Message.Direction.OUTBOUND,
                purpose=purpose,
                to_number=number,
                from_number=settings.TWILIO_PHONE_NUMBER,
                body=body,
                template=text.template,
                created_at=now,
                **_first_state(refusal=refusal, hold=None if refusal else hold, claimed_until=None),
            )
        )
    with transaction.atomic(savepoint=False):
        Message.objects.bulk_create(messages)
        _touch_conversations(
            {conversations[m.customer_id].pk: (m.created_at, _preview(m)[:160]) for m in messages}
        )
        events.record_many([_record_entry(message, None, _what(message)) for message in messages])
        queued = [m.pk for m in messages if m.status == Message.Status.QUEUED]
        if queued:
            transaction.on_commit(lambda: outbox.messages_enqueue(queued))
    return messages


TOUCH_MANY = (
    "UPDATE crm_conversation AS c SET last_message_at = v.at, last_message_preview = v.preview"
    " FROM unnest(%s::bigint[], %s::timestamptz[], %s::text[]) AS v(id, at, preview) WHERE c.id = v.id"
)


def _touch_conversations(last: dict[int, tuple[datetime, str]]) -> None:
    """Each conversation's latest message time and preview, in one statement on PostgreSQL."""
    if connection.vendor == "postgresql":
        ids, times, previews = zip(*[(pk, at, preview) for pk, (at, preview) in last.items()], strict=True)
        with connection.cursor() as cursor:
            cursor.execute(TOUCH_MANY, [list(ids), list(times), list(previews)])
        return
    for pk, (at, preview) in last.items():
        Conversation.objects.filter(pk=pk).update(last_message_at=at, last_message_preview=preview)


def _what(message: Message) -> str:
    return "suppressed" if message.status == Message.Status.SUPPRESSED else "queued"


def _conversations_for(customers: dict[int, Customer]) -> dict[int, Conversation]:
    found = {c.customer_id: c for c in Conversation.objects.filter(customer_id__in=list(customers))}
    missing = [pk for pk in customers if pk not in found]
    if missing:
        Conversation.objects.bulk_create(
            [Conversation(customer_id=pk) for pk in missing], ignore_conflicts=True
        )
        found |= {c.customer_id: c for c in Conversation.objects.filter(customer_id__in=missing)}
    return found


def _first_state(*, refusal: str, hold: tuple | None, claimed_until: datetime | None) -> dict:
    """A new outbound text's status fields: suppressed, held by quiet hours, claimed, or queued."""
    if refusal:
        return {"status": Message.Status.SUPPRESSED, "error_message": f"Not sent: {refusal}"}
    if hold:
        return {"status": Message.Status.HELD, "not_before": hold[0], "hold_rule": hold[1]}
    if claimed_until:
        return {"status": Message.Status.SENDING, "attempts": 1, "not_before": claimed_until}
    return {"status": Message.Status.QUEUED}


def _first_automated_to(number: str) -> bool:
    return (
        not Message.objects.filter(
            to_number=number,
            direction=Message.Direction.OUTBOUND,
            purpose=Message.Purpose.AUTOMATED,
        )
        .exclude(status=Message.Status.SUPPRESSED)
        .exists()
    )


def _with_identity(body: str) -> str:
    """The first automated text to a number names the business and says how to opt out."""
    name = Business.current().name
    if name.lower() not in body.lower():
        body = f"{name}: {body}"
    if "stop" not in body.lower():
        body = f"{body} {OPT_OUT_FOOTER}"
    return body


def message_queue_quietly(**kwargs) -> Message | None:
    """Queue an automatic text; one the outbox refuses (an empty template) is logged, never fatal to
    the webhook that stores the call or the message."""
    try:
        return message_queue(**kwargs)
    except ApplicationError as error:
        logger.warning("Did not queue the %s text to %s: %s", kwargs.get("template"), kwargs.get("to"), error)
        return None


def phone_or_blank(raw: str) -> str:
    """The number in E.164, or '' for what is not a phone number (hidden caller id, short codes)."""
    try:
        return customer_services.phone_normalize(raw, field_name="From")
    except ApplicationError:
        return ""


def message_release_held(*, now: datetime | None = None) -> int:
    """Let the held texts whose time came go (a periodic task); returns how many left the hold. Each is
    checked again first: consent (suppressed if it changed) and quiet hours (a customer who moved, or
    rules that changed, hold it again with the new rule)."""
    now = now or timezone.now()
    ids = list(
        Message.objects.filter(status=Message.Status.HELD, not_before__lte=now).values_list("pk", flat=True)
    )
    released = 0
    for pk in ids:
        with transaction.atomic():
            message = Message.objects.select_for_update().get(pk=pk)
            if message.status != Message.Status.HELD:
                continue
            refusal = customer_services.consent_check(number=message.to_number, purpose=message.purpose)
            if refusal:
                message.suppress(reason=refusal)
                message.save(update_fields=["status", "not_before", "error_code", "error_message"])
                released += 1
                continue
            hold = quiet_hours_release(
                now=now, number=message.to_number, customer=message.customer, purpose=message.purpose
            )
            message.release(hold=hold)
            message.save(update_fields=["status", "not_before", "hold_rule", "error_message"])
            if message.status == Message.Status.QUEUED:
                released += 1
                transaction.on_commit(lambda message=message: outbox.message_enqueue(message))
    return released


def message_receive(
    *,
    from_number: str,
    to_number: str,
    body: str,
    provider_sid: str,
    media_urls: list[str] | None = None,
    channel: str = Message.Channel.SMS,
    from_email: str = "",
    to_email: str = "",
    subject: str = "",
) -> tuple[Message, bool]:
    """Store an inbound text (or e-mail: its addresses and subject) once per provider sid on the sender's
    conversation: (message, created)."""
    existing = Message.objects.filter(provider_sid=provider_sid).first()
    if existing:
        return existing, False
    customer = customer_selectors.customer_find_by_contact(phone=from_number)
    with transaction.atomic():
        message = Message.objects.create(
            conversation=conversation_for(customer) if customer else None,
            customer=customer,
            direction=Message.Direction.INBOUND,
            channel=channel,
            to_number=to_number,
            from_number=from_number,
            from_email=from_email,
            to_email=to_email,
            subject=" ".join(subject.split())[:200],
            body=body,
            media_urls=media_urls or [],
            provider_sid=provider_sid,
            status=Message.Status.RECEIVED,
        )
        _touch_conversation(message, unread=True)
        _record(message, None, "received")
    return message, True


def message_attach(*, message: Message, customer: Customer, lead=None) -> Message:
    """Put a message that arrived before its sender was known on the customer's conversation."""
    message.customer, message.lead = customer, lead or message.lead
    message.conversation = conversation_for(customer)
    message.save(update_fields=["customer", "lead", "conversation"])
    _touch_conversation(message, unread=message.direction == Message.Direction.INBOUND)
    return message


def _touch_conversation(message: Message, *, unread: bool) -> None:
    if message.conversation_id is None:
        return
    changes = {"last_message_at": message.created_at, "last_message_preview": _preview(message)[:160]}
    if unread:
        changes |= {"unread_count": F("unread_count") + 1, "status": Conversation.Status.OPEN}
    Conversation.objects.filter(pk=message.conversation_id).update(**changes)


def _preview(message: Message) -> str:
    """The list's one line: an e-mail's subject and text, not its stored address and subject lines."""
    if message.channel != Message.Channel.EMAIL:
        return message.body
    return " — ".join(part for part in (message.subject, " ".join(message.body.split())) if part)


def _record(message: Message, actor, what: str) -> None:
    entry = _record_entry(message, actor, what)
    events.record(entry.pop("code"), **entry)


def _record_entry(message: Message, actor, what: str) -> dict:
    noun = "E-mail" if message.channel == Message.Channel.EMAIL else "Text"
    verb = {"queued": f"{noun} to", "suppressed": f"{noun} not sent to", "received": f"{noun} from"}[what]
    return {
        "code": f"crm.message.{what}",
        "subject": message,
        "actor": actor,
        "actor_label": "" if actor else "messaging",
        "links": [message.customer, message.lead],
        "summary": f"{verb} {message.party}: {message.gist()}",
        "data": {
            "message_id": message.pk,
            "channel": message.channel,
            "purpose": message.purpose,
            "status": message.status,
        },
    }


def conversation_mark_read(*, conversation: Conversation) -> None:
    Conversation.objects.filter(pk=conversation.pk).update(unread_count=0)


def conversation_set_status(*, conversation: Conversation, status: str, actor) -> Conversation:
    if status not in Conversation.Status.values:
        raise ApplicationError("Unknown status.", field="status")
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if conversation.status != status:
            conversation.status = status
            conversation.save(update_fields=["status"])
            events.record(
                f"crm.conversation.{status}",
                subject=conversation,
                actor=actor,
                links=[conversation.customer],
                summary=f"Conversation marked {status}",
            )
    return conversation


def conversation_assign(*, conversation: Conversation, assignee, actor) -> Conversation:
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        conversation.assigned_to = assignee
        conversation.save(update_fields=["assigned_to"])
        events.record(
            "crm.conversation.assigned",
            subject=conversation,
            actor=actor,
            links=[conversation.customer],
            summary=f"Conversation assigned to {assignee}" if assignee else "Conversation unassigned",
        )
    return conversation


def reply_number(customer: Customer) -> str:
    """The number a reply goes to: the one they last texted from, else their primary mobile."""
    last_in = (
        Message.objects.filter(customer=customer, direction=Message.Direction.INBOUND, channel="sms")
        .order_by("-created_at")
        .values_list("from_number", flat=True)
        .first()
    )
    if last_in:
        return last_in
    phone = customer.phones.filter(textable=True).order_by("-is_primary", "pk").first()
    if phone is None:
        raise ApplicationError("This customer has no number that can get texts.", field="body")
    return phone.number.as_e164


def email_queue(
    *,
    to: str,
    subject: str,
    body: str,
    customer: Customer,
    actor=None,
    purpose: str = Message.Purpose.CARE,
    template: str = "",
) -> Message:
    """Put one e-mail in the outbox (channel "email"); the e-mail send task sends it after commit.
    Address and subject are fields; the body is the text alone; to_number stays empty. An automated
    e-mail (`purpose`) counts toward the customer's frequency caps like a text (messaging.frequency)."""
    to = customer_services.email_normalize(to, field_name="to")
    body = (body or "").strip()
    if not body:
        raise ApplicationError("Write a message.", field="body")
    subject = " ".join((subject or "").split())[:200] or f"Message from {Business.current().name}"
    with transaction.atomic():
        message = Message.objects.create(
            conversation=conversation_for(customer) if customer else None,
            customer=customer,
            direction=Message.Direction.OUTBOUND,
            channel=Message.Channel.EMAIL,
            purpose=purpose,
            template=template,
            to_email=to,
            from_email=settings.DEFAULT_FROM_EMAIL.rpartition("<")[2].strip(">").strip(),
            subject=subject,
            body=body,
            created_by=actor if actor is not None and actor.is_authenticated else None,
            status=Message.Status.QUEUED,
        )
        _touch_conversation(message, unread=False)
        _record(message, actor, "queued")
        transaction.on_commit(lambda: outbox.message_enqueue(message))
    return message


def chat_line_queue(*, conversation: Conversation, body: str, actor=None) -> Message:
    """Put the office's line in a web chat in the outbox, claimed by this process, which sends it right
    after commit (outbox.message_send_claimed: the widget shows it at its next poll); the outbox sweep
    covers a crash in between. The caller validates the body."""
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.create(
            conversation=conversation,
            customer=conversation.customer,
            direction=Message.Direction.OUTBOUND,
            channel=Message.Channel.CHAT,
            purpose=Message.Purpose.CARE,
            body=body,
            created_by=actor if actor is not None and actor.is_authenticated else None,
            created_at=now,
            **_first_state(refusal="", hold=None, claimed_until=outbox.send_lease_until()),
        )
        _touch_conversation(message, unread=False)
        transaction.on_commit(lambda: outbox.message_send_claimed(message))
    return message
