"""A technician runs a visit on a phone-sized Chromium: On my way -> Arrived -> note, checklist, photo,
signature -> Completed with a note. Another technician gets the 404 page for that job's URL."""

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from fsm.models import Job, JobPhoto, JobSignature
from tests.e2e.conftest import PHONE, Console, login, screenshot, screenshot_both, wait_until
from tests.factories import PASSWORD, UserFactory
from tests.fsm.factories import JobTypeFactory, make_job, make_technician, schedule
from users.roles import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def visit_today(e2e_business):
    """A visit starting now (business time) for Jake; Priya, another technician, is not on it."""
    office = UserFactory(username="e2e_office", role=Role.OFFICE)
    jake = make_technician(username="e2e_jake", first_name="Jake", last_name="Morrison")
    make_technician(username="e2e_priya", first_name="Priya", last_name="Natarajan")
    job_type = JobTypeFactory(name="AC repair", checklist=["Check the filter", "Test the thermostat"])
    job = make_job(
        actor=office, job_type=job_type, description="No cooling upstairs", office_notes="Dog in yard"
    )
    now = timezone.localtime(timezone=e2e_business.tzinfo)
    start = now.replace(minute=now.minute // 15 * 15, second=0, microsecond=0)
    schedule(job, start=start, end=start + timedelta(hours=1), technicians=[jake], actor=office)
    return job


def small_png(path) -> str:
    Image.new("RGB", (64, 48), (40, 140, 90)).save(path, format="PNG")
    return str(path)


def sign(page) -> None:
    """Draw a signature on the canvas with the mouse (the pad listens to pointer events)."""
    canvas = page.locator("canvas[data-signature-pad]")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x, y = box["x"] + 30, box["y"] + box["height"] * 0.6
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 16):
        page.mouse.move(x + step * 16, y + (-1) ** step * 22, steps=3)
    page.mouse.up()


def test_a_technician_runs_a_visit_on_the_phone_and_another_technician_gets_404(
    phone_page, browser, live_server, visit_today, tmp_path
):
    page, job = phone_page, visit_today
    console = Console(page)
    login(page, live_server, "e2e_jake", PASSWORD)

    # My day: the visit on top, with its maps and phone links.
    expect(page).to_have_url(f"{live_server.url}/my-day/")
    card = page.get_by_test_id(f"visit-{job.pk}")
    expect(card).to_contain_text(job.customer.display_name)
    maps = f"https://www.google.com/maps/search/?api=1&query={quote(job.property.one_line, safe='')}"
    expect(card.get_by_role("link", name="Map")).to_have_attribute("href", maps)
    phone = job.customer.phones.first().number.as_e164
    expect(card.get_by_role("link", name="Call")).to_have_attribute("href", f"tel:{phone}")
    page.get_by_role("button", name="Clock in").click()
    expect(page.get_by_text("On shift")).to_be_visible()
    screenshot(page, "tech-my-day")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "no horizontal scroll at 390 px"

    # The job: On my way, Arrived.
    card.get_by_role("link", name="Open job").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(job.customer.display_name)
    expect(page.get_by_text("Dog in yard")).to_be_visible()
    state = page.get_by_test_id("job-state")
    expect(state).to_have_text("Scheduled")
    page.get_by_role("button", name="On my way").click()
    expect(state).to_have_text("On the way")
    page.get_by_role("button", name="Arrived").click()
    expect(state).to_have_text("On site")

    # A note and a checklist item (htmx, in place).
    page.get_by_label("Add a note").fill("Condenser fan seized; replaced the capacitor.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#notes li").first).to_contain_text("Condenser fan seized")
    page.get_by_label("Check the filter").check()
    expect(page.locator("#checklist h2")).to_contain_text("1/2")

    # A photo from the phone.
    page.locator("input[type=file][name=image]").set_input_files(small_png(tmp_path / "unit.png"))
    page.get_by_label("Caption").fill("Condenser")
    page.get_by_role("button", name="Upload photo").click()
    expect(page.locator(".t-photos img")).to_have_count(1)
    # The new thumbnail is in the page at once; its pixels arrive a moment later (later on a busy machine).
    thumbnail = page.locator(".t-photos img").element_handle()
    wait_until(page, "img => img.complete && img.naturalWidth > 0", arg=thumbnail)
    assert thumbnail.evaluate("img => img.naturalWidth") == 64

    # The customer's signature, drawn on the screen.
    sign(page)
    page.get_by_label("Signer's name").fill("Megan Miller")
    page.get_by_role("button", name="Save signature").click()
    expect(page.locator(".t-signed figcaption")).to_contain_text("Megan Miller")
    screenshot(page, "tech-job-on-site")

    # Completed, with the completion note the button asks for.
    page.get_by_test_id("complete-toggle").click()
    page.get_by_label("What did you do?").fill("Replaced the run capacitor; cooling restored.")
    screenshot(page, "tech-job-completing")
    page.get_by_role("button", name="Complete the job").click()
    expect(state).to_have_text("Completed")
    expect(page.get_by_text("Replaced the run capacitor; cooling restored.")).to_be_visible()
    screenshot_both(page, "tech-job-completed")

    job.refresh_from_db()
    assert job.state == Job.State.COMPLETED
    assert JobPhoto.objects.filter(job=job).count() == 1
    signature = JobSignature.objects.get(job=job)
    assert signature.signer_name == "Megan Miller" and signature.image.size > 500
    assert not console.errors, console.errors
    assert not console.csp_violations

    # Another technician, on their own phone, gets the 404 page for that job.
    context = browser.new_context(**PHONE)
    try:
        other = context.new_page()
        login(other, live_server, "e2e_priya", PASSWORD)
        response = other.goto(f"{live_server.url}/my-day/jobs/{job.pk}/")
        assert response.status == 404
        expect(other.get_by_role("heading", name="Not found")).to_be_visible()
        expect(other.get_by_text(job.customer.display_name)).to_have_count(0)
        screenshot(other, "tech-other-technician-404")
    finally:
        context.close()


def test_a_job_type_that_requires_a_signature_tells_the_technician_before_completing(
    phone_page, live_server, visit_today
):
    """The owner made AC repair require the whole checklist and a signature: the phone says so, and
    completing without them is refused with what is missing, next to the note."""
    page, job = phone_page, visit_today
    job.job_type.requires_checklist = job.job_type.requires_signature = True
    job.job_type.save()
    login(page, live_server, "e2e_jake", PASSWORD)
    page.goto(f"{live_server.url}/my-day/jobs/{job.pk}/")
    page.get_by_role("button", name="Arrived").click()
    state = page.get_by_test_id("job-state")
    expect(state).to_have_text("On site")

    hint = page.get_by_test_id("completion-hint")
    expect(hint).to_have_text(
        "To complete, add every checklist item (0 of 2 ticked) and the customer's signature."
    )
    page.get_by_test_id("complete-toggle").click()
    expect(page.get_by_test_id("completion-missing")).to_contain_text("The customer's signature")
    page.get_by_label("What did you do?").fill("Replaced the capacitor.")
    page.get_by_role("button", name="Complete the job").click()
    expect(page.get_by_test_id("completion-missing")).to_contain_text(
        "Before completing, add every checklist item (0 of 2 ticked) and the customer's signature."
    )
    screenshot(page, "tech-job-completion-requirements")  # the refused POST: no reload at another size
    expect(state).to_have_text("On site")

    page.get_by_test_id("complete-toggle").click()  # "Not yet": fold the form, back to the page
    page.get_by_label("Check the filter").check()
    page.get_by_label("Test the thermostat").check()
    sign(page)
    page.get_by_label("Signer's name").fill("Megan Miller")
    page.get_by_role("button", name="Save signature").click()
    expect(page.locator(".t-signed figcaption")).to_contain_text("Megan Miller")
    expect(page.get_by_test_id("completion-hint")).to_have_count(0)
    page.get_by_test_id("complete-toggle").click()
    page.get_by_label("What did you do?").fill("Replaced the capacitor.")
    page.get_by_role("button", name="Complete the job").click()
    expect(state).to_have_text("Completed")


@pytest.mark.parametrize(
    "name",
    ["Lone Star Comfort & Plumbing", "Lone Star Comfort, Heating & Plumbing of Austin"],
)
def test_the_business_name_fits_the_technicians_phone_header(phone_page, live_server, e2e_business, name):
    e2e_business.name = name
    e2e_business.save()
    make_technician(username="e2e_jake", first_name="Jake", last_name="Morrison")
    login(phone_page, live_server, "e2e_jake", PASSWORD)
    phone_page.goto(f"{live_server.url}/my-day/")
    brand = phone_page.locator(".topbar .brand")
    expect(brand).to_have_text(name)
    cut = brand.evaluate("el => el.scrollWidth > el.clientWidth || el.scrollHeight > el.clientHeight + 1")
    assert not cut, "the name is cut"
    assert brand.bounding_box()["height"] < 50, "two lines at most"
    expect(phone_page.locator(".topbar").get_by_role("button", name="Log out")).to_be_in_viewport()
    screenshot(phone_page, f"tech-header-{len(name)}")
