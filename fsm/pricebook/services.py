"""Writing the pricebook: create, change, deactivate and reactivate items (owner and office).

Every write path (the pages, the API, the CSV import, the demo seeder) calls these functions. Values
arrive as text or Decimal and are checked here, one rule set for all of them:

- code: required, unique whatever its case (WH-50G and wh-50g are the same item);
- price, cost, member price: money with at most two decimals (common.money), never negative;
- markup: when set, the price is the cost plus the markup, rounded half up to the cent, and a cost is
  required; blank means the price is set by hand;
- member price: never more than the price.

A refusal is an ApplicationError naming the field. Each change writes an activity row (fsm.pricebook.*).
"""

from dataclasses import dataclass, fields
from decimal import Decimal

from django.db import IntegrityError, transaction

from common.errors import ApplicationError
from common.money import MoneyError, parse_decimal, round_money
from events import services as events

from ..errors import Forbidden
from ..models import SETUP_ROLES
from .models import PricebookItem

MAX_MARKUP = Decimal("10000")
Kind = PricebookItem.Kind


def _limit(name: str) -> int:
    return PricebookItem._meta.get_field(name).max_length


@dataclass(frozen=True)
class ItemIn:
    """What a person or a file says about an item, before it is checked. Money may be text."""

    code: str
    name: str
    kind: str = Kind.SERVICE
    description: str = ""
    category: str = ""
    unit: str = "each"
    price: object = None
    cost: object = None
    markup_percent: object = None
    member_price: object = None
    taxable: bool = True

    @classmethod
    def of(cls, item: PricebookItem) -> "ItemIn":
        return cls(**{f.name: getattr(item, f.name) for f in fields(cls)})


def require_manager(actor) -> None:
    """Owner and office edit the pricebook; the system (actor None: the seeder) too."""
    if actor is not None and actor.is_authenticated and not actor.has_role(*SETUP_ROLES):
        raise Forbidden("Only the owner and the office edit the pricebook.")


def _text(value, field: str, *, required: bool = False, label: str = "") -> str:
    text = " ".join(str(value or "").split()) if field != "description" else str(value or "").strip()
    if required and not text:
        raise ApplicationError(f"Give the item's {label or field}.", field=field, code="required")
    limit = _limit(field)
    if limit and len(text) > limit:
        raise ApplicationError(f"At most {limit} characters.", field=field, code="too_long")
    return text


def money_in(value, field: str, *, label: str, required: bool = False) -> Decimal | None:
    """An amount from text or Decimal (at most two decimals, not negative), None when blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ApplicationError(f"Give the {label}.", field=field, code="required")
        return None
    try:
        amount = parse_decimal(value, places=2, what=label)
    except MoneyError as error:
        raise ApplicationError(str(error), field=field) from None
    if amount < 0:
        raise ApplicationError(f"The {label} cannot be negative.", field=field, code="negative")
    return amount


def _markup(value) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        percent = parse_decimal(str(value).strip().rstrip("%"), places=2, what="markup")
    except MoneyError as error:
        raise ApplicationError(str(error), field="markup_percent") from None
    if not Decimal(0) <= percent <= MAX_MARKUP:
        raise ApplicationError("The markup must be between 0 and 10,000 %.", field="markup_percent")
    return percent


def price_with_markup(cost: Decimal, markup_percent: Decimal) -> Decimal:
    """Cost plus markup, half up to the cent: $40.00 at 35 % is $54.00."""
    return round_money(cost * (1 + markup_percent / 100))


def item_values(data: ItemIn) -> dict:
    """The model's values from `data`, checked; ApplicationError naming the first field at fault.
    Pure (no database): the CSV import's preview checks each row with it."""
    if data.kind not in Kind.values:
        raise ApplicationError(
            f"Unknown kind {data.kind!r}: use service, material or equipment.", field="kind", code="invalid"
        )
    values = {
        "kind": data.kind,
        "code": _text(data.code, "code", required=True),
        "name": _text(data.name, "name", required=True),
        "description": _text(data.description, "description"),
        "category": _text(data.category, "category"),
        "unit": _text(data.unit, "unit") or "each",
        "taxable": bool(data.taxable),
    }
    cost = money_in(data.cost, "cost", label="cost") or Decimal("0.00")
    markup = _markup(data.markup_percent)
    if markup is not None:
        if cost <= 0:
            raise ApplicationError("A markup needs the cost it is added to.", field="cost", code="required")
        price = price_with_markup(cost, markup)
    else:
        price = money_in(data.price, "price", label="price", required=True)
    member_price = money_in(data.member_price, "member_price", label="member price")
    if member_price is not None and member_price > price:
        raise ApplicationError(
            "The member price cannot be more than the price.", field="member_price", code="too_high"
        )
    return values | {"cost": cost, "markup_percent": markup, "price": price, "member_price": member_price}


def code_taken(code: str, *, exclude_pk: int | None = None) -> bool:
    return PricebookItem.objects.filter(code__iexact=code).exclude(pk=exclude_pk).exists()


def _refuse_taken_code(code: str, exclude_pk: int | None = None) -> None:
    if code_taken(code, exclude_pk=exclude_pk):
        raise ApplicationError(
            f"Another item has the code {code} (codes are the same whatever their case).",
            field="code",
            code="duplicate",
        )


def _save(item: PricebookItem) -> None:
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:  # the same code saved by someone else a moment ago
        raise ApplicationError(
            f"Another item has the code {item.code}.", field="code", code="duplicate"
        ) from None


def _logged(value) -> object:
    return str(value) if isinstance(value, Decimal) else value


def item_create(*, data: ItemIn, actor) -> PricebookItem:
    """A new pricebook item (owner, office)."""
    require_manager(actor)
    values = item_values(data)
    with transaction.atomic():
        _refuse_taken_code(values["code"])
        item = PricebookItem(**values)
        _save(item)
        events.record(
            "fsm.pricebook.item_created",
            subject=item,
            actor=actor,
            summary=f"Pricebook item {item.code} {item.name} created",
            data={name: _logged(value) for name, value in values.items() if name != "description"},
        )
    return item


def item_update(*, item: PricebookItem, data: ItemIn, actor) -> PricebookItem:
    """Change an item (owner, office). Documents already written keep the values they copied."""
    require_manager(actor)
    values = item_values(data)
    with transaction.atomic():
        item = PricebookItem.objects.select_for_update().get(pk=item.pk)
        _refuse_taken_code(values["code"], exclude_pk=item.pk)
        changes = {
            name: [_logged(getattr(item, name)), _logged(value)]
            for name, value in values.items()
            if getattr(item, name) != value
        }
        if not changes:
            return item
        for name, value in values.items():
            setattr(item, name, value)
        _save(item)
        events.record(
            "fsm.pricebook.item_updated",
            subject=item,
            actor=actor,
            summary=f"Pricebook item {item.code} changed: {', '.join(sorted(changes))}",
            data={"code": item.code, "changes": changes},
        )
    return item


def item_changes(item: PricebookItem, data: ItemIn) -> list[str]:
    """The fields `data` would change on `item` (checked values), for the import's preview."""
    values = item_values(data)
    return [name for name, value in values.items() if getattr(item, name) != value]


def _set_active(item: PricebookItem, *, active: bool, actor) -> PricebookItem:
    require_manager(actor)
    with transaction.atomic():
        item = PricebookItem.objects.select_for_update().get(pk=item.pk)
        if item.active == active:
            return item
        item.active = active
        item.save(update_fields=["active", "updated_at"])
        verb = "reactivated" if active else "deactivated"
        events.record(
            f"fsm.pricebook.item_{verb}",
            subject=item,
            actor=actor,
            summary=f"Pricebook item {item.code} {verb}",
            data={"code": item.code},
        )
    return item


def item_deactivate(*, item: PricebookItem, actor) -> PricebookItem:
    """Hide an item from the line editors' search; documents that used it keep their lines."""
    return _set_active(item, active=False, actor=actor)


def item_reactivate(*, item: PricebookItem, actor) -> PricebookItem:
    return _set_active(item, active=True, actor=actor)
