from datetime import timedelta

import pytest
from django.http import Http404

from fsm import selectors, services
from fsm.models import Visit
from tests.factories import make_customer
from tests.fsm.conftest import MONDAY
from tests.fsm.factories import at, make_job, make_technician, schedule
from users.models import Business

pytestmark = pytest.mark.django_db


def add_visits(job, technicians, count: int) -> None:
    """`count` one-hour visits on Monday, round robin over the technicians (straight rows: fast)."""
    visits = Visit.objects.bulk_create(
        Visit(
            job=job,
            start=at(MONDAY, 7) + timedelta(minutes=10 * i),
            end=at(MONDAY, 8) + timedelta(minutes=10 * i),
        )
        for i in range(count)
    )
    Visit.technicians.through.objects.bulk_create(
        Visit.technicians.through(visit=v, user=technicians[i % len(technicians)])
        for i, v in enumerate(visits)
    )


@pytest.mark.parametrize("visit_count", [5, 50])
def test_the_board_takes_five_queries_whatever_the_number_of_visits(
    business, office, ac_repair, hvac, visit_count, django_assert_num_queries
):
    techs = [make_technician(skills=[hvac]) for _ in range(3)]
    jobs = [make_job(actor=office, job_type=ac_repair) for _ in range(2)]
    add_visits(jobs[0], techs, visit_count)
    make_job(actor=office, description="Queue")
    Business.current()
    with django_assert_num_queries(5):
        board = selectors.board_day(day=MONDAY)
        for visit in board.visits:
            assert visit.job.customer.display_name and visit.job.property.one_line
            assert [t.pk for t in visit.technicians.all()]
        assert [s.name for t in board.technicians for s in t.technician.skills.all()]
        assert [j.customer.display_name for j in board.queue]
    assert (
        len(board.visits) == visit_count and sum(len(v) for v in board.by_technician.values()) == visit_count
    )


def test_the_board_week_spans_seven_days_and_shows_visits_with_nobody_on_them(job, dispatcher, tech):
    lonely = schedule(job, start=at(MONDAY + timedelta(days=6), 9), technicians=[], actor=dispatcher)
    board = selectors.board_week(week_start=MONDAY)
    assert board.unassigned_visits == [lonely] and board.by_technician == {tech.pk: []}
    assert selectors.board_day(day=MONDAY).visits == []


def test_the_queue_puts_emergencies_first_then_the_oldest(office):
    normal_old = make_job(actor=office, description="a")
    high = make_job(actor=office, description="b", priority="high")
    emergency = make_job(actor=office, description="c", priority="emergency")
    normal_new = make_job(actor=office, description="d")
    assert list(selectors.unscheduled_queue()) == [emergency, high, normal_old, normal_new]


def test_my_day_lists_the_technicians_visits_in_order(office, ac_repair, tech, other_tech, dispatcher):
    afternoon = schedule(make_job(actor=office, job_type=ac_repair), start=at(MONDAY, 13), technicians=[tech])
    morning = schedule(make_job(actor=office, job_type=ac_repair), start=at(MONDAY, 9), technicians=[tech])
    schedule(make_job(actor=office, job_type=ac_repair), start=at(MONDAY, 9), technicians=[other_tech])
    canceled = schedule(make_job(actor=office, job_type=ac_repair), start=at(MONDAY, 15), technicians=[tech])
    services.visit_cancel(visit=canceled, actor=dispatcher)
    services.job_on_my_way(job=afternoon.job, actor=tech)
    day = selectors.my_day(technician=tech, day=MONDAY)
    assert day.visits == [morning, afternoon] and day.current == afternoon and day.shift is None


def test_a_technician_gets_404_for_a_job_they_are_not_on(job, visit, tech, other_tech, office, outsider):
    assert selectors.get_job_for_user(tech, job.pk) == job
    assert selectors.get_job_for_user(office, job.pk) == job
    for user in (other_tech, outsider):
        with pytest.raises(Http404):
            selectors.get_job_for_user(user, job.pk)
    with pytest.raises(Http404):
        selectors.get_job_for_user(office, "not-a-number")


def test_the_job_page_loads_in_a_fixed_number_of_queries(job, visit, tech, django_assert_max_num_queries):
    services.note_add(job=job, actor=tech, text="Note")
    with django_assert_max_num_queries(10):
        found = selectors.get_job_for_user(tech, job.pk)
        assert [v.technicians.all()[0] for v in found.visits.all()] == [tech]
        assert [n.author for n in found.notes.all()] == [tech]
        assert selectors.job_checklist(found)[0] == ("Check the filter", None)


def test_property_history_lists_every_job_newest_first_with_its_equipment(office, ac_repair, dispatcher):
    customer = make_customer()
    prop = customer.properties.get()
    older = services.job_create(customer=customer, property=prop, job_type=ac_repair, actor=office)
    newer = services.job_create(customer=customer, property=prop, description="Leak", actor=office)
    services.equipment_save(property=prop, actor=office, kind="Water heater", brand="Rheem")
    history = selectors.property_history(prop=prop)
    assert history.jobs == [newer, older] and [e.brand for e in history.equipment] == ["Rheem"]
