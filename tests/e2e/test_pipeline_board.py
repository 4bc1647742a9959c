"""The pipeline board in Chromium: drag a lead across columns; a move the state machine refuses snaps back."""

import pytest
from playwright.sync_api import expect

from crm.models import Lead, Source
from crm.services import LeadIn, lead_capture
from tests.e2e.conftest import login, screenshot, screenshot_both
from tests.factories import PASSWORD, UserFactory
from users.roles import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def board_setup(e2e_business):
    office = UserFactory(username="maria", role=Role.OFFICE)
    # Two leads nobody has answered yet: no instant reply from this source (in the business's day it
    # would answer at once and the clock would stop; at night quiet hours would hold it).
    source = Source.objects.create(
        name="Website", slug="website", kind=Source.Kind.WEB_FORM, instant_reply_enabled=False
    )
    leads = [
        lead_capture(source=source, contact=LeadIn(name=name, phone=phone, service="AC repair")).lead
        for name, phone in (("Ana Ruiz", "512-555-0199"), ("Walt Jones", "512-555-0142"))
    ]
    return office, leads


def drag(page, card, target):
    """Drag with the mouse, in steps, the way a person does (SortableJS runs in fallback mode); linger
    over the target so a busy machine has time to notice where the card is."""
    box, goal = card.bounding_box(), target.bounding_box()
    x, y = goal["x"] + goal["width"] / 2, goal["y"] + min(40, goal["height"] / 2)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 10, box["y"] + 30, steps=5)
    page.mouse.move(x, y, steps=25)
    for dx in (3, -3, 0):
        page.wait_for_timeout(80)
        page.mouse.move(x + dx, y + 2, steps=2)
    page.mouse.up()


def test_dragging_a_lead_to_contacted_moves_it_and_a_refused_move_snaps_back(page, live_server, board_setup):
    office, (ana, walt) = board_setup
    login(page, live_server, office.username, PASSWORD)
    page.goto(live_server.url + "/leads/")
    expect(page.locator(f'[data-lead="{ana.pk}"] .clock')).to_contain_text("waiting")
    screenshot_both(page, "pipeline-board")

    drag(page, page.locator(f'[data-lead="{ana.pk}"]'), page.locator('.column-cards[data-state="contacted"]'))
    expect(page.locator(f'.column-cards[data-state="contacted"] [data-lead="{ana.pk}"]')).to_be_visible()
    expect(page.locator('[data-count="contacted"]')).to_have_text("1")
    assert Lead.objects.get(pk=ana.pk).state == "contacted"

    drag(page, page.locator(f'[data-lead="{walt.pk}"]'), page.locator('.column-cards[data-state="won"]'))
    expect(page.locator("#board-message")).to_contain_text("cannot be won")
    expect(page.locator(f'.column-cards[data-state="new"] [data-lead="{walt.pk}"]')).to_be_visible()
    assert Lead.objects.get(pk=walt.pk).state == "new"
    screenshot(page, "pipeline-board-refused")


def test_dropping_on_lost_asks_why(page, live_server, board_setup):
    office, (ana, _) = board_setup
    login(page, live_server, office.username, PASSWORD)
    page.goto(live_server.url + "/leads/")
    drag(page, page.locator(f'[data-lead="{ana.pk}"]'), page.locator('.column-cards[data-state="lost"]'))
    expect(page.locator("#lost-dialog")).to_be_visible()
    page.select_option("#lost-reason", "competitor")
    page.click('#lost-dialog button[value="confirm"]')
    expect(page.locator(f'[data-lead="{ana.pk}"]')).to_have_count(0)
    lead = Lead.objects.get(pk=ana.pk)
    assert (lead.state, lead.lost_reason) == ("lost", "competitor")
