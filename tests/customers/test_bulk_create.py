"""customers_create_bulk: customer_create's rules and milestone, for a batch (the CSV import)."""

import pytest

from common.errors import ApplicationError
from customers.models import Customer, PhoneNumber, Property
from customers.services import (
    CustomerIn,
    EmailIn,
    PhoneIn,
    PropertyIn,
    customer_create,
    customers_create_bulk,
)
from events.models import Event

pytestmark = pytest.mark.django_db


def _rosa(**changes) -> CustomerIn:
    values = {
        "first_name": " Rosa ",
        "last_name": "Delgado",
        "phones": [PhoneIn(number="(512) 555-0199"), PhoneIn(number="512.555.0142", kind="home")],
        "emails": [EmailIn(email="Rosa@Example.COM")],
        "properties": [PropertyIn(street="1944 Stanton St", city="Austin", state="texas", zip_code="78702")],
    }
    return CustomerIn(**{**values, **changes})


def test_a_batch_gets_what_customer_create_gives_one_customer(office, django_capture_on_commit_callbacks):
    one = customer_create(actor=office, **vars(_rosa()))
    with django_capture_on_commit_callbacks(execute=True):
        made = customers_create_bulk(
            customers=[_rosa(), _rosa(first_name="Ana")], actor=office, origin="csv-import:7"
        )
    bulk = made[0].customer
    for name in ("first_name", "last_name", "kind", "search_text", "search_digits"):
        assert getattr(bulk, name) == getattr(one, name), name
    assert bulk.first_name == "Rosa" and bulk.created_by == office
    phones = list(
        PhoneNumber.objects.filter(customer=bulk).order_by("pk").values_list("number", "is_primary")
    )
    assert phones == [("+15125550199", True), ("+15125550142", False)]
    assert [p.state for p in made[0].properties] == ["TX"] and made[0].properties[0].is_primary
    assert Property.objects.filter(customer=made[1].customer).count() == 1
    events = Event.objects.filter(
        milestone="customer.created", subject_id__in=[str(m.customer.pk) for m in made]
    )
    assert events.count() == 2 and all(e.fanned_out_at for e in events)
    assert events.get(subject_id=str(bulk.pk)).data == {
        "phones": ["+15125550199", "+15125550142"],
        "emails": ["Rosa@example.com"],
        "origin": "csv-import:7",
    }


def test_one_bad_customer_refuses_the_batch_and_writes_nothing(office):
    before = Customer.objects.count()
    with pytest.raises(ApplicationError) as error:
        customers_create_bulk(customers=[_rosa(), _rosa(phones=[PhoneIn(number="555-12")])], actor=office)
    assert error.value.field == "phones[0].number"
    with pytest.raises(ApplicationError, match="Give a name"):
        customers_create_bulk(customers=[_rosa(first_name="", last_name="")], actor=office)
    assert (
        Customer.objects.count() == before and not Event.objects.filter(milestone="customer.created").exists()
    )
