"""Write the activity log, publish milestones, deliver them to subscribers.

`record` and `publish` run inside the caller's transaction: the event commits or rolls back with the
change it describes. Delivery happens after commit, through Celery; a broker that is down only delays
it (the periodic sweep re-sends), and each (event, subscriber) pair is delivered at most once.
"""

import logging
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.utils import timezone

from . import registry
from .milestones import MILESTONES as MILESTONES  # re-exported: the catalogue lives in events.milestones
from .milestones import EventError, payload_check
from .models import Delivery, Event, EventLink

logger = logging.getLogger(__name__)


def record(
    code: str,
    *,
    subject: models.Model,
    actor=None,
    actor_label: str = "",
    summary: str = "",
    data: dict | None = None,
    links: Iterable[models.Model | tuple[type[models.Model], object] | None] = (),
    milestone: str = "",
) -> Event:
    """Append one row to the activity log, on the timeline of `subject` and of each of `links`.

    A link is a model instance, or a `(Model, pk)` pair when only the id is at hand (no query to load
    a related row just to link it); None and a None pk are skipped.

    A milestone's data is checked against its declared payload (events.milestones) and the event is
    stored pending: a worker decides who gets it (event_fan_out), never this process, whose registry
    may be older than the worker's (a process started before a deploy that added a subscriber)."""
    if milestone:
        payload_check(milestone, data or {})
    event = Event.objects.create(
        code=code,
        milestone=milestone,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=actor_label,
        subject_type=ContentType.objects.get_for_model(subject),
        subject_id=str(subject.pk),
        summary=summary[:300],
        data=data or {},
    )
    targets = {target for target in map(_link_target, (subject, *links)) if target}
    EventLink.objects.bulk_create(
        EventLink(event=event, target_type_id=ct, target_id=pk) for ct, pk in sorted(targets)
    )
    if milestone:
        transaction.on_commit(lambda: enqueue("events.tasks.fan_out", event.pk))
    return event


def record_many(entries: list[dict]) -> list[Event]:
    """`record` for many rows at once (a scheduler handing a batch to the outbox): the same rows, two
    statements. Each entry takes `record`'s keywords plus `code`; milestones are not taken here (each
    needs its own fan-out)."""
    events, targets = [], []
    for entry in entries:
        if entry.get("milestone"):
            raise ValueError("record_many takes no milestones; record each one")
        subject, actor = entry["subject"], entry.get("actor")
        events.append(
            Event(
                code=entry["code"],
                actor=actor if actor is not None and actor.is_authenticated else None,
                actor_label=entry.get("actor_label", ""),
                subject_type=ContentType.objects.get_for_model(subject),
                subject_id=str(subject.pk),
                summary=entry.get("summary", "")[:300],
                data=entry.get("data") or {},
            )
        )
        targets.append({t for t in map(_link_target, (subject, *entry.get("links", ()))) if t})
    Event.objects.bulk_create(events)
    EventLink.objects.bulk_create(
        EventLink(event=event, target_type_id=ct, target_id=pk)
        for event, links in zip(events, targets, strict=True)
        for ct, pk in sorted(links)
    )
    return events


def _link_target(link) -> tuple[int, str] | None:
    model, pk = link if isinstance(link, tuple) else (link, getattr(link, "pk", None))
    if model is None or pk is None:
        return None
    return ContentType.objects.get_for_model(model).pk, str(pk)


def timeline_extend(
    *,
    subjects: Iterable[models.Model | tuple[type[models.Model], object]],
    links: Iterable[models.Model | tuple[type[models.Model], object] | None],
) -> int:
    """Put the events already recorded about `subjects` on the timelines of `links` too: for a record
    known only after the fact (a caller identified after their missed call and its text-back were
    logged). The events themselves are not changed. Returns how many links were added."""
    targets = sorted({target for target in map(_link_target, links) if target})
    about = [target for target in map(_link_target, subjects) if target]
    if not (targets and about):
        return 0
    match = models.Q()
    for content_type_id, pk in about:
        match |= models.Q(subject_type_id=content_type_id, subject_id=pk)
    event_ids = list(Event.objects.filter(match).values_list("pk", flat=True))
    added = EventLink.objects.bulk_create(
        [EventLink(event_id=e, target_type_id=ct, target_id=pk) for e in event_ids for ct, pk in targets],
        ignore_conflicts=True,
    )
    return len(added)


def event_links_add(
    *, event: Event, links: Iterable[models.Model | tuple[type[models.Model], object] | None]
) -> int:
    """Put one event on more timelines (a subscriber that knows a record the publisher cannot name:
    crm puts an estimate's milestones on the lead it came from). Twice is the same as once."""
    targets = sorted({target for target in map(_link_target, links) if target})
    added = EventLink.objects.bulk_create(
        [EventLink(event=event, target_type_id=ct, target_id=pk) for ct, pk in targets], ignore_conflicts=True
    )
    return len(added)


def record_beside(
    event: Event, code: str, *, summary: str, actor_label: str = "", data: dict | None = None
) -> Event:
    """Note something about a milestone on every timeline it is on (its subject's and its links'): a
    subscriber that decided not to act says why where staff will look (a text not sent)."""
    note = Event.objects.create(
        code=code,
        actor_label=actor_label,
        subject_type_id=event.subject_type_id,
        subject_id=event.subject_id,
        summary=summary[:300],
        data={"about_event_id": event.pk, **(data or {})},
    )
    targets = {(event.subject_type_id, event.subject_id)} | set(
        EventLink.objects.filter(event=event).values_list("target_type_id", "target_id")
    )
    EventLink.objects.bulk_create(
        EventLink(event=note, target_type_id=ct, target_id=pk) for ct, pk in sorted(targets)
    )
    return note


def publish(milestone: str, *, subject: models.Model, code: str = "", **kwargs) -> Event:
    """Record a business milestone; after commit it is delivered to every subscriber of `milestone`.
    EventError when the milestone is unknown or its data is not the declared payload."""
    code = code or f"{subject._meta.app_label}.{milestone}"
    return record(code, subject=subject, milestone=milestone, **kwargs)


@dataclass(frozen=True)
class Publication:
    """One milestone of a publish_many batch."""

    subject: models.Model
    data: dict
    summary: str = ""
    links: tuple = ()


FAN_OUT_BATCH = 500


def publish_many(
    milestone: str, items: list[Publication], *, actor=None, actor_label: str = "", code: str = ""
) -> list[Event]:
    """publish() for a batch (a CSV import's customers): every payload checked first, then one INSERT
    for the events and one for their timeline links; after commit one fan-out task per 500 events.
    Each event is still pending until the worker fans it out, as with publish()."""
    if not items:
        return []
    for item in items:
        payload_check(milestone, item.data)
    code = code or f"{items[0].subject._meta.app_label}.{milestone}"
    who = actor if actor is not None and actor.is_authenticated else None
    made = Event.objects.bulk_create(
        Event(
            code=code,
            milestone=milestone,
            actor=who,
            actor_label=actor_label,
            subject_type=ContentType.objects.get_for_model(item.subject),
            subject_id=str(item.subject.pk),
            summary=item.summary[:300],
            data=item.data,
        )
        for item in items
    )
    EventLink.objects.bulk_create(
        EventLink(event=event, target_type_id=ct, target_id=pk)
        for event, item in zip(made, items, strict=True)
        for ct, pk in sorted({t for t in map(_link_target, (item.subject, *item.links)) if t})
    )
    ids = [event.pk for event in made]
    batches = [ids[i : i + FAN_OUT_BATCH] for i in range(0, len(ids), FAN_OUT_BATCH)]
    transaction.on_commit(lambda: [enqueue("events.tasks.fan_out_batch", batch) for batch in batches])
    return made


def enqueue(task_name: str, *args) -> bool:
    """Send a task to the broker; a broker outage is logged, not raised (the sweep re-sends). The app is
    the project's Celery app (config.celery makes itself current); events never imports config."""
    app = current_app
    try:
        app.send_task(task_name, args=args) if not app.conf.task_always_eager else _run_eager(task_name, args)
    except Exception:
        logger.warning("Could not queue %s%r; the sweep will retry.", task_name, args, exc_info=True)
        return False
    return True


def _run_eager(task_name: str, args: tuple) -> None:
    app = current_app
    if task_name not in app.tasks:
        app.loader.import_default_modules()  # what a worker does at start: find every tasks module
    app.tasks[task_name].apply(args=args, throw=True)


def event_fan_out(*, event_id: int) -> list[Delivery]:
    """Create one pending Delivery per subscriber of the event's milestone, then queue each."""
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event_id)
        names = [sub.name for sub in registry.subscribers_for(event.milestone, event.data)]
        deliveries = []
        if names:  # one INSERT for them all; the unique (event, subscriber) keeps a second fan-out's out
            Delivery.objects.bulk_create(
                [Delivery(event=event, subscriber=n) for n in names], ignore_conflicts=True
            )
            deliveries = list(Delivery.objects.filter(event=event, subscriber__in=names).order_by("pk"))
        if not deliveries:
            _commit_without_waiting_for_disk()
        if event.fanned_out_at is None:
            Event.objects.filter(pk=event.pk).update(fanned_out_at=timezone.now())
        pending = [d.pk for d in deliveries if d.status == Delivery.Status.PENDING]
        transaction.on_commit(lambda: [enqueue("events.tasks.deliver", pk) for pk in pending])
    return deliveries


def _commit_without_waiting_for_disk() -> None:
    """Marking an event fanned out that no subscriber wants needs no durable commit: if the server
    crashed before the WAL reached the disk, the event would be pending again and the sweep would fan
    it out again (nothing else depends on the mark). Skipping the flush keeps these marks, three per new
    caller, from queueing in front of the webhooks' and the text-back's commits (PostgreSQL only, and
    only when this is the outermost transaction: never for someone else's work)."""
    if connection.vendor == "postgresql" and not connection.savepoint_ids:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def events_fan_out_batch(*, event_ids: list[int]) -> int:
    """publish_many's batch: the events no subscriber of this worker wants are marked fanned out with one
    UPDATE; each of the others is fanned out as event_fan_out does. Returns how many had subscribers."""
    rows = Event.objects.filter(pk__in=event_ids, fanned_out_at__isnull=True).values_list(
        "pk", "milestone", "data"
    )
    wanted = [pk for pk, milestone, data in rows if registry.subscribers_for(milestone, data)]
    unwanted = set(event_ids) - set(wanted)
    with transaction.atomic():
        _commit_without_waiting_for_disk()
        Event.objects.filter(pk__in=unwanted, fanned_out_at__isnull=True).update(fanned_out_at=timezone.now())
    for pk in wanted:
        event_fan_out(event_id=pk)
    return len(wanted)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=settings.EVENTS_RETRY_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0))


def delivery_attempt(*, delivery_id: int, force: bool = False) -> Delivery:
    """Run one subscriber for one event. Its database work and the delivered mark commit together."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().select_related("event").get(pk=delivery_id)
        now = timezone.now()
        if delivery.status != Delivery.Status.PENDING or (not force and delivery.next_attempt_at > now):
            return delivery
        sub = registry.get(delivery.subscriber)
        delivery.attempts += 1
        delivery.last_attempt_at = now
        try:
            with transaction.atomic():
                if sub is None:
                    raise LookupError(f"No subscriber named {delivery.subscriber!r} is registered.")
                sub.handler(delivery.event)
        except Exception as exc:
            _delivery_failed(delivery, exc, now)
        else:
            delivery.status = Delivery.Status.DELIVERED
            delivery.delivered_at = now
            delivery.last_error = ""
        delivery.save(
            update_fields=[
                "attempts",
                "last_attempt_at",
                "status",
                "delivered_at",
                "last_error",
                "next_attempt_at",
            ]
        )
    return delivery


def _delivery_failed(delivery: Delivery, exc: Exception, now) -> None:
    delivery.last_error = (
        "".join(traceback.format_exception_only(exc)).strip() + "\n\n" + traceback.format_exc(limit=-6)
    )
    if delivery.attempts >= settings.EVENTS_MAX_ATTEMPTS:
        delivery.status = Delivery.Status.FAILED
        logger.error("Delivery %s failed for good: %s", delivery.pk, exc)
    else:
        delivery.next_attempt_at = now + _backoff(delivery.attempts)
        logger.warning("Delivery %s failed (attempt %s): %s", delivery.pk, delivery.attempts, exc)


def delivery_retry(*, delivery: Delivery, actor) -> Delivery:
    """From the exception queue: try a failed or dismissed delivery again, once, now."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if delivery.status == Delivery.Status.PENDING:
            return delivery
        if delivery.status == Delivery.Status.DELIVERED:
            raise EventError("This delivery already succeeded.")
        delivery.status = Delivery.Status.PENDING
        delivery.attempts = max(settings.EVENTS_MAX_ATTEMPTS - 1, 0)
        delivery.next_attempt_at = timezone.now()
        delivery.resolved_by = actor
        delivery.save()
        record(
            "events.delivery.retried",
            subject=delivery,
            actor=actor,
            summary=f"Retried {delivery.subscriber} for {delivery.event.code}",
        )
        transaction.on_commit(lambda: enqueue("events.tasks.deliver", delivery.pk))
    return delivery


def delivery_dismiss(*, delivery: Delivery, actor) -> Delivery:
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if delivery.status == Delivery.Status.DISMISSED:
            return delivery
        if delivery.status != Delivery.Status.FAILED:
            raise EventError("Only a failed delivery can be dismissed.")
        delivery.status = Delivery.Status.DISMISSED
        delivery.resolved_by = actor
        delivery.save()
        record(
            "events.delivery.dismissed",
            subject=delivery,
            actor=actor,
            summary=f"Dismissed {delivery.subscriber} for {delivery.event.code}",
        )
    return delivery


def sweep_undelivered(*, grace: timedelta | None = None) -> dict[str, int]:
    """Re-queue what the broker may have lost: events never fanned out, deliveries due and pending."""
    grace = timedelta(seconds=15) if grace is None else grace
    cutoff = timezone.now() - grace
    event_ids = list(
        Event.objects.exclude(milestone="")
        .filter(fanned_out_at__isnull=True, occurred_at__lte=cutoff)
        .values_list("pk", flat=True)[:500]
    )
    delivery_ids = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=cutoff).values_list(
            "pk", flat=True
        )[:500]
    )
    for pk in event_ids:
        enqueue("events.tasks.fan_out", pk)
    for pk in delivery_ids:
        enqueue("events.tasks.deliver", pk)
    return {"events": len(event_ids), "deliveries": len(delivery_ids)}


def deliveries_replay(
    *, subscriber: str, since: datetime, until: datetime | None = None, dry_run: bool = False
) -> int:
    """Give `subscriber` the past milestones it would have received since `since` (for a subscriber added
    after they were published): one Delivery per (event, subscriber), created only where none exists, so
    a replay run twice, or over an event already delivered, delivers nothing again. Returns how many
    deliveries it created (with dry_run: would create). The worker delivers them; the sweep re-sends
    any whose task the broker lost."""
    sub = registry.get(subscriber)
    if sub is None:
        raise EventError(f"No subscriber named {subscriber!r} is registered.")
    events = Event.objects.filter(milestone__in=sub.milestones, occurred_at__gte=since)
    if until is not None:
        events = events.filter(occurred_at__lt=until)
    done = Delivery.objects.filter(subscriber=subscriber).values("event_id")
    created = 0
    for chunk in _chunks(events.exclude(pk__in=done).order_by("pk").values_list("pk", "milestone", "data")):
        wanted = [pk for pk, milestone, data in chunk if sub.wants(milestone, data)]
        created += len(wanted) if dry_run else _deliveries_create(subscriber, wanted)
    return created


def _chunks(rows, size: int = 500):
    chunk = []
    for row in rows.iterator(chunk_size=size):
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _deliveries_create(subscriber: str, event_ids: list[int]) -> int:
    with transaction.atomic():
        Delivery.objects.bulk_create(
            [Delivery(event_id=pk, subscriber=subscriber) for pk in event_ids], ignore_conflicts=True
        )
        new = list(
            Delivery.objects.filter(
                subscriber=subscriber, event_id__in=event_ids, status=Delivery.Status.PENDING, attempts=0
            ).values_list("pk", flat=True)
        )
        transaction.on_commit(lambda: [enqueue("events.tasks.deliver", pk) for pk in new])
    return len(new)


def heartbeat(*, name: str = "worker") -> None:
    from .models import WorkerHeartbeat

    WorkerHeartbeat.objects.update_or_create(name=name, defaults={"beat_at": timezone.now()})
