"""The app's icon in Chromium: the public form page and the app's pages name it, it loads, and
/favicon.ico (asked for where no page names one) leads to it instead of a 404."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from crm.models import Source, WebForm

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def public_form(e2e_business):
    source = Source.objects.create(name="Website", slug="website", kind=Source.Kind.WEB_FORM)
    return WebForm.objects.create(name="Homepage form", source=source, headline="Book a repair")


def _icon_loads(page) -> None:
    icon = page.locator('head link[rel="icon"]')
    expect(icon).to_have_attribute("type", "image/svg+xml")
    response = page.request.get(icon.evaluate("el => el.href"))
    assert response.status == 200 and response.headers["content-type"].startswith("image/svg+xml")


def test_the_public_form_page_has_the_icon_and_no_console_error(page, live_server, public_form, console):
    page.goto(f"{live_server.url}{reverse('webform-public', args=[public_form.public_id])}")
    expect(page.get_by_role("heading", name="Book a repair")).to_be_visible()
    _icon_loads(page)
    page.wait_for_load_state("networkidle")
    assert console.errors == []


def test_the_app_pages_have_the_icon(page, live_server, e2e_business):
    page.goto(f"{live_server.url}/accounts/login/")
    _icon_loads(page)


def test_favicon_ico_leads_to_the_icon(page, live_server):
    response = page.request.get(f"{live_server.url}/favicon.ico")
    assert response.status == 200 and response.url.endswith("/favicon.svg")
    assert response.headers["content-type"].startswith("image/svg+xml")
