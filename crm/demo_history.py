"""The demo company's past leads: `days` of them before the demo's last two weeks (seed_demo --years N;
a few months by default).

Each day brings a few leads, more in the summer (AC) and the winter (heat), fewer on Sundays, by source,
from the campaigns running that day. Each is answered (faster as the years go on: the product's own
story), then booked or lost. Every step runs through crm.services with the clock at its moment
(events.backdate.clock_at), so speed to lead, conversion and campaign ROI are computed from records, not
typed in. fsm.demo_history turns the booked ones into work, invoices and payments."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from faker import Faker

from customers.demo import phone_number, property_in
from customers.models import Customer
from events.backdate import clock_at
from users.models import Business, User

from . import services
from .models import Campaign, Lead, LostReason, Source

RECENT_DAYS = 15  # the demo's own two-week story (crm.demo, fsm.demo) covers the days after the history
SOURCE_WEIGHTS = {
    "google-lsa": 6,
    "phone": 5,
    "google-ads": 5,
    "website": 4,
    "facebook": 2,
    "referral": 2,
    "angi": 1,
    "thumbtack": 1,
    "sms": 1,
}
SEASON = {1: 1.2, 2: 1.0, 3: 0.9, 4: 1.0, 5: 1.3, 6: 1.6, 7: 1.8, 8: 1.7, 9: 1.2, 10: 0.9, 11: 1.0, 12: 1.2}
SUMMER = ["AC repair"] * 4 + ["AC tune-up", "New AC install", "Drain cleaning", "Leak repair"]
WINTER = ["Furnace repair"] * 4 + ["Water heater replacement"] * 2
WINTER += ["Leak repair", "Electrical panel upgrade"]
ALL_YEAR = [
    "AC tune-up",
    "Water heater replacement",
    "Drain cleaning",
    "Leak repair",
    "Electrical panel upgrade",
    "Toilet repair",
    "AC repair",
    "Furnace repair",
]
LOST = [LostReason.PRICE, LostReason.COMPETITOR, LostReason.NO_RESPONSE, LostReason.NO_RESPONSE]
LOST += [LostReason.TIMING, LostReason.OUT_OF_AREA]


@dataclass
class _Story:
    rng: object
    fake: Faker
    tz: object
    office: User | None
    sources: dict[str, Source]
    campaigns: list[Campaign]
    customers: dict[int, datetime]  # pk -> since when a customer (a returning one called after that)
    used: set[str]
    count: int = 0
    booked: int = 0

    def service(self, day: date) -> str:
        if day.month in (5, 6, 7, 8, 9):
            return self.rng.choice(SUMMER)
        if day.month in (11, 12, 1, 2):
            return self.rng.choice(WINTER)
        return self.rng.choice(ALL_YEAR)

    def campaign(self, source: Source, day: date) -> Campaign | None:
        running = [
            c
            for c in self.campaigns
            if c.source_id == source.pk and c.starts_on <= day and (c.ends_on is None or day <= c.ends_on)
        ]
        return self.rng.choice(running) if running else None

    def returning(self, arrived: datetime) -> int | None:
        """A customer who already was one when the lead arrived (a third of the leads), if one turns up."""
        if not self.customers or self.rng.random() > 0.35:
            return None
        for pk in self.rng.sample(list(self.customers), min(5, len(self.customers))):
            # An open lead would take the call in (one lead per open request): not one from later on.
            if self.customers[pk] < arrived and not Lead.objects.open().filter(customer_id=pk).exists():
                return pk
        return None

    def contact(self, service: str, arrived: datetime) -> services.LeadIn:
        """A returning customer or someone new, as a form or a call would give them."""
        if pk := self.returning(arrived):
            customer = Customer.objects.prefetch_related("phones", "properties").get(pk=pk)
            phone = customer.phones.all()[0].number.as_e164 if customer.phones.all() else ""
            prop = customer.properties.all()[0] if customer.properties.all() else None
            name = customer.display_name
        else:
            phone, prop, name = phone_number(self.rng, self.used), property_in(self.rng, self.fake), None
            name = f"{self.fake.first_name()} {self.fake.last_name()}"
        return services.LeadIn(
            name=name,
            phone=phone,
            service=service,
            street=prop.street if prop else "",
            city=prop.city if prop else "",
            state=prop.state if prop else "",
            zip_code=prop.zip_code if prop else "",
        )

    def answer_after(self, age_days: int) -> timedelta:
        """Minutes in the first year on the product, seconds by the last (missed-call text-back, instant
        replies)."""
        if age_days > 2 * 365:
            minutes = self.rng.choice([2, 6, 11, 18, 25, 40, 75, 180])
        elif age_days > 365:
            minutes = self.rng.choice([1, 2, 4, 6, 9, 15, 30, 60])
        else:
            minutes = self.rng.choice([0.4, 0.6, 1, 1, 2, 3, 5, 12])
        return timedelta(minutes=minutes)

    @transaction.atomic
    def lead(self, day: date, age_days: int) -> None:
        arrived = datetime.combine(day, time(self.rng.randint(7, 19), self.rng.randint(0, 59)), self.tz)
        slug = self.rng.choices(list(SOURCE_WEIGHTS), weights=list(SOURCE_WEIGHTS.values()))[0]
        source = self.sources[slug]
        campaign = self.campaign(source, day)
        service = self.service(day)
        with clock_at(arrived):
            captured = services.lead_capture(
                source=source,
                contact=self.contact(service, arrived),
                campaign=campaign,
                actor_label="demo data",
                external_id=f"demo-history-{self.count}",
                attribution={"utm_campaign": campaign.utm_campaign} if campaign else {},
            )
        lead = captured.lead
        if not captured.created:  # a returning customer whose earlier request is still open: one lead
            return
        self.count += 1
        self.customers.setdefault(lead.customer_id, arrived)
        moment = arrived + self.answer_after(age_days)
        with clock_at(moment):
            lead = services.lead_mark_contacted(lead=lead, actor=self.office, channel="sms")
        if self.rng.random() < 0.42:
            with clock_at(moment + timedelta(days=self.rng.randint(1, 12), minutes=self.rng.randint(0, 300))):
                services.lead_lose(lead=lead, actor=self.office, reason=self.rng.choice(LOST))
            return
        moment += timedelta(minutes=self.rng.randint(3, 90))
        with clock_at(moment):
            lead = services.lead_qualify(lead=lead, actor=self.office)
        with clock_at(moment + timedelta(minutes=self.rng.randint(2, 240))):
            services.lead_book(lead=lead, actor=self.office, service=service)
        self.booked += 1


def history_campaigns(sources: dict[str, Source], start: date, today: date) -> list[Campaign]:
    """What the company bought over the years: search ads and Local Services all along, a spring AC
    tune-up push and a fall furnace push each year, a Facebook water-heater offer each winter."""
    made = [
        Campaign(
            name="Google search ads",
            source=sources["google-ads"],
            utm_campaign="search",
            cost=Decimal("1200.00"),
            cost_type=Campaign.CostType.MONTHLY,
            starts_on=start,
        ),
    ]
    for year in range(start.year, today.year + 1):
        for name, slug, utm, cost, first, last in (
            ("Spring AC tune-up", "google-ads", "spring-ac", "2400.00", (3, 1), (4, 30)),
            ("Fall furnace push", "google-ads", "fall-heat", "1600.00", (9, 15), (10, 31)),
            ("Water heater winter offer", "facebook", "wh-winter", "900.00", (1, 5), (2, 28)),
        ):
            starts_on, ends_on = date(year, *first), date(year, *last)
            if ends_on < start or starts_on > today - timedelta(days=RECENT_DAYS):
                continue
            made.append(
                Campaign(
                    name=f"{name} {year}",
                    source=sources[slug],
                    utm_campaign=f"{utm}-{year}",
                    cost=Decimal(cost),
                    cost_type=Campaign.CostType.TOTAL,
                    starts_on=starts_on,
                    ends_on=ends_on,
                    is_active=ends_on >= today,
                )
            )
    return Campaign.objects.bulk_create(made)


def seed_history(*, rng, log, days: int, sources: dict[str, Source], campaigns: list[Campaign]) -> None:
    if days <= 0:
        return
    business = Business.current()
    today = datetime.now(business.tzinfo).date()
    start = today - timedelta(days=RECENT_DAYS + days)
    lsa = [c for c in campaigns if c.utm_campaign == "lsa"]
    Campaign.objects.filter(pk__in=[c.pk for c in lsa]).update(starts_on=start)  # running all along
    for campaign in lsa:
        campaign.starts_on = start
    fake = Faker("en_US")
    fake.seed_instance(rng.randint(0, 10**6))
    story = _Story(
        rng=rng,
        fake=fake,
        tz=business.tzinfo,
        office=User.objects.filter(username="office").first(),
        sources=sources,
        campaigns=[*campaigns, *history_campaigns(sources, start, today)],
        customers=dict(Customer.objects.active().order_by("pk").values_list("pk", "created_at")),
        used=set(),
    )
    base = 2.2
    for offset in range(days):
        day = start + timedelta(days=offset)
        expected = base * SEASON[day.month] * (0.4 if day.weekday() == 6 else 1.0)
        leads = int(expected) + (1 if rng.random() < expected % 1 else 0)
        for _ in range(leads):
            story.lead(day, (today - day).days)
        if offset % 90 == 89:
            log(f"  history: {day:%Y-%m-%d}, {story.count} leads")
    log(f"History: {story.count} leads over {days} days from {start:%Y-%m-%d}, {story.booked} booked.")
