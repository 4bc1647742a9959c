"""What every public document page (estimate, invoice) shares: finding the document by its token,
the rate limit on guessing, and the headers that keep the page out of search engines and referrers."""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils import timezone

from common.ratelimit import rate_exceeded

from .models import PublicLink


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")  # behind a proxy, the proxy sets it (docs/channels)


def find_by_token(request, queryset, token: str) -> PublicLink:
    """The document whose link this is, open now; else 404, the same for a wrong, expired or revoked
    token (nothing tells them apart). Wrong guesses from one address are limited: past the limit every
    lookup from it is a 429 for the rest of the window."""
    key = f"public-doc-miss:{client_ip(request)}"
    document = queryset.filter(public_token=token).first() if 20 <= len(token) <= 64 else None
    if document is None or not document.public_link_open(timezone.now()):
        if rate_exceeded(key=key, rate=settings.PUBLIC_LINK_GUESS_RATE):
            raise TooManyGuesses
        raise Http404("No such page.")
    return document


class TooManyGuesses(Exception):
    """Past PUBLIC_LINK_GUESS_RATE wrong links from one address: public_document answers 429."""


def public_document(view: Callable) -> Callable:
    """Headers of every public document page; too many wrong tokens -> 429."""

    @wraps(view)
    def wrapper(request, *args, **kwargs) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except TooManyGuesses:
            response = HttpResponse("Too many attempts. Try again in a minute.", status=429)
        # The link's token never leaves in a Referer, not even to our own pages. Under no-referrer a
        # browser posts the page's forms with "Origin: null", so those POSTs (accept, decline, quote,
        # Pay) are csrf_exempt: the secret token in their URL is what a forger would need anyway.
        response["Referrer-Policy"] = "no-referrer"
        response["X-Robots-Tag"] = "noindex, nofollow"
        response["Cache-Control"] = "private, no-store"
        return response

    return wrapper
