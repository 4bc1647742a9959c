"""fsm factories. Jobs and visits are made through fsm.services, the one write path."""

from datetime import datetime, time
from decimal import Decimal

import factory

from fsm import services
from fsm.models import JobType, Skill, TechnicianProfile
from fsm.pricebook.services import ItemIn, item_create
from tests.factories import UserFactory, make_customer
from users.roles import Role

WEEKDAYS_8_TO_5 = {d: ["08:00", "17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
DOWNTOWN = (Decimal("30.271300"), Decimal("-97.742600"))  # ZIP 78701's centre


class SkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Skill
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Skill {n}")


class JobTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobType

    name = factory.Sequence(lambda n: f"Job type {n}")
    default_duration_minutes = 60
    checklist = factory.LazyFunction(lambda: ["Check the filter", "Test the thermostat"])


def make_technician(*, skills=(), working_hours=None, home=DOWNTOWN, user=None, **user_fields):
    """A technician with a profile (skills, 8-5 on weekdays, home downtown unless told)."""
    user = user or UserFactory(role=Role.TECHNICIAN, **user_fields)
    profile = TechnicianProfile.objects.create(
        user=user,
        working_hours=WEEKDAYS_8_TO_5 if working_hours is None else working_hours,
        home_latitude=home[0] if home else None,
        home_longitude=home[1] if home else None,
    )
    profile.skills.set(skills)
    return user


def make_job(*, actor=None, customer=None, zip_code="78704", **kwargs):
    customer = customer or make_customer(
        properties=[
            services_property(zip_code=zip_code),
        ]
    )
    kwargs.setdefault("description", "No cooling upstairs")
    return services.job_create(customer=customer, property=customer.properties.first(), actor=actor, **kwargs)


def services_property(*, zip_code="78704", street="1944 Stanton St"):
    from customers.services import PropertyIn

    return PropertyIn(street=street, city="Austin", state="TX", zip_code=zip_code)


def at(day, hour: int, minute: int = 0, tz=None) -> datetime:
    """An aware datetime on `day` at hour:minute in the business's zone (America/Chicago by default)."""
    from zoneinfo import ZoneInfo

    return datetime.combine(day, time(hour, minute), tzinfo=tz or ZoneInfo("America/Chicago"))


def schedule(job, *, start, technicians, actor=None, end=None, confirm=True, **kwargs):
    return services.visit_schedule(
        job=job, start=start, end=end, technicians=technicians, actor=actor, confirm=confirm, **kwargs
    ).visit


def make_qualified_lead(*, actor, service: str = "AC repair"):
    """Ana Ruiz's website lead for `service` at 1944 Stanton St, Austin 78704, qualified by `actor`:
    ready to book (the CRM side of the handoff tests)."""
    from crm import services as crm
    from crm.models import Source

    source, _ = Source.objects.get_or_create(
        slug="website", defaults={"name": "Website", "kind": Source.Kind.WEB_FORM}
    )
    contact = crm.LeadIn(
        name="Ana Ruiz",
        phone="512-555-0199",
        service=service,
        street="1944 Stanton St",
        city="Austin",
        state="TX",
        zip_code="78704",
    )
    return crm.lead_qualify(lead=crm.lead_capture(source=source, contact=contact).lead, actor=actor)


def make_pricebook_item(*, code: str = "WH-50G", name: str = "Water heater 50 gal gas replace", **fields):
    """An item through the service (the system as the actor); money may be given as text."""
    fields.setdefault("price", "1895.00")
    return item_create(data=ItemIn(code=code, name=name, **fields), actor=None)
