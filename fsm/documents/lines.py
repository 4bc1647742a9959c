"""Filling a document's line (estimate or invoice) from a pricebook item and what was typed, with the
money rules of common.money: ApplicationError naming the field at fault, nothing half-set."""

from dataclasses import dataclass
from decimal import Decimal

from common import money
from common.errors import ApplicationError

from ..pricebook.models import PricebookItem
from .models import PricedLine


@dataclass(frozen=True)
class LineIn:
    """A line as typed; what is left None comes from the pricebook item when there is one."""

    name: str = ""
    description: str | None = None
    quantity: object = "1"
    unit_price: object = None
    discount: object = "0"
    taxable: bool | None = None
    is_addon: bool = False
    unit: str | None = None


def line_fill(line: PricedLine, given: LineIn, item: PricebookItem | None) -> None:
    """Copy the pricebook item (a later price change never alters the document), then what was typed;
    then check the line and set its amount."""
    if item is not None:
        if not item.active:
            raise ApplicationError(f"{item.code} is no longer sold (inactive).", field="item")
        line.item = item
        line.code, line.name, line.description = item.code, item.name, item.description
        line.unit, line.unit_price, line.unit_cost, line.taxable = (
            item.unit,
            item.price,
            item.cost,
            item.taxable,
        )
    _set_text(line, given, typed_only=item is None)
    if given.unit_price is not None and str(given.unit_price).strip() != "":
        line.unit_price = money_field(given.unit_price, "unit_price")
    elif line.unit_price is None:
        raise ApplicationError("Give the price.", field="unit_price")
    line.quantity = quantity_field(given.quantity)
    line.discount = money_field(given.discount or "0", "discount")
    if given.taxable is not None:
        line.taxable = bool(given.taxable)
    if hasattr(line, "is_addon"):
        line.is_addon = bool(given.is_addon)
    problems = money.line_problems(line.as_line())
    if problems:
        field, text = next(iter(problems.items()))
        raise ApplicationError(text, field=field)
    line.amount = line.as_line().amount


def _set_text(line: PricedLine, given: LineIn, *, typed_only: bool) -> None:
    """Name, description and unit as typed; a blank one keeps the item's."""
    name = " ".join((given.name or "").split())
    if name:
        line.name = name[:200]
    if not line.name:
        raise ApplicationError("Describe the line, or pick a pricebook item.", field="name")
    if given.description is not None and (given.description.strip() or typed_only):
        line.description = given.description.strip()
    if given.unit is not None and given.unit.strip():
        line.unit = given.unit.strip()[:20]


def _copy_item(line: PricedLine, item: PricebookItem) -> None:
    if not item.active:
        raise ApplicationError(f"{item.code} is no longer sold (inactive).", field="item")
    line.item = item
    line.code, line.name, line.description = item.code, item.name, item.description
    line.unit, line.unit_price, line.unit_cost, line.taxable = item.unit, item.price, item.cost, item.taxable


def money_field(value, field: str, *, positive: bool = False) -> Decimal:
    """An amount typed into `field`: at most two decimals, not negative (more than zero if `positive`)."""
    try:
        amount = money.to_money(value)
    except money.MoneyError as error:
        raise ApplicationError(str(error), field=field) from None
    if amount < 0 or (positive and amount == 0):
        raise ApplicationError(
            "Give an amount more than zero." if positive else "It cannot be negative.", field=field
        )
    return amount


def quantity_field(value) -> Decimal:
    try:
        quantity = money.parse_decimal(value, places=2, what="quantity")
    except money.MoneyError as error:
        raise ApplicationError(str(error), field="quantity") from None
    if quantity <= 0:
        raise ApplicationError("The quantity must be more than zero.", field="quantity")
    return quantity
