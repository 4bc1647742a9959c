"""The dispatcher's board and the technician's day. Jobs and visits arrive with the FSM issue; until
then both pages show the real people and today's date in the business's time zone."""

from django.shortcuts import render
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


@role_required(Role.TECHNICIAN)
def my_day(request):
    now = timezone.localtime(timezone=request.business.tzinfo)
    greeting = "Good morning" if now.hour < 12 else "Good afternoon" if now.hour < 17 else "Good evening"
    return render(request, "fsm/my_day.html", {"now": now, "greeting": greeting})
