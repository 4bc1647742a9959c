from django.urls import reverse

from .models import Business
from .roles import ACCOUNT_MENU, NAVIGATION, NAVIGATION_COUNTS, NAVIGATION_SECTIONS


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    business = getattr(request, "business", None) or Business.current()
    if not (user and user.is_authenticated):
        return {"business": business}
    path = request.path
    visible = [entry for entry in NAVIGATION if user.has_role(*entry[2])]
    items = [
        {
            "label": label,
            "url": reverse(url_name),
            "active": False,
            "account": url_name in ACCOUNT_MENU,
            "count_url": reverse(NAVIGATION_COUNTS[url_name]) if url_name in NAVIGATION_COUNTS else "",
        }
        for label, url_name, _ in visible
    ]
    prefixes = [  # (prefix, item): the item's own URL and the pages its hub leads to
        (prefix, item)
        for (_, url_name, _roles), item in zip(visible, items, strict=True)
        for prefix in (item["url"], *(reverse(name) for name in NAVIGATION_SECTIONS.get(url_name, ())))
    ]
    matches = [(prefix, item) for prefix, item in prefixes if path.startswith(prefix) and prefix != "/"]
    if matches:  # the most specific wins (/leads/inbox/ is the inbox, /leads/sources/ is marketing)
        max(matches, key=lambda match: len(match[0]))[1]["active"] = True
    return {
        "nav_items": [item for item in items if not item["account"]],
        "account_items": [item for item in items if item["account"]],
        "business": business,
    }
