"""About 500 demo customers in the Austin metro, with properties, phones, e-mails and a few duplicates."""

import random
from datetime import timedelta

import phonenumbers
from django.utils import timezone
from faker import Faker

from events.backdate import backdated

from .models import Customer
from .services import EmailIn, PhoneIn, PropertyIn, customer_create, customer_tags_set

CITIES = {
    "Austin": [
        "78701",
        "78702",
        "78703",
        "78704",
        "78745",
        "78748",
        "78749",
        "78750",
        "78757",
        "78758",
        "78759",
    ],
    "Cedar Park": ["78613"],
    "Pflugerville": ["78660"],
    "Round Rock": ["78664", "78665", "78681"],
    "Georgetown": ["78626", "78628"],
}
AREA_CODES = ["512", "512", "512", "737"]
SUFFIXES = ["Dr", "Ln", "St", "Ave", "Cv", "Trl", "Blvd", "Ct", "Way", "Pass"]


def phone_number(rng, used: set[str]) -> str:
    while True:
        exchange = rng.randint(200, 989)
        if exchange in (555, 911) or exchange % 100 == 11:
            continue
        number = f"+1{rng.choice(AREA_CODES)}{exchange}{rng.randint(0, 9999):04d}"
        if number not in used and phonenumbers.is_valid_number(phonenumbers.parse(number)):
            used.add(number)
            return number


def property_in(rng, fake, *, label: str = "Home", primary: bool = True) -> PropertyIn:
    city = rng.choice(list(CITIES))
    return PropertyIn(
        label=label,
        street=f"{rng.randint(100, 19999)} {fake.last_name()} {rng.choice(SUFFIXES)}",
        city=city,
        state="TX",
        zip_code=rng.choice(CITIES[city]),
        is_primary=primary,
        access_notes=rng.choice(["", "", "", "Gate code 4412", "Dog in backyard", "Side door, ring twice"]),
    )


def seed(*, rng, log, customers: int = 500, **_):
    fake = Faker("en_US")
    fake.seed_instance(rng.randint(0, 10**6))
    used: set[str] = set()
    now = timezone.now()
    created = []
    for i in range(customers):
        commercial = rng.random() < 0.1
        first, last = fake.first_name(), fake.last_name()
        phones = [PhoneIn(number=phone_number(rng, used), kind="mobile", is_primary=True)]
        if rng.random() < 0.2:
            phones.append(PhoneIn(number=phone_number(rng, used), kind=rng.choice(["home", "work"])))
        emails = (
            [EmailIn(email=f"{first}.{last}{rng.randint(1, 99)}@{fake.free_email_domain()}".lower())]
            if rng.random() < 0.65
            else []
        )
        properties = [property_in(rng, fake)]
        if rng.random() < 0.08:
            properties.append(property_in(rng, fake, label="Rental", primary=False))
        since = now - timedelta(days=rng.randint(15, 3 * 365), minutes=rng.randint(0, 600))
        with backdated(since):  # a customer for weeks at least: older than the demo's two weeks of jobs
            customer = customer_create(
                actor=None,
                actor_label="demo data",
                first_name=first,
                last_name=last,
                company_name=fake.company() if commercial else "",
                kind="commercial" if commercial else "residential",
                phones=phones,
                emails=emails,
                properties=properties,
            )
        Customer.objects.filter(pk=customer.pk).update(created_at=since)
        created.append(customer.pk)
        if i % 100 == 99:
            log(f"  {i + 1} customers")
    _seed_duplicates(rng, fake, created)
    tagged = _seed_tags(created)
    log(
        f"{customers} customers with properties, phones and e-mails ({tagged} tagged), plus 3 likely "
        "duplicates to merge."
    )


TAGS = (("Member", 0.12), ("VIP", 0.04), ("Landlord", 0.05), ("Pets on site", 0.08))


def _seed_tags(created: list[int]) -> int:
    """Tags the office would have put on: maintenance-plan members, a few VIPs, landlords, dogs in the
    yard. Drawn from their own generator, so the rest of the demo is the same with or without them."""
    draw = random.Random(len(created))  # noqa: S311 (demo data, not secrets)
    tagged = 0
    for pk in created:
        names = [name for name, share in TAGS if draw.random() < share]
        if names:
            customer_tags_set(customer=Customer(pk=pk), names=names, actor=None)
            tagged += 1
    return tagged


def _seed_duplicates(rng, fake, created: list[int]) -> None:
    """Three customers entered twice (same phone, different spelling), as happens on a busy phone line."""
    for pk in rng.sample(created, 3):
        original = Customer.objects.prefetch_related("phones", "properties").get(pk=pk)
        phone = original.phones.all()[0]
        prop = original.properties.all()[0]
        since = timezone.now() - timedelta(days=rng.randint(15, 60))
        with backdated(since):
            duplicate = customer_create(
                actor=None,
                actor_label="demo data",
                first_name=original.first_name[:1] + ".",
                last_name=original.last_name,
                phones=[PhoneIn(number=phone.number.as_e164)],
                properties=[
                    PropertyIn(street=prop.street, city=prop.city, state=prop.state, zip_code=prop.zip_code)
                ],
            )
        Customer.objects.filter(pk=duplicate.pk).update(created_at=since)
