"""The dispatcher's board: technicians by hours of a day (and a week), the unassigned queue."""

from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from users.access import role_required
from users.models import User
from users.roles import Role

BOARD_HOURS = range(7, 19)


@role_required(Role.OWNER, Role.DISPATCHER)
def dispatch_board(request):
    business = request.business
    technicians = User.objects.filter(groups__name=Role.TECHNICIAN, is_active=True).order_by("first_name")
    context = {
        "today": timezone.localtime(timezone=business.tzinfo).date(),
        "technicians": technicians,
        "hours": [f"{(h - 1) % 12 + 1} {'AM' if h < 12 else 'PM'}" for h in BOARD_HOURS],
    }
    return render(request, "fsm/board.html", context)


urlpatterns = [
    path("dispatch/", dispatch_board, name="dispatch-board"),
]
