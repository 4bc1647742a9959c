"""A plumber's own website (a second local server, another origin) embeds the lead form; a visitor sends a
request from it in Chromium, and the office finds the lead with the ad click that brought the visitor."""

import re
from urllib.parse import urlsplit

import pytest
from django.test import RequestFactory
from django.urls import reverse
from playwright.sync_api import Page, expect

from crm.models import Lead, ServiceType, Source, WebForm
from crm.webforms.views import embed_code
from messaging.models import Message
from tests.e2e.conftest import login, screenshot, screenshot_both
from tests.factories import PASSWORD, UserFactory
from users.roles import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AD_CLICK = "/?utm_source=google&utm_campaign=spring-ac&gclid=abc"
# The host site's own CSS is not ours: the form must look right despite rules like these.
HOST_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lone Star Plumbing &amp; Air, Austin TX</title>
<style>
  body { margin: 0; font-family: Georgia, serif; background: #f7f3ec; color: #222; }
  header { background: #7c2d12; color: #fff; padding: 1rem 2rem; font-size: 1.1rem; }
  .hero { display: grid; grid-template-columns: 1.1fr 1fr; gap: 2.5rem; max-width: 1100px; margin: 0 auto;
          padding: 2.5rem 2rem; align-items: start; }
  .hero h1 { font-size: 2.4rem; margin: 0 0 1rem; }
  label { display: inline; color: purple; }
  input, select, textarea { border: 3px dotted red; width: auto; }
  button { background: lime; }
  @media (max-width: 800px) { .hero { grid-template-columns: 1fr; padding: 1.25rem 1rem; gap: 1.5rem; } }
</style>
</head>
<body>
<header><strong>Lone Star Plumbing &amp; Air</strong> &middot; Austin, TX &middot; (512) 555-0100</header>
<div class="hero">
  <div>
    <h1>AC not cooling? Same-day repair.</h1>
    <p>Family owned since 1987. Licensed plumbers and HVAC technicians across Austin and Round Rock.</p>
    <ul><li>Upfront pricing</li><li>Evening and weekend visits</li><li>1-year warranty on repairs</li></ul>
  </div>
  <div>__SNIPPET__</div>
</div>
</body>
</html>
"""


@pytest.fixture
def web_form(db, host_site, live_server, e2e_business):
    source = Source.objects.create(name="Website", slug="website", kind=Source.Kind.WEB_FORM)
    form = WebForm.objects.create(
        name="Homepage form",
        source=source,
        headline="Book a repair",
        submit_label="Send my request",
        allowed_origins=[host_site.origin],
    )
    form.services.add(*(ServiceType.objects.create(name=n) for n in ("AC repair", "Water heater", "Drains")))
    # The very code the office copies from the form's page.
    request = RequestFactory().get("/", headers={"Host": urlsplit(live_server.url).netloc})
    code = embed_code(request, form)
    host_site.pages["/"] = HOST_PAGE.replace("__SNIPPET__", code["script_snippet"])
    host_site.pages["/iframe"] = HOST_PAGE.replace("__SNIPPET__", code["iframe_snippet"])
    return form


@pytest.fixture
def office_user(db, e2e_business):
    return UserFactory(username="e2e_office", first_name="Olivia", last_name="Office", role=Role.OFFICE)


def _embedded_form(page: Page, web_form: WebForm):
    form = page.locator(f"#lead-form-{web_form.public_id} form")
    expect(form.get_by_role("heading", name="Book a repair")).to_be_visible()
    return form


def test_a_visitor_from_an_ad_sends_a_request_from_the_plumbers_site_and_the_office_finds_the_lead(
    page, console, live_server, host_site, web_form, office_user
):
    page.goto(host_site.origin + AD_CLICK)
    form = _embedded_form(page, web_form)
    # Our stylesheet, not the host's `label { display: inline }` and dotted red borders, shapes the form.
    name = form.get_by_label("Your name")
    assert name.evaluate("e => getComputedStyle(e).borderTopStyle") == "solid"
    assert form.locator("label").first.evaluate("e => getComputedStyle(e).display") == "block"
    honeypot = form.locator("input[name=website]").bounding_box()
    assert honeypot is not None and honeypot["x"] < -1000
    screenshot(page, "webform-embed-host")

    name.fill("Rosa Delgado")
    form.get_by_label("Mobile phone").fill("(512) 555-0199")
    form.get_by_label("E-mail").fill("rosa@example.com")
    form.get_by_label("Service address").fill("1944 Stanton St")
    form.get_by_label("City").fill("Round Rock")
    form.get_by_label("State").fill("TX")
    form.get_by_label("ZIP").fill("78665")
    form.get_by_label("What do you need?").select_option("AC repair")
    form.get_by_label("Tell us what is going on").fill("Upstairs is 85F and the unit is blowing warm air.")
    form.get_by_role("button", name="Send my request").click()

    thanks = page.locator(f"#lead-form-{web_form.public_id} .lf-thanks")
    expect(thanks).to_contain_text(web_form.thank_you_text)
    screenshot(page, "webform-embed-thanks")
    assert not console.errors, console.errors

    lead = Lead.objects.get(name="Rosa Delgado")
    assert lead.web_form == web_form and lead.phone == "+15125550199"
    # She gets the instant reply: at once in her daytime (and the lead counts as contacted), or held
    # for quiet hours at night (and the lead still waits for its first answer). The rule, not the hour
    # the suite runs at, decides which; .ci/run runs the suite on both sides of it.
    reply = Message.objects.get(lead=lead, template="instant_reply")
    assert reply.status in ("held", "queued", "sending", "sent"), reply.status
    answered = reply.status != Message.Status.HELD
    assert lead.state == (Lead.State.CONTACTED if answered else Lead.State.NEW), (reply.status, lead.state)
    assert lead.service == "AC repair" and lead.property.one_line == "1944 Stanton St, Round Rock, TX 78665"
    assert lead.attribution == {
        "utm_source": "google",
        "utm_campaign": "spring-ac",
        "gclid": "abc",
        "landing_page": host_site.origin + AD_CLICK,
    }

    login(page, live_server, office_user.username, PASSWORD)
    page.goto(f"{live_server.url}/leads/")
    expect(page.locator("main")).to_contain_text("Rosa Delgado")
    screenshot(page, "webform-lead-on-board")


def test_the_visit_is_remembered_when_the_visitor_browses_to_another_page_before_asking(
    page, host_site, web_form
):
    host_site.pages["/landing"] = host_site.pages["/contact"] = host_site.pages["/"]
    page.goto(host_site.origin + "/landing?utm_source=facebook&fbclid=fb-1")
    _embedded_form(page, web_form)  # the script ran on the landing page and noted the visit
    page.goto(host_site.origin + "/contact")
    form = _embedded_form(page, web_form)

    form.get_by_label("Your name").fill("Ben Ortiz")
    form.get_by_label("Mobile phone").fill("512-555-0142")
    form.get_by_role("button", name="Send my request").click()
    expect(page.locator(".lf-thanks")).to_be_visible()

    lead = Lead.objects.get(name="Ben Ortiz")
    assert lead.attribution["utm_source"] == "facebook" and lead.attribution["fbclid"] == "fb-1"
    assert lead.attribution["landing_page"] == host_site.origin + "/landing?utm_source=facebook&fbclid=fb-1"


def test_on_a_phone_the_form_fits_the_screen_and_shows_errors_next_to_the_fields(
    phone_page, host_site, web_form
):
    page = phone_page
    page.goto(host_site.origin + AD_CLICK)
    form = _embedded_form(page, web_form)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "webform-embed-host")

    form.get_by_label("Your name").fill("Rosa Delgado")
    form.get_by_label("Mobile phone").fill("555-12")
    form.get_by_role("button", name="Send my request").click()

    phone_box = form.locator(".lf-f-phone")
    expect(phone_box).to_have_class("lf-field lf-f-phone lf-half lf-has-error")
    expect(phone_box.locator(".lf-errors")).to_contain_text("Enter a valid phone number")
    expect(form.get_by_label("Mobile phone")).to_be_focused()
    assert not Lead.objects.exists()
    screenshot(page, "webform-embed-phone-error")

    form.get_by_label("Mobile phone").fill("(512) 555-0199")
    form.get_by_role("button", name="Send my request").click()
    expect(page.locator(".lf-thanks")).to_be_visible()
    assert Lead.objects.get().phone == "+15125550199"


def test_the_iframe_version_works_inside_the_plumbers_site(page, console, live_server, host_site, web_form):
    page.goto(host_site.origin + "/iframe")
    frame = page.frame_locator("iframe")
    expect(frame.get_by_role("heading", name="Book a repair")).to_be_visible()
    screenshot(page, "webform-iframe-host")

    frame.get_by_label("Your name").fill("Carl Nguyen")
    frame.get_by_label("Mobile phone").fill("(512) 555-0123")
    frame.get_by_role("button", name="Send my request").click()
    expect(frame.locator(".lf-thanks")).to_contain_text(web_form.thank_you_text)
    assert not console.csp_violations, console.csp_violations

    lead = Lead.objects.get(name="Carl Nguyen")
    assert lead.web_form == web_form and lead.attribution["landing_page"].startswith(host_site.origin)

    page.goto(f"{live_server.url}{reverse('webform-public', args=[web_form.public_id])}")
    expect(page.get_by_role("heading", name="Book a repair")).to_be_visible()
    screenshot_both(page, "webform-iframe-page")


def test_a_site_that_is_not_allowed_cannot_send_requests(page, host_site, web_form):
    page.goto(f"http://localhost:{host_site.port}/")  # another origin than the one allowed
    form = _embedded_form(page, web_form)

    form.get_by_label("Your name").fill("Mallory")
    form.get_by_label("Mobile phone").fill("(512) 555-0188")
    form.get_by_role("button", name="Send my request").click()

    expect(form.locator(".lf-status")).to_contain_text("could not be sent")
    assert not Lead.objects.exists()


def test_office_sets_up_a_form_and_copies_its_embed_code(page, live_server, office_user):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    login(page, live_server, office_user.username, PASSWORD)
    page.goto(f"{live_server.url}/leads/forms/")
    page.get_by_role("link", name="New web form").click()

    page.get_by_label("Name", exact=True).fill("Spring AC landing page")
    page.get_by_label("Add service types").fill("AC tune-up, AC repair")
    page.get_by_label("Sites allowed to embed it").fill("https://www.lonestarplumbing.com/spring")
    page.get_by_role("button", name="Create web form").click()
    expect(page.locator(".field.has-error")).to_contain_text("no path")
    screenshot(page, "webform-settings-error")

    page.get_by_label("Sites allowed to embed it").fill("https://www.lonestarplumbing.com")
    page.get_by_role("button", name="Create web form").click()
    web_form = WebForm.objects.get()
    expect(page).to_have_url(f"{live_server.url}/leads/forms/{web_form.pk}/")
    assert web_form.source.name == "Website" and web_form.allowed_origins == [
        "https://www.lonestarplumbing.com"
    ]

    snippet = page.locator("#snippet-script")
    expect(snippet).to_have_value(re.compile(rf"/forms/{web_form.public_id}/embed\.js"))
    page.locator("[data-copy='#snippet-script']").click()
    expect(page.locator("[data-copy='#snippet-script']")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == snippet.input_value()
    expect(
        page.frame_locator(".webform-preview").get_by_role("heading", name="Request service")
    ).to_be_visible()
    screenshot_both(page, "webform-settings")

    page.goto(f"{live_server.url}/leads/forms/")
    expect(page.locator("main")).to_contain_text("Spring AC landing page")
    screenshot(page, "webform-list")
