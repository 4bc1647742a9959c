"""Template filters for prices: {% load pricebook_tags %} then {{ item.price|money }} -> $1,895.00."""

from django import template

from common.money import format_money

register = template.Library()


@register.filter
def money(value) -> str:
    """$1,234.50, -$12.00; an empty string for None or an empty value."""
    if value in (None, ""):
        return ""
    return format_money(value)
