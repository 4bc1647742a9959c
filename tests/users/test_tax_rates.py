from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from common.errors import ApplicationError
from users.models import TaxRate
from users.services import (
    tax_rate_activate,
    tax_rate_create,
    tax_rate_deactivate,
    tax_rate_make_default,
    tax_rate_update,
)

pytestmark = pytest.mark.django_db

URL = "/settings/tax-rates/"


def test_a_rate_is_created_with_up_to_four_decimals(owner):
    rate = tax_rate_create(name=" Austin ", percent="8.2500", actor=owner)
    assert (rate.name, rate.percent, rate.is_default, rate.active) == ("Austin", Decimal("8.25"), False, True)


@pytest.mark.parametrize(
    ("percent", "message"),
    [
        ("31", "between 0 and 30"),
        ("-1", "between 0 and 30"),
        ("8.12345", "4 decimal places"),
        ("eight", "a number"),
    ],
)
def test_a_bad_percent_is_a_field_error(owner, percent, message):
    with pytest.raises(ApplicationError) as error:
        tax_rate_create(name="Austin", percent=percent, actor=owner)
    assert error.value.field == "percent" and message in error.value.message


def test_making_a_rate_the_default_switches_the_old_one_off_in_one_go(owner):
    state = tax_rate_create(name="Texas state only", percent="6.25", actor=owner, is_default=True)
    austin = tax_rate_create(name="Texas + Austin", percent="8.25", actor=owner)
    tax_rate_make_default(tax_rate=austin, actor=owner)
    assert TaxRate.default() == austin
    state.refresh_from_db()
    assert not state.is_default
    assert TaxRate.objects.filter(is_default=True).count() == 1


def test_making_the_default_the_default_again_changes_nothing(owner):
    rate = tax_rate_create(name="Austin", percent="8.25", actor=owner, is_default=True)
    assert tax_rate_make_default(tax_rate=rate, actor=owner).is_default


def test_the_database_allows_one_default(owner):
    tax_rate_create(name="Austin", percent="8.25", actor=owner, is_default=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        TaxRate.objects.create(name="Other", percent=Decimal("1"), is_default=True)


def test_the_default_cannot_be_deactivated(owner):
    rate = tax_rate_create(name="Austin", percent="8.25", actor=owner, is_default=True)
    with pytest.raises(ApplicationError, match="make another rate the default first"):
        tax_rate_deactivate(tax_rate=rate, actor=owner)
    rate.refresh_from_db()
    assert rate.active


def test_an_inactive_rate_cannot_become_the_default_until_activated(owner):
    rate = tax_rate_create(name="Old county", percent="7", actor=owner)
    tax_rate_deactivate(tax_rate=rate, actor=owner)
    with pytest.raises(ApplicationError, match="activate it"):
        tax_rate_make_default(tax_rate=rate, actor=owner)
    tax_rate_activate(tax_rate=rate, actor=owner)
    assert tax_rate_make_default(tax_rate=rate, actor=owner).is_default


def test_a_rate_is_renamed_and_rerated(owner):
    rate = tax_rate_create(name="Austin", percent="8.25", actor=owner)
    rate = tax_rate_update(tax_rate=rate, name="Austin (2027)", percent="8.5", actor=owner)
    rate.refresh_from_db()
    assert (rate.name, rate.percent) == ("Austin (2027)", Decimal("8.5"))


def test_the_owner_adds_a_default_rate_on_the_page(owner, client_for, business):
    client = client_for(owner)
    response = client.post(URL, {"name": "Texas + Austin", "percent": "8.25", "is_default": "on"})
    assert response.status_code == 302
    assert TaxRate.default().name == "Texas + Austin"
    page = client.get(URL).content.decode()
    assert "Texas + Austin" in page and "Default" in page


def test_the_page_refuses_to_deactivate_the_default_with_a_clear_message(owner, client_for, business):
    rate = tax_rate_create(name="Austin", percent="8.25", actor=owner, is_default=True)
    response = client_for(owner).post(f"{URL}{rate.pk}/action/", {"deactivate": ""}, follow=True)
    assert "Austin is the default rate: make another rate the default first." in response.content.decode()
    rate.refresh_from_db()
    assert rate.active


def test_the_page_switches_the_default(owner, client_for, business):
    tax_rate_create(name="State", percent="6.25", actor=owner, is_default=True)
    austin = tax_rate_create(name="Austin", percent="8.25", actor=owner)
    client_for(owner).post(f"{URL}{austin.pk}/action/", {"make_default": ""})
    assert TaxRate.default() == austin


def test_the_edit_page_shows_a_field_error(owner, client_for, business):
    rate = tax_rate_create(name="Austin", percent="8.25", actor=owner)
    response = client_for(owner).post(f"{URL}{rate.pk}/", {"name": "Austin", "percent": "45"})
    assert response.status_code == 200 and response.context["form"].errors["percent"]


@pytest.mark.parametrize("role", ["office", "dispatcher", "technician"])
def test_only_the_owner_manages_tax_rates(role, personas, client_for, owner, business):
    rate = tax_rate_create(name="Austin", percent="8.25", actor=owner, is_default=True)
    client = client_for(personas[role])
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"name": "Sneaky", "percent": "0", "is_default": "on"}).status_code == 403
    assert client.post(f"{URL}{rate.pk}/action/", {"deactivate": ""}).status_code == 403
    assert TaxRate.default() == rate
