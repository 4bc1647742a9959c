import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import Customer
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def _form_data(**overrides):
    data = {
        "kind": "residential",
        "first_name": "Ana",
        "last_name": "Ruiz",
        "company_name": "",
        "notes": "",
        "phones-TOTAL_FORMS": "1",
        "phones-INITIAL_FORMS": "0",
        "phones-0-number": "(512) 555-0199",
        "phones-0-kind": "mobile",
        "emails-TOTAL_FORMS": "1",
        "emails-INITIAL_FORMS": "0",
        "emails-0-email": "ana@example.com",
        "properties-TOTAL_FORMS": "1",
        "properties-INITIAL_FORMS": "0",
        "properties-0-street": "1944 Stanton St",
        "properties-0-city": "Round Rock",
        "properties-0-state": "tx",
        "properties-0-zip_code": "78665",
    }
    data.update(overrides)
    return data


def test_office_creates_a_customer_from_the_form(office, client_for, business):
    response = client_for(office).post(reverse("customers:create"), _form_data())
    customer = Customer.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "customers:detail", args=[customer.pk]
    )
    assert customer.phones.get().number.as_e164 == "+15125550199"
    assert customer.properties.get().state == "TX"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phones-0-number", "555-12", "Enter a valid US phone number"),
        ("emails-0-email", "ana@", "Enter a valid email address"),
        ("properties-0-zip_code", "7866", "Use a 5-digit ZIP code"),
        ("properties-0-state", "T1", "two-letter state"),
    ],
)
def test_bad_input_is_a_field_error_and_saves_nothing(office, client_for, business, field, value, message):
    response = client_for(office).post(reverse("customers:create"), _form_data(**{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Customer.objects.exists()


def test_a_blank_extra_row_is_ignored_not_required(office, client_for, business):
    data = _form_data(**{"emails-0-email": "", "phones-0-number": ""})
    response = client_for(office).post(reverse("customers:create"), data)
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert not customer.phones.exists() and not customer.emails.exists()


def test_a_known_phone_offers_the_existing_customer_instead(office, client_for, business):
    existing = make_customer(actor=office, first_name="Ana", last_name="Ruiz", phones=["5125550199"])
    response = client_for(office).post(
        reverse("customers:create"), _form_data(**{"phones-0-number": "512.555.0199"})
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="duplicate-offer"' in body
    assert reverse("customers:detail", args=[existing.pk]) in body
    assert Customer.objects.count() == 1


def test_save_anyway_creates_the_second_customer(office, client_for, business):
    make_customer(actor=office, phones=["5125550199"])
    response = client_for(office).post(reverse("customers:create"), _form_data(save_anyway="1"))
    assert response.status_code == 302
    assert Customer.objects.count() == 2


def test_a_known_email_any_case_is_offered_too(office, client_for, business):
    make_customer(actor=office, emails=["Ana@Example.com"])
    response = client_for(office).post(reverse("customers:create"), _form_data())
    assert 'data-testid="duplicate-offer"' in response.content.decode()


def test_live_duplicate_check_returns_the_offer_partial(office, client_for, business):
    existing = make_customer(actor=office, phones=["5125550199"])
    response = client_for(office).get(
        reverse("customers:duplicates"), {"phones-0-number": "(512) 555-0199"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert existing.display_name in body and "<html" not in body
    assert "Save as a new customer anyway" not in body


def test_edit_keeps_phone_ids_and_shows_changes(office, client_for, business):
    customer = make_customer(actor=office, first_name="Ana", phones=["5125550199"])
    phone = customer.phones.get()
    prop = customer.properties.get()
    data = _form_data(
        **{
            "first_name": "Anna",
            "phones-INITIAL_FORMS": "1",
            "phones-0-id": str(phone.pk),
            "emails-TOTAL_FORMS": "0",
            "properties-INITIAL_FORMS": "1",
            "properties-0-id": str(prop.pk),
        }
    )
    response = client_for(office).post(reverse("customers:edit", args=[customer.pk]), data)
    assert response.status_code == 302
    assert customer.phones.get().pk == phone.pk
    assert Customer.objects.get().first_name == "Anna"


def test_dispatcher_reads_customers_but_cannot_edit(dispatcher, client_for, business, office):
    customer = make_customer(actor=office)
    client = client_for(dispatcher)
    assert client.get(reverse("customers:detail", args=[customer.pk])).status_code == 200
    assert client.post(reverse("customers:edit", args=[customer.pk]), _form_data()).status_code == 403


def test_technician_cannot_open_a_customer_by_url(technician, client_for, business, office):
    customer = make_customer(actor=office)
    assert client_for(technician).get(reverse("customers:detail", args=[customer.pk])).status_code == 403


def test_merge_through_the_page(office, client_for, business):
    survivor = make_customer(actor=office, phones=["5125550199"])
    duplicate = make_customer(actor=office, phones=["512 555 0199"])
    client = client_for(office)
    page = client.get(reverse("customers:merge", args=[survivor.pk]))
    assert duplicate.display_name in page.content.decode()
    response = client.post(reverse("customers:merge", args=[survivor.pk]), {"duplicate": duplicate.pk})
    assert response.status_code == 302
    assert Customer.objects.get(pk=duplicate.pk).merged_into_id == survivor.pk
    follow = client.get(reverse("customers:detail", args=[duplicate.pk]))
    assert follow.status_code == 302 and follow["Location"] == reverse("customers:detail", args=[survivor.pk])


def test_merging_into_itself_through_the_page_shows_an_error(office, client_for, business):
    customer = make_customer(actor=office)
    response = client_for(office).post(
        reverse("customers:merge", args=[customer.pk]), {"duplicate": customer.pk}, follow=True
    )
    assert "cannot be merged into itself" in response.content.decode()


@pytest.mark.parametrize(
    "query", ["555-0199", "(512) 555", "5125550199", "ruiz", "stanton", "ana@exa", "ana ruiz"]
)
def test_search_finds_by_phone_in_any_formatting_name_email_or_street(office, client_for, business, query):
    wanted = make_customer(
        actor=office, first_name="Ana", last_name="Ruiz", phones=["5125550199"], emails=["ana@example.com"]
    )
    from customers.services import PropertyIn, customer_update

    customer_update(
        customer=wanted,
        actor=office,
        properties=[PropertyIn(street="1944 Stanton St", city="Round Rock", state="TX", zip_code="78665")],
    )
    make_customer(actor=office, first_name="Zed", last_name="Other", phones=["7375550100"])
    response = client_for(office).get(reverse("customers:list"), {"q": query})
    assert list(response.context["page"].object_list) == [wanted]


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_customer_list_runs_a_constant_number_of_queries(office, client_for, business):
    client = client_for(office)
    make_customer(actor=office)
    _queries(client, reverse("customers:list"))  # warm: the business is cached after the first request
    few = _queries(client, reverse("customers:list"))
    for _ in range(15):
        make_customer(
            actor=office,
            phones=["512555" + str(1000 + _), "737555" + str(1000 + _)],
            emails=[f"c{_}@example.com"],
        )
    assert _queries(client, reverse("customers:list")) == few


def test_the_customer_page_runs_a_constant_number_of_queries(office, client_for, business):
    from customers.services import customer_update

    client = client_for(office)
    customer = make_customer(actor=office)
    url = reverse("customers:detail", args=[customer.pk])
    _queries(client, url)  # warm: the business is cached after the first request
    few = _queries(client, url)
    for i in range(10):
        customer_update(customer=customer, actor=office, notes=f"note {i}")
    other = make_customer(actor=office)
    from customers.services import customer_merge

    customer_merge(survivor=customer, duplicate=other, actor=office)
    assert _queries(client, url) == few


def test_a_broad_search_counts_up_to_the_cap(office, client_for, business, monkeypatch):
    from customers import selectors

    monkeypatch.setattr(selectors, "SEARCH_COUNT_CAP", 3)
    for i in range(5):
        make_customer(actor=office, last_name=f"Smith{i}")
    response = client_for(office).get(reverse("customers:list"), {"q": "smith"})
    assert response.context["page"].paginator.count == 3
    assert "3+ matching" in response.content.decode()
    few = client_for(office).get(reverse("customers:list"), {"q": "smith1"})
    assert [c.last_name for c in few.context["page"].object_list] == ["Smith1"]


def test_the_consent_ledger_shows_on_the_customer_page_and_exports(office, client_for, business):
    from customers.services import consent_record

    customer = make_customer(actor=office, phones=["5125550199"])
    consent_record(
        number="+15125550199",
        state="opted_out",
        method="keyword",
        evidence={"message_sid": "SM1", "text": "STOP"},
    )
    client = client_for(office)
    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "Opted out" in page and "Keyword reply" in page
    export = client.get(reverse("customers:consent-export", args=[customer.pk]))
    assert export["Content-Type"] == "text/csv"
    assert "+15125550199,opted_out,keyword,all" in export.content.decode()


def test_the_customer_page_shows_the_timeline(office, client_for, business):
    customer = make_customer(actor=office, first_name="Ana", last_name="Ruiz")
    page = client_for(office).get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "Customer Ana Ruiz created" in page


def test_staff_clear_a_please_stop_flag_and_automated_texts_resume(office, client_for, business):
    from customers.services import consent_check, consent_record

    customer = make_customer(actor=office, phones=["5125550199"])
    consent_record(
        number="+15125550199",
        state="revocation_flagged",
        method="message",
        evidence={"text": "please stop texting me about the promo"},
    )
    client = client_for(office)
    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "automated texts are held" in page
    phone = customer.phones.get()
    response = client.post(reverse("customers:consent-clear", args=[customer.pk, phone.pk]))
    assert response.status_code == 302
    assert consent_check(number="+15125550199", purpose="automated") == ""
    assert customer.phones.get().revocation_flagged_at is None
