"""What the dispatch board draws: its reads (`board_read`, five queries whatever the number of visits),
then, in Python, technician rows with their working hours, visit blocks placed by time (overlapping
visits on separate lanes), the week's day cells with their free gaps, late visits, the queue with ages;
plus today's counts and the change stamp the live refresh compares (one query each).

Positions are CSS classes, never inline styles (the CSP forbids those): on a board starting at 7 AM a
visit at 9:35 is `at-h2 at-m7` (2 hours and 7 five-minute steps in) and 90 minutes long is
`len-h1 len-m6`; static/css/dispatch.css turns them into a left offset and a width.
"""

import zlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from types import SimpleNamespace

from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from customers.models import Customer
from events.models import Event
from users.models import Business, User

from .models import WEEKDAYS, Job, Visit, parse_working_hours
from .selectors import board_technicians, unscheduled_queue

STEP = 5  # minutes: blocks are drawn to the nearest five minutes
SHORTEST = 15  # minutes: a shorter visit is still drawn this wide, so it can be seen and grabbed
DAY_HOURS = (7, 19)  # the day view on a day nobody works and nothing is booked
MAX_LANES = 6
STAMP_EVENTS = 20  # the change stamp covers the latest fsm events (a late commit still changes it)
STAMP_BUCKET_SECONDS = 300  # ... and the time, so that late visits turn red without any change
STATE_FILTERS = [
    ("scheduled", "Scheduled"),
    ("en_route", "On the way"),
    ("on_site", "On site"),
    ("completed", "Completed"),
    ("late", "Late"),
]
NO_TECHNICIAN_COLOR = "#9aa4b2"


# --- The reads --------------------------------------------------------------------------------------

# Only the columns a block shows, as plain rows. `fsm.selectors.board` loads whole model rows (customers
# with their search columns, properties, each visit's technicians as Users): with 500 visits in a week
# that read alone took 155 ms; these columns and the crews as id pairs take about 15 ms.
VISIT_COLUMNS = (
    "pk",
    "job_id",
    "start",
    "end",
    "state",
    "arrival_window_start",
    "arrival_window_end",
    "job__number",
    "job__state",
    "job__service",
    "job__job_type__name",
    "job__job_type__required_skill_id",
    "job__customer_id",
    "job__customer__kind",
    "job__customer__first_name",
    "job__customer__last_name",
    "job__customer__company_name",
)


_display_name = Customer.display_name.fget  # the model's own rule, without building 500 models


@dataclass(slots=True)
class VisitRow:
    """A visit as the board draws it (no model instance: 500 of them are read on every refresh)."""

    pk: int
    job_id: int
    start: datetime
    end: datetime
    state: str
    arrival_window_start: datetime | None
    arrival_window_end: datetime | None
    job_number: str
    job_state: str
    job_type: str  # the job type's name, else what the customer asked for
    required_skill_id: int | None
    customer: str  # the customer's display name

    @classmethod
    def from_values(cls, values: tuple) -> "VisitRow":
        pk, job_id, start, end, state, window_start, window_end, number, job_state = values[:9]
        service, type_name, skill, customer_id, kind, first_name, last_name, company = values[9:]
        customer = SimpleNamespace(
            Kind=Customer.Kind, pk=customer_id, kind=kind, first_name=first_name, last_name=last_name
        )
        customer.company_name = company
        return cls(
            pk=pk,
            job_id=job_id,
            start=start,
            end=end,
            state=state,
            arrival_window_start=window_start,
            arrival_window_end=window_end,
            job_number=number or f"Job #{job_id}",
            job_state=job_state,
            job_type=type_name or service or "Job",
            required_skill_id=skill,
            customer=_display_name(customer),
        )

    @property
    def is_open(self) -> bool:
        return self.state in Visit.OPEN_STATES

    def get_state_display(self) -> str:
        return Visit.State(self.state).label


@dataclass
class BoardData:
    """The board's rows for some days: technicians (profile and skills loaded), each one's visits (not
    canceled, in time order), the visits nobody is on yet, and the queue."""

    technicians: list[User]
    by_technician: dict[int, list[VisitRow]]
    unassigned_visits: list[VisitRow]
    queue: list[Job]  # unscheduled jobs, emergencies first, then the oldest


def board_read(*, day: date, days: int = 1) -> BoardData:
    """`days` days from `day` (business time zone) in five queries: technicians, their skills, the
    visits, their crews, the queue."""
    tz = Business.current().tzinfo
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = start + timedelta(days=days)
    rows = (
        Visit.objects.filter(start__lt=end, end__gt=start)
        .exclude(state=Visit.State.CANCELED)
        .order_by("start", "pk")
        .values_list(*VISIT_COLUMNS)
    )
    visits = [VisitRow.from_values(values) for values in rows]
    crews: dict[int, list[int]] = {}
    pairs = Visit.technicians.through.objects.filter(visit__start__lt=end, visit__end__gt=start)
    for visit_id, user_id in pairs.values_list("visit_id", "user_id"):
        crews.setdefault(visit_id, []).append(user_id)
    data = BoardData(technicians=board_technicians(), by_technician={}, unassigned_visits=[], queue=[])
    data.by_technician = {t.pk: [] for t in data.technicians}
    for visit in visits:
        crew = crews.get(visit.pk, [])
        if not crew:
            data.unassigned_visits.append(visit)
        for user_id in crew:
            data.by_technician.setdefault(user_id, []).append(visit)
    data.queue = list(unscheduled_queue())
    return data


# --- Drawing ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    skill: int | None = None  # technicians having it; queued jobs needing it
    state: str = ""  # a value of STATE_FILTERS: only the visits in that state (or late)


def clock(moment: datetime) -> str:
    """9a, 9:30a, 12p, 5:15p: short enough for a block."""
    hour = f"{(moment.hour - 1) % 12 + 1}" + (f":{moment.minute:02d}" if moment.minute else "")
    return hour + ("a" if moment.hour < 12 else "p")


def clock_span(start: datetime, end: datetime) -> str:
    return f"{clock(start)}\u2013{clock(end)}"  # an en dash


def hour_label(hour: int) -> str:
    return f"{(hour - 1) % 12 + 1} {'AM' if hour % 24 < 12 else 'PM'}"


def is_late(visit: Visit | VisitRow, now: datetime) -> bool:
    """Nobody is on the way and the promised arrival window (or, without one, the start) has passed."""
    due = visit.arrival_window_end or visit.start
    return visit.state == Visit.State.SCHEDULED and due < now


def tone(visit: VisitRow, late: bool) -> str:
    """The block's colour: the visit's state, with dispatched, on hold and late told apart."""
    if late:
        return "late"
    if visit.is_open and visit.job_state == Job.State.ON_HOLD:
        return "on_hold"
    if visit.state == Visit.State.SCHEDULED and visit.job_state == Job.State.DISPATCHED:
        return "dispatched"
    return visit.state


def _wall_minutes(local: datetime, day: date) -> int:
    """Minutes from `day`'s midnight by the clock on the wall (0 before the day, 1440 after it)."""
    if local.date() < day:
        return 0
    if local.date() > day:
        return 24 * 60
    return local.hour * 60 + local.minute


def _steps(minutes: int) -> int:
    return round(minutes / STEP)


def place(offset: int, length: int) -> str:
    """Position classes for `offset` minutes from the board's first hour, `length` minutes long."""
    at, span = _steps(max(offset, 0)), max(_steps(length), 1)
    return f"at-h{at // 12} at-m{at % 12} len-h{span // 12} len-m{span % 12}"


@dataclass(slots=True)
class Block:
    """One visit as the board shows it: a block in the day view, a chip in the week view."""

    visit: VisitRow
    late: bool
    tone: str
    start_minute: int  # on the day shown, from midnight by the wall clock (0: started the day before)
    end_minute: int  # ... where it ends on that day (1440: goes on past midnight)
    minutes: int  # how long, as scheduled
    start_label: str  # 9:30a
    time_label: str  # 9:30a-11a (with an en dash)
    window_label: str  # the arrival window promised, "" without one
    clipped: bool = False  # started before the day shown
    lane: int = 0
    place: str = ""

    @property
    def shown_end(self) -> int:
        return max(self.end_minute, self.start_minute + SHORTEST)

    @property
    def css(self) -> str:
        return f"tone-{self.tone} lane-{min(self.lane, MAX_LANES - 1)} {self.place}".strip()

    @property
    def movable(self) -> bool:
        """Open visits can be dragged; one that started the day before is moved from that day."""
        return self.visit.is_open and not self.clipped

    @property
    def label(self) -> str:
        return f"{self.visit.job_number} · {self.visit.customer}"

    @property
    def title(self) -> str:
        parts = [self.label, self.visit.job_type, self.time_label]
        if self.window_label:
            parts.append(f"arrival {self.window_label}")
        parts.append("LATE" if self.late else self.visit.get_state_display())
        return " — ".join(parts)


def _block(visit: VisitRow, day: date, now: datetime, tz) -> Block:
    late = is_late(visit, now)
    start, end = visit.start.astimezone(tz), visit.end.astimezone(tz)  # aware, from the database
    window = (visit.arrival_window_start, visit.arrival_window_end)
    return Block(
        visit=visit,
        late=late,
        tone=tone(visit, late),
        start_minute=_wall_minutes(start, day),
        end_minute=_wall_minutes(end, day),
        minutes=int((visit.end - visit.start).total_seconds() // 60),
        start_label=clock(start),
        time_label=clock_span(start, end),
        window_label=clock_span(*(t.astimezone(tz) for t in window)) if all(window) else "",
        clipped=start.date() < day,
    )


def _shown(block: Block, filters: Filters) -> bool:
    if not filters.state:
        return True
    if filters.state == "late":
        return block.late
    return block.visit.state == filters.state and not (filters.state == "scheduled" and block.late)


def _lanes(blocks: list[Block]) -> int:
    """Put overlapping blocks on separate lanes (first free lane); return how many lanes are used."""
    ends: list[int] = []
    for block in sorted(blocks, key=lambda b: (b.start_minute, -b.shown_end)):
        lane = next((i for i, end in enumerate(ends) if end <= block.start_minute), len(ends))
        if lane == len(ends):
            ends.append(0)
        ends[lane], block.lane = block.shown_end, lane
    return min(max(len(ends), 1), MAX_LANES)


# --- Technicians ------------------------------------------------------------------------------------


@dataclass(eq=False)
class Technician:
    """A row's header: who, their colour, their skills."""

    user: User | None  # None: the row of visits nobody is on yet

    @property
    def pk(self) -> int | None:
        return self.user.pk if self.user else None

    @property
    def name(self) -> str:
        if self.user is None:
            return "Not assigned"
        return self.user.get_full_name() or self.user.username

    @property
    def color(self) -> str:
        return self.user.technician.color if self.user else NO_TECHNICIAN_COLOR

    @property
    def skills(self) -> str:
        return ", ".join(s.name for s in self.user.technician.skills.all()) if self.user else ""

    @cached_property
    def week(self) -> dict[str, tuple[time, time]]:
        return parse_working_hours(self.user.technician.working_hours) if self.user else {}

    def hours_on(self, day: date) -> tuple[time, time] | None:
        """(start, end) of the working day, None on a day off (the profile's rule, parsed once a row)."""
        return self.week.get(WEEKDAYS[day.weekday()])


def _has_skill(user: User, skill: int | None) -> bool:
    return skill is None or any(s.pk == skill for s in user.technician.skills.all())


def _needs_skill(required: int | None, skill: int | None) -> bool:
    return skill is None or required == skill


def board_skills(board: BoardData) -> list[tuple[int, str]]:
    """(id, name) of every skill some technician on the board has, by name (no query: prefetched)."""
    found = {s.pk: s.name for t in board.technicians for s in t.technician.skills.all()}
    return sorted(found.items(), key=lambda item: item[1])


# --- The day view -----------------------------------------------------------------------------------


@dataclass
class DayRow:
    technician: Technician
    blocks: list[Block]
    hours: tuple[time, time] | None
    lanes: int = 1
    work: str = ""  # position classes of the working-hours band

    @property
    def hours_label(self) -> str:
        if self.technician.user is None:
            return "Drag onto a technician to assign"
        if self.hours is None:
            return "Day off"
        start, end = (datetime.combine(date.min, t) for t in self.hours)
        return clock_span(start, end)


@dataclass
class DayBoard:
    day: date
    first_hour: int
    last_hour: int
    rows: list[DayRow]
    now_place: str = ""  # the now line's position classes, when the day shown is today

    @property
    def hour_count(self) -> int:
        return self.last_hour - self.first_hour

    @property
    def first_minute(self) -> int:
        return self.first_hour * 60

    @property
    def span_minutes(self) -> int:
        return self.hour_count * 60

    @property
    def hours(self) -> list[str]:
        return [hour_label(h) for h in range(self.first_hour, self.last_hour)]

    @property
    def block_count(self) -> int:
        return sum(len(r.blocks) for r in self.rows)


def day_board(board: BoardData, *, day: date, now: datetime, filters: Filters = Filters()) -> DayBoard:
    """The day view: one row per technician (having the skill filtered on), visits placed by time."""
    tz = Business.current().tzinfo
    rows = [
        _day_row(Technician(t), board.by_technician.get(t.pk, []), day, now, tz, filters)
        for t in board.technicians
        if _has_skill(t, filters.skill)
    ]
    lonely = [v for v in board.unassigned_visits if _needs_skill(v.required_skill_id, filters.skill)]
    if lonely:
        rows.insert(0, _day_row(Technician(None), lonely, day, now, tz, filters))
    first, last = _day_window(rows)
    result = DayBoard(day=day, first_hour=first, last_hour=last, rows=rows)
    for row in rows:
        for block in row.blocks:
            block.place = place(block.start_minute - first * 60, block.shown_end - block.start_minute)
        if row.hours:
            start, end = (t.hour * 60 + t.minute for t in row.hours)
            row.work = place(start - first * 60, end - start)
    local_now = timezone.localtime(now, tz)
    if local_now.date() == day and first <= local_now.hour < last:
        result.now_place = place(local_now.hour * 60 + local_now.minute - first * 60, STEP)
    return result


def _day_row(tech: Technician, visits: list[VisitRow], day: date, now, tz, filters: Filters) -> DayRow:
    blocks = [b for b in (_block(v, day, now, tz) for v in visits) if _shown(b, filters)]
    row = DayRow(technician=tech, blocks=blocks, hours=tech.hours_on(day))
    row.lanes = _lanes(blocks)
    return row


def _day_window(rows: list[DayRow]) -> tuple[int, int]:
    """First and last hour shown: the day's working hours and visits, so the hours a dispatcher works
    in get the board's width (7 AM - 7 PM on a day nobody works and nothing is booked)."""
    first, last = 24, 0
    for row in rows:
        if row.hours:
            first = min(first, row.hours[0].hour)
            last = max(last, row.hours[1].hour + (1 if row.hours[1].minute else 0))
        for block in row.blocks:
            first = min(first, block.start_minute // 60)
            last = max(last, -(-min(block.shown_end, 24 * 60) // 60))
    return (first, min(last, 24)) if first < last else DAY_HOURS


# --- The week view ----------------------------------------------------------------------------------


@dataclass
class Cell:
    """One technician's day in the week view."""

    day: date
    chips: list[Block]
    hours: tuple[time, time] | None
    free: str = ""  # free gaps of the working day, "480-600 660-1020" (minutes): where a job fits

    @property
    def off(self) -> bool:
        return self.hours is None


@dataclass
class WeekRow:
    technician: Technician
    cells: list[Cell]


@dataclass
class WeekBoard:
    days: list[date]
    rows: list[WeekRow]

    @property
    def block_count(self) -> int:
        return sum(len(c.chips) for r in self.rows for c in r.cells)


def week_board(
    board: BoardData, *, week_start: date, now: datetime, filters: Filters = Filters()
) -> WeekBoard:
    """The week view: technicians by seven days, each day's visits as chips in time order."""
    tz = Business.current().tzinfo
    days = [week_start + timedelta(days=i) for i in range(7)]
    rows = [
        _week_row(Technician(t), board.by_technician.get(t.pk, []), days, now, tz, filters)
        for t in board.technicians
        if _has_skill(t, filters.skill)
    ]
    lonely = [v for v in board.unassigned_visits if _needs_skill(v.required_skill_id, filters.skill)]
    if lonely:
        rows.insert(0, _week_row(Technician(None), lonely, days, now, tz, filters))
    return WeekBoard(days=days, rows=rows)


def _week_row(tech: Technician, visits: list[VisitRow], days: list[date], now, tz, filters) -> WeekRow:
    by_day: dict[date, list[Block]] = {d: [] for d in days}
    for visit in visits:
        day = visit.start.astimezone(tz).date()
        if day in by_day:
            by_day[day].append(_block(visit, day, now, tz))
    cells = []
    for day in days:
        hours = tech.hours_on(day)
        cell = Cell(day=day, chips=[b for b in by_day[day] if _shown(b, filters)], hours=hours)
        cell.free = _free_gaps(hours, by_day[day])
        cells.append(cell)
    return WeekRow(technician=tech, cells=cells)


def _free_gaps(hours: tuple[time, time] | None, blocks: list[Block]) -> str:
    if hours is None:
        return ""
    cursor, end = (t.hour * 60 + t.minute for t in hours)
    gaps = []
    for block in sorted(blocks, key=lambda b: b.start_minute):
        if block.start_minute > cursor:
            gaps.append((cursor, min(block.start_minute, end)))
        cursor = max(cursor, block.end_minute)
    gaps.append((cursor, end))
    return " ".join(f"{a}-{b}" for a, b in gaps if b > a)


# --- The queue --------------------------------------------------------------------------------------


def job_minutes(job: Job) -> int:
    """How long a new visit of `job` is: its type's usual length, an hour without one (visit_schedule's
    default)."""
    return job.job_type.default_duration_minutes if job.job_type_id else 60


@dataclass
class QueuedJob:
    job: Job
    now: datetime
    tz: object

    @property
    def minutes(self) -> int:
        return job_minutes(self.job)

    @property
    def job_type(self) -> str:
        return self.job.job_type.name if self.job.job_type_id else (self.job.service or "No job type")

    @property
    def length_label(self) -> str:
        """90 min, 2 h, 2 h 30."""
        hours, minutes = divmod(self.minutes, 60)
        if self.minutes < 120:
            return f"{self.minutes} min"
        return f"{hours} h {minutes:02d}" if minutes else f"{hours} h"

    @property
    def age(self) -> str:
        """How long it has waited: 45m, 5h, 3d."""
        minutes = max(int((self.now - self.job.created_at).total_seconds() // 60), 0)
        if minutes < 60:
            return f"{minutes}m"
        if minutes < 48 * 60:
            return f"{minutes // 60}h"
        return f"{minutes // (24 * 60)}d"

    @property
    def window(self) -> str:
        start, end = self.job.requested_window_start, self.job.requested_window_end
        if start is None or end is None:
            return ""
        start, end = timezone.localtime(start, self.tz), timezone.localtime(end, self.tz)
        return f"{start:%a} {start.month}/{start.day}, {clock_span(start, end)}"


def queue(board: BoardData, *, now: datetime, filters: Filters = Filters()) -> list[QueuedJob]:
    """Unscheduled jobs, emergencies first then the oldest (the selector's order), by skill if filtered."""
    tz = Business.current().tzinfo
    return [
        QueuedJob(job=j, now=now, tz=tz)
        for j in board.queue
        if _needs_skill(j.job_type.required_skill_id if j.job_type_id else None, filters.skill)
    ]


# --- Today's counts and the change stamp (one query each) -------------------------------------------


COUNT_LABELS = (
    ("scheduled", "Scheduled"),
    ("en_route", "On the way"),
    ("on_site", "On site"),
    ("completed", "Completed"),
    ("late", "Late"),
    ("unassigned", "Unassigned"),
)


def today_counts(*, now: datetime, queued: int) -> list[tuple[str, str, int]]:
    """(key, label, count) for the header strip: today's visits by state, the late ones, and what waits
    for a technician (the queued jobs and today's visits with nobody on them)."""
    tz = Business.current().tzinfo
    start = datetime.combine(timezone.localtime(now, tz).date(), time.min, tzinfo=tz)
    crew = Visit.technicians.through.objects.filter(visit_id=OuterRef("pk"))
    scheduled = Q(state=Visit.State.SCHEDULED)
    counts = (
        Visit.objects.filter(start__lt=start + timedelta(days=1), end__gt=start)
        .exclude(state=Visit.State.CANCELED)
        .annotate(due=Coalesce("arrival_window_end", "start"), has_crew=Exists(crew))
        .aggregate(
            scheduled=Count("pk", filter=scheduled),
            en_route=Count("pk", filter=Q(state=Visit.State.EN_ROUTE)),
            on_site=Count("pk", filter=Q(state=Visit.State.ON_SITE)),
            completed=Count("pk", filter=Q(state=Visit.State.COMPLETED)),
            late=Count("pk", filter=scheduled & Q(due__lt=now)),
            unassigned=Count("pk", filter=Q(has_crew=False, state__in=Visit.OPEN_STATES)),
        )
    )
    counts["unassigned"] += queued
    return [(key, label, counts[key]) for key, label in COUNT_LABELS]


def board_stamp(*, now: datetime) -> str:
    """Changes when anything on the board may have: a new fsm event (every job and visit change writes
    one), or a five-minute tick (late visits). Covering the latest few events, not only the newest,
    catches a transaction that commits after a later one."""
    latest = Event.objects.filter(code__startswith="fsm.").order_by("-pk").values_list("pk", flat=True)
    ids = list(latest[:STAMP_EVENTS])
    digest = zlib.crc32(",".join(map(str, ids)).encode())
    return f"{ids[0] if ids else 0}.{digest:x}.{int(now.timestamp()) // STAMP_BUCKET_SECONDS}"
