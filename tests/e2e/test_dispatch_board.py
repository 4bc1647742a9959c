"""The dispatch board in Chromium: drag a queued job onto a technician's row at a free time and it becomes
a visit block; drag another onto the same time and the conflict dialog names the overlap; Cancel saves
nothing and leaves the job in the queue."""

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from fsm import services
from fsm.models import Visit
from tests.e2e.conftest import login, screenshot
from tests.factories import PASSWORD, UserFactory
from tests.fsm.factories import JobTypeFactory, SkillFactory, at, make_job, make_technician
from users.roles import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
MONDAY = date(2030, 6, 3)
DASH = "\N{EN DASH}"


@pytest.fixture
def board_setup(e2e_business):
    dispatcher = UserFactory(username="dana", role=Role.DISPATCHER)
    hvac = SkillFactory(name="HVAC repair")
    ac_repair = JobTypeFactory(name="AC repair", default_duration_minutes=90, required_skill=hvac)
    tech = make_technician(skills=[hvac], first_name="Jake", last_name="Morrison")
    first = make_job(actor=dispatcher, job_type=ac_repair, priority="emergency")
    second = make_job(actor=dispatcher, job_type=ac_repair)
    return dispatcher, tech, first, second


def drag_to_time(page, item, track, minutes: int) -> None:
    """Drag with the mouse in steps, the way a person does, and drop at `minutes` past midnight."""
    grid = page.locator(".day-grid")
    first, span = int(grid.get_attribute("data-first-minute")), int(grid.get_attribute("data-span-minutes"))
    box, goal = item.bounding_box(), track.bounding_box()
    x = goal["x"] + (minutes - first) / span * goal["width"] + 2
    y = goal["y"] + goal["height"] / 2
    page.mouse.move(box["x"] + 30, box["y"] + 15)
    page.mouse.down()
    page.mouse.move(box["x"] + 45, box["y"] + 25, steps=4)
    page.mouse.move(x, y, steps=20)
    page.wait_for_timeout(100)
    page.mouse.move(x, y + 2, steps=2)
    page.mouse.up()


def test_a_queued_job_dragged_onto_a_free_time_is_scheduled_and_an_overlap_asks_first(
    page, live_server, board_setup, console
):
    dispatcher, tech, first, second = board_setup
    login(page, live_server, dispatcher.username, PASSWORD)
    page.goto(f"{live_server.url}/dispatch/?date={MONDAY}")
    track = page.locator(f'.dg-track[data-tech="{tech.pk}"]')
    expect(track).to_be_visible()
    expect(page.locator(".q-job")).to_have_count(2)

    drag_to_time(page, page.locator(f'.q-job[data-job="{first.pk}"]'), track, 10 * 60)
    expect(track.locator(".visit")).to_have_count(1)
    expect(track.locator(".visit")).to_contain_text(str(first))
    expect(page.locator(f'.q-job[data-job="{first.pk}"]')).to_have_count(0)
    expect(page.locator("#dispatch-message")).to_contain_text("scheduled")
    visit = Visit.objects.get(job=first)
    assert (visit.start, visit.end) == (at(MONDAY, 10), at(MONDAY, 11, 30))
    assert list(visit.technicians.all()) == [tech]
    screenshot(page, "dispatch-board-scheduled")

    drag_to_time(page, page.locator(f'.q-job[data-job="{second.pk}"]'), track, 10 * 60 + 30)
    dialog = page.locator("#conflict-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("overlaps another visit")
    expect(dialog.locator('li[data-code="overlap"]')).to_contain_text(f"already on {first}")
    expect(dialog.locator("#conflict-save")).to_have_text("Save anyway")
    screenshot(page, "dispatch-board-conflict")
    dialog.locator('button[value="cancel"]').click()

    expect(dialog).to_be_hidden()
    expect(page.locator("#dispatch-message")).to_contain_text("nothing was saved")
    expect(page.locator(f'.q-job[data-job="{second.pk}"]')).to_have_count(1)
    expect(track.locator(".visit")).to_have_count(1)
    assert not Visit.objects.filter(job=second).exists()
    assert console.csp_violations == [] and console.page_errors == []


def test_dragging_a_visit_to_another_technician_moves_it(page, live_server, board_setup):
    dispatcher, tech, first, _ = board_setup
    other = make_technician(skills=list(tech.technician.skills.all()), first_name="Luis", last_name="Herrera")
    visit = services.visit_schedule(
        job=first, start=at(MONDAY, 9), technicians=[tech], actor=dispatcher
    ).visit
    login(page, live_server, dispatcher.username, PASSWORD)
    page.goto(f"{live_server.url}/dispatch/?date={MONDAY}")
    block = page.locator(f'.visit[data-visit="{visit.pk}"]')
    target = page.locator(f'.dg-track[data-tech="{other.pk}"]')

    drag_to_time(page, block, target, 13 * 60)
    expect(target.locator(f'.visit[data-visit="{visit.pk}"]')).to_be_visible()
    visit.refresh_from_db()
    assert list(visit.technicians.all()) == [other]
    assert visit.end - visit.start == at(MONDAY, 10, 30) - at(MONDAY, 9), "the length is kept"


def _truncated(locator) -> bool:
    return locator.evaluate("el => el.scrollWidth > el.clientWidth || el.scrollHeight > el.clientHeight + 1")


def test_each_card_shows_what_fits_its_width_and_the_rest_on_hover_and_focus(page, live_server, board_setup):
    """At 1440 wide the technician's hours fill the board; a 90-minute visit shows customer, job type and
    arrival window in full; a 45-minute one its customer and job type; the peek tells the rest."""
    dispatcher, tech, long_job, short_job = board_setup
    long_visit, short_visit = (
        services.visit_schedule(
            job=job,
            start=at(MONDAY, hour),
            end=at(MONDAY, hour) + timedelta(minutes=minutes),
            arrival_window_start=at(MONDAY, hour - 1, 30),
            arrival_window_end=at(MONDAY, hour + 1, 30),
            technicians=[tech],
            actor=dispatcher,
            confirm=True,
        ).visit
        for job, hour, minutes in ((long_job, 9, 90), (short_job, 13, 45))
    )
    login(page, live_server, dispatcher.username, PASSWORD)
    page.goto(f"{live_server.url}/dispatch/?date={MONDAY}")
    scroller = page.locator("#board-scroll")
    assert scroller.evaluate("el => el.scrollWidth <= el.clientWidth"), "the hours fit the board's width"
    expect(page.locator(".dg-hours span").first).to_have_text("8 AM")

    wide = page.locator(f'.visit[data-visit="{long_visit.pk}"]')
    expect(wide.locator(".v-name")).to_have_text(long_job.customer.display_name)
    expect(wide.locator(".v-type")).to_have_text("AC repair")
    expect(wide.locator(".v-when")).to_contain_text(f"8:30a{DASH}10:30a")
    for line in (".v-name", ".v-type", ".v-when"):
        assert not _truncated(wide.locator(line)), f"{line} is cut on a 90-minute card"

    short = page.locator(f'.visit[data-visit="{short_visit.pk}"]')
    expect(short.locator(".v-name")).to_be_visible()
    expect(short.locator(".v-type")).to_be_visible()
    expect(short.locator(".v-when")).to_be_hidden()
    short.hover()
    peek = page.locator("#visit-peek")
    expect(peek).to_be_visible()
    for text in (
        short_job.customer.display_name,
        "AC repair",
        f"Arrive 12:30p{DASH}2:30p",
        str(short_job),
        "Scheduled",
    ):
        expect(peek).to_contain_text(text)
    screenshot(page, "dispatch-board-peek")

    page.mouse.move(5, 5)
    expect(peek).to_be_hidden()
    wide.focus()
    expect(peek).to_be_visible()
    expect(peek).to_contain_text(f"Arrive 8:30a{DASH}10:30a")
