"""Reads for the technician's phone that only its screens need (shared ones stay in fsm/selectors.py).

Maps links use Google's Maps URLs (https://developers.google.com/maps/documentation/urls/get-started):
`https://www.google.com/maps/search/?api=1&query=<address>` is the documented cross-platform form. On
Android it opens the Google Maps app; on iOS it opens Google Maps when installed, else maps in the
browser, which offers the app. `geo:` only works on Android and `maps.apple.com` only opens an app on
iOS, so the one https link is the one that works on every phone and on a desktop too. The address text
is sent, not our coordinates: those may be a ZIP centre (see customers.geocoding).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import quote, urlencode

from django.db.models import Q
from django.utils import timezone

from customers.models import PhoneNumber, Property
from users.models import Business

from .models import Job, TimeEntry, Visit

MAPS_SEARCH_URL = "https://www.google.com/maps/search/"


def maps_url(prop: Property | None) -> str:
    """A link that opens the phone's maps app on the property's address ("" without a property)."""
    if prop is None:
        return ""
    return f"{MAPS_SEARCH_URL}?{urlencode({'api': 1, 'query': prop.one_line}, quote_via=quote)}"


def primary_phone(job: Job) -> PhoneNumber | None:
    """The customer's first phone (job.customer.phones is prefetched primary first)."""
    return next(iter(job.customer.phones.all()), None)


def textable_phone(job: Job) -> PhoneNumber | None:
    return next((p for p in job.customer.phones.all() if p.textable), None)


@dataclass
class Window:
    start: datetime
    end: datetime
    promised: bool  # True: the arrival window promised to the customer; False: the visit's own span


def visit_window(visit: Visit) -> Window:
    if visit.arrival_window_start and visit.arrival_window_end:
        return Window(visit.arrival_window_start, visit.arrival_window_end, promised=True)
    return Window(visit.start, visit.end, promised=False)


def my_visit(job: Job, technician) -> Visit | None:
    """The technician's visit this page is about: an open one first, else the latest (visits prefetched)."""
    mine = [v for v in job.visits.all() if any(t.pk == technician.pk for t in v.technicians.all())]
    mine = [v for v in mine if v.state != Visit.State.CANCELED] or mine
    open_visits = [v for v in mine if v.is_open]
    return (open_visits or mine[::-1] or [None])[0]


def minutes_between(start: datetime, end: datetime | None, now: datetime | None = None) -> int:
    end = end or now or timezone.now()
    return max(0, int((end - start).total_seconds() // 60))


def duration(minutes: int) -> str:
    """42 -> "42 min", 192 -> "3 h 12 min" (static/js/tech.js writes the same while it ticks)."""
    hours, rest = divmod(max(0, minutes), 60)
    return f"{hours} h {rest:02d} min" if hours else f"{rest} min"


@dataclass
class Clock:
    """Closed minutes plus a timer that may be running since `since` (the page's script keeps counting)."""

    closed_minutes: int
    since: datetime | None
    minutes: int

    @property
    def running(self) -> bool:
        return self.since is not None

    @property
    def text(self) -> str:
        return duration(self.minutes)


def _clock(entries, now: datetime | None = None) -> Clock:
    now = now or timezone.now()
    closed = sum(minutes_between(e.started_at, e.ended_at) for e in entries if e.ended_at)
    running = next((e for e in entries if e.ended_at is None), None)
    since = running.started_at if running else None
    return Clock(closed, since, closed + (minutes_between(since, None, now) if since else 0))


def job_time(*, job: Job, technician, now: datetime | None = None) -> Clock:
    """The technician's time on this job (arrive to pause or complete), for payroll later."""
    entries = list(TimeEntry.objects.filter(job=job, technician=technician, kind=TimeEntry.Kind.JOB))
    return _clock(entries, now)


def shift_clock(*, technician, day: date, now: datetime | None = None) -> Clock:
    """The technician's shifts on `day` (business time zone), an open one counting up to now."""
    day_start = datetime.combine(day, time.min, tzinfo=Business.current().tzinfo)
    day_end = day_start + timedelta(days=1)
    entries = TimeEntry.objects.filter(
        Q(started_at__gte=day_start, started_at__lt=day_end) | Q(ended_at=None),
        technician=technician,
        kind=TimeEntry.Kind.SHIFT,
    )
    return _clock(list(entries), now)


# --- My day's cards ---------------------------------------------------------------------------------


@dataclass
class VisitCard:
    visit: Visit
    job: Job
    window: Window
    maps_url: str
    phone: PhoneNumber | None
    state: str  # the job's state while the visit is open, else the visit's (completed, canceled)
    state_label: str


def visit_card(visit: Visit) -> VisitCard:
    job = visit.job
    state, label = (
        (job.state, job.get_state_display()) if visit.is_open else (visit.state, visit.get_state_display())
    )
    return VisitCard(
        visit=visit,
        job=job,
        window=visit_window(visit),
        maps_url=maps_url(job.property),
        phone=primary_phone(job),
        state=state,
        state_label=label,
    )


def visit_cards(visits: Iterable[Visit]) -> list[VisitCard]:
    return [visit_card(v) for v in visits]


def history_jobs(jobs: list[Job], job: Job) -> list[Job]:
    """The property's other jobs (property_history lists them all, this one included)."""
    return [j for j in jobs if j.pk != job.pk]


def parse_day(value: str | None, today: date) -> date:
    """`?day=YYYY-MM-DD` from the day switcher; anything else (or nothing) is today."""
    try:
        return date.fromisoformat(value) if value else today
    except ValueError:
        return today


def neighbour_days(day: date) -> tuple[date, date]:
    return day - timedelta(days=1), day + timedelta(days=1)
