"""Replay past milestones to one subscriber, e.g. the ledger's posting rules added after invoices were paid:

    manage.py events_replay --subscriber finance.post_invoice_payment --since 2026-11-01
    manage.py events_replay --subscriber crm.instant_reply --since 2026-11-01T00:00-06:00 \
        --until 2026-11-02 --dry-run

Each (event, subscriber) is delivered once: running it twice, or over events the subscriber already had,
delivers nothing again. A date alone means midnight in the server's time zone (TIME_ZONE).
"""

from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from events import registry, services


def _moment(value: str) -> datetime:
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"{value!r} is not a date (YYYY-MM-DD) or an ISO 8601 time.")
        moment = datetime.combine(day, time.min)
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


class Command(BaseCommand):
    help = "Deliver past milestones to one subscriber, once per event (for a subscriber added later)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--subscriber", required=True, help="The subscriber's name, e.g. crm.instant_reply"
        )
        parser.add_argument("--since", required=True, help="From this date or time (inclusive)")
        parser.add_argument("--until", help="Up to this date or time (exclusive); default: now")
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be delivered, change nothing"
        )

    def handle(self, *args, subscriber, since, until=None, dry_run=False, **options):
        registry.autodiscover()
        start, end = _moment(since), _moment(until) if until else None
        if end is not None and end <= start:
            raise CommandError("--until must come after --since.")
        try:
            count = services.deliveries_replay(subscriber=subscriber, since=start, until=end, dry_run=dry_run)
        except services.EventError as exc:
            known = ", ".join(sorted(s.name for s in registry.subscribers_all())) or "none"
            raise CommandError(f"{exc} Known subscribers: {known}.") from exc
        verb = "would be queued" if dry_run else "queued"
        span = f"{start:%Y-%m-%d %H:%M %Z} to {f'{end:%Y-%m-%d %H:%M %Z}' if end else 'now'}"
        self.stdout.write(f"{count} deliveries to {subscriber} {verb} ({span}).")
