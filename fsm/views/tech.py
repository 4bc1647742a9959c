"""The technician's phone: my day, the job, the state buttons, notes, photos, signature, time."""

from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from users.access import role_required
from users.roles import Role


@role_required(Role.TECHNICIAN)
def my_day(request):
    now = timezone.localtime(timezone=request.business.tzinfo)
    greeting = "Good morning" if now.hour < 12 else "Good afternoon" if now.hour < 17 else "Good evening"
    return render(request, "fsm/my_day.html", {"now": now, "greeting": greeting})


urlpatterns = [
    path("my-day/", my_day, name="my-day"),
]
