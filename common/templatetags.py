"""Template filters every app's pages use, registered as builtins (config/settings.py TEMPLATES)."""

from decimal import Decimal, InvalidOperation

from django import template

from . import money as money_rules

register = template.Library()


@register.filter
def money(value) -> str:
    """{{ invoice.total|money }} -> $1,234.50 ("" for None or a non-number)."""
    if value is None or value == "":
        return ""
    try:
        return money_rules.format_money(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return ""


@register.filter
def quantity(value) -> str:
    """2.00 -> 2, 1.50 -> 1.5: quantities without trailing zeros."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return ""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
