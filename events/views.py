from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from common.errors import ApplicationError
from users.access import role_required
from users.roles import STAFF_ROLES

from . import selectors, services
from .models import Delivery
from .services import EventError


@role_required(*STAFF_ROLES)
@require_http_methods(["GET"])
def exception_queue(request):
    deliveries = list(selectors.exception_queue()[:200])
    return render(request, "events/exceptions.html", {"deliveries": deliveries})


@role_required(*STAFF_ROLES)
@require_POST
def delivery_action(request, pk: int):
    """One form, two buttons told apart by name: retry or dismiss."""
    delivery = get_object_or_404(Delivery, pk=pk)
    action = request.POST.get("action")
    try:
        if action == "retry":
            services.delivery_retry(delivery=delivery, actor=request.user)
            messages.success(request, f"Retrying {delivery.subscriber} for {delivery.event.code}.")
        elif action == "dismiss":
            services.delivery_dismiss(delivery=delivery, actor=request.user)
            messages.success(request, f"Dismissed {delivery.subscriber} for {delivery.event.code}.")
        else:
            messages.error(request, "Choose Retry or Dismiss.")
    except (EventError, ApplicationError) as error:
        messages.error(request, str(error))
    return redirect("events:exceptions")
