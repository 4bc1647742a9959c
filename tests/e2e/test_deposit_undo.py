"""Undoing a bank deposit in Chromium: the owner deposits two checks, undoes the deposit with a reason,
sees it marked undone on the deposits list (on a desktop and on a phone) and both checks waiting on the
deposit slip again."""

import pytest
from playwright.sync_api import expect

from fsm.invoices import services as invoices
from tests.e2e.conftest import Console, login, screenshot, screenshot_both
from tests.factories import PASSWORD, UserFactory, make_customer
from tests.finance.test_ledger import deliver
from tests.fsm.estimate_helpers import austin_tax, issued_invoice
from users.roles import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def owner(e2e_business):
    """Two checks waiting in undeposited funds: Cora Cole's #1042 (108.25) and Dale Diaz's #318 (216.50)."""
    office = UserFactory(username="dana", role=Role.OFFICE)
    austin_tax()
    for (first, last), amount, check in (
        (("Cora", "Cole"), "100.00", "1042"),
        (("Dale", "Diaz"), "200.00", "318"),
    ):
        invoice = issued_invoice(
            customer=make_customer(actor=office, first_name=first, last_name=last),
            actor=office,
            amount=amount,
        )
        invoices.payment_record(
            invoice=invoice, actor=office, method="check", amount=invoice.balance, reference=check
        )
    deliver()
    return UserFactory(username="olivia", role=Role.OWNER)


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], "nothing sticks out sideways"
    tables_fit = (
        "() => [...document.querySelectorAll('.slip-wrap')].every((w) => w.scrollWidth <= w.clientWidth)"
    )
    assert page.evaluate(tables_fit), "no table scrolls sideways either"


def test_the_owner_undoes_a_deposit_and_the_checks_wait_again(page, live_server, owner):
    console = Console(page, app_url=live_server.url)
    login(page, live_server, owner.username, PASSWORD)
    page.goto(live_server.url + "/finance/deposits/new/")
    slip = page.get_by_test_id("waiting")
    expect(slip.locator("input[name=lines]")).to_have_count(2)
    page.locator("[data-tick-all]").check()
    page.get_by_role("button", name="Post deposit").click()
    expect(page.locator("body")).to_contain_text("Deposit of $324.75")

    page.get_by_role("link", name="Undo the deposit of $324.75").click()
    expect(page.get_by_test_id("deposit-payments")).to_contain_text("Cora Cole")
    expect(page.get_by_test_id("deposit-payments")).to_contain_text("#318")
    page.get_by_role("button", name="Undo deposit").click()  # no reason: a form error, nothing undone
    expect(page.locator(".field.has-error")).to_contain_text("Say why the deposit is undone")
    page.get_by_label("Why undo it").fill("Posted to the wrong bank account")
    screenshot(page, "owner-deposit-undo-confirm")
    page.get_by_role("button", name="Undo deposit").click()

    expect(page.locator("body")).to_contain_text("undone (HS-")
    undone = page.get_by_test_id("undone-deposit")
    expect(undone).to_contain_text("Undone")
    expect(undone).to_contain_text("Posted to the wrong bank account")
    expect(undone.locator("del")).to_have_text("$324.75")
    expect(undone.get_by_role("link", name="HS-")).to_have_count(2)  # the deposit's entry and the undo's
    expect(undone.get_by_role("link", name="Undo")).to_have_count(0)
    expect(page.get_by_test_id("waiting-summary")).to_contain_text("2 payments in undeposited funds")

    page.goto(live_server.url + "/finance/deposits/new/")
    expect(slip.locator("input[name=lines]")).to_have_count(2)
    expect(slip).to_contain_text("Cora Cole")
    expect(slip).to_contain_text("#1042")
    expect(slip.get_by_test_id("back-from")).to_have_count(2)
    screenshot_both(page, "owner-deposit-slip-after-undo")

    slip.locator("tr", has_text="Cora Cole").locator("input[name=lines]").check()  # deposited again
    page.get_by_role("button", name="Post deposit").click()
    expect(page.locator("body")).to_contain_text("Deposit of $108.25 into Business checking posted")
    expect(page.get_by_role("link", name="Undo the deposit of $108.25")).to_be_visible()
    expect(page.get_by_test_id("waiting-summary")).to_contain_text("1 payment in undeposited funds $216.50")
    screenshot_both(page, "owner-deposits-undone")
    errors = [e for e in console.errors if "status of 400" not in e]  # the form error's page is a 400
    assert not errors and not console.csp_violations


def test_the_deposits_list_with_an_undone_deposit_fits_a_phone(phone_page, live_server, owner):
    login(phone_page, live_server, owner.username, PASSWORD)
    phone_page.goto(live_server.url + "/finance/deposits/new/")
    phone_page.locator("[data-tick-all]").check()
    phone_page.get_by_role("button", name="Post deposit").click()
    phone_page.get_by_role("link", name="Undo the deposit").click()
    _no_sideways_scroll(phone_page)
    phone_page.get_by_label("Why undo it").fill("Wrong checks")
    phone_page.get_by_role("button", name="Undo deposit").click()
    expect(phone_page.get_by_test_id("undone-deposit")).to_contain_text("Wrong checks")
    _no_sideways_scroll(phone_page)
    phone_page.goto(live_server.url + "/finance/deposits/new/")
    expect(phone_page.get_by_test_id("back-from")).to_have_count(2)
    _no_sideways_scroll(phone_page)
