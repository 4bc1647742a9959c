"""The office's customer work in a real browser: create, duplicate offers, merge, live search and CSP."""

import re

import pytest
from playwright.sync_api import Page, expect

from customers.models import Customer, Property
from tests.e2e.conftest import login, screenshot, screenshot_both
from tests.factories import PASSWORD, UserFactory, make_customer
from users.roles import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def office_user(db, e2e_business):
    return UserFactory(username="e2e_office", first_name="Olivia", last_name="Office", role=Role.OFFICE)


@pytest.fixture
def office_page(page, live_server, office_user) -> Page:
    login(page, live_server, office_user.username, PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/customers/")
    return page


def _fill_new_customer(page: Page, *, first: str, last: str, phone: str) -> None:
    page.get_by_label("First name").fill(first)
    page.get_by_label("Last name").fill(last)
    page.locator("#id_phones-0-number").fill(phone)


def _phone_field(page: Page):
    return page.locator(".field.f-number").first


def test_office_fixes_a_badly_formatted_phone_number_and_saves_the_customer(office_page, live_server):
    page = office_page
    page.get_by_role("link", name="New customer").click()
    expect(page).to_have_url(f"{live_server.url}/customers/new/")

    _fill_new_customer(page, first="Rosa", last="Delgado", phone="555-12")
    page.get_by_role("button", name="Create customer").click()

    field = _phone_field(page)
    expect(field).to_have_class(re.compile(r"\bhas-error\b"))
    expect(field.locator(".errorlist")).to_contain_text("Enter a valid US phone number")
    # What was typed survives the round trip, so the fix is an edit, not a retype of everything.
    expect(page.get_by_label("First name")).to_have_value("Rosa")
    expect(page.locator("#id_phones-0-number")).to_have_value("555-12")
    assert not Customer.objects.filter(last_name="Delgado").exists()
    screenshot(page, "customer-new-phone-error")

    page.locator("#id_phones-0-number").fill("(512) 555-0199")
    page.get_by_role("button", name="Create customer").click()

    customer = Customer.objects.get(last_name="Delgado")
    expect(page).to_have_url(f"{live_server.url}/customers/{customer.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Rosa Delgado")
    expect(page.locator("main")).to_contain_text("(512) 555-0199")
    expect(page.locator(".flash")).to_contain_text("Rosa Delgado added.")
    assert [p.number.as_e164 for p in customer.phones.all()] == ["+15125550199"]
    screenshot_both(page, "customer-saved")


def test_a_duplicate_phone_typed_differently_offers_the_existing_customer_before_saving(
    office_page, live_server
):
    page = office_page
    existing = make_customer(first_name="Dana", last_name="Whitfield", phones=["(512) 555-0142"])
    page.goto(f"{live_server.url}/customers/new/")

    _fill_new_customer(page, first="Dana", last="Whitfield", phone="512.555.0142")
    page.get_by_role("button", name="Create customer").click()

    offer = page.get_by_test_id("duplicate-offer")
    expect(offer).to_be_visible()
    expect(offer).to_contain_text("already exist")
    expect(offer).to_contain_text("Dana Whitfield")
    expect(offer.get_by_role("link", name="Open this customer")).to_have_attribute(
        "href", f"/customers/{existing.pk}/"
    )
    # Nothing was saved yet, and what was typed is still there.
    assert Customer.objects.filter(last_name="Whitfield").count() == 1
    expect(page.locator("#id_phones-0-number")).to_have_value("512.555.0142")
    screenshot(page, "customer-duplicate-offer")

    offer.get_by_role("button", name="Save as a new customer anyway").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(live_server.url)}/customers/\d+/$"))
    created = Customer.objects.filter(last_name="Whitfield").exclude(pk=existing.pk).get()
    expect(page).to_have_url(f"{live_server.url}/customers/{created.pk}/")
    expect(page.locator(".flash")).to_contain_text("Dana Whitfield added.")
    expect(page.locator("main")).to_contain_text("(512) 555-0142")
    assert [p.number.as_e164 for p in created.phones.all()] == ["+15125550142"]


def test_leaving_the_phone_field_shows_the_duplicate_offer_live_without_submitting(
    office_page, live_server, console
):
    page = office_page
    existing = make_customer(first_name="Dana", last_name="Whitfield", phones=["(512) 555-0142"])
    page.goto(f"{live_server.url}/customers/new/")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("typeof htmx") == "object"
    syntax_errors = [text for text in console.errors if "htmx:syntax:error" in text]
    assert not syntax_errors, f"htmx could not parse an hx-* attribute on the form: {syntax_errors}"

    _fill_new_customer(page, first="Dana", last="Whitfield", phone="512.555.0142")
    page.locator("#id_phones-0-number").blur()  # the change event
    page.wait_for_selector("[data-testid=duplicate-offer]")

    offer = page.get_by_test_id("duplicate-offer")
    expect(offer).to_contain_text("Dana Whitfield")
    # The live offer only points at the existing customer; saving anyway is a decision made on submit.
    expect(offer.get_by_role("button", name="Save as a new customer anyway")).to_have_count(0)
    expect(page).to_have_url(f"{live_server.url}/customers/new/")
    assert Customer.objects.filter(last_name="Whitfield").count() == 1
    screenshot(page, "customer-duplicate-live")

    offer.get_by_role("link", name="Open this customer").click()
    expect(page).to_have_url(f"{live_server.url}/customers/{existing.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dana Whitfield")


def test_office_merges_a_duplicate_customer_into_the_one_to_keep(office_page, live_server):
    page = office_page
    survivor = make_customer(first_name="Maria", last_name="Garcia", phones=["(512) 555-0177"])
    duplicate = make_customer(first_name="Mary", last_name="Garcia", phones=["512-555-0177"])
    unrelated = make_customer(first_name="Ned", last_name="Unrelated")
    duplicate_property = duplicate.properties.get()

    page.goto(f"{live_server.url}/customers/{survivor.pk}/")
    page.get_by_role("link", name="Merge a duplicate").click()
    expect(page).to_have_url(f"{live_server.url}/customers/{survivor.pk}/merge/")
    candidates = page.locator("#candidates")
    expect(candidates).to_contain_text("Likely duplicates")
    expect(candidates).to_contain_text("Mary Garcia")
    expect(candidates).not_to_contain_text(unrelated.display_name)
    screenshot(page, "customer-merge-candidates")

    candidates.get_by_role("link", name="Compare & merge").click()
    expect(page).to_have_url(f"{live_server.url}/customers/{survivor.pk}/merge/?duplicate={duplicate.pk}")
    expect(page.locator(".compare .keep")).to_contain_text("Maria Garcia")
    expect(page.locator(".compare .fold")).to_contain_text("Mary Garcia")
    screenshot_both(page, "customer-merge-compare")

    dialogs = []

    def accept(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    merge_button = page.get_by_role("button", name="Merge into Maria Garcia")
    expect(merge_button).to_have_attribute("data-confirm", re.compile("cannot be undone"))
    merge_button.click()

    expect(page).to_have_url(f"{live_server.url}/customers/{survivor.pk}/")
    assert dialogs and "Mary Garcia" in dialogs[0]
    expect(page.locator(".flash")).to_contain_text("Mary Garcia merged into Maria Garcia.")
    expect(page.locator(".timeline")).to_contain_text(
        f"Mary Garcia (#{duplicate.pk}) merged into this customer"
    )
    expect(page.locator("main")).to_contain_text(duplicate_property.street)
    screenshot(page, "customer-merged")

    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == survivor.pk
    duplicate_property.refresh_from_db()
    assert duplicate_property.customer_id == survivor.pk
    assert Property.objects.filter(customer=survivor).count() == 2

    page.goto(f"{live_server.url}/customers/{duplicate.pk}/")
    expect(page).to_have_url(f"{live_server.url}/customers/{survivor.pk}/")
    expect(page.locator(".flash")).to_contain_text("Mary Garcia was merged into this customer.")


def test_customers_page_runs_under_csp_and_live_search_updates_without_a_reload(
    page, console, live_server, office_user
):
    make_customer(first_name="Zelda", last_name="Quintero")
    make_customer(first_name="Bob", last_name="Anderson")
    login(page, live_server, office_user.username, PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/customers/")
    page.wait_for_load_state("networkidle")

    assert page.evaluate("typeof htmx") == "object"
    results = page.locator("#results")
    expect(results).to_contain_text("Zelda Quintero")
    expect(results).to_contain_text("Bob Anderson")

    # A marker on window survives only if the page is not reloaded.
    page.evaluate("window.__noReload = true")
    with page.expect_response(lambda r: "/customers/?q=" in r.url and r.request.headers.get("hx-request")):
        page.get_by_role("searchbox", name="Search customers").press_sequentially("zel", delay=30)
    expect(results).to_contain_text("Zelda Quintero")
    expect(results).not_to_contain_text("Bob Anderson")
    assert page.evaluate("window.__noReload") is True
    expect(page).to_have_url(re.compile(r"/customers/\?q=zel$"))
    screenshot_both(page, "customers-search")

    assert console.csp_violations == [], console.csp_violations
    assert console.page_errors == [], console.page_errors
    assert console.errors == [], console.errors


def test_office_tags_a_customer_and_finds_the_tagged_ones_from_the_list(
    office_page, live_server, office_user
):
    page = office_page
    ana = make_customer(actor=office_user, first_name="Ana", last_name="Ruiz", phones=["512-555-0142"])
    make_customer(actor=office_user, first_name="Bo", last_name="Lee", phones=["512-555-0143"])
    page.goto(f"{live_server.url}/customers/{ana.pk}/")
    tags = page.get_by_test_id("customer-tags")
    tags.get_by_text("Add tags").click()
    tags.get_by_label("Tags").fill("Member, Pets on site")
    tags.get_by_role("button", name="Save tags").click()  # htmx swaps the block in place
    expect(tags.locator(".badge-tag")).to_have_text(["Member", "Pets on site"])
    tags.get_by_text("Edit tags").click()
    tags.get_by_label("Tags").fill("x" * 45)
    tags.get_by_role("button", name="Save tags").click()
    expect(tags.locator(".errorlist")).to_contain_text("under 40 characters")
    expect(tags.locator(".badge-tag")).to_have_text(["Member", "Pets on site"])
    screenshot_both(page, "customer-tags")

    tags.get_by_role("link", name="Member").click()
    expect(page).to_have_url(re.compile(r"/customers/\?tag=Member$"))
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results")).to_contain_text("Ana Ruiz")
    page.locator("#tag-filter").select_option("")  # any tag: htmx brings both back
    expect(page.locator("#results tbody tr")).to_have_count(2)
