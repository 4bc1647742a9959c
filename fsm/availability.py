"""When could someone do this job? `open_slots` offers start times, best first.

For each technician with the job type's skill (active profile), on each day of the range: the free
gaps of their working day (business time zone) between their visits, where the job fits with the
travel in and out. Travel is the straight-line distance x road factor / average speed (FSM settings)
from the previous visit's property, or from home base for the first job of the day. Offered starts
are on the slot-step grid (e.g. every 30 minutes from midnight).

Ranking: earliest start first, then the least extra travel: travel in + travel out to the next visit
- the direct trip it replaces (the last job of the day: travel in only). A property or home base with
no known location counts as no travel.

Reads only: two queries for the technicians and all their visits in the range (plus the cached
settings), then Python. 50 technicians x 5 days take a few milliseconds.
"""

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from customers.geocoding import geocode
from customers.models import Property
from users.models import Business, User
from users.roles import Role

from .geo import Point, Travel, point_of
from .models import FieldServiceSettings, JobType, Visit, parse_working_hours

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(slots=True)
class Slot:
    technician: User
    start: datetime
    end: datetime
    travel_minutes: int  # from the previous location to this property
    extra_travel_minutes: int  # what fitting this job in adds to the technician's day


@dataclass(slots=True)
class _Gap:
    free_from: datetime
    free_until: datetime
    origin: Point | None
    next_point: Point | None


def open_slots(
    *,
    job_type: JobType,
    property: Property | None,
    start_date: date,
    days: int = 5,
    duration_minutes: int | None = None,
    technicians=None,
    now: datetime | None = None,
    limit: int | None = None,
) -> list[Slot]:
    """Ranked open slots for `job_type` at `property` from `start_date` for `days` days.

    `technicians` (users or ids) narrows the search; `now` (default: now) hides starts in the past;
    `limit` cuts the ranked list.
    """
    rules = FieldServiceSettings.current()
    travel = Travel(road_factor=float(rules.road_factor), speed_kmh=float(rules.average_speed_kmh))
    tz = Business.current().tzinfo
    duration = timedelta(minutes=duration_minutes or job_type.default_duration_minutes)
    techs = _technicians(job_type, technicians)
    first = datetime.combine(start_date, time.min, tzinfo=tz)
    busy = _busy_by_technician(techs, first, first + timedelta(days=days))
    search = _Search(
        target=point_of(property),
        travel=travel,
        duration=duration,
        step=rules.slot_step_minutes,
        not_before=now or timezone.now(),
        tz=tz,
    )
    slots = []
    for tech in techs:
        hours = parse_working_hours(tech.technician.working_hours)
        for offset in range(days):
            day = start_date + timedelta(days=offset)
            span = hours.get(WEEKDAYS[day.weekday()])
            if span:
                gaps = _gaps(day, span, tz, busy.get(tech.pk, []), tech.technician.home_point)
                slots += search.slots(tech, gaps)
    slots.sort(key=lambda s: (s.start, s.extra_travel_minutes, s.travel_minutes, s.technician.pk))
    return slots[:limit] if limit else slots


def _technicians(job_type: JobType, technicians) -> list[User]:
    qs = User.objects.filter(is_active=True, groups__name=Role.TECHNICIAN, technician__is_active=True)
    if job_type.required_skill_id:
        qs = qs.filter(technician__skills=job_type.required_skill_id)
    if technicians is not None:
        qs = qs.filter(pk__in=[getattr(t, "pk", t) for t in technicians])
    return list(qs.select_related("technician").distinct().order_by("pk"))


def _busy_by_technician(techs: list[User], start: datetime, end: datetime) -> dict[int, list]:
    """{technician id: [(start, end, point), ...] sorted} for every visit (not canceled) in the range."""
    rows = (
        Visit.technicians.through.objects.filter(
            user_id__in=[t.pk for t in techs], visit__start__lt=end, visit__end__gt=start
        )
        .exclude(visit__state=Visit.State.CANCELED)
        .values_list(
            "user_id",
            "visit__start",
            "visit__end",
            "visit__job__property__latitude",
            "visit__job__property__longitude",
            "visit__job__property__zip_code",
        )
    )
    busy: dict[int, list] = {}
    for user_id, v_start, v_end, lat, lon, zip_code in rows:
        busy.setdefault(user_id, []).append((v_start, v_end, _point(lat, lon, zip_code)))
    for visits in busy.values():
        visits.sort(key=lambda v: v[0])
    return busy


def _point(lat, lon, zip_code) -> Point | None:
    if lat is not None and lon is not None:
        return float(lat), float(lon)
    if not zip_code:
        return None
    found = geocode(Property(zip_code=zip_code))
    return (float(found[0]), float(found[1])) if found else None


def _gaps(day: date, span: tuple[time, time], tz, visits: list, home: Point | None) -> list[_Gap]:
    """The free stretches of one working day, each with where the technician comes from and goes next."""
    day_start = datetime.combine(day, span[0], tzinfo=tz)
    day_end = datetime.combine(day, span[1], tzinfo=tz)
    gaps, free_from, origin = [], day_start, home
    for v_start, v_end, point in visits:
        if v_end <= day_start or v_start >= day_end:
            continue
        if v_start > free_from:
            gaps.append(_Gap(free_from, v_start, origin, point))
        free_from, origin = max(free_from, v_end), point
    if free_from < day_end:
        gaps.append(_Gap(free_from, day_end, origin, None))
    return gaps


@dataclass
class _Search:
    target: Point | None
    travel: Travel
    duration: timedelta
    step: int
    not_before: datetime
    tz: object

    _memo: dict = field(default_factory=dict)

    def minutes(self, a: Point | None, b: Point | None) -> int:
        if (a, b) not in self._memo:
            self._memo[a, b] = self.travel.minutes(a, b)
        return self._memo[a, b]

    def slots(self, tech: User, gaps: list[_Gap]) -> list[Slot]:
        found = []
        for gap in gaps:
            travel_in = self.minutes(gap.origin, self.target)
            travel_out = self.minutes(self.target, gap.next_point) if gap.next_point else 0
            direct = self.minutes(gap.origin, gap.next_point) if gap.next_point else 0
            extra = max(travel_in + travel_out - direct, 0)
            start = self._on_grid(max(gap.free_from + timedelta(minutes=travel_in), self.not_before))
            latest = gap.free_until - timedelta(minutes=travel_out) - self.duration
            while start <= latest:
                found.append(Slot(tech, start, start + self.duration, travel_in, extra))
                start += timedelta(minutes=self.step)
        return found

    def _on_grid(self, moment: datetime) -> datetime:
        """The first start on the step grid (from local midnight) at or after `moment`, in local time."""
        local = moment.astimezone(self.tz)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        minutes = (local - midnight).total_seconds() / 60
        return midnight + timedelta(minutes=math.ceil(minutes / self.step) * self.step)
