"""The demo pricebook: about 150 plumbing, HVAC and electrical items, seeded through the service, once."""

from decimal import Decimal

import pytest

from fsm.pricebook.demo import seed_pricebook
from fsm.pricebook.models import PricebookItem

pytestmark = pytest.mark.django_db


def test_the_demo_pricebook_has_every_kind_with_realistic_prices_and_seeds_once():
    added = seed_pricebook()
    assert 140 <= added <= 180
    assert set(PricebookItem.objects.values_list("kind", flat=True)) == {"service", "material", "equipment"}
    water_heater = PricebookItem.objects.get(code="WH-50G-GAS")
    assert water_heater.price == Decimal("1895.00") and water_heater.member_price < water_heater.price
    capacitor = PricebookItem.objects.get(code="M-CAP-4045")
    assert capacitor.markup_percent == Decimal("100.00") and capacitor.price == Decimal("37.00")
    assert not PricebookItem.objects.filter(price__lt=0).exists()
    assert seed_pricebook() == 0
    assert PricebookItem.objects.count() == added
