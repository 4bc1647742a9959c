"""Demo field service: skills, job types, eight technicians around Austin, and two weeks of jobs around
today in every state (completed in the past, under way today, scheduled ahead, a queue, holds and
cancellations), plus equipment at some properties, then the months or years before (fsm.demo_history).
Everything goes through fsm.services."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from customers.geocoding import geocode
from customers.models import Property
from events.backdate import backdated
from users.models import Business, User
from users.roles import Role
from users.services import user_create

from . import services
from .demo_history import seed_history, work_booked_leads
from .documents.demo import seed_money
from .models import FieldServiceSettings, Job, JobType, Skill, Visit, parse_working_hours
from .pricebook.demo import seed_pricebook

SKILLS = ["HVAC repair", "HVAC install", "Plumbing", "Drain", "Electrical"]
CHECKS = {
    "hvac": ["Replace or check the filter", "Check refrigerant pressures", "Test capacitor and contactor"],
    "furnace": ["Inspect burners and flame sensor", "Check for CO at the flue", "Test the igniter"],
    "water": ["Shut off gas/power and water", "Check the T&P valve", "Haul away the old unit"],
    "drain": ["Locate the cleanout", "Run the camera after clearing"],
    "electrical": ["Turn off the breaker", "Test with a meter", "Label the panel"],
}
JOB_TYPES = [  # names match the crm's service types, so booked leads get a job type
    ("AC repair", 90, "HVAC repair", "hvac"),
    ("AC tune-up", 60, "HVAC repair", "hvac"),
    ("Furnace repair", 90, "HVAC repair", "furnace"),
    ("New AC install", 240, "HVAC install", "hvac"),
    ("Water heater replacement", 180, "Plumbing", "water"),
    ("Leak repair", 90, "Plumbing", "water"),
    ("Toilet repair", 60, "Plumbing", ""),
    ("Drain cleaning", 60, "Drain", "drain"),
    ("Electrical panel upgrade", 240, "Electrical", "electrical"),
    ("Outlet & lighting repair", 60, "Electrical", "electrical"),
]
WEEK = {
    "early": {d: ["07:00", "16:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
    "standard": {d: ["08:00", "17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
    # the weekend crew: Tuesday to Saturday, and Sunday on call
    "late": {
        **{d: ["09:00", "18:00"] for d in ("tue", "wed", "thu", "fri", "sat")},
        "sun": ["10:00", "16:00"],
    },
}
TECHNICIANS = [  # username, first, last, skills, colour, week, home ZIP
    ("tech1", "Jake", "Morrison", ["HVAC repair", "HVAC install"], "#2563eb", "early", "78745"),
    ("tech2", "Luis", "Herrera", ["Plumbing", "Drain"], "#16a34a", "standard", "78758"),
    ("tech3", "Priya", "Natarajan", ["Electrical", "HVAC repair"], "#db2777", "standard", "78704"),
    ("tech4", "Marcus", "Reed", ["HVAC repair"], "#ea580c", "late", "78660"),
    ("tech5", "Elena", "Vasquez", ["Plumbing", "Drain"], "#7c3aed", "early", "78613"),
    ("tech6", "Tyler", "Brooks", ["Electrical"], "#0891b2", "standard", "78664"),
    ("tech7", "Aisha", "Khan", ["HVAC repair", "Plumbing"], "#ca8a04", "late", "78749"),
    ("tech8", "Ben", "Carter", ["Drain", "Plumbing", "HVAC repair"], "#4b5563", "standard", "78626"),
]
NOTES = {  # completion notes a technician would write, by skill
    "HVAC repair": [
        "Replaced the run capacitor; system cooling normally.",
        "Cleaned the flame sensor and changed the filter; heat is back.",
        "Cleared the condensate line, coils rinsed, temperature split 19 degrees.",
    ],
    "HVAC install": ["Installed the new unit, tested, walked the customer through the thermostat."],
    "Plumbing": [
        "Replaced the fill valve and flapper; no more running.",
        "Replaced the water heater, new expansion tank, hauled the old one away.",
        "Cut out the leaking section and sweated in new copper; no leaks at pressure.",
    ],
    "Drain": ["Cleared the main line with the cable; camera shows it clean."],
    "Electrical": [
        "Replaced two outlets with GFCIs, tested every circuit.",
        "Panel swapped, permits filed, all breakers labelled.",
    ],
}
EQUIPMENT = [
    ("Condenser", ["Carrier", "Trane", "Lennox", "Goodman"]),
    ("Furnace", ["Carrier", "Rheem", "Lennox"]),
    ("Water heater", ["Rheem", "A.O. Smith", "Bradford White"]),
    ("Electrical panel", ["Square D", "Eaton", "Siemens"]),
]
PRIORITIES = ["normal"] * 6 + ["high"] * 3 + ["emergency"]


@dataclass
class _Planner:
    rng: object
    types: list[JobType]
    techs: list[User]
    properties: list[Property]
    dispatcher: User | None
    tz: object
    now: datetime
    counts: dict = field(default_factory=dict)
    _next_property: int = 0

    def property(self) -> Property:
        prop = self.properties[self._next_property % len(self.properties)]
        self._next_property += 1
        return prop

    def types_for(self, tech: User) -> list[JobType]:
        skills = {s.pk for s in tech.technician.skills.all()}
        return [t for t in self.types if t.required_skill_id in skills]

    def job(self, tech: User, start: datetime, *, max_minutes: int = 24 * 60) -> tuple[Job | None, datetime]:
        """A job of a type the technician can do (and that fits) at the next property, visit at `start`."""
        choices = [t for t in self.types_for(tech) if t.default_duration_minutes <= max_minutes]
        if not choices:
            return None, start
        job_type = self.rng.choice(choices)
        prop = self.property()
        booked = self.booked_at(start)
        with backdated(booked):
            job = services.job_create(
                customer=prop.customer,
                property=prop,
                job_type=job_type,
                description=job_type.name,
                priority=self.rng.choice(PRIORITIES),
                actor=self.dispatcher,
                actor_label="demo data",
            )
            end = start + timedelta(minutes=job_type.default_duration_minutes)
            services.visit_schedule(
                job=job,
                start=start,
                end=end,
                technicians=[tech],
                arrival_window_start=start - timedelta(minutes=30),
                arrival_window_end=start + timedelta(minutes=90),
                actor=self.dispatcher,
                confirm=True,
            )
        Job.objects.filter(pk=job.pk).update(created_at=booked)
        Visit.objects.filter(job=job).update(created_at=booked)
        job.created_at = booked
        return job, end

    def booked_at(self, start: datetime) -> datetime:
        """When the customer called: one to six days before the visit, and never later than now (a
        visit next week was booked in the last few days)."""
        booked = start - timedelta(days=self.rng.randint(1, 6), minutes=self.rng.randint(0, 240))
        if booked < self.now - timedelta(minutes=30):
            return booked
        return self.now - timedelta(minutes=self.rng.randint(30, 72 * 60))

    def between(self, job: Job, until: datetime) -> datetime:
        """A moment after the job was booked and before `until` (a hold or a cancellation)."""
        return job.created_at + (min(until, self.now) - job.created_at) * self.rng.uniform(0.3, 0.9)

    def note_for(self, job: Job) -> str:
        skill = job.job_type.required_skill.name if job.job_type and job.job_type.required_skill else ""
        return self.rng.choice(NOTES.get(skill) or NOTES["Plumbing"])

    def count(self, state: str) -> None:
        self.counts[state] = self.counts.get(state, 0) + 1

    # --- Days ---------------------------------------------------------------------------------------

    def working_day(self, tech: User, day: date) -> tuple[datetime, datetime] | None:
        span = parse_working_hours(tech.technician.working_hours).get(_weekday(day))
        if not span:
            return None
        late = timedelta(minutes=self.rng.choice([0, 30, 60]))
        return datetime.combine(day, span[0], tzinfo=self.tz) + late, datetime.combine(
            day, span[1], tzinfo=self.tz
        )

    def day_of_jobs(self, tech: User, day: date):
        """(job, start, end) for up to three back-to-back jobs inside the technician's working day."""
        hours = self.working_day(tech, day)
        if hours is None:
            return
        cursor, day_end = hours
        for _ in range(self.rng.choice([1, 2, 2])):
            job, end = self.job(tech, cursor, max_minutes=int((day_end - cursor).total_seconds() // 60))
            if job is None:
                return
            yield job, cursor, end
            cursor = end + timedelta(minutes=self.rng.choice([30, 45, 60]))

    def past_day(self, day: date) -> None:
        for tech in self.techs:
            hours = self.working_day(tech, day)
            if hours is None:
                continue
            with backdated(hours[0] - timedelta(minutes=30)):
                services.clock_in(technician=tech, actor=tech, at=hours[0] - timedelta(minutes=30))
            for job, start, end in self.day_of_jobs(tech, day):
                self.finish(job, tech, start, end)
            with backdated(hours[1]):
                services.clock_out(technician=tech, actor=tech, at=hours[1])

    def finish(self, job: Job, tech: User, start: datetime, end: datetime) -> None:
        roll = self.rng.random()
        if roll < 0.06:
            with backdated(self.between(job, start)):
                services.job_cancel(job=job, actor=self.dispatcher, reason="Customer canceled")
            self.count("canceled")
            return
        self.work(job, tech, start)
        if roll < 0.1:
            with backdated(end):
                services.job_hold(job=job, actor=self.dispatcher, reason="Waiting for parts", at=end)
            self.count("on_hold")
            return
        with backdated(start + (end - start) / 2):
            for item in job.job_type.checklist if roll < 0.4 else []:
                services.checklist_toggle(job=job, actor=tech, item=item, done=True)
        self.complete(job, tech, end)

    def complete(self, job: Job, tech: User, end: datetime) -> None:
        with backdated(end):
            services.job_complete(job=job, actor=tech, completion_note=self.note_for(job), at=end)
        self.count("completed")

    def dispatch(self, job: Job, start: datetime) -> None:
        """Sent to the technician's phone the evening before or early on the day, never after now."""
        at = max(job.created_at, min(start - timedelta(hours=self.rng.choice([2, 14])), self.now))
        with backdated(at):
            services.job_dispatch(job=job, actor=self.dispatcher)

    def work(self, job: Job, tech: User, start: datetime) -> None:
        self.dispatch(job, start)
        on_my_way = start - timedelta(minutes=self.rng.randint(10, 35))
        with backdated(on_my_way):
            services.job_on_my_way(job=job, actor=tech, at=on_my_way)
        with backdated(start):
            services.job_arrive(job=job, actor=tech, at=start)

    def today(self, now: datetime) -> None:
        """Today's visits for the technicians who work today, inside their hours. Loaded during their
        day, the board is live (visits done, on site, on the way); before it, all are ahead; after it,
        all are done. Never a visit at 1 AM or on a day off."""
        anchor = now.replace(minute=0 if now.minute < 30 else 30, second=0, microsecond=0)
        for i, tech in enumerate(self.techs):
            span = parse_working_hours(tech.technician.working_hours).get(_weekday(now.date()))
            if not span:
                continue
            start, finish = (datetime.combine(now.date(), t, tzinfo=self.tz) for t in span)
            live = start + timedelta(hours=2) <= now <= finish
            stagger = timedelta(minutes=30 * (i % 3))
            cursor = max(start, anchor - timedelta(hours=4) - stagger) if live else start + stagger
            if cursor - timedelta(minutes=30) <= now:
                with backdated(cursor - timedelta(minutes=30)):
                    services.clock_in(technician=tech, actor=tech, at=cursor - timedelta(minutes=30))
            heading_out = False
            for _ in range(4):
                room = int((finish - cursor).total_seconds() // 60)
                job, end = self.job(tech, cursor, max_minutes=min(120, room))
                if job is None:
                    break
                if end <= now:
                    self.work(job, tech, cursor)
                    self.complete(job, tech, end)
                elif cursor <= now:
                    self.work(job, tech, cursor)
                    self.count("on_site")
                    heading_out = True
                elif not heading_out:
                    self.dispatch(job, cursor)
                    if i % 2 and live:
                        services.job_on_my_way(job=job, actor=tech, at=now)
                    self.count("en_route" if i % 2 and live else "dispatched")
                    heading_out = True
                else:
                    self.count("scheduled")
                cursor = end + timedelta(minutes=30)

    def future_day(self, day: date, offset: int) -> None:
        for tech in self.techs:
            for job, _, _ in self.day_of_jobs(tech, day):
                roll = self.rng.random()
                if roll < 0.05:
                    with backdated(self.between(job, self.now)):
                        services.job_cancel(job=job, actor=self.dispatcher, reason="Customer rescheduling")
                    self.count("canceled")
                elif roll < 0.08:
                    with backdated(self.between(job, self.now)):
                        services.job_hold(job=job, actor=self.dispatcher, reason="Waiting for HOA approval")
                    self.count("on_hold")
                elif offset == 1:
                    self.dispatch(job, self.now)
                    self.count("dispatched")
                else:
                    self.count("scheduled")

    def queue(self, now: datetime, size: int = 8) -> None:
        for i in range(size):
            prop = self.property()
            job_type = self.rng.choice(self.types)
            window = now + timedelta(days=self.rng.randint(1, 4))
            window = window.replace(hour=8 if i % 2 else 13, minute=0, second=0, microsecond=0)
            called = now - timedelta(hours=self.rng.randint(1, 72))
            with backdated(called):
                job = services.job_create(
                    customer=prop.customer,
                    property=prop,
                    job_type=job_type,
                    description=f"{job_type.name}: customer called in",
                    priority=self.rng.choice(PRIORITIES),
                    requested_window_start=window if i % 3 else None,
                    requested_window_end=window + timedelta(hours=4) if i % 3 else None,
                    actor=self.dispatcher,
                    actor_label="demo data",
                )
            Job.objects.filter(pk=job.pk).update(created_at=called)
            self.count("unscheduled")

    def equipment(self, count: int = 40) -> int:
        for prop in self.properties[:count]:
            kind, brands = self.rng.choice(EQUIPMENT)
            services.equipment_save(
                property=prop,
                actor=self.dispatcher,
                kind=kind,
                brand=self.rng.choice(brands),
                model_number=f"{kind[:2].upper()}-{self.rng.randint(100, 999)}",
                serial_number=f"SN{self.rng.randint(10**7, 10**8 - 1)}",
                installed_on=date(self.rng.randint(2008, 2023), self.rng.randint(1, 12), 1),
            )
        return min(count, len(self.properties))


def _weekday(day: date) -> str:
    return ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()]


def _technicians(rng, skills: dict[str, Skill], password: str) -> list[User]:
    techs = []
    for username, first, last, skill_names, color, week, home_zip in TECHNICIANS:
        user = User.objects.filter(username=username).first() or user_create(
            username=username,
            password=password,
            role=Role.TECHNICIAN,
            first_name=first,
            last_name=last,
            email=f"{username}@lonestarcomfort.example",
        )
        lat, lon = geocode(Property(zip_code=home_zip)) or (Decimal("30.2672"), Decimal("-97.7431"))
        services.technician_profile_save(
            user=user,
            actor=None,
            skills=[skills[name] for name in skill_names],
            working_hours=WEEK[week],
            home_latitude=lat + Decimal(rng.randint(-150, 150)) / 10000,
            home_longitude=lon + Decimal(rng.randint(-150, 150)) / 10000,
            color=color,
        )
        techs.append(user)
    return list(
        User.objects.filter(pk__in=[t.pk for t in techs])
        .select_related("technician")
        .prefetch_related("technician__skills", "groups")
        .order_by("username")
    )


def seed(*, rng, log, password: str = "demo-pass-2026", history_days: int = 0, **_):  # noqa: S107 (the published demo password)
    FieldServiceSettings.current()
    skills = {name: services.skill_save(actor=None, name=name) for name in SKILLS}
    types = [
        services.job_type_save(
            actor=None,
            name=name,
            default_duration_minutes=minutes,
            required_skill=skills[skill],
            checklist=CHECKS.get(checks, []),
        )
        for name, minutes, skill, checks in JOB_TYPES
    ]
    techs = _technicians(rng, skills, password)
    seed_pricebook(log=log)
    properties = list(
        Property.objects.filter(customer__merged_into=None).select_related("customer").order_by("pk")
    )
    log(f"{len(SKILLS)} skills, {len(types)} job types, {len(techs)} technicians with profiles.")
    if not properties:
        return
    rng.shuffle(properties)
    tz = Business.current().tzinfo
    now = timezone.localtime(timezone.now(), tz)
    planner = _Planner(
        rng=rng,
        types=types,
        techs=techs,
        properties=properties,
        dispatcher=User.objects.filter(username="dispatcher").first(),
        tz=tz,
        now=now,
    )
    for offset in range(-7, 8):
        day = now.date() + timedelta(days=offset)
        if offset < 0:
            planner.past_day(day)
        elif offset == 0:
            planner.today(now)
        else:
            planner.future_day(day, offset)
    planner.queue(now)
    with_equipment = planner.equipment()
    summary = ", ".join(f"{n} {state}" for state, n in sorted(planner.counts.items()))
    log(f"{sum(planner.counts.values())} jobs ({summary}); equipment at {with_equipment} properties.")
    seed_money(rng=rng, log=log)
    seed_history(rng=rng, log=log, days=history_days)


def seed_after(*, rng, log, **_) -> None:
    """crm's second pass may have booked more leads in the past (a campaign's yeses): their jobs."""
    work_booked_leads(rng=rng, log=log)
