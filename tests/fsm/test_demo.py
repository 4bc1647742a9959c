import random
import time

import pytest
import time_machine
from django.utils import timezone

from customers import demo as customers_demo
from fsm import demo
from fsm.models import Equipment, Job, TechnicianProfile, Visit
from users import demo as users_demo
from users.models import Business

pytestmark = pytest.mark.django_db


def _seed_all(rng):
    users_demo.seed(rng=rng, log=lambda *_: None, password="demo-pass-2026")
    customers_demo.seed(rng=rng, log=lambda *_: None, customers=60)
    demo.seed(rng=rng, log=lambda *_: None, password="demo-pass-2026")


@time_machine.travel("2026-11-18 11:10 -06:00", tick=False)  # a Wednesday morning in Austin
def test_the_demo_seeds_technicians_and_two_weeks_of_jobs_in_every_state():
    rng = random.Random(7)
    users_demo.seed(rng=rng, log=lambda *_: None, password="demo-pass-2026")
    customers_demo.seed(rng=rng, log=lambda *_: None, customers=60)
    started = time.perf_counter()
    demo.seed(rng=rng, log=lambda *_: None, password="demo-pass-2026")
    assert time.perf_counter() - started < 30
    assert TechnicianProfile.objects.count() == 8
    assert TechnicianProfile.objects.filter(user__username="tech1", skills__name="HVAC repair").exists()
    states = set(Job.objects.values_list("state", flat=True))
    assert {"completed", "scheduled", "dispatched", "unscheduled", "on_hold", "canceled"} <= states
    assert states & {"on_site", "en_route"}, "today's work is under way"
    assert Equipment.objects.exists()


@time_machine.travel("2026-11-18 01:20 -06:00", tick=False)  # loaded in the middle of the night
def test_loaded_at_night_today_s_visits_are_inside_the_working_day_and_ahead():
    _seed_all(random.Random(7))
    tz = Business.current().tzinfo
    today = timezone.localdate(timezone=tz)
    todays = Visit.objects.filter(start__date__gte=today, start__date__lte=today)
    starts = [
        timezone.localtime(v.start, tz) for v in todays if timezone.localtime(v.start, tz).date() == today
    ]
    assert starts and all(7 <= start.hour < 19 for start in starts)
    assert not Job.objects.filter(state__in=["on_site", "en_route"]).exists()


@time_machine.travel("2026-11-22 11:00 -06:00", tick=False)  # a Sunday: only the weekend crew works
def test_on_a_sunday_only_the_technicians_who_work_sundays_have_visits_today():
    _seed_all(random.Random(7))
    tz = Business.current().tzinfo
    today = timezone.localdate(timezone=tz)
    working = {p.user_id for p in TechnicianProfile.objects.all() if p.working_hours.get("sun")}
    on_today = {
        tech.pk
        for visit in Visit.objects.prefetch_related("technicians")
        if timezone.localtime(visit.start, tz).date() == today
        for tech in visit.technicians.all()
    }
    assert working and on_today and on_today <= working
