"""Money: `Decimal` with two places, never float, rounded half up.

The rule for a document's totals (estimates' options, invoices, credit notes), in `totals`:

1. Each line: quantity x unit price, rounded half up to the cent, minus the line's discount (in money,
   at most the line's amount). Quantities have at most two decimals.
2. Subtotal: the sum of the lines. The whole-document discount (at most the subtotal) comes off it.
3. Tax: the discount is spread over taxable and non-taxable lines in proportion to their amounts; the
   taxable share (rounded half up) is the taxable subtotal, and the tax is that times the rate, rounded
   half up once for the document (not per line).
4. Total = subtotal - discount + tax.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("9999999999.99")  # what a DecimalField(max_digits=12, decimal_places=2) holds


class MoneyError(ValueError):
    """A value that is not an amount of money (or a quantity) the rules allow; the text is for people."""


def parse_decimal(value, *, places: int = 2, what: str = "amount") -> Decimal:
    """A Decimal from a str, int or Decimal with at most `places` decimals. Floats are refused: a float
    has no exact cents. MoneyError with a message for people otherwise."""
    if isinstance(value, float):
        raise MoneyError(f"The {what} must be given as text or a decimal, not a float.")
    if isinstance(value, bool) or value is None:
        raise MoneyError(f"The {what} is missing.")
    try:
        number = (
            Decimal(str(value).strip().replace(",", "").lstrip("$"))
            if not isinstance(value, Decimal)
            else value
        )
    except InvalidOperation:
        raise MoneyError(f"{value!r} is not a number.") from None
    if not number.is_finite():
        raise MoneyError(f"{value!r} is not a number.")
    if -number.as_tuple().exponent > places and number != number.quantize(Decimal(1).scaleb(-places)):
        raise MoneyError(f"The {what} has more than {places} decimal places.")
    if abs(number) > MAX_AMOUNT:
        raise MoneyError(f"The {what} is too large.")
    return number.quantize(Decimal(1).scaleb(-places))


def to_money(value) -> Decimal:
    """An amount of money: at most two decimals, returned with exactly two."""
    return parse_decimal(value, places=2, what="amount")


def round_money(value: Decimal) -> Decimal:
    """Half up to the cent (a computed amount: quantity x price, a share, a tax)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def percent_of(amount: Decimal, percent: Decimal) -> Decimal:
    return round_money(amount * percent / 100)


def format_money(value: Decimal | None, *, symbol: str = "$") -> str:
    """$1,234.50 and -$12.00; an empty string for None."""
    if value is None:
        return ""
    value = round_money(Decimal(value))
    sign = "-" if value < 0 else ""
    return f"{sign}{symbol}{abs(value):,.2f}"


@dataclass(frozen=True)
class Line:
    """One priced line: quantity > 0, unit price >= 0, a discount in money between 0 and the line."""

    quantity: Decimal
    unit_price: Decimal
    discount: Decimal = ZERO
    taxable: bool = True

    @property
    def gross(self) -> Decimal:
        return round_money(self.quantity * self.unit_price)

    @property
    def amount(self) -> Decimal:
        return self.gross - self.discount


def line_problems(line: Line) -> dict[str, str]:
    """The reasons a line breaks the rules, by field (empty when it is fine)."""
    problems = {}
    if line.quantity <= 0:
        problems["quantity"] = "The quantity must be more than zero."
    if line.unit_price < 0:
        problems["unit_price"] = "The price cannot be negative."
    if line.discount < 0:
        problems["discount"] = "The discount cannot be negative."
    elif line.quantity > 0 and line.unit_price >= 0 and line.discount > line.gross:
        problems["discount"] = f"The discount is more than the line ({format_money(line.gross)})."
    return problems


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    discount: Decimal
    taxable: Decimal
    tax_percent: Decimal
    tax: Decimal
    total: Decimal
    line_amounts: tuple[Decimal, ...]


def totals(lines: Iterable[Line], *, discount: Decimal = ZERO, tax_percent: Decimal | None = None) -> Totals:
    """The document's totals by the rule in this module's docstring. MoneyError when a line or the
    discount breaks the rules."""
    lines = list(lines)
    for line in lines:
        if problems := line_problems(line):
            raise MoneyError(" ".join(problems.values()))
    amounts = tuple(line.amount for line in lines)
    subtotal = sum(amounts, ZERO)
    if discount < 0:
        raise MoneyError("The discount cannot be negative.")
    if discount > subtotal:
        raise MoneyError(f"The discount is more than the subtotal ({format_money(subtotal)}).")
    taxable_sum = sum((a for a, line in zip(amounts, lines, strict=True) if line.taxable), ZERO)
    taxable_discount = round_money(discount * taxable_sum / subtotal) if subtotal else ZERO
    taxable = taxable_sum - taxable_discount
    percent = tax_percent or Decimal(0)
    tax = percent_of(taxable, percent)
    return Totals(
        subtotal=subtotal,
        discount=discount,
        taxable=taxable,
        tax_percent=percent,
        tax=tax,
        total=subtotal - discount + tax,
        line_amounts=amounts,
    )
