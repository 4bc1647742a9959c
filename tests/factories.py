"""factory_boy factories. Customers are made through customers.services, the one write path."""

import factory
from django.contrib.auth.models import Group
from faker import Faker

from customers import services as customer_services
from users.models import User
from users.roles import Role

fake = Faker("en_US")
PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    """A user with one role (or none): UserFactory(role=Role.OFFICE)."""

    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")

    @classmethod
    def _create(cls, model_class, *args, role=None, password=PASSWORD, **kwargs):
        user = super()._create(
            model_class, *args, is_staff=role == Role.OWNER, is_superuser=role == Role.OWNER, **kwargs
        )
        user.set_password(password)
        user.save(update_fields=["password"])
        if role:
            user.groups.add(Group.objects.get_or_create(name=role)[0])
        return user


_phone_counter = iter(range(2000000, 9999999))


def unique_phone() -> str:
    """A valid, unique Austin-area number, formatted the way people type it."""
    n = next(_phone_counter)
    return f"(512) {n // 10000:03d}-{n % 10000:04d}"


def make_customer(
    *, actor=None, first_name=None, last_name=None, phones=None, emails=None, properties=None, **kwargs
):
    return customer_services.customer_create(
        actor=actor,
        first_name=first_name if first_name is not None else fake.first_name(),
        last_name=last_name if last_name is not None else fake.last_name(),
        phones=[
            customer_services.PhoneIn(number=p) for p in (phones if phones is not None else [unique_phone()])
        ],
        emails=[customer_services.EmailIn(email=e) for e in (emails or [])],
        properties=properties
        if properties is not None
        else [
            customer_services.PropertyIn(
                street=fake.street_address(), city="Austin", state="TX", zip_code="78704"
            )
        ],
        **kwargs,
    )
