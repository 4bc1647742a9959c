import pytest
from django.urls import reverse

from common.errors import ApplicationError
from customers import services
from customers.models import Customer
from customers.selectors import tax_exemption
from customers.services import PropertyIn
from events.models import Event
from tests.customers.test_views import _form_data
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

CHURCH = PropertyIn(street="500 E 7th St", city="Austin", state="TX", zip_code="78701")


def test_an_exempt_customer_needs_a_certificate_number(office):
    with pytest.raises(ApplicationError) as error:
        services.customer_create(actor=office, company_name="St. Mary's", tax_exempt=True)
    assert error.value.field == "tax_exempt_certificate"
    assert not Customer.objects.exists()


def test_an_exempt_customer_is_created_with_its_certificate(office):
    customer = services.customer_create(
        actor=office, company_name="St. Mary's", tax_exempt=True, tax_exempt_certificate=" 12345 "
    )
    assert (customer.tax_exempt, customer.tax_exempt_certificate) == (True, "12345")
    assert tax_exemption(customer) == "Customer exempt, certificate 12345"


def test_an_exempt_address_needs_a_certificate_number(office):
    prop = PropertyIn(**{**CHURCH.__dict__, "tax_exempt": True})
    with pytest.raises(ApplicationError) as error:
        services.customer_create(actor=office, company_name="St. Mary's", properties=[prop])
    assert error.value.field == "properties[0].tax_exempt_certificate"


def test_the_exemption_reason_prefers_the_customer_then_the_address(office):
    prop = PropertyIn(**{**CHURCH.__dict__, "tax_exempt": True, "tax_exempt_certificate": "TX-9"})
    customer = services.customer_create(actor=office, company_name="Diocese", properties=[prop])
    church = customer.properties.get()
    assert tax_exemption(customer) == ""
    assert tax_exemption(customer, church) == "Property exempt, certificate TX-9"
    customer = services.customer_update(
        customer=customer, actor=office, tax_exempt=True, tax_exempt_certificate="77"
    )
    assert tax_exemption(customer, church) == "Customer exempt, certificate 77"


def test_making_a_customer_exempt_is_recorded_and_needs_the_number(office):
    customer = make_customer(actor=office, first_name="Ana")
    with pytest.raises(ApplicationError) as error:
        services.customer_update(customer=customer, actor=office, tax_exempt=True)
    assert error.value.field == "tax_exempt_certificate"
    services.customer_update(customer=customer, actor=office, tax_exempt=True, tax_exempt_certificate="12345")
    event = Event.objects.filter(code="customers.customer.updated").latest("pk")
    assert event.data["changed"]["tax_exempt"] == [False, True]


def test_the_form_shows_the_missing_certificate_on_its_field(office, client_for, business):
    response = client_for(office).post(reverse("customers:create"), _form_data(tax_exempt="on"))
    assert response.status_code == 200
    assert response.context["bundle"].form.errors["tax_exempt_certificate"]
    assert not Customer.objects.exists()


def test_the_form_shows_a_property_missing_its_certificate_on_the_row(office, client_for, business):
    data = _form_data(**{"properties-0-tax_exempt": "on"})
    response = client_for(office).post(reverse("customers:create"), data)
    assert response.status_code == 200
    assert response.context["bundle"].properties.forms[0].errors["tax_exempt_certificate"]


def test_the_customer_page_says_tax_exempt_with_the_certificate(office, client_for, business):
    response = client_for(office).post(
        reverse("customers:create"),
        _form_data(
            tax_exempt="on",
            tax_exempt_certificate="12345",
            **{"properties-0-tax_exempt": "on", "properties-0-tax_exempt_certificate": "P-1"},
        ),
    )
    assert response.status_code == 302
    page = client_for(office).get(response["Location"]).content.decode()
    assert "Tax exempt (cert #12345)" in page and "Tax exempt (cert #P-1)" in page


def test_the_api_sets_the_exemption(office, client_for, business):
    customer = make_customer(actor=office, first_name="Ana")
    client = client_for(office)
    url = f"/api/v1/customers/{customer.pk}/"
    refused = client.patch(url, {"tax_exempt": True}, content_type="application/json")
    assert refused.status_code == 400
    response = client.patch(
        url, {"tax_exempt": True, "tax_exempt_certificate": "12345"}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["tax_exempt_certificate"] == "12345"
