from django.urls import reverse

from .models import Business
from .roles import NAVIGATION


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    business = getattr(request, "business", None) or Business.current()
    if not (user and user.is_authenticated):
        return {"business": business}
    path = request.path
    items = []
    for label, url_name, roles in NAVIGATION:
        if user.has_role(*roles):
            url = reverse(url_name)
            items.append({"label": label, "url": url, "active": path.startswith(url) and url != "/"})
    return {"nav_items": items, "business": business}
