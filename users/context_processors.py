from django.urls import reverse

from .models import Business
from .roles import NAVIGATION


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    business = getattr(request, "business", None) or Business.current()
    if not (user and user.is_authenticated):
        return {"business": business}
    path = request.path
    items = [
        {"label": label, "url": reverse(url_name), "active": False}
        for label, url_name, roles in NAVIGATION
        if user.has_role(*roles)
    ]
    matches = [item for item in items if path.startswith(item["url"]) and item["url"] != "/"]
    if matches:  # the most specific section wins (/leads/inbox/ is the inbox, not the pipeline)
        max(matches, key=lambda item: len(item["url"]))["active"] = True
    return {"nav_items": items, "business": business}
