"""The pricebook's write path (fsm.pricebook.services): the money rules, the markup, codes unique whatever
their case, who may edit, and the activity rows."""

from decimal import Decimal

import pytest

from common.errors import ApplicationError
from events.models import Event
from fsm.errors import Forbidden
from fsm.pricebook.models import PricebookItem
from fsm.pricebook.services import (
    ItemIn,
    item_create,
    item_deactivate,
    item_reactivate,
    item_update,
    price_with_markup,
)
from tests.fsm.factories import make_pricebook_item

pytestmark = pytest.mark.django_db


def _refused(field: str, **data) -> ApplicationError:
    data.setdefault("code", "X-1")
    data.setdefault("name", "Something")
    with pytest.raises(ApplicationError) as caught:
        item_create(data=ItemIn(**data), actor=None)
    assert caught.value.field == field, caught.value.message
    assert not PricebookItem.objects.filter(code="X-1").exists()
    return caught.value


def test_the_office_adds_a_flat_rate_service_with_its_prices_as_decimals(office):
    item = item_create(
        data=ItemIn(
            code="WH-50G",
            name="Water heater 50 gal gas replace",
            price="1,895.00",
            cost="910",
            member_price="1611",
            taxable=False,
        ),
        actor=office,
    )
    item.refresh_from_db()
    assert (item.price, item.cost, item.member_price) == (
        Decimal("1895.00"),
        Decimal("910.00"),
        Decimal("1611"),
    )
    assert item.kind == "service" and item.unit == "each" and item.active
    assert item.margin == Decimal("985.00") and item.margin_percent == Decimal("52.0")
    event = Event.objects.get(code="fsm.pricebook.item_created")
    assert event.actor == office and event.data["price"] == "1895.00"


def test_a_material_is_priced_from_its_cost_plus_the_markup_rounded_half_up(office):
    item = make_pricebook_item(
        code="M-CAP", name="Capacitor", kind="material", cost="18.45", markup_percent="35"
    )
    assert item.price == Decimal("24.91")  # 18.45 x 1.35 = 24.9075
    assert price_with_markup(Decimal("0.10"), Decimal("5")) == Decimal("0.11")  # 0.105, half up


def test_a_given_price_is_ignored_when_a_markup_prices_the_item():
    item = make_pricebook_item(code="M-1", kind="material", cost="10", markup_percent="50", price="99")
    assert item.price == Decimal("15.00")


def test_a_markup_without_a_cost_is_refused_naming_the_cost():
    _refused("cost", kind="material", markup_percent="40")


@pytest.mark.parametrize(
    ("field", "data"),
    [
        ("price", {"price": "-1"}),
        ("price", {"price": "12.345"}),
        ("price", {"price": "twelve"}),
        ("price", {}),
        ("cost", {"price": "10", "cost": "-0.01"}),
        ("member_price", {"price": "10", "member_price": "10.001"}),
        ("member_price", {"price": "10", "member_price": "12"}),
        ("markup_percent", {"cost": "10", "markup_percent": "-5"}),
        ("markup_percent", {"cost": "10", "markup_percent": "12.345"}),
        ("kind", {"price": "10", "kind": "labour"}),
        ("code", {"price": "10", "code": "   "}),
        ("name", {"price": "10", "name": ""}),
        ("code", {"price": "10", "code": "X" * 41}),
    ],
)
def test_bad_values_are_refused_naming_the_field_and_nothing_is_saved(field, data):
    _refused(field, **data)
    assert not PricebookItem.objects.exists()


def test_more_than_two_decimals_says_so():
    error = _refused("price", price="1.999")
    assert "more than 2 decimal places" in error.message


def test_a_float_is_never_taken_as_money():
    _refused("price", price=19.99)


def test_a_free_item_is_allowed():
    assert make_pricebook_item(code="FREE", price="0").price == Decimal("0.00")


def test_codes_are_unique_whatever_their_case():
    make_pricebook_item(code="WH-50G")
    error = _refused("code", code="wh-50g", price="10")
    assert error.code == "duplicate"


def test_an_update_may_keep_its_own_code_but_not_take_another_items(office):
    first = make_pricebook_item(code="A-1", name="First")
    make_pricebook_item(code="B-2", name="Second")
    item_update(item=first, data=ItemIn(code="a-1", name="First, renamed", price="20"), actor=office)
    first.refresh_from_db()
    assert (first.code, first.name, first.price) == ("a-1", "First, renamed", Decimal("20.00"))
    with pytest.raises(ApplicationError) as caught:
        item_update(item=first, data=ItemIn(code="b-2", name="First", price="20"), actor=office)
    assert caught.value.field == "code"


def test_an_update_records_what_changed_and_a_repeat_changes_nothing(office):
    item = make_pricebook_item(code="A-1", price="100")
    data = ItemIn.of(item)
    item_update(item=item, data=ItemIn(**{**data.__dict__, "price": "120"}), actor=office)
    event = Event.objects.get(code="fsm.pricebook.item_updated")
    assert event.data["changes"] == {"price": ["100.00", "120.00"]}
    item_update(item=item, data=ItemIn(**{**data.__dict__, "price": "120.00"}), actor=office)
    assert Event.objects.filter(code="fsm.pricebook.item_updated").count() == 1


def test_deactivate_and_reactivate_are_quiet_when_repeated(office):
    item = make_pricebook_item()
    item_deactivate(item=item, actor=office)
    item_deactivate(item=item, actor=office)
    item.refresh_from_db()
    assert not item.active
    assert Event.objects.filter(code="fsm.pricebook.item_deactivated").count() == 1
    assert item_reactivate(item=item, actor=office).active


@pytest.mark.parametrize("role", ["dispatcher", "technician"])
def test_only_the_owner_and_the_office_edit_the_pricebook(role, request):
    user = request.getfixturevalue(role)
    with pytest.raises(Forbidden):
        item_create(data=ItemIn(code="X", name="X", price="1"), actor=user)
    item = make_pricebook_item()
    with pytest.raises(Forbidden):
        item_deactivate(item=item, actor=user)
