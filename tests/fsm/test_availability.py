import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fsm.availability import open_slots
from fsm.models import FieldServiceSettings, Visit
from tests.fsm.conftest import MONDAY
from tests.fsm.factories import at, make_job, make_technician, schedule
from users.models import Business

pytestmark = pytest.mark.django_db
BEFORE = at(MONDAY - timedelta(days=7), 8)  # "now": a week earlier, so nothing is in the past
NEAR_78704 = (Decimal("30.242800"), Decimal("-97.765800"))
AT_78758 = (Decimal("30.376400"), Decimal("-97.707800"))


@pytest.fixture
def site(office, ac_repair):
    """A property at ZIP 78704's centre: 7 minutes from downtown, 25 from 78758 (x1.3 at 50 km/h)."""
    return make_job(actor=office, job_type=ac_repair, zip_code="78704").property


def starts(slots, tech=None) -> list[str]:
    return [f"{s.start:%H:%M}" for s in slots if tech is None or s.technician == tech]


def test_only_technicians_with_the_skill_are_offered(ac_repair, site, tech, plumbing):
    make_technician(skills=[plumbing])
    slots = open_slots(job_type=ac_repair, property=site, start_date=MONDAY, days=1, now=BEFORE)
    assert slots and {s.technician for s in slots} == {tech}


def test_slots_stay_inside_the_working_day_with_travel_from_home(ac_repair, site, tech):
    slots = open_slots(job_type=ac_repair, property=site, start_date=MONDAY, days=1, now=BEFORE)
    assert starts(slots) == ["08:30", "09:00", "09:30"] + [
        f"{h}:{m}" for h in range(10, 16) for m in ("00", "30")
    ]
    assert slots[-1].end == at(MONDAY, 17)
    assert slots[0].travel_minutes == 7 and slots[0].extra_travel_minutes == 7


def test_no_slots_on_a_day_off(ac_repair, site, tech):
    saturday = MONDAY + timedelta(days=5)
    assert open_slots(job_type=ac_repair, property=site, start_date=saturday, days=2, now=BEFORE) == []


def test_visits_and_the_travel_around_them_are_kept_free(office, ac_repair, site, tech, dispatcher):
    far_job = make_job(actor=office, job_type=ac_repair, zip_code="78758")
    schedule(far_job, start=at(MONDAY, 11), end=at(MONDAY, 13), technicians=[tech], actor=dispatcher)
    slots = open_slots(job_type=ac_repair, property=site, start_date=MONDAY, days=1, now=BEFORE)
    assert starts(slots) == ["08:30", "09:00", "13:30", "14:00", "14:30", "15:00", "15:30"]
    morning, afternoon = slots[0], slots[2]
    assert (morning.travel_minutes, morning.extra_travel_minutes) == (7, 7 + 25 - 19)
    assert (afternoon.travel_minutes, afternoon.extra_travel_minutes) == (25, 25)


def test_a_canceled_visit_frees_its_time(office, ac_repair, site, tech, dispatcher):
    from fsm.services import visit_cancel

    visit = schedule(
        make_job(actor=office, job_type=ac_repair),
        start=at(MONDAY, 8),
        end=at(MONDAY, 17),
        technicians=[tech],
    )
    assert open_slots(job_type=ac_repair, property=site, start_date=MONDAY, days=1, now=BEFORE) == []
    visit_cancel(visit=visit, actor=dispatcher)
    assert open_slots(job_type=ac_repair, property=site, start_date=MONDAY, days=1, now=BEFORE)


def test_travel_follows_the_settings(ac_repair, site, tech):
    rules = FieldServiceSettings.current()
    rules.average_speed_kmh = 25
    rules.save()
    slot = open_slots(job_type=ac_repair, property=site, start_date=MONDAY, days=1, now=BEFORE)[0]
    assert slot.travel_minutes == 13  # 3.87 km x 1.3 at 25 km/h


def test_earliest_start_ranks_first_then_the_least_extra_travel(ac_repair, site, hvac):
    near = make_technician(skills=[hvac], home=NEAR_78704)
    far = make_technician(skills=[hvac], home=AT_78758, working_hours={"mon": ["07:30", "17:00"]})
    slots = open_slots(job_type=ac_repair, property=site, start_date=MONDAY, days=1, now=BEFORE)
    assert [(s.technician, f"{s.start:%H:%M}") for s in slots[:3]] == [
        (near, "08:00"),
        (far, "08:00"),
        (near, "08:30"),
    ]
    assert (slots[0].extra_travel_minutes, slots[1].extra_travel_minutes) == (0, 25)


def test_starts_in_the_past_are_not_offered(ac_repair, site, tech):
    slots = open_slots(job_type=ac_repair, property=site, start_date=MONDAY, days=1, now=at(MONDAY, 12, 10))
    assert starts(slots)[0] == "12:30"


def test_limit_and_technician_filter(ac_repair, site, tech, other_tech):
    slots = open_slots(
        job_type=ac_repair,
        property=site,
        start_date=MONDAY,
        days=5,
        now=BEFORE,
        technicians=[other_tech],
        limit=3,
    )
    assert len(slots) == 3 and {s.technician for s in slots} == {other_tech}


def test_fifty_technicians_over_five_days_in_two_queries_and_under_100_ms(
    business, office, ac_repair, site, hvac
):
    techs = [make_technician(skills=[hvac], home=NEAR_78704 if i % 2 else AT_78758) for i in range(50)]
    job = make_job(actor=office, job_type=ac_repair, zip_code="78758")
    visits = Visit.objects.bulk_create(
        Visit(job=job, start=at(MONDAY + timedelta(days=d), h), end=at(MONDAY + timedelta(days=d), h + 1))
        for _ in techs
        for d in range(5)
        for h in (9, 14)
    )
    Visit.technicians.through.objects.bulk_create(
        Visit.technicians.through(visit=v, user=techs[i // 10]) for i, v in enumerate(visits)
    )
    FieldServiceSettings.current(), Business.current()  # cached, as in production
    with CaptureQueriesContext(connection) as queries:
        slots = open_slots(job_type=ac_repair, property=site, start_date=MONDAY, days=5, now=BEFORE)
    assert len(queries) == 2 and len(slots) > 1000
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        open_slots(job_type=ac_repair, property=site, start_date=MONDAY, days=5, now=BEFORE)
        timings.append(time.perf_counter() - started)
    assert min(timings) < 0.1, timings
