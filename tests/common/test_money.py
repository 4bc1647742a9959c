"""The money rules (common.money): exact decimals, half-up rounding, and the totals' invariants for any
mix of lines, discounts and tax rates (hypothesis)."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common import money
from common.templatetags import money as money_filter

cents = st.integers(min_value=0, max_value=500_000).map(lambda c: Decimal(c).scaleb(-2))
quantities = st.integers(min_value=1, max_value=10_000).map(lambda q: Decimal(q).scaleb(-2))
rates = st.sampled_from([Decimal("0"), Decimal("6.25"), Decimal("8.25"), Decimal("7.875"), Decimal("10.5")])


@st.composite
def lines(draw):
    quantity, price = draw(quantities), draw(cents)
    gross = money.round_money(quantity * price)
    discount = draw(st.integers(min_value=0, max_value=int(gross * 100)))
    return money.Line(
        quantity=quantity,
        unit_price=price,
        discount=Decimal(discount).scaleb(-2),
        taxable=draw(st.booleans()),
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(lines(), min_size=1, max_size=12), st.data(), rates)
def test_total_is_lines_minus_discount_plus_tax(items, data, rate):
    subtotal = sum((line.amount for line in items), Decimal("0.00"))
    discount = Decimal(data.draw(st.integers(min_value=0, max_value=int(subtotal * 100)))).scaleb(-2)
    result = money.totals(items, discount=discount, tax_percent=rate)
    assert result.subtotal == subtotal
    assert result.total == sum(result.line_amounts) - discount + result.tax
    assert result.tax == money.round_money(result.taxable * rate / 100)
    assert 0 <= result.taxable <= subtotal - discount + Decimal("0.01")
    for value in (result.subtotal, result.tax, result.total, *result.line_amounts):
        assert value == value.quantize(money.CENT)  # never more than two places
    assert result.total >= 0


@settings(max_examples=200, deadline=None)
@given(quantities, cents)
def test_a_line_rounds_half_up_after_quantity_times_price(quantity, price):
    exact = quantity * price
    line = money.Line(quantity=quantity, unit_price=price)
    assert abs(line.gross - exact) <= Decimal("0.005")
    assert line.gross == exact.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")


def test_half_a_cent_rounds_up():
    assert money.Line(quantity=Decimal("0.5"), unit_price=Decimal("0.01")).gross == Decimal("0.01")
    assert money.Line(quantity=Decimal("1.5"), unit_price=Decimal("0.05")).gross == Decimal("0.08")
    assert money.totals(
        [money.Line(quantity=Decimal(1), unit_price=Decimal("10.06"))], tax_percent=Decimal("8.25")
    ).tax == Decimal("0.83")


def test_the_discount_is_spread_over_taxable_and_untaxed_lines():
    labour = money.Line(quantity=Decimal(1), unit_price=Decimal("300.00"), taxable=False)
    part = money.Line(quantity=Decimal(1), unit_price=Decimal("100.00"))
    result = money.totals([labour, part], discount=Decimal("40.00"), tax_percent=Decimal("8.25"))
    assert result.taxable == Decimal("90.00")  # a quarter of the discount is on the taxable part
    assert result.tax == Decimal("7.43")  # 7.425 half up
    assert result.total == Decimal("367.43")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1.5, "not a float"),
        ("12.345", "more than 2 decimal places"),
        ("abc", "is not a number"),
        ("NaN", "is not a number"),
        ("99999999999", "too large"),
        (None, "missing"),
    ],
)
def test_bad_amounts_are_refused_with_a_reason(value, message):
    with pytest.raises(money.MoneyError, match=message):
        money.to_money(value)


def test_amounts_as_people_type_them():
    assert money.to_money("$1,234.5") == Decimal("1234.50")
    assert money.to_money("12.300") == Decimal("12.30")  # trailing zeros are not extra places
    assert money.to_money(7) == Decimal("7.00")


def test_line_problems_name_the_field():
    assert money.line_problems(money.Line(quantity=Decimal(0), unit_price=Decimal(1))) == {
        "quantity": "The quantity must be more than zero."
    }
    over = money.line_problems(money.Line(quantity=Decimal(1), unit_price=Decimal(10), discount=Decimal(11)))
    assert over == {"discount": "The discount is more than the line ($10.00)."}
    with pytest.raises(money.MoneyError, match="more than the subtotal"):
        money.totals([money.Line(quantity=Decimal(1), unit_price=Decimal(10))], discount=Decimal("10.01"))


def test_the_money_filter():
    assert money_filter(Decimal("1234.5")) == "$1,234.50"
    assert money_filter(Decimal("-12")) == "-$12.00"
    assert money_filter(None) == ""
