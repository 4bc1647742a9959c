import random
import time

import pytest

from customers import demo as customers_demo
from fsm import demo
from fsm.models import Equipment, Job, TechnicianProfile
from users import demo as users_demo

pytestmark = pytest.mark.django_db


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
