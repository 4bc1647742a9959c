"""The demo company's past work, before its last two weeks: every lead crm.demo_history booked becomes a
job (through fsm.subscribers.job_from_lead, as the worker would: its later delivery finds the job made),
plus repeat work customers called in for. Each job is put on a technician with the skill, worked and
completed; bigger work gets a good/better/best estimate first (accepted within days, or declined and
billed the diagnostic); completed work is invoiced and paid, a few invoices late, voided or refunded.
Every step runs through the services with the clock at its moment (events.backdate.clock_at), so the
ledger, the reports and the owner's dashboard read from real records."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction

from customers.models import Property
from events.backdate import clock_at
from events.models import Event
from users.models import Business, User

from . import services, subscribers
from .documents.demo import signature_url
from .documents.lines import LineIn
from .estimates import services as estimates
from .invoices import services as invoices
from .models import Job, JobType, parse_working_hours
from .pricebook.models import PricebookItem

RECENT_DAYS = 15  # crm.demo_history's: the days after the history belong to the demo's two-week story
CATEGORIES = {
    "AC repair": "HVAC · Repair",
    "AC tune-up": "HVAC · Maintenance",
    "Furnace repair": "HVAC · Repair",
    "New AC install": "HVAC · Installation",
    "Water heater replacement": "Plumbing · Water heaters",
    "Leak repair": "Plumbing · Leaks & pipes",
    "Toilet repair": "Plumbing · Fixtures",
    "Drain cleaning": "Plumbing · Drains",
    "Electrical panel upgrade": "Electrical · Panels",
    "Outlet & lighting repair": "Electrical · Devices & lighting",
}
ESTIMATED = {"New AC install", "Water heater replacement", "Electrical panel upgrade"}
DAYS_TO_YES = [0, 0, 1, 2, 4, 7, 12]
REPEAT = ["AC tune-up", "AC tune-up", "Drain cleaning", "Leak repair", "Outlet & lighting repair"]
METHODS = ["card", "card", "card", "cash", "check"]
LATE_METHODS = ["check", "check", "card"]  # what comes in the mail, or a card over the phone
DONE_NOTE = "Work done, tested with the customer, area cleaned."
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass
class _Work:
    rng: object
    tz: object
    techs: list[User]
    office: User | None
    dispatcher: User | None
    items: dict[str, list[PricebookItem]]
    diagnostic: PricebookItem | None
    last_day: date
    now: datetime
    booked: dict[tuple[int, date], datetime] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def slot(self, job: Job, after: datetime) -> tuple[User, datetime, datetime] | None:
        """The first technician with the skill and room in their day, from the day after `after`."""
        skill = job.job_type.required_skill_id if job.job_type else None
        able = [t for t in self.techs if skill is None or skill in {s.pk for s in t.technician.skills.all()}]
        minutes = job.job_type.default_duration_minutes if job.job_type else 90
        day = after.date() + timedelta(days=self.rng.choice([0, 1, 1, 2, 3]))
        for _ in range(10):
            for tech in self.rng.sample(able, len(able)):
                hours = parse_working_hours(tech.technician.working_hours).get(WEEKDAYS[day.weekday()])
                if not hours:
                    continue
                begin = datetime.combine(day, hours[0], self.tz)
                start = max(self.booked.get((tech.pk, day), begin), after + timedelta(hours=2))
                start = start.replace(minute=0 if start.minute < 30 else 30, second=0, microsecond=0)
                end = start + timedelta(minutes=minutes)
                if end <= datetime.combine(day, hours[1], self.tz):
                    self.booked[(tech.pk, day)] = end + timedelta(minutes=self.rng.choice([30, 45, 60]))
                    return tech, start, end
            day += timedelta(days=1)
        return None

    def lines(self, job: Job, count: int) -> list[PricebookItem]:
        pool = self.items.get(CATEGORIES.get(job.job_type.name if job.job_type else "", ""), [])
        return self.rng.sample(pool, min(count, len(pool))) if pool else []

    @transaction.atomic
    def run(self, job: Job, booked_at: datetime) -> None:
        found = self.slot(job, booked_at)
        if found is None:
            return
        tech, start, end = found
        with clock_at(booked_at + timedelta(minutes=self.rng.randint(5, 60))):
            services.visit_schedule(
                job=job, start=start, end=end, technicians=[tech], actor=self.dispatcher, confirm=True
            )
        if self.rng.random() < 0.05:
            with clock_at(start - timedelta(hours=self.rng.randint(3, 20))):
                services.job_cancel(job=job, actor=self.dispatcher, reason="Customer canceled")
            self.count("canceled")
            return
        with clock_at(start):
            services.job_arrive(job=job, actor=tech, at=start)
        done = end
        if job.job_type and job.job_type.name in ESTIMATED:
            done = self.estimate(job, tech, start) or end
        with clock_at(done):
            services.job_complete(job=job, actor=tech, completion_note=DONE_NOTE, at=done)
        self.count("completed")
        self.bill(job, done)

    def estimate(self, job: Job, tech: User, start: datetime) -> datetime | None:
        """Good/better/best on site; accepted (on the spot or within days: the work is done the day after)
        or declined on the spot (the visit is billed the diagnostic). Returns when the work was finished,
        if later than the visit."""
        pool = self.lines(job, 3)
        if len(pool) < 2:
            return None
        with clock_at(start + timedelta(minutes=40)):
            estimate = estimates.estimate_create(
                customer=job.customer,
                property=job.property,
                actor=tech,
                title=job.job_type.name,
                job=job,
                origin_lead_id=job.origin_lead_id,
                option_names=("Good", "Better", "Best")[: len(pool)],
            )
            ranked = sorted(pool, key=lambda item: item.price)
            for option, item in zip(estimate.options.all(), ranked, strict=False):
                estimates.line_add(option=option, actor=tech, line=LineIn(quantity="1"), item=item)
            estimate = estimates.estimate_present(estimate=estimate, actor=tech)
        declines = self.rng.random() < 0.35  # on the spot ("we'll wait"); a yes can take days
        decided = start + timedelta(hours=1) + timedelta(days=0 if declines else self.rng.choice(DAYS_TO_YES))
        decided = max(min(decided, self.now - timedelta(days=2)), start + timedelta(hours=1))
        with clock_at(decided):
            if declines:
                estimates.estimate_decline(estimate=estimate, reason="Going to wait")
                self.count("estimates declined")
                if self.diagnostic:
                    invoice = invoices.invoice_for_job(job=job, actor=self.office)
                    invoices.invoice_line_add(
                        invoice=invoice, actor=self.office, line=LineIn(), item=self.diagnostic
                    )
                return None
            option = self.rng.choice(list(estimate.options.all()))
            estimates.estimate_accept(
                estimate=estimate,
                option_id=option.pk,
                signer_name=str(job.customer),
                signature=signature_url(self.rng),
                in_person=decided.date() == start.date(),
            )
        self.count("estimates accepted")
        finished = datetime.combine(decided.date() + timedelta(days=1), time(15, 0), self.tz)
        return finished if finished < self.now else decided + timedelta(hours=2)

    def bill(self, job: Job, done: datetime) -> None:
        at = done + timedelta(minutes=self.rng.randint(5, 120))
        with clock_at(at):
            invoice = invoices.invoice_for_job(job=job, actor=self.office)
            if not invoice.lines.exists():
                for item in self.lines(job, self.rng.choice([1, 1, 2])) or [self.diagnostic]:
                    invoices.invoice_line_add(invoice=invoice, actor=self.office, line=LineIn(), item=item)
            invoice = invoices.invoice_issue(invoice=invoice, actor=self.office)
        roll, age = self.rng.random(), (self.last_day - done.date()).days
        if roll < 0.015:
            with clock_at(at + timedelta(hours=2)):
                invoices.invoice_void(
                    invoice=invoice, actor=self.office, reason="Billed to the wrong customer."
                )
            self.count("voided")
            return
        if age < 45 and roll < 0.25:
            self.count("unpaid")
            return
        late = roll > 0.8
        paid = at + (timedelta(days=self.rng.randint(5, 35)) if late else timedelta(minutes=10))
        if paid > self.now:  # the check is still in the mail
            self.count("unpaid")
            return
        method = self.rng.choice(LATE_METHODS if late else METHODS)
        with clock_at(paid):
            invoices.payment_record(
                invoice=invoice,
                actor=self.office,
                method=method,
                amount=invoice.total,
                reference=str(self.rng.randint(1000, 9999)) if method == "check" else "",
            )
        self.count("paid late" if late else "paid")
        refunded = paid + timedelta(days=self.rng.randint(3, 20))
        if roll < 0.03 and refunded < self.now:
            with clock_at(refunded):
                invoices.credit_note_issue(
                    invoice=invoice,
                    actor=self.office,
                    amount=(invoice.total * Decimal("0.2")).quantize(Decimal("0.01")),
                    reason="Goodwill refund: a second trip to finish the work",
                    refund=True,
                    method="card" if method == "card" else "cash",
                )
            self.count("refunded")


def _work(rng) -> _Work:
    business = Business.current()
    today = datetime.now(business.tzinfo).date()
    items: dict[str, list[PricebookItem]] = {}
    for item in PricebookItem.objects.filter(active=True).order_by("pk"):
        items.setdefault(item.category, []).append(item)
    return _Work(
        rng=rng,
        tz=business.tzinfo,
        techs=list(
            User.objects.filter(username__startswith="tech")
            .select_related("technician")
            .prefetch_related("technician__skills")
            .order_by("username")
        ),
        office=User.objects.filter(username="office").first(),
        dispatcher=User.objects.filter(username="dispatcher").first(),
        items=items,
        diagnostic=PricebookItem.objects.filter(active=True, category__endswith="Diagnostics").first(),
        last_day=today - timedelta(days=RECENT_DAYS),
        now=datetime.now(business.tzinfo),
    )


def _cutoff() -> datetime:
    business = Business.current()
    today = datetime.now(business.tzinfo).date()
    return datetime.combine(today - timedelta(days=RECENT_DAYS), time.min, business.tzinfo)


def seed_history(*, rng, log, days: int) -> None:
    if days <= 0:
        return
    start = _cutoff().date() - timedelta(days=days)
    cutoff = _cutoff()
    work = _work(rng)
    if not work.techs:
        return
    jobs = _jobs_from_leads(work, cutoff) + _repeat_jobs(work, rng, start, days)
    jobs.sort(key=lambda pair: pair[1])
    for i, (job, booked_at) in enumerate(jobs):
        work.run(job, booked_at)
        if i % 250 == 249:
            log(f"  work: {booked_at:%Y-%m-%d}, {i + 1} jobs")
    summary = ", ".join(f"{n} {what}" for what, n in sorted(work.counts.items()))
    log(f"History: {len(jobs)} jobs since {start:%Y-%m-%d} ({summary}).")


def work_booked_leads(*, rng, log) -> None:
    """Leads booked in the history since it ran (crm's second pass: a past campaign's yeses), worked the
    same way."""
    work = _work(rng)
    if not work.techs:
        return
    jobs = _jobs_from_leads(work, _cutoff(), only_new=True)
    for job, booked_at in jobs:
        work.run(job, booked_at)
    if jobs:
        log(f"History: {len(jobs)} more jobs from leads booked since.")


def _jobs_from_leads(work: _Work, cutoff: datetime, *, only_new: bool = False) -> list[tuple[Job, datetime]]:
    made = []
    events = Event.objects.filter(milestone="lead.booked", occurred_at__lt=cutoff).order_by("pk")
    if only_new:
        done = set(Job.objects.filter(origin_lead_id__isnull=False).values_list("origin_lead_id", flat=True))
        events = [e for e in events if e.data["lead_id"] not in done]
    for event in events:
        with clock_at(event.occurred_at + timedelta(minutes=1)):
            subscribers.job_from_lead(event)
        job = Job.objects.select_related("job_type", "customer", "property").get(
            origin_lead_id=event.data["lead_id"]
        )
        made.append((job, event.occurred_at))
    return made


def _repeat_jobs(work: _Work, rng, start: date, days: int) -> list[tuple[Job, datetime]]:
    """Customers who call the office straight (no lead): tune-ups, drains, small repairs."""
    types = {t.name: t for t in JobType.objects.filter(name__in=REPEAT)}
    properties = list(Property.objects.filter(customer__merged_into=None).select_related("customer")[:400])
    made = []
    for offset in range(days):
        if not properties or rng.random() > 0.6:
            continue
        day = start + timedelta(days=offset)
        called = datetime.combine(day, time(rng.randint(8, 16), rng.randint(0, 59)), work.tz)
        prop, job_type = rng.choice(properties), types.get(rng.choice(REPEAT))
        if prop.customer.created_at > called:  # not a customer yet then: no call that day
            continue
        with clock_at(called):
            job = services.job_create(
                customer=prop.customer,
                property=prop,
                job_type=job_type,
                description=f"{job_type.name if job_type else 'Service'}: customer called in",
                actor=work.dispatcher,
                actor_label="demo data",
            )
        made.append((job, called))
    return made
