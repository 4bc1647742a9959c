"""The day-before reminder: fsm publishes `visit.reminder_due` once per visit; crm's subscriber writes
the text, as an automated one, so quiet hours hold it until the customer's window opens. fsm never texts.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from users.models import Business

from ..models import Job, Visit
from ._base import lock_job, publish
from .visits import visit_times


def visit_reminders_publish(*, now: datetime | None = None) -> int:
    """Publish visit.reminder_due for each visit that starts tomorrow (business time zone); returns how
    many. Safe to run at any time and any number of times: the publish and the visit's reminder_sent_at
    commit together, under the job's lock, so each visit is reminded once.

    Only a visit still scheduled on a job still working gets one (not a canceled, completed or held one),
    and only a visit booked before today: one booked today for tomorrow has just had its confirmation."""
    now = now or timezone.now()
    ids = list(visits_due_reminder(now=now).values_list("pk", flat=True))
    return sum(_remind(visit_id=pk, now=now) for pk in ids)


def visits_due_reminder(*, now: datetime):
    tz = Business.current().tzinfo
    today = timezone.localtime(now, tz).date()
    tomorrow = today + timedelta(days=1)
    return Visit.objects.filter(
        state=Visit.State.SCHEDULED,
        job__state__in=Job.WORKING_STATES,
        reminder_sent_at__isnull=True,
        start__gte=_midnight(tomorrow, tz),
        start__lt=_midnight(tomorrow + timedelta(days=1), tz),
        created_at__lt=_midnight(today, tz),
    ).order_by("start", "pk")


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def _remind(*, visit_id: int, now: datetime) -> bool:
    """One visit: lock its job (the order every fsm service locks in), then the visit; check again."""
    with transaction.atomic():
        job = lock_job(Visit.objects.get(pk=visit_id).job)
        visit = Visit.objects.select_for_update().get(pk=visit_id)
        due = visit.state == Visit.State.SCHEDULED and job.state in Job.WORKING_STATES
        if visit.reminder_sent_at or not due:
            return False
        visit.reminder_sent_at = now
        visit.save(update_fields=["reminder_sent_at"])  # not updated_at: nothing on the board changed
        local = timezone.localtime(visit.start, Business.current().tzinfo)
        phone = job.customer.phones.filter(textable=True).order_by("-is_primary", "pk").first()
        publish(
            job,
            "visit.reminder_due",
            actor=None,
            actor_label="reminders",
            summary=f"Day-before reminder for the visit {local:%a %H:%M}",
            data={**visit_times(job=job, visit=visit), "phone": phone.number.as_e164 if phone else None},
        )
    return True
