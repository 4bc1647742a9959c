from django import template

from customers.selectors import phone_national

register = template.Library()


@register.filter
def short_duration(seconds) -> str:
    """42 -> '42s', 240 -> '4m', 3660 -> '1h 1m'."""
    if seconds is None:
        return ""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m {seconds % 60}s" if minutes < 5 and seconds % 60 else f"{minutes}m"
    return f"{minutes // 60}h {minutes % 60}m" if minutes % 60 else f"{minutes // 60}h"


@register.filter
def national(e164: str) -> str:
    """+15125550199 -> (512) 555-0199."""
    return phone_national(e164)
