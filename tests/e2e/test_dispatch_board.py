"""The dispatch board in Chromium: drag a queued job onto a technician's row at a free time and it becomes
a visit block; drag another onto the same time and the conflict dialog names the overlap; Cancel saves
nothing and leaves the job in the queue."""

from datetime import date

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
