"""Timelines and activity lists show one row per message: its first event (queued, received, not sent),
with the message's state now beside it, instead of one row per step of its delivery."""

from dataclasses import dataclass

from django import template
from django.contrib.contenttypes.models import ContentType

from events.models import Event

from ..models import Message

register = template.Library()

SHORT = 110  # characters of a message's text on a timeline row; the rest one click away
BADGES = {
    Message.Status.QUEUED: "badge-info",
    Message.Status.HELD: "badge-warn",
    Message.Status.SENDING: "badge-info",
    Message.Status.SENT: "badge-ok",
    Message.Status.DELIVERED: "badge-ok",
    Message.Status.UNDELIVERED: "badge-bad",
    Message.Status.FAILED: "badge-bad",
    Message.Status.SUPPRESSED: "badge-warn",
}


@dataclass
class Row:
    event: Event
    message: Message | None = None

    @property
    def title(self) -> str:
        if self.message is None:
            return self.event.summary or self.event.code
        m = self.message
        noun = {Message.Channel.EMAIL: "E-mail", Message.Channel.CHAT: "Chat"}.get(m.channel, "Text")
        way = "from" if m.direction == Message.Direction.INBOUND else "to"
        return f"{noun} {way} {m.party or 'the visitor'}"

    @property
    def text(self) -> str:
        if self.message is None:
            return ""
        m = self.message
        return f"{m.subject}: {m.body}" if m.channel == Message.Channel.EMAIL and m.subject else m.body

    @property
    def short_text(self) -> str:
        """Cut at a word, never mid-word."""
        return self.message.gist(SHORT) if self.message else ""

    @property
    def is_cut(self) -> bool:
        return self.short_text != " ".join(self.text.split())

    @property
    def state(self) -> str:
        m = self.message
        if m is None or m.direction == Message.Direction.INBOUND:
            return ""
        return m.get_status_display()

    @property
    def badge(self) -> str:
        return BADGES.get(self.message.status, "") if self.message else ""


@register.simple_tag
def timeline_rows(events) -> list[Row]:
    """The rows of a timeline (events newest first): a message's events become one row, at its first
    event, with the message loaded (one query for all of them)."""
    events = list(events)
    message_type = ContentType.objects.get_for_model(Message).pk
    first: dict[str, Event] = {}
    for event in events:
        if event.subject_type_id == message_type:
            seen = first.get(event.subject_id)
            if seen is None or (event.occurred_at, event.pk) < (seen.occurred_at, seen.pk):
                first[event.subject_id] = event
    messages = Message.objects.in_bulk([int(pk) for pk in first if pk.isdigit()])
    rows = []
    for event in events:
        if event.subject_type_id != message_type:
            rows.append(Row(event))
        elif first[event.subject_id] is event:
            rows.append(
                Row(event, messages.get(int(event.subject_id)) if event.subject_id.isdigit() else None)
            )
    return rows
