from django.utils import timezone

from .models import Business


class BusinessTimezoneMiddleware:
    """Show every time in the business's time zone; keep the Business on the request for templates."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.business = Business.current()
        timezone.activate(request.business.tzinfo)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
