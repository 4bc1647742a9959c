"""The dispatch board's pages and endpoints: what it shows, drops that schedule / move / resize through
fsm.services, the dry run and its conflicts, bad input, who may use it, the live refresh, query counts."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from events.models import Event
from fsm import board, services
from fsm.models import Job, Visit
from tests.fsm.conftest import MONDAY
from tests.fsm.factories import at, make_job, make_technician, schedule
from tests.fsm.test_selectors import add_visits

pytestmark = pytest.mark.django_db
BOARD = "/dispatch/"
TUESDAY = MONDAY + timedelta(days=1)
SUNDAY_BEFORE = MONDAY - timedelta(days=1)


@pytest.fixture
def as_dispatcher(client_for, dispatcher, business) -> Client:
    return client_for(dispatcher)


@pytest.fixture
def queued(office, ac_repair):
    """A second AC repair job, waiting in the queue."""
    return make_job(actor=office, job_type=ac_repair, priority="high")


def local(day, hour, minute=0) -> str:
    """The time as the board sends it: business time, no offset."""
    return f"{day:%Y-%m-%d}T{hour:02d}:{minute:02d}"


def board_at(moment, client_for, user, url=BOARD, **params):
    """GET `url` at `moment`, logged in then (a session from today has expired by 2030)."""
    with time_machine.travel(moment, tick=False):
        return client_for(user).get(url, params, HTTP_HX_REQUEST="true").content.decode()


def stamp_of(page: str) -> str:
    return page.split('data-stamp="', 1)[1].split('"', 1)[0]


def codes(body) -> list[str]:
    return [c["code"] for c in body["conflicts"]]


# --- What the board shows ---------------------------------------------------------------------------


def test_the_day_view_shows_each_technician_their_visits_and_the_queue(as_dispatcher, tech, visit, queued):
    page = as_dispatcher.get(BOARD, {"date": MONDAY.isoformat()}).content.decode()
    assert tech.get_full_name() in page
    assert f'data-visit="{visit.pk}"' in page and str(visit.job) in page
    assert f'data-tech="{tech.pk}"' in page
    assert f'data-job="{queued.pk}"' in page and "High" in page
    assert "at-h1 at-m0" in page, "9:00 on a board from 8 AM (the technician's day): one hour in"


def test_the_week_view_shows_seven_days_with_chips_on_the_right_day(as_dispatcher, tech, visit):
    page = as_dispatcher.get(BOARD, {"date": TUESDAY.isoformat(), "view": "week"}).content.decode()
    assert page.count('class="wg-day') == 7
    assert f'data-date="{MONDAY:%Y-%m-%d}"' in page, "the week starts on Monday"
    assert 'class="chip tone-scheduled' in page and f'data-visit="{visit.pk}"' in page
    assert 'data-start="540"' in page, "the chip keeps its time of day (9:00) for a drag to another day"


def test_an_htmx_request_gets_the_board_region_only(as_dispatcher, tech):
    response = as_dispatcher.get(BOARD, {"date": MONDAY.isoformat()}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="board-region"') and "<html" not in page


def test_an_unreadable_date_or_filter_shows_today_unfiltered(as_dispatcher, tech):
    response = as_dispatcher.get(BOARD, {"date": "next tuesday", "skill": "x", "state": "bogus"})
    assert response.status_code == 200


def test_a_late_visit_is_highlighted_and_counted(client_for, dispatcher, business, tech, visit):
    """Past the end of the arrival window and nobody on the way: late."""
    visit.arrival_window_start, visit.arrival_window_end = at(MONDAY, 8, 30), at(MONDAY, 10)
    visit.save()
    page = board_at(at(MONDAY, 10, 30), client_for, dispatcher)
    assert "visit tone-late" in page and 'data-count="late"><strong>1</strong>' in page


def test_a_visit_on_the_way_is_not_late(client_for, dispatcher, business, tech, visit):
    visit.arrival_window_start, visit.arrival_window_end = at(MONDAY, 8, 30), at(MONDAY, 10)
    visit.depart()  # the state moves only through its transitions
    visit.save()
    page = board_at(at(MONDAY, 10, 30), client_for, dispatcher)
    assert "visit tone-late" not in page and 'data-count="en_route"><strong>1</strong>' in page


def test_the_skill_filter_keeps_technicians_with_the_skill_and_jobs_needing_it(
    as_dispatcher, tech, plumbing, queued, office
):
    plumber = make_technician(skills=[plumbing], first_name="Pat")
    page = as_dispatcher.get(BOARD, {"date": MONDAY.isoformat(), "skill": plumbing.pk}).content.decode()
    assert f'data-tech="{plumber.pk}"' in page and f'data-tech="{tech.pk}"' not in page
    assert f'data-job="{queued.pk}"' not in page, "an AC repair needs HVAC, not plumbing"


def test_the_state_filter_keeps_only_visits_in_that_state(as_dispatcher, tech, visit, office, ac_repair):
    other = schedule(make_job(actor=office, job_type=ac_repair), start=at(MONDAY, 13), technicians=[tech])
    Visit.objects.filter(pk=other.pk).update(state=Visit.State.ON_SITE)
    page = as_dispatcher.get(BOARD, {"date": MONDAY.isoformat(), "state": "on_site"}).content.decode()
    assert f'data-visit="{other.pk}"' in page and f'data-visit="{visit.pk}"' not in page


def test_the_detail_panel_links_to_the_job_page(as_dispatcher, visit, queued):
    panel = as_dispatcher.get(f"/dispatch/visits/{visit.pk}/").content.decode()
    assert f'href="/jobs/{visit.job_id}/"' in panel and visit.job.customer.display_name in panel
    panel = as_dispatcher.get(f"/dispatch/jobs/{queued.pk}/").content.decode()
    assert f'href="/jobs/{queued.pk}/"' in panel and f"/dispatch/jobs/{queued.pk}/suggest/" in panel


def test_suggest_offers_open_slots_of_technicians_with_the_skill(
    client_for, dispatcher, business, tech, queued, plumbing
):
    plumber = make_technician(skills=[plumbing], first_name="Pat")
    panel = board_at(at(SUNDAY_BEFORE, 12), client_for, dispatcher, f"/dispatch/jobs/{queued.pk}/suggest/")
    assert panel.count("data-book") == 4, "the best slot of each working day of the five from Sunday"
    assert f'data-technician="{tech.pk}"' in panel and f'data-technician="{plumber.pk}"' not in panel
    assert 'data-start="2030-06-03T08:30:00-05:00"' in panel, "Monday 8:00 + 7 minutes from home, on the grid"


def test_suggest_asks_for_a_job_type_first(as_dispatcher, office, tech):
    untyped = make_job(actor=office)
    panel = as_dispatcher.get(f"/dispatch/jobs/{untyped.pk}/suggest/").content.decode()
    assert "job type first" in panel and "data-book" not in panel


# --- Drops --------------------------------------------------------------------------------------------


def test_dropping_a_queued_job_on_a_technician_schedules_it(as_dispatcher, tech, queued):
    response = as_dispatcher.post(
        "/dispatch/schedule/", {"job": queued.pk, "technician": tech.pk, "start": local(MONDAY, 9, 15)}
    )
    assert response.status_code == 200, response.content
    visit = Visit.objects.get(job=queued)
    assert (visit.start, visit.end) == (at(MONDAY, 9, 15), at(MONDAY, 10, 45)), "the job type's 90 minutes"
    assert list(visit.technicians.all()) == [tech]
    assert Job.objects.get(pk=queued.pk).state == Job.State.SCHEDULED
    assert Event.objects.filter(milestone="job.scheduled", data__job_id=queued.pk).exists()
    assert response.json()["visit_id"] == visit.pk and response.json()["warnings"] == []


def test_the_dry_run_names_the_overlap_and_saves_nothing(as_dispatcher, tech, visit, queued):
    response = as_dispatcher.post(
        "/dispatch/check/", {"job": queued.pk, "technician": tech.pk, "start": local(MONDAY, 10)}
    )
    body = response.json()
    assert response.status_code == 200 and body["blocking"] is True
    assert codes(body) == ["overlap"] and str(visit.job) in body["conflicts"][0]["message"]
    assert not Visit.objects.filter(job=queued).exists()


def test_the_dry_run_of_a_free_slot_has_nothing_to_say(as_dispatcher, tech, visit, queued):
    body = as_dispatcher.post(
        "/dispatch/check/", {"job": queued.pk, "technician": tech.pk, "start": local(MONDAY, 13)}
    ).json()
    assert body == {"conflicts": [], "blocking": False}


def test_an_overlap_is_refused_with_409_and_its_conflicts(as_dispatcher, tech, visit, queued):
    response = as_dispatcher.post(
        "/dispatch/schedule/", {"job": queued.pk, "technician": tech.pk, "start": local(MONDAY, 10)}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "conflict" and codes(response.json()) == ["overlap"]
    assert not Visit.objects.filter(job=queued).exists()


def test_save_anyway_saves_the_overlap(as_dispatcher, tech, visit, queued):
    response = as_dispatcher.post(
        "/dispatch/schedule/",
        {"job": queued.pk, "technician": tech.pk, "start": local(MONDAY, 10), "confirm": "1"},
    )
    assert response.status_code == 200
    assert [w["code"] for w in response.json()["warnings"]] == ["overlap"]
    assert Visit.objects.filter(job=queued).count() == 1


def test_warnings_are_returned_and_do_not_block(as_dispatcher, queued, plumbing, dispatcher):
    plumber = make_technician(skills=[plumbing])
    response = as_dispatcher.post(
        "/dispatch/schedule/", {"job": queued.pk, "technician": plumber.pk, "start": local(MONDAY, 16)}
    )
    assert response.status_code == 200
    assert {w["code"] for w in response.json()["warnings"]} == {"missing_skill", "outside_hours"}


def test_the_dry_run_of_a_move_ignores_the_visit_itself_and_checks_the_arrival_window(
    as_dispatcher, tech, visit
):
    Visit.objects.filter(pk=visit.pk).update(
        arrival_window_start=at(MONDAY, 8), arrival_window_end=at(MONDAY, 10)
    )
    body = as_dispatcher.post(
        "/dispatch/check/",
        {
            "visit": visit.pk,
            "technician": tech.pk,
            "from_technician": tech.pk,
            "start": local(MONDAY, 10, 30),
        },
    ).json()
    assert codes(body) == ["arrival_missed"] and body["blocking"] is False


def test_dragging_a_visit_to_another_technician_and_time_moves_it(as_dispatcher, tech, other_tech, visit):
    response = as_dispatcher.post(
        "/dispatch/move/",
        {
            "visit": visit.pk,
            "start": local(TUESDAY, 13),
            "minutes": 90,
            "technician": other_tech.pk,
            "from_technician": tech.pk,
        },
    )
    assert response.status_code == 200, response.content
    visit.refresh_from_db()
    assert (visit.start, visit.end) == (at(TUESDAY, 13), at(TUESDAY, 14, 30))
    assert list(visit.technicians.all()) == [other_tech], "the row it lands on replaces the row it left"
    assert Event.objects.filter(code="fsm.visit.moved").count() == 1


def test_moving_one_of_a_crew_keeps_the_others(as_dispatcher, tech, other_tech, job, dispatcher, hvac):
    third = make_technician(skills=[hvac])
    pair = schedule(job, start=at(MONDAY, 9), technicians=[tech, other_tech], actor=dispatcher)
    as_dispatcher.post(
        "/dispatch/move/",
        {"visit": pair.pk, "start": local(MONDAY, 9), "technician": third.pk, "from_technician": tech.pk},
    )
    assert set(pair.technicians.all()) == {other_tech, third}


def test_resizing_changes_the_end_only(as_dispatcher, tech, visit):
    response = as_dispatcher.post(
        "/dispatch/move/",
        {
            "visit": visit.pk,
            "start": local(MONDAY, 9),
            "minutes": 150,
            "technician": tech.pk,
            "from_technician": tech.pk,
        },
    )
    assert response.status_code == 200
    visit.refresh_from_db()
    assert (visit.start, visit.end) == (at(MONDAY, 9), at(MONDAY, 11, 30))
    assert list(visit.technicians.all()) == [tech]


def test_a_move_onto_another_visit_is_refused_unless_confirmed(
    as_dispatcher, tech, visit, queued, dispatcher
):
    other = schedule(queued, start=at(MONDAY, 13), technicians=[tech], actor=dispatcher)
    fields = {
        "visit": other.pk,
        "start": local(MONDAY, 9, 30),
        "technician": tech.pk,
        "from_technician": tech.pk,
    }
    assert as_dispatcher.post("/dispatch/move/", fields).status_code == 409
    assert Visit.objects.get(pk=other.pk).start == at(MONDAY, 13)
    assert as_dispatcher.post("/dispatch/move/", {**fields, "confirm": "1"}).status_code == 200
    assert Visit.objects.get(pk=other.pk).start == at(MONDAY, 9, 30)


def test_a_completed_visit_cannot_be_moved(as_dispatcher, tech, visit):
    Visit.objects.filter(pk=visit.pk).update(state=Visit.State.COMPLETED)
    response = as_dispatcher.post("/dispatch/move/", {"visit": visit.pk, "start": local(MONDAY, 13)})
    assert response.status_code == 400 and "cannot be moved" in response.json()["detail"]


@pytest.mark.parametrize(
    ("url", "fields", "message"),
    [
        (
            "/dispatch/schedule/",
            {"technician": "TECH", "start": "2030-06-03T09:00"},
            "This field is required",
        ),
        ("/dispatch/schedule/", {"job": "JOB", "technician": "TECH"}, "Start"),
        ("/dispatch/schedule/", {"job": "JOB", "technician": "TECH", "start": "Monday at nine"}, "Start"),
        (
            "/dispatch/schedule/",
            {"job": "999999", "technician": "TECH", "start": "2030-06-03T09:00"},
            "exist",
        ),
        (
            "/dispatch/schedule/",
            {"job": "JOB", "technician": "999999", "start": "2030-06-03T09:00"},
            "technicians",
        ),
        (
            "/dispatch/schedule/",
            {"job": "JOB", "technician": "TECH", "start": "2030-06-03T09:00", "minutes": "0"},
            "Length",
        ),
        ("/dispatch/move/", {"visit": "abc", "start": "2030-06-03T09:00"}, "does not exist"),
        ("/dispatch/check/", {"start": "2030-06-03T09:00", "technician": "TECH"}, "which job or which visit"),
        (
            "/dispatch/check/",
            {"job": "JOB", "start": "2030-06-03T09:00", "technician": "DISPATCHER"},
            "technicians",
        ),
    ],
)
def test_bad_input_is_answered_400_with_the_message(
    as_dispatcher, tech, queued, dispatcher, url, fields, message
):
    ids = {"JOB": str(queued.pk), "TECH": str(tech.pk), "DISPATCHER": str(dispatcher.pk)}
    response = as_dispatcher.post(url, {k: ids.get(v, v) for k, v in fields.items()})
    assert response.status_code == 400, response.content
    assert message in response.json()["detail"]
    assert not Visit.objects.filter(job=queued).exists()


def test_a_drop_without_the_csrf_token_is_refused(dispatcher, business, tech, queued):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(dispatcher, backend="django.contrib.auth.backends.ModelBackend")
    response = strict.post(
        "/dispatch/schedule/", {"job": queued.pk, "technician": tech.pk, "start": local(MONDAY, 9)}
    )
    assert response.status_code == 403 and not Visit.objects.filter(job=queued).exists()


# --- Who may use it -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "office", "dispatcher"])
def test_the_office_roles_use_the_board(role, personas, client_for, business, tech, queued):
    client = client_for(personas[role])
    assert client.get(BOARD).status_code == 200
    response = client.post(
        "/dispatch/schedule/", {"job": queued.pk, "technician": tech.pk, "start": local(MONDAY, 9)}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/dispatch/"),
        ("get", "/dispatch/changes/"),
        ("get", "/dispatch/visits/VISIT/"),
        ("get", "/dispatch/jobs/JOB/"),
        ("get", "/dispatch/jobs/JOB/suggest/"),
        ("post", "/dispatch/check/"),
        ("post", "/dispatch/schedule/"),
        ("post", "/dispatch/move/"),
    ],
)
def test_a_technician_cannot_use_the_board(method, url, client_for, technician, business, visit, queued):
    """Even on their own visit: the board is the office's."""
    client = client_for(technician)
    url = url.replace("VISIT", str(visit.pk)).replace("JOB", str(queued.pk))
    fields = {"job": queued.pk, "visit": visit.pk, "technician": technician.pk, "start": local(MONDAY, 13)}
    response = getattr(client, method)(url, fields if method == "post" else None)
    assert response.status_code == 403
    assert (
        Visit.objects.get(pk=visit.pk).start == at(MONDAY, 9)
        and not Visit.objects.filter(job=queued).exists()
    )


# --- The live refresh ---------------------------------------------------------------------------------


def test_the_live_refresh_answers_204_until_something_changes(as_dispatcher, tech, visit, dispatcher):
    page = as_dispatcher.get(BOARD, {"date": MONDAY.isoformat()}, HTTP_HX_REQUEST="true").content.decode()
    poll = {"date": MONDAY.isoformat(), "since": stamp_of(page)}
    assert as_dispatcher.get("/dispatch/changes/", poll).status_code == 204
    services.visit_move(visit=visit, start=at(MONDAY, 11), end=at(MONDAY, 12), actor=dispatcher)
    response = as_dispatcher.get("/dispatch/changes/", poll)
    assert response.status_code == 200 and 'id="board-region"' in response.content.decode()
    assert 'data-start="660"' in response.content.decode(), "the visit at its new time"


def test_the_live_refresh_redraws_every_five_minutes_for_late_visits(client_for, dispatcher, business, tech):
    stamp = stamp_of(board_at(at(MONDAY, 8), client_for, dispatcher))
    assert board_at(at(MONDAY, 8, 4), client_for, dispatcher, "/dispatch/changes/", since=stamp) == ""
    assert 'id="board-region"' in board_at(
        at(MONDAY, 8, 5), client_for, dispatcher, "/dispatch/changes/", since=stamp
    )


# --- Query counts -------------------------------------------------------------------------------------

# session, user, the user's groups; the board's five (technicians, their skills, visits, crews, queue);
# today's counts; the change stamp
DAY_VIEW_QUERIES = WEEK_VIEW_QUERIES = 10


@pytest.mark.parametrize("visit_count", [5, 50])
@pytest.mark.parametrize(("view", "queries"), [("day", DAY_VIEW_QUERIES), ("week", WEEK_VIEW_QUERIES)])
def test_the_board_takes_the_same_queries_whatever_the_number_of_visits(
    as_dispatcher, hvac, office, ac_repair, visit_count, view, queries, django_assert_num_queries
):
    techs = [make_technician(skills=[hvac]) for _ in range(5)]
    add_visits(make_job(actor=office, job_type=ac_repair), techs, visit_count)
    for _ in range(3):
        make_job(actor=office, job_type=ac_repair)
    as_dispatcher.get(BOARD)  # warm the cached business and settings
    with django_assert_num_queries(queries):
        response = as_dispatcher.get(
            BOARD, {"date": MONDAY.isoformat(), "view": view if view == "week" else ""}
        )
    assert response.content.decode().count("data-visit=") == visit_count


def test_the_live_refresh_takes_four_queries_when_nothing_changed(as_dispatcher, tech, visit):
    stamp = stamp_of(as_dispatcher.get(BOARD, HTTP_HX_REQUEST="true").content.decode())
    with CaptureQueriesContext(connection) as ctx:
        assert as_dispatcher.get("/dispatch/changes/", {"since": stamp}).status_code == 204
    assert len(ctx.captured_queries) == 4, [q["sql"][:80] for q in ctx.captured_queries]


# --- Layout (fsm.board) -------------------------------------------------------------------------------


def test_overlapping_visits_are_drawn_on_separate_lanes(business, tech, visit, office, ac_repair, dispatcher):
    schedule(make_job(actor=office, job_type=ac_repair), start=at(MONDAY, 10), technicians=[tech])
    row = board.day_board(board.board_read(day=MONDAY), day=MONDAY, now=at(MONDAY, 7)).rows[0]
    assert row.lanes == 2 and [b.lane for b in row.blocks] == [0, 1]


def test_the_day_shows_the_working_hours_so_they_get_the_boards_width(business, tech, dispatcher):
    day = board.day_board(board.board_read(day=MONDAY), day=MONDAY, now=at(MONDAY, 7))
    assert (day.first_hour, day.last_hour) == (8, 17), "the technician works 8 to 5"
    sunday = MONDAY - timedelta(days=1)
    day = board.day_board(board.board_read(day=sunday), day=sunday, now=at(sunday, 7))
    assert (day.first_hour, day.last_hour) == (7, 19), "nobody works, nothing booked: 7 AM to 7 PM"


def test_an_early_visit_widens_the_day_shown(business, tech, job, dispatcher):
    schedule(job, start=at(MONDAY, 5, 30), technicians=[tech])
    day = board.day_board(board.board_read(day=MONDAY), day=MONDAY, now=at(MONDAY, 7))
    assert (day.first_hour, day.last_hour) == (5, 17) and day.hours[0] == "5 AM"
    assert day.rows[0].blocks[0].place == "at-h0 at-m6 len-h1 len-m6", "5:30, 90 minutes"


def test_the_week_view_offers_the_free_gaps_of_each_working_day(business, tech, visit):
    week = board.week_board(board.board_read(day=MONDAY, days=7), week_start=MONDAY, now=at(MONDAY, 7))
    monday, saturday = week.rows[0].cells[0], week.rows[0].cells[5]
    assert monday.free == "480-540 630-1020", "8:00-9:00 and 10:30-17:00 around the visit"
    assert saturday.off and saturday.free == ""


def test_the_queue_shows_priority_then_age_and_how_long_each_waited(business, office, ac_repair, tech):
    with time_machine.travel(at(MONDAY, 8), tick=False):
        older = make_job(actor=office, job_type=ac_repair)
    with time_machine.travel(at(MONDAY, 9), tick=False):
        urgent = make_job(actor=office, job_type=ac_repair, priority="emergency")
    queued = board.queue(board.board_read(day=MONDAY), now=at(MONDAY, 11))
    assert [q.job for q in queued] == [urgent, older]
    assert [q.age for q in queued] == ["2h", "3h"] and queued[0].length_label == "90 min"
