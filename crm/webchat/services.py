"""Web chat: a visitor starts a chat (a lead plus an inbound chat message), continues it with a signed
token, and reads the office's replies by polling. The office replies from the inbox; when the visitor has
left the page the reply also goes out by text, so it still reaches them.

The token maps to the conversation without a model change: it is a TimestampSigner signature over the
conversation id, the form's public id and a random nonce (secrets.token_urlsafe(24)), so it cannot be
guessed or forged, and it expires after CHAT_TOKEN_MAX_AGE.
"""

import logging
import secrets
import uuid
from dataclasses import dataclass

from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q

from common.errors import ApplicationError
from messaging import services as messaging
from messaging.models import Conversation, Message

from ..models import WebForm
from ..services import LeadIn
from ..webforms.services import web_form_submit

log = logging.getLogger(__name__)

SIGNING_SALT = "crm.webchat.token"
CHAT_TOKEN_MAX_AGE = 60 * 60 * 24 * 30  # a visitor can come back to the chat for 30 days
SEEN_TTL = 60  # seconds: a visitor whose widget has not polled for this long has left
MAX_BODY = 1600
PAGE_SIZE = 100
HIDDEN_STATUSES = ("held", "suppressed", "failed", "undelivered")  # texts not (yet) sent: not shown
SMS_COPY_TEMPLATE = "web-chat"  # marks the text copy of a chat reply (not shown again in the chat)


@dataclass
class ChatStarted:
    conversation: Conversation
    message: Message
    token: str


class BadToken(ApplicationError):
    status_code = 403


# --- The token ------------------------------------------------------------------------------------------


def chat_token_make(*, conversation: Conversation, web_form: WebForm) -> str:
    payload = {"c": conversation.pk, "f": str(web_form.public_id), "n": secrets.token_urlsafe(24)}
    return signing.TimestampSigner(salt=SIGNING_SALT).sign_object(payload)


def chat_token_read(*, token: str, web_form: WebForm) -> Conversation:
    """The conversation a token belongs to, or BadToken (forged, expired, another form, gone)."""
    try:
        payload = signing.TimestampSigner(salt=SIGNING_SALT).unsign_object(token, max_age=CHAT_TOKEN_MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError):
        raise BadToken("This chat has expired. Please start a new one.", field="token") from None
    if not isinstance(payload, dict) or payload.get("f") != str(web_form.public_id):
        raise BadToken("This chat has expired. Please start a new one.", field="token")
    conversation = (
        Conversation.objects.select_related("customer").filter(pk=payload.get("c")).first()
        if isinstance(payload.get("c"), int)
        else None
    )
    if conversation is None:
        raise BadToken("This chat has expired. Please start a new one.", field="token")
    return conversation


# --- The visitor's side ---------------------------------------------------------------------------------


def _clean_body(body, field: str = "message") -> str:
    body = (body if isinstance(body, str) else "").strip()
    if not body:
        raise ApplicationError("Write a message.", field=field)
    if len(body) > MAX_BODY:
        raise ApplicationError(f"A message can be at most {MAX_BODY:,} characters.", field=field)
    return body


def chat_start(
    *, web_form: WebForm, name: str, phone: str, message: str, landing_page: str = "", visitor_ip: str = ""
) -> ChatStarted:
    """A new chat: the lead (through web_form_submit -> lead_capture, consent recorded as for the form)
    and the first message, inbound on the customer's conversation."""
    name = (name if isinstance(name, str) else "").strip()[:200]
    phone = phone if isinstance(phone, str) else ""
    body = _clean_body(message)
    if not name:
        raise ApplicationError("Tell us your name.", field="name")
    if not phone.strip():
        raise ApplicationError("Enter your mobile phone number.", field="phone")
    with transaction.atomic():
        captured = web_form_submit(
            web_form=web_form,
            contact=LeadIn(name=name, phone=phone, message=body),
            attribution={"landing_page": landing_page[:500]} if landing_page else {},
            raw_payload={"name": name, "phone": phone, "message": body, "channel": "chat"},
            visitor_ip=visitor_ip,
        )
        lead = captured.lead
        if not lead.phone:
            raise ApplicationError("Enter your mobile phone number.", field="phone")
        inbound = _receive(from_number=lead.phone, body=body, customer=lead.customer, lead=lead)
    return ChatStarted(
        conversation=inbound.conversation,
        message=inbound,
        token=chat_token_make(conversation=inbound.conversation, web_form=web_form),
    )


def chat_post(*, conversation: Conversation, body) -> Message:
    """The visitor's next message in a chat they started."""
    body = _clean_body(body)
    with transaction.atomic():
        return _receive(
            from_number=chat_number(conversation), body=body, customer=conversation.customer, lead=None
        )


def _receive(*, from_number: str, body: str, customer, lead) -> Message:
    message, _ = messaging.message_receive(
        from_number=from_number,
        to_number="",
        body=body,
        provider_sid=f"chat:{uuid.uuid4()}",
        channel=Message.Channel.CHAT,
    )
    if message.conversation_id is None or message.customer_id != customer.pk:
        message = messaging.message_attach(message=message, customer=customer, lead=lead)
    elif lead is not None and message.lead_id != lead.pk:
        message.lead = lead
        message.save(update_fields=["lead"])
    return message


def chat_messages(*, conversation: Conversation, after: int = 0) -> list[dict]:
    """What the widget shows: the chat lines both ways and the office's texts, oldest first, after `after`."""
    rows = (
        Message.objects.filter(conversation=conversation, pk__gt=after)
        .filter(
            Q(channel=Message.Channel.CHAT)
            | Q(direction=Message.Direction.OUTBOUND, channel=Message.Channel.SMS)
        )
        .exclude(template=SMS_COPY_TEMPLATE)
        .exclude(status__in=HIDDEN_STATUSES)
        .order_by("pk")[:PAGE_SIZE]
    )
    return [
        {"id": m.pk, "body": m.body, "direction": m.direction, "time": m.created_at.isoformat()} for m in rows
    ]


def chat_seen(*, conversation: Conversation) -> None:
    cache.set(_seen_key(conversation), 1, timeout=SEEN_TTL)


def visitor_present(conversation: Conversation) -> bool:
    return cache.get(_seen_key(conversation)) is not None


def _seen_key(conversation: Conversation) -> str:
    return f"chat-seen:{conversation.pk}"


def chat_number(conversation: Conversation) -> str:
    """The number the visitor gave in the chat (their latest chat message's), else the reply number."""
    number = (
        Message.objects.filter(
            conversation=conversation, direction=Message.Direction.INBOUND, channel=Message.Channel.CHAT
        )
        .exclude(from_number="")
        .order_by("-created_at", "-pk")
        .values_list("from_number", flat=True)
        .first()
    )
    return number or messaging.reply_number(conversation.customer)


# --- The office's side ----------------------------------------------------------------------------------


def last_inbound_is_chat(conversation: Conversation) -> bool:
    channel = (
        Message.objects.filter(conversation=conversation, direction=Message.Direction.INBOUND)
        .order_by("-created_at", "-pk")
        .values_list("channel", flat=True)
        .first()
    )
    return channel == Message.Channel.CHAT


def chat_reply(*, conversation: Conversation, body, actor=None) -> tuple[Message, Message | None]:
    """The office's reply in the chat: shown by the widget at its next poll. When the visitor has left
    (no poll for SEEN_TTL seconds) it is also texted to them. Returns (chat message, text or None)."""
    body = _clean_body(body, field="body")
    with transaction.atomic():
        message = messaging.chat_line_queue(conversation=conversation, body=body, actor=actor)
        text = None
        if not visitor_present(conversation):
            text = messaging.message_queue(
                to=chat_number(conversation),
                body=body,
                purpose=Message.Purpose.CARE,
                customer=conversation.customer,
                template=SMS_COPY_TEMPLATE,
                actor=actor,
            )
    return message, text
