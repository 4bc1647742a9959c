"""The pricebook in Chromium: the price check's typeahead (search as you type, pick with the keyboard,
the line filled from the item) and adding a material priced from its cost plus a markup."""

import pytest
from playwright.sync_api import expect

from fsm.pricebook.models import PricebookItem
from tests.e2e.conftest import login, screenshot_both
from tests.factories import PASSWORD, UserFactory
from tests.fsm.factories import make_pricebook_item
from users.roles import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def office_user(e2e_business):
    return UserFactory(username="e2e_office", first_name="Olivia", last_name="Office", role=Role.OFFICE)


@pytest.fixture
def pricebook(db):
    make_pricebook_item(
        code="WH-50G",
        name="Water heater 50 gal gas replace",
        price="1895",
        cost="910",
        member_price="1611",
        taxable=False,
        category="Plumbing · Water heaters",
        description="Remove the old tank; install a new 50-gallon gas water heater.",
    )
    make_pricebook_item(code="WH-FLUSH", name="Water heater flush", price="189", cost="45")
    make_pricebook_item(code="DR-MAIN", name="Main line drain clear", price="325", cost="70")


def test_search_as_you_type_and_pick_an_item_with_the_keyboard(
    page, live_server, office_user, pricebook, console
):
    login(page, live_server, office_user.username, PASSWORD)
    page.goto(f"{live_server.url}/pricebook/")
    box = page.get_by_role("combobox", name="Find an item")
    box.press_sequentially("water he", delay=30)

    options = page.get_by_role("listbox", name="Find an item").get_by_role("option")
    expect(options).to_have_count(2)
    expect(options.first).to_contain_text("WH-50G")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-expanded", "true")

    box.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    box.press("ArrowUp")
    expect(options.first).to_have_attribute("aria-selected", "true")
    box.press("Enter")

    expect(page.get_by_role("listbox")).to_be_hidden()
    expect(box).to_have_value("WH-50G")
    line = page.locator("[data-pb-filled]")
    expect(line).to_be_visible()
    expect(line).to_contain_text("Water heater 50 gal gas replace")
    expect(line).to_contain_text("Remove the old tank")
    expect(line.locator("[data-pb-fill=price]")).to_have_text("$1,895.00")
    expect(line.locator("[data-pb-fill=member_price]")).to_have_text("$1,611.00")
    expect(line.locator("[data-pb-fill=taxable]")).to_have_text("Not taxable")
    assert page.url == f"{live_server.url}/pricebook/"  # Enter picked; it submitted nothing

    box.fill("")
    box.press_sequentially("dr-m", delay=30)
    expect(options).to_have_count(1)
    box.press("Escape")
    expect(page.get_by_role("listbox")).to_be_hidden()
    box.press_sequentially("zzz", delay=30)
    expect(page.get_by_role("listbox")).to_contain_text("No active item matches")
    screenshot_both(page, "office-pricebook-list")
    assert console.csp_violations == [] and console.errors == []


def test_a_technician_checks_a_price_on_the_phone_without_seeing_costs(
    phone_page, live_server, e2e_business, pricebook
):
    tech = UserFactory(username="e2e_tech", first_name="Jake", role=Role.TECHNICIAN)
    login(phone_page, live_server, tech.username, PASSWORD)
    phone_page.goto(f"{live_server.url}/pricebook/")
    box = phone_page.get_by_role("combobox", name="Find an item")
    box.press_sequentially("flush", delay=30)
    phone_page.get_by_role("listbox", name="Find an item").get_by_role("option").first.tap()
    line = phone_page.locator("[data-pb-filled]")
    expect(line.locator("[data-pb-fill=price]")).to_have_text("$189.00")
    expect(line.locator("[data-pb-fill=cost]")).to_have_count(0)
    expect(phone_page.get_by_role("link", name="New item")).to_have_count(0)


def test_the_office_adds_a_material_priced_from_cost_plus_markup(
    page, live_server, office_user, pricebook, console
):
    login(page, live_server, office_user.username, PASSWORD)
    page.goto(f"{live_server.url}/pricebook/")
    page.get_by_role("link", name="New item").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New pricebook item")

    page.get_by_label("Material").check()
    page.get_by_label("Code").fill("M-CAP-455")
    page.get_by_label("Name").fill("Dual run capacitor 45/5 MFD")
    page.get_by_label("Category").fill("HVAC materials")
    page.get_by_label("Cost").fill("18.45")
    page.get_by_label("Markup %").fill("35")
    expect(page.locator("[data-pb-computed]")).to_contain_text("$24.91")
    expect(page.get_by_label("Price", exact=True)).to_have_value("24.91")
    expect(page.locator("[data-pb-margin]")).to_contain_text("Margin $6.46")
    screenshot_both(page, "office-pricebook-new-item")

    page.get_by_label("Member price").fill("30")  # more than the price: the service refuses it
    page.get_by_role("button", name="Add to the pricebook").click()
    expect(page.locator(".field.has-error")).to_contain_text("cannot be more than the price")
    assert not PricebookItem.objects.filter(code="M-CAP-455").exists()

    page.get_by_label("Member price").fill("22")
    page.get_by_role("button", name="Add to the pricebook").click()
    expect(page.locator(".flash")).to_contain_text("M-CAP-455 Dual run capacitor 45/5 MFD added")
    row = page.locator(".pb-table tbody tr").filter(has_text="M-CAP-455")
    expect(row).to_contain_text("$24.91")
    expect(row).to_contain_text("$18.45")
    item = PricebookItem.objects.get(code="M-CAP-455")
    assert str(item.price) == "24.91" and item.kind == "material" and str(item.member_price) == "22.00"
    assert console.csp_violations == [] and console.errors == []
