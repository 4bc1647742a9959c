"""Frequency caps: how many automated and marketing messages (texts and e-mails) one customer may get.

The business's own limits (per 24 hours and per 7 days, across every sequence and campaign) and the
states' rules, as data beside the quiet-hour rules (messaging.quiet_hours): Florida allows at most three
messages on the same subject in 24 hours (Fla. Stat. 501.059(8)(a)). A message over a cap is not dropped:
`frequency_release` says when it may go and why it waits, and the caller waits until then.

The subject of a message is its `template` ("sequence:4", "campaign:9", "review"). Cost: one query (the
customer's automated and marketing messages of the last 7 days, a handful of rows)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from customers.models import Customer

from .models import Message
from .quiet_hours import HELD_PURPOSES, recipient_location

DAY, WEEK = timedelta(hours=24), timedelta(days=7)


@dataclass(frozen=True)
class SubjectRule:
    limit: int
    window: timedelta
    citation: str


STATE_SUBJECT_RULES: dict[str, SubjectRule] = {
    "FL": SubjectRule(limit=3, window=DAY, citation="Florida: at most 3 messages on one subject in 24 hours"),
}


def _release(times: list[datetime], limit: int, window: timedelta, now: datetime) -> datetime | None:
    """When fewer than `limit` of `times` (newest first) fall in the window ending then; None: now."""
    inside = [t for t in times if t > now - window]
    if len(inside) < limit:
        return None
    return inside[limit - 1] + window


def _counted(now: datetime):
    return (
        Message.objects.filter(
            direction=Message.Direction.OUTBOUND, purpose__in=HELD_PURPOSES, created_at__gt=now - WEEK
        )
        .exclude(status__in=[Message.Status.SUPPRESSED, Message.Status.FAILED])
        .order_by("-created_at")
    )


def frequency_history(*, customer_ids: list[int], now: datetime) -> dict[int, list[tuple[datetime, str]]]:
    """For a batch: each customer's counted messages of the last 7 days, newest first (one query). Add
    what the batch itself queues (at the front) before asking about the customer's next one."""
    history: dict[int, list[tuple[datetime, str]]] = {pk: [] for pk in customer_ids}
    rows = (
        _counted(now)
        .filter(customer_id__in=customer_ids)
        .values_list("customer_id", "created_at", "template")
    )
    for customer_id, at, template in rows:
        history[customer_id].append((at, template))
    return history


def frequency_release(
    *,
    customer: Customer,
    number: str,
    subject: str,
    now: datetime,
    per_day: int,
    per_week: int,
    history: list[tuple[datetime, str]] | None = None,
) -> tuple[datetime | None, str]:
    """(None, "") when one more automated message may go to the customer now; else (when, why).
    `history`: the customer's rows from `frequency_history` (no query)."""
    rows = (
        history
        if history is not None
        else list(_counted(now).filter(customer=customer).values_list("created_at", "template"))
    )
    times = [at for at, _ in rows]
    waits = [
        (_release(times, per_day, DAY, now), f"{per_day} a day for one customer"),
        (_release(times, per_week, WEEK, now), f"{per_week} a week for one customer"),
    ]
    state = recipient_location(number=number, customer=customer).state if number else ""
    rule = STATE_SUBJECT_RULES.get(state)
    if rule is not None:
        same = [at for at, template in rows if template == subject]
        waits.append((_release(same, rule.limit, rule.window, now), rule.citation))
    waits = [(at, why) for at, why in waits if at is not None]
    if not waits:
        return None, ""
    at, why = max(waits)
    return at, f"Limit reached ({why}); next at {at:%b %-d %H:%M} UTC"
