import pytest

from common.errors import ApplicationError
from customers import services
from customers.models import Customer, PhoneNumber
from customers.services import EmailIn, PhoneIn, PropertyIn
from events.models import Event
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

HOME = PropertyIn(street="1944 Stanton St", city="Round Rock", state="tx", zip_code="78665")


def test_create_stores_phones_in_e164_whatever_the_formatting(office):
    customer = services.customer_create(
        actor=office,
        first_name="Ana",
        last_name="Ruiz",
        phones=[PhoneIn(number="(512) 386-8692"), PhoneIn(number="512.555.0142", kind="home")],
    )
    assert sorted(p.number.as_e164 for p in customer.phones.all()) == ["+15123868692", "+15125550142"]
    assert customer.phones.get(number="+15123868692").is_primary


def test_create_publishes_customer_created_in_the_same_transaction(office):
    customer = services.customer_create(actor=office, last_name="Ruiz", properties=[HOME])
    event = Event.objects.get(milestone="customer.created")
    assert event.code == "customers.customer.created"
    assert event.subject == customer
    assert event.actor == office


def test_create_uppercases_the_state_and_fills_search_columns(office):
    customer = services.customer_create(
        actor=office,
        first_name="Ana",
        last_name="Ruiz",
        properties=[HOME],
        emails=[EmailIn(email="Ana@Example.COM")],
    )
    assert customer.properties.get().state == "TX"
    assert "stanton" in customer.search_text and "ana@example.com" in customer.search_text
    assert customer.sort_name == "ruiz ana"


@pytest.mark.parametrize("number", ["555-12", "12345", "not a phone", "+1 000 000 0000", ""])
def test_a_malformed_phone_is_a_field_error_and_nothing_is_saved(office, number):
    with pytest.raises(ApplicationError) as error:
        services.customer_create(actor=office, last_name="Ruiz", phones=[PhoneIn(number=number)])
    assert error.value.field == "phones[0].number"
    assert not Customer.objects.exists()
    assert not Event.objects.exists()


@pytest.mark.parametrize("email", ["ana@", "@example.com", "ana at example.com", "ana@example"])
def test_a_malformed_email_is_a_field_error(office, email):
    with pytest.raises(ApplicationError) as error:
        services.customer_create(actor=office, last_name="Ruiz", emails=[EmailIn(email=email)])
    assert error.value.field == "emails[0].email"
    assert not Customer.objects.exists()


def test_a_customer_needs_some_name(office):
    with pytest.raises(ApplicationError) as error:
        services.customer_create(actor=office, phones=[PhoneIn(number="5125550142")])
    assert error.value.code == "name_required"


def test_the_same_number_twice_on_one_customer_is_refused(office):
    with pytest.raises(ApplicationError) as error:
        services.customer_create(
            actor=office,
            last_name="Ruiz",
            phones=[PhoneIn(number="512-555-0142"), PhoneIn(number="(512) 555 0142")],
        )
    assert error.value.field == "phones[1].number"


def test_a_bad_zip_code_rolls_back_the_whole_customer(office):
    with pytest.raises(ApplicationError):
        services.customer_create(
            actor=office,
            last_name="Ruiz",
            phones=[PhoneIn(number="5125550142")],
            properties=[PropertyIn(street="1 Main", city="Austin", state="TX", zip_code="7870")],
        )
    assert not Customer.objects.exists()
    assert not PhoneNumber.objects.exists()


def test_update_replaces_lists_keeping_items_with_their_ids(office):
    customer = make_customer(actor=office, phones=["5125550142", "5125550143"])
    keep = customer.phones.get(number="+15125550143")
    services.customer_update(
        customer=customer,
        actor=office,
        first_name="Bea",
        phones=[
            PhoneIn(number=str(keep.number), id=keep.pk, is_primary=True),
            PhoneIn(number="737-555-0100"),
        ],
    )
    customer.refresh_from_db()
    assert customer.first_name == "Bea"
    assert sorted(p.number.as_e164 for p in customer.phones.all()) == ["+15125550143", "+17375550100"]
    assert customer.phones.get(pk=keep.pk).is_primary
    assert "7375550100" in customer.search_digits


def test_update_records_what_changed_on_the_timeline(office):
    customer = make_customer(actor=office, first_name="Ana")
    services.customer_update(customer=customer, actor=office, first_name="Anna")
    event = Event.objects.get(code="customers.customer.updated")
    assert event.data["changed"] == {"first_name": ["Ana", "Anna"]}
    assert event.milestone == ""


def test_update_refuses_a_phone_id_of_another_customer(office):
    mine, theirs = make_customer(actor=office), make_customer(actor=office)
    foreign = theirs.phones.get()
    with pytest.raises(ApplicationError):
        services.customer_update(
            customer=mine, actor=office, phones=[PhoneIn(number=str(foreign.number), id=foreign.pk)]
        )
    assert theirs.phones.get().pk == foreign.pk


def test_update_refuses_unknown_fields(office):
    customer = make_customer(actor=office)
    with pytest.raises(ApplicationError) as error:
        services.customer_update(customer=customer, actor=office, merged_into=None)
    assert error.value.field == "merged_into"


def test_events_are_append_only(office):
    make_customer(actor=office)
    event = Event.objects.get()
    event.summary = "rewritten"
    with pytest.raises(Exception, match="append-only"):
        event.save()
