"""The technician's phone pages (fsm/views/tech.py): My day, the job page and every action on it."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from events.models import Event
from fsm import services
from fsm.models import ChecklistResult, Job, JobNote, JobPhoto, JobSignature, TimeEntry, Visit
from tests.fsm.conftest import MONDAY
from tests.fsm.factories import at, make_job, schedule

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
JSON = {"HTTP_ACCEPT": "application/json"}
ACTION_URLS = [
    "tech-job-on-my-way",
    "tech-job-arrive",
    "tech-job-complete",
    "tech-job-pause",
    "tech-job-resume",
    "tech-job-note",
    "tech-job-photo",
    "tech-job-signature",
    "tech-job-checklist",
]


def png_bytes(size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def png_upload(name="photo.png", data=None):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data if data is not None else png_bytes(), content_type="image/png")


def signature_data_url() -> str:
    import base64

    return "data:image/png;base64," + base64.b64encode(png_bytes((300, 120))).decode()


@pytest.fixture
def tech_client(client_for, tech, business):
    return client_for(tech)


@pytest.fixture
def other_client(client_for, other_tech, business):
    return client_for(other_tech)


def url(name: str, job: Job, *args) -> str:
    return reverse(name, args=[job.pk, *args])


def page_text(response) -> str:
    return response.content.decode()


def on_site(job, tech) -> Job:
    return services.job_arrive(job=job, actor=tech)


# --- My day -----------------------------------------------------------------------------------------


def test_my_day_lists_the_technicians_visits_in_order_with_maps_and_phone_links(
    tech_client, tech, other_tech, office, ac_repair, dispatcher, job, visit
):
    early = make_job(actor=office, job_type=ac_repair)
    schedule(early, start=at(MONDAY, 7), technicians=[tech], actor=dispatcher)
    not_mine = make_job(actor=office, job_type=ac_repair)
    schedule(not_mine, start=at(MONDAY, 11), technicians=[other_tech], actor=dispatcher)

    response = tech_client.get(reverse("my-day"), {"day": MONDAY.isoformat()})

    html = page_text(response)
    assert response.status_code == 200
    assert html.index(early.customer.display_name) < html.index(job.customer.display_name)
    assert not_mine.customer.display_name not in html
    assert (
        "https://www.google.com/maps/search/?api=1&amp;query=1944%20Stanton%20St%2C%20Austin%2C%20TX%2078704"
        in html
    )
    assert f"tel:{job.customer.phones.first().number.as_e164}" in html
    assert "9:00\u201310:30 AM" in html and "AC repair" in html and "Scheduled" in html
    assert reverse("tech-job", args=[job.pk]) in html


def test_my_day_today_offers_clock_in_and_a_bad_day_parameter_means_today(tech_client):
    response = tech_client.get(reverse("my-day"), {"day": "not-a-date"})
    assert response.status_code == 200
    assert "Today's visits" in page_text(response) and "Clock in" in page_text(response)


def test_my_day_takes_the_same_number_of_queries_for_two_or_six_visits(
    tech_client, tech, office, ac_repair, dispatcher
):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert tech_client.get(reverse("my-day"), {"day": MONDAY.isoformat()}).status_code == 200
        return len(queries)

    for hour in (8, 10):
        schedule(make_job(actor=office, job_type=ac_repair), start=at(MONDAY, hour), technicians=[tech])
    two = count()
    for hour in (12, 13, 14, 15):
        schedule(make_job(actor=office, job_type=ac_repair), start=at(MONDAY, hour), technicians=[tech])
    assert count() == two


def test_clocking_in_and_out_from_my_day(tech_client, tech):
    response = tech_client.post(reverse("tech-clock-in"))
    assert response.status_code == 302 and response["Location"] == reverse("my-day")
    assert TimeEntry.objects.get(technician=tech, kind="shift").ended_at is None
    assert "Clock out" in page_text(tech_client.get(reverse("my-day")))

    assert tech_client.post(reverse("tech-clock-out")).status_code == 302
    assert TimeEntry.objects.get(technician=tech, kind="shift").ended_at is not None


def test_clocking_out_when_not_clocked_in_is_refused_with_the_message(tech_client):
    response = tech_client.post(reverse("tech-clock-out"))
    assert response.status_code == 400 and "Not clocked in." in page_text(response)


# --- The job page -----------------------------------------------------------------------------------


def test_the_job_page_shows_the_customer_the_work_the_office_notes_equipment_and_history(
    tech_client, tech, office, ac_repair, job, visit
):
    services.job_update(job=job, actor=office, office_notes="Gate code 4411")
    services.equipment_save(property=job.property, actor=office, kind="Furnace", brand="Carrier")
    earlier = make_job(actor=office, job_type=ac_repair, description="Old leak", customer=job.customer)

    response = tech_client.get(url("tech-job", job))

    html = page_text(response)
    assert response.status_code == 200
    for text in (job.customer.display_name, "No cooling upstairs", "Gate code 4411", "Carrier", "Furnace"):
        assert text in html
    assert earlier.number in html and "Old leak" in html
    assert "Check the filter" in html and "Test the thermostat" in html  # the job type's checklist
    assert 'accept="image/*"' in html and 'capture="environment"' in html
    assert "data-signature-pad" in html and "vendor/signature_pad/signature_pad.umd.min.js" in html


def test_the_page_offers_only_the_buttons_the_state_allows(tech_client, tech, job, visit):
    html = page_text(tech_client.get(url("tech-job", job)))
    assert url("tech-job-on-my-way", job) in html and url("tech-job-arrive", job) in html
    assert url("tech-job-complete", job) not in html and url("tech-job-pause", job) not in html

    on_site(job, tech)
    html = page_text(tech_client.get(url("tech-job", job)))
    assert url("tech-job-complete", job) in html and url("tech-job-pause", job) in html
    assert url("tech-job-on-my-way", job) not in html


# --- State changes ----------------------------------------------------------------------------------


def test_a_visit_runs_from_on_my_way_to_completed_through_the_buttons(tech_client, tech, job, visit):
    steps = [
        ("tech-job-on-my-way", {}, Job.State.EN_ROUTE),
        ("tech-job-arrive", {}, Job.State.ON_SITE),
        ("tech-job-pause", {"reason": "Parts run"}, Job.State.ON_HOLD),
        ("tech-job-resume", {}, Job.State.ON_SITE),
        ("tech-job-complete", {"completion_note": "Replaced the capacitor"}, Job.State.COMPLETED),
    ]
    for name, data, state in steps:
        response = tech_client.post(url(name, job), data)
        assert response.status_code == 302 and response["Location"] == url("tech-job", job), name
        job.refresh_from_db()
        assert job.state == state, name

    assert job.completion_note == "Replaced the capacitor"
    assert Event.objects.filter(code="fsm.job.en_route").exists()
    entries = TimeEntry.objects.filter(job=job, technician=tech, kind="job")
    assert (
        entries.count() == 2 and not entries.filter(ended_at=None).exists()
    )  # arrive-pause, resume-complete
    assert "Completed" in page_text(tech_client.get(url("tech-job", job)))


def test_on_my_way_says_the_customer_gets_a_text(tech_client, tech, job, visit):
    response = tech_client.post(url("tech-job-on-my-way", job), follow=True)
    assert "The customer gets a text with your arrival time." in page_text(response)


def test_a_refused_transition_shows_the_reason_with_400_and_changes_nothing(tech_client, tech, job, visit):
    response = tech_client.post(url("tech-job-pause", job))
    assert response.status_code == 400
    assert "A job that is scheduled cannot be paused." in page_text(response)
    job.refresh_from_db()
    assert job.state == Job.State.SCHEDULED


def test_completing_without_a_note_is_refused_and_nothing_is_saved(tech_client, tech, job, visit):
    on_site(job, tech)
    response = tech_client.post(url("tech-job-complete", job), {"completion_note": "   "})

    assert response.status_code == 400
    html = page_text(response)
    assert "Say what was done." in html
    assert '<details class="t-complete" open>' in html  # the note field stays open, next to its error
    job.refresh_from_db()
    visit.refresh_from_db()
    assert (job.state, job.completion_note, job.completed_at) == (Job.State.ON_SITE, "", None)
    assert visit.state == Visit.State.ON_SITE
    assert TimeEntry.objects.filter(job=job, ended_at=None).exists()
    assert not Event.objects.filter(code="fsm.job.completed").exists()


def test_completing_without_a_note_answers_json_to_a_json_client(tech_client, tech, job, visit):
    on_site(job, tech)
    response = tech_client.post(url("tech-job-complete", job), {"completion_note": ""}, **JSON)
    assert response.status_code == 400
    assert response.json()["errors"] == {"completion_note": ["Say what was done."]}


def test_resuming_the_offices_hold_is_forbidden(tech_client, tech, dispatcher, job, visit):
    on_site(job, tech)
    services.job_hold(job=job, actor=dispatcher, reason="Waiting for approval")
    html = page_text(tech_client.get(url("tech-job", job)))
    assert url("tech-job-resume", job) not in html and "Waiting for approval" in html

    response = tech_client.post(url("tech-job-resume", job))
    assert response.status_code == 403
    assert "cannot resume this job" in page_text(response)
    job.refresh_from_db()
    assert job.state == Job.State.ON_HOLD


def test_an_action_url_only_takes_posts(tech_client, job, visit):
    assert tech_client.get(url("tech-job-arrive", job)).status_code == 405


# --- Notes, checklist (htmx and plain) ----------------------------------------------------------------


def test_a_note_added_with_htmx_comes_back_as_the_notes_partial(tech_client, tech, job, visit):
    response = tech_client.post(url("tech-job-note", job), {"text": "Dog in the yard"}, **HTMX)
    html = page_text(response)
    assert response.status_code == 200
    assert 'id="notes"' in html and "Dog in the yard" in html and "<html" not in html
    assert JobNote.objects.get(job=job).author == tech


def test_an_empty_note_with_htmx_is_refused_in_the_partial_with_400(tech_client, job, visit):
    response = tech_client.post(url("tech-job-note", job), {"text": "  "}, **HTMX)
    assert response.status_code == 400
    html = page_text(response)
    assert "Write the note first." in html and 'id="notes"' in html and "<html" not in html
    assert not JobNote.objects.exists()


def test_a_note_added_with_a_plain_form_redirects_to_the_job(tech_client, job, visit):
    response = tech_client.post(url("tech-job-note", job), {"text": "Left a card"})
    assert response.status_code == 302 and response["Location"] == url("tech-job", job)
    assert JobNote.objects.get(job=job).text == "Left a card"


def test_the_checklist_ticks_with_htmx_and_unticks_with_a_plain_form(tech_client, tech, job, visit):
    response = tech_client.post(
        url("tech-job-checklist", job), {"item": "Check the filter", "done": ["0", "1"]}, **HTMX
    )
    assert response.status_code == 200
    html = page_text(response)
    assert 'id="checklist"' in html and "1/2" in html and "<html" not in html
    assert ChecklistResult.objects.get(job=job, item="Check the filter").done_by == tech

    response = tech_client.post(url("tech-job-checklist", job), {"item": "Check the filter", "done": "0"})
    assert response.status_code == 302
    assert not ChecklistResult.objects.get(job=job, item="Check the filter").done


def test_an_item_not_on_the_checklist_is_refused(tech_client, job, visit):
    response = tech_client.post(
        url("tech-job-checklist", job), {"item": "Fly to the moon", "done": "1"}, **HTMX
    )
    assert response.status_code == 400
    assert "That item is not on this job&#x27;s checklist." in page_text(response)
    assert not ChecklistResult.objects.exists()


# --- Photos -----------------------------------------------------------------------------------------


def test_a_photo_is_uploaded_and_served_to_the_crew_only(tech_client, other_client, job, visit, settings):
    response = tech_client.post(url("tech-job-photo", job), {"image": png_upload(), "caption": "Coil"})
    assert response.status_code == 302
    photo = JobPhoto.objects.get(job=job)
    assert photo.caption == "Coil" and photo.image.storage.exists(photo.image.name)
    assert str(settings.MEDIA_ROOT) in photo.image.path  # the test's temporary folder

    served = tech_client.get(url("tech-job-photo-file", job, photo.pk))
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == png_bytes()
    thumb = tech_client.get(url("tech-job-photo-file", job, photo.pk) + "?size=thumb")
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    assert url("tech-job-photo-file", job, photo.pk) in page_text(tech_client.get(url("tech-job", job)))
    assert other_client.get(url("tech-job-photo-file", job, photo.pk)).status_code == 404


def test_a_file_that_is_not_an_image_is_refused_and_nothing_is_stored(tech_client, job, visit, settings):
    pdf = png_upload("invoice.pdf", b"%PDF-1.7\n1 0 obj << >> endobj\n")
    response = tech_client.post(url("tech-job-photo", job), {"image": pdf, "caption": "Invoice"})
    assert response.status_code == 400
    html = page_text(response)
    assert "This file is not an image." in html and 'value="Invoice"' in html
    assert not JobPhoto.objects.exists()
    assert not [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]


def test_a_photo_over_the_size_limit_is_refused(tech_client, job, visit, settings):
    settings.FSM_PHOTO_MAX_BYTES = 100
    response = tech_client.post(url("tech-job-photo", job), {"image": png_upload(data=png_bytes((200, 200)))})
    assert response.status_code == 400
    assert "Photos can be at most 1 MB." in page_text(response)
    assert not JobPhoto.objects.exists()


def test_uploading_without_a_file_asks_for_one(tech_client, job, visit):
    response = tech_client.post(url("tech-job-photo", job), {"caption": "Nothing"})
    assert response.status_code == 400 and "Take or choose a photo first." in page_text(response)


# --- Signature --------------------------------------------------------------------------------------


def test_a_signature_drawn_on_the_pad_is_saved_with_the_signers_name(tech_client, tech, job, visit):
    data = {"data_url": signature_data_url(), "signer_name": "Ana Ruiz"}
    response = tech_client.post(url("tech-job-signature", job), data)
    assert response.status_code == 302
    signature = JobSignature.objects.get(job=job)
    assert (signature.signer_name, signature.collected_by) == ("Ana Ruiz", tech)
    assert tech_client.get(url("tech-job-signature-file", job, signature.pk))["Content-Type"] == "image/png"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"data_url": "", "signer_name": "Ana"}, "Ask the customer to sign in the box first."),
        ({"data_url": "SIGNATURE", "signer_name": ""}, "Who signed?"),
        (
            {"data_url": "data:image/png;base64,@@@", "signer_name": "Ana"},
            "The signature is not valid base64.",
        ),
    ],
)
def test_a_signature_without_a_drawing_or_a_name_is_refused(tech_client, job, visit, data, message):
    if data["data_url"] == "SIGNATURE":
        data = {**data, "data_url": signature_data_url()}
    response = tech_client.post(url("tech-job-signature", job), data)
    assert response.status_code == 400 and message in page_text(response)
    assert not JobSignature.objects.exists()


# --- Who may --------------------------------------------------------------------------------------


def test_another_technician_gets_404_on_the_job_page(other_client, job, visit):
    assert other_client.get(url("tech-job", job)).status_code == 404


@pytest.mark.parametrize("name", ACTION_URLS)
def test_another_technician_gets_404_on_every_action_url_and_changes_nothing(other_client, job, visit, name):
    data = {
        "completion_note": "Done",
        "text": "Hi",
        "item": "Check the filter",
        "signer_name": "X",
        "data_url": signature_data_url(),
        "image": png_upload(),
    }
    assert other_client.post(url(name, job), data).status_code == 404
    job.refresh_from_db()
    assert job.state == Job.State.SCHEDULED
    for model in (JobNote, JobPhoto, JobSignature, ChecklistResult):
        assert not model.objects.exists()


def test_another_technician_gets_404_for_the_jobs_signature_file(tech_client, other_client, tech, job, visit):
    signature = services.signature_add(job=job, actor=tech, data_url=signature_data_url(), signer_name="Ana")
    assert other_client.get(url("tech-job-signature-file", job, signature.pk)).status_code == 404


@pytest.mark.parametrize("role", ["owner", "office", "dispatcher"])
def test_office_roles_cannot_use_the_technicians_pages(role, personas, client_for, business, job, visit):
    client = client_for(personas[role])
    assert client.get(reverse("my-day")).status_code == 403
    assert client.get(url("tech-job", job)).status_code == 403
    assert client.post(url("tech-job-arrive", job)).status_code == 403


def test_a_technician_sees_no_financial_reports(tech_client):
    assert tech_client.get(reverse("dashboard")).status_code == 403
    assert tech_client.get(reverse("crm:report")).status_code == 403
    assert "Dashboard" not in page_text(tech_client.get(reverse("my-day")))


def test_anonymous_visitors_are_sent_to_log_in(client, job, visit):
    response = client.get(url("tech-job", job))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
