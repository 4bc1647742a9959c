"""The owner sets up the business for documents in a real browser: details, a logo, a sales tax rate."""

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import login, screenshot_both
from tests.factories import PASSWORD, UserFactory
from users.models import Business, TaxRate
from users.roles import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _png(path) -> str:
    image = Image.new("RGB", (200, 80), (15, 98, 174))
    out = io.BytesIO()
    image.save(out, "PNG")
    path.write_bytes(out.getvalue())
    return str(path)


def test_the_owner_edits_the_business_and_adds_a_default_tax_rate(
    page, live_server, console, e2e_business, tmp_path
):
    owner = UserFactory(username="e2e_owner", first_name="Dana", role=Role.OWNER)
    login(page, live_server, owner.username, PASSWORD)
    page.locator("details.account > summary").click()  # Settings lives in the account menu
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Business details").click()

    page.get_by_label("Legal name").fill("Lone Star Plumbing LLC")
    page.get_by_label("License number").fill("M-40123")
    page.get_by_label("Street").fill("4410 S Congress Ave")
    page.get_by_label("City").fill("Austin")
    page.get_by_label("State").fill("tx")
    page.get_by_label("ZIP code").fill("78745")
    page.get_by_label("Invoice terms").fill("Payment is due on receipt.")
    page.get_by_label("Invoices", exact=True).fill("inv")  # lower case: refused, then fixed
    page.get_by_label("Logo").set_input_files(_png(tmp_path / "logo.png"))
    page.get_by_role("button", name="Save").click()

    error = page.locator(".field.has-error")
    expect(error).to_contain_text("Capital letters and digits")
    page.get_by_label("Invoices", exact=True).fill("INV")
    page.get_by_label("Logo").set_input_files(_png(tmp_path / "logo.png"))  # a browser never re-sends files
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Business details saved.")
    expect(page.get_by_alt_text("Current logo")).to_be_visible()
    business = Business.objects.get(pk=e2e_business.pk)
    assert (business.legal_name, business.license_number, business.state) == (
        "Lone Star Plumbing LLC",
        "M-40123",
        "TX",
    )
    assert business.logo.name.endswith(".png")
    screenshot_both(page, "owner-business-settings")

    page.goto(f"{live_server.url}/settings/")
    page.get_by_role("link", name="Sales tax rates").click()
    form = page.get_by_test_id("tax-rate-form")
    form.get_by_label("Name").fill("Texas + Austin")
    form.get_by_label("Rate (%)").fill("8.25")
    form.get_by_label("Make this the default rate").check()
    form.get_by_role("button", name="Add rate").click()
    expect(page.get_by_test_id("tax-rates")).to_contain_text("Texas + Austin")
    expect(page.get_by_test_id("tax-rates")).to_contain_text("Default")
    assert str(TaxRate.default()) == "Texas + Austin (8.25%)"
    screenshot_both(page, "owner-tax-rates")
    assert not console.errors and not console.csp_violations
