"""Review requests with a frozen clock: made from the configured milestone once, sent after the delay
through the outbox (text, else e-mail), one reminder, the click link, scores and the owner's alert, the
settings page and the report. The link is never gated on a score."""

import ast
import inspect
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from config.celery import app as celery_app
from crm import phone
from crm.automations import reviews
from crm.automations.models import AutomationSettings, Task
from crm.automations.review_models import ReviewRequest, ReviewSettings
from customers import services as customer_services
from events.services import publish
from fsm import services as fsm
from fsm.invoices import services as invoices
from messaging.models import Message
from tests.concurrency import at_once
from tests.crm.test_automations import deliver
from tests.factories import make_customer, unique_phone
from tests.fsm.estimate_helpers import austin_tax, issued_invoice
from tests.fsm.factories import make_job, make_technician, schedule

pytestmark = pytest.mark.django_db
CHICAGO = ZoneInfo("America/Chicago")
MONDAY_10 = datetime(2026, 11, 16, 10, 0, tzinfo=CHICAGO)
PLACE = "ChIJN1t_tDeuEmsRUsoyG83frY4"
GOOGLE = f"https://search.google.com/local/writereview?placeid={PLACE}"


@pytest.fixture
def review_settings(business):
    rules = ReviewSettings.current()
    rules.enabled, rules.google_place_id, rules.delay_hours = True, PLACE, 2
    rules.save()
    return rules


@pytest.fixture
def customer(business, office):
    return make_customer(actor=office, first_name="Ana", last_name="Ruiz", emails=["ana@example.com"])


def paid(customer, invoice_id: int, *, technician: str = "Jake") -> None:
    """fsm's invoice.paid as a worker delivers it to the review subscribers."""
    publish(
        "invoice.paid",
        subject=customer,
        data={
            "invoice_id": invoice_id,
            "invoice_number": f"INV-{invoice_id}",
            "customer_id": customer.pk,
            "job_id": None,
            "origin_lead_id": None,
            "total": "250.00",
            "paid_at": timezone.now().isoformat(),
            "technician_id": None,
            "technician_first_name": technician,
        },
    )
    deliver("crm.reviews.")


def review_messages(customer) -> list[Message]:
    return list(Message.objects.filter(customer=customer, template="review").order_by("pk"))


def sent_request(customer, invoice_id=1) -> ReviewRequest:
    paid(customer, invoice_id)
    request = ReviewRequest.objects.get(customer=customer)
    reviews.reviews_tick(now=request.due_at)
    request.refresh_from_db()
    return request


# --- From the milestone to the text --------------------------------------------------------------------


@time_machine.travel(MONDAY_10, tick=False)
def test_a_paid_invoice_makes_one_request_sent_after_the_delay_not_before(review_settings, office):
    austin_tax()
    tech = make_technician(first_name="Luis")
    job = make_job(actor=office)
    schedule(job, start=MONDAY_10 + timedelta(hours=1), technicians=[tech], actor=office)
    fsm.job_arrive(job=job, actor=tech)
    fsm.job_complete(job=job, actor=tech, completion_note="Drain cleared")
    invoice = issued_invoice(customer=job.customer, actor=office, amount="250.00", job=job)
    invoices.payment_record(invoice=invoice, actor=office, method="card", amount=invoice.total)
    deliver("crm.reviews.")

    request = ReviewRequest.objects.get(customer=job.customer)
    assert (request.subject_key, request.invoice_id, request.job_id) == (
        f"invoice:{invoice.pk}",
        invoice.pk,
        job.pk,
    )
    assert (request.technician, request.technician_first_name) == (tech, "Luis")
    assert request.state == "pending" and request.due_at == MONDAY_10 + timedelta(hours=2)
    assert reviews.reviews_tick(now=request.due_at - timedelta(minutes=1)) == 0
    assert review_messages(job.customer) == []
    assert reviews.reviews_tick(now=request.due_at) == 1
    (text,) = review_messages(job.customer)
    assert text.channel == "sms" and text.purpose == "automated"
    assert f"/r/{request.token}" in text.body and "Luis" in text.body
    assert reviews.SCORE_QUESTION in text.body, "the score is asked in the same message as the link"
    request.refresh_from_db()
    assert request.state == "sent" and request.channel == "sms" and request.message == text
    assert reviews.reviews_tick(now=MONDAY_10 + timedelta(hours=2)) == 0, "sent once"


@time_machine.travel(MONDAY_10, tick=False)
def test_a_duplicate_milestone_makes_one_request(review_settings, customer):
    paid(customer, 7)
    paid(customer, 7)  # the same invoice's milestone published again
    assert ReviewRequest.objects.filter(customer=customer).count() == 1


@time_machine.travel(MONDAY_10, tick=False)
def test_only_the_chosen_milestone_makes_requests(review_settings, customer):
    review_settings.trigger = ReviewSettings.Trigger.JOB_COMPLETED
    review_settings.save()
    paid(customer, 7)
    assert not ReviewRequest.objects.exists()


@time_machine.travel(MONDAY_10, tick=False)
def test_nothing_is_made_while_switched_off(business, customer):
    paid(customer, 7)
    assert not ReviewRequest.objects.exists()


@time_machine.travel(MONDAY_10, tick=False)
def test_a_customer_is_asked_at_most_once_in_90_days(review_settings, customer):
    sent_request(customer, invoice_id=1)
    with time_machine.travel(MONDAY_10 + timedelta(days=89), tick=False):
        paid(customer, 2)
    assert ReviewRequest.objects.filter(customer=customer).count() == 1
    with time_machine.travel(MONDAY_10 + timedelta(days=91), tick=False):
        paid(customer, 3)
    assert ReviewRequest.objects.filter(customer=customer).count() == 2


# --- Channels and consent ------------------------------------------------------------------------------


@time_machine.travel(MONDAY_10, tick=False)
def test_a_customer_with_no_textable_number_gets_the_link_by_email(review_settings, office):
    customer = make_customer(actor=office, first_name="Bo", phones=[], emails=["bo@example.com"])
    request = sent_request(customer)
    (mail,) = review_messages(customer)
    assert request.channel == "email" and mail.channel == "email" and mail.to_email == "bo@example.com"
    assert f"/r/{request.token}" in mail.body and mail.subject == "How did we do, Bo?"


@time_machine.travel(MONDAY_10, tick=False)
def test_an_opted_out_customer_is_not_texted(review_settings, customer, office):
    number = customer.phones.first().number.as_e164
    customer_services.consent_record(number=number, state="opted_out", method="office")
    request = sent_request(customer)
    assert [m.channel for m in review_messages(customer)] == ["email"]
    assert request.channel == "email"

    texter = make_customer(actor=office, first_name="Cy")  # opted out and no e-mail: nothing at all
    customer_services.consent_record(
        number=texter.phones.first().number.as_e164, state="opted_out", method="office"
    )
    request = sent_request(texter, invoice_id=2)
    assert review_messages(texter) == [] and request.state == "not_sent" and "no number" in request.note


@time_machine.travel(MONDAY_10, tick=False)
def test_a_request_over_the_message_limit_waits_and_is_not_dropped(review_settings, customer):
    caps = AutomationSettings.current()
    caps.max_per_day = 1
    caps.save()
    from messaging import services as messaging

    messaging.message_queue(
        to=customer.phones.first().number.as_e164, body="Other news", purpose="automated", customer=customer
    )
    request = sent_request(customer)
    assert request.state == "pending" and "Limit reached" in request.waiting_reason
    assert request.due_at == MONDAY_10 + timedelta(days=1)
    reviews.reviews_tick(now=request.due_at)
    request.refresh_from_db()
    assert request.state == "sent" and len(review_messages(customer)) == 1


# --- The reminder --------------------------------------------------------------------------------------


@time_machine.travel(MONDAY_10, tick=False)
def test_one_reminder_when_the_link_was_not_opened(review_settings, customer):
    request = sent_request(customer)
    assert request.due_at == request.sent_at + timedelta(days=3)
    assert reviews.reviews_tick(now=request.due_at - timedelta(minutes=1)) == 0
    assert reviews.reviews_tick(now=request.due_at) == 1
    _request_text, reminder = review_messages(customer)
    assert f"/r/{request.token}" in reminder.body and reviews.SCORE_QUESTION not in reminder.body
    request.refresh_from_db()
    assert request.reminded_at is not None and request.reminder_message == reminder and request.due_at is None
    assert reviews.reviews_tick(now=MONDAY_10 + timedelta(days=30)) == 0, "one reminder only"


@time_machine.travel(MONDAY_10, tick=False)
def test_no_reminder_once_the_link_was_opened(review_settings, customer, client):
    request = sent_request(customer)
    client.get(f"/r/{request.token}")
    assert reviews.reviews_tick(now=MONDAY_10 + timedelta(days=30)) == 0
    assert len(review_messages(customer)) == 1


# --- The link ------------------------------------------------------------------------------------------


@time_machine.travel(MONDAY_10, tick=False)
def test_the_link_records_the_click_and_sends_the_customer_to_google(review_settings, customer, client):
    request = sent_request(customer)
    response = client.get(f"/r/{request.token}")
    assert response.status_code == 302 and response["Location"] == GOOGLE
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert client.get(f"/r/{request.token}.")["Location"] == GOOGLE  # a phone took the full stop too
    request.refresh_from_db()
    assert request.state == "clicked" and request.clicked_at == MONDAY_10 and request.click_count == 2


def test_an_unknown_token_is_a_404_and_guessing_is_limited(review_settings, client, settings):
    settings.PUBLIC_LINK_GUESS_RATE = "2/m"
    assert client.get("/r/not-a-real-token-at-all").status_code == 404
    assert client.get("/r/not-a-real-token-either").status_code == 404
    assert client.get("/r/still-not-a-token").status_code == 429


@time_machine.travel(MONDAY_10, tick=False)
def test_a_job_completed_trigger_names_the_technician_who_did_the_work(review_settings, office):
    review_settings.trigger = ReviewSettings.Trigger.JOB_COMPLETED
    review_settings.save()
    tech = make_technician(first_name="Priya")
    job = make_job(actor=office)
    schedule(job, start=MONDAY_10 + timedelta(hours=1), technicians=[tech], actor=office)
    fsm.job_arrive(job=job, actor=tech)
    fsm.job_complete(job=job, actor=tech, completion_note="Heater replaced")
    deliver("crm.reviews.")
    request = ReviewRequest.objects.get(customer=job.customer)
    assert (request.subject_key, request.job_id, request.technician_first_name) == (
        f"job:{job.pk}",
        job.pk,
        "Priya",
    )


def test_a_review_url_given_wins_over_the_place_id(review_settings):
    assert review_settings.review_url == GOOGLE
    review_settings.google_review_url = "https://g.page/r/abc/review"
    assert review_settings.review_url == "https://g.page/r/abc/review"


# --- Scores: never gating ------------------------------------------------------------------------------


@time_machine.travel(MONDAY_10, tick=False)
def test_a_low_score_customer_got_the_link_and_the_owner_gets_a_call_task(review_settings, customer, owner):
    request = sent_request(customer)
    (text,) = review_messages(customer)
    assert f"/r/{request.token}" in text.body, "the link goes before any score is known"
    phone.sms_receive(
        from_number=customer.phones.first().number.as_e164,
        to_number="+15125550100",
        body="2",
        message_sid="SM-score",
        media_urls=[],
    )
    deliver("crm.reviews.")
    request.refresh_from_db()
    assert (request.score, request.score_at) == (2, MONDAY_10)
    task = Task.objects.get(customer=customer)
    assert task.title == "Call Ana Ruiz about their 2/5" and task.assignee == owner
    assert len(review_messages(customer)) == 1 and f"/r/{request.token}" in review_messages(customer)[0].body
    assert client_redirects_to_google(request.token)
    assert request.alert_task == task and reviews.low_scores_to_call() == [request]


@time_machine.travel(MONDAY_10, tick=False)
def test_the_report_lists_low_scores_to_call_back(review_settings, customer, owner, client_for):
    sent_request(customer)
    reviews.review_score_record(customer_id=customer.pk, body="1")
    page = client_for(owner).get("/reports/reviews/").content.decode()
    assert "Low scores to call back" in page and "Ana Ruiz" in page and "1/5" in page


def client_redirects_to_google(token: str) -> bool:
    from django.test import Client

    return Client().get(f"/r/{token}")["Location"] == GOOGLE


@time_machine.travel(MONDAY_10, tick=False)
def test_a_high_score_makes_no_task(review_settings, customer, owner):
    request = sent_request(customer)
    reviews.review_score_record(customer_id=customer.pk, body="5 stars!")
    request.refresh_from_db()
    assert request.score == 5 and not Task.objects.exists()


@pytest.mark.parametrize(
    ("body", "score"),
    [
        ("4", 4),
        (" 5/5 ", 5),
        ("3 out of 5", 3),
        ("1 star", 1),
        ("6", None),
        ("call me at 5", None),
        ("", None),
        ("5\n\nSent from my iPhone", 5),  # an e-mailed reply: the first line is the answer
        ("2\nthe tech was late", 2),
        ("call me\n5", None),
    ],
)
def test_what_counts_as_a_score(body, score):
    assert reviews.score_of(body) == score


def test_no_code_path_that_sends_reads_the_score():
    """Review gating is forbidden: the functions that decide what is sent never look at a score."""
    senders = [reviews.reviews_tick, reviews._step, reviews._route, reviews._queue, reviews.review_body]
    senders += [reviews.review_request_create, reviews.review_request_from_milestone]
    for function in senders:
        tree = ast.parse(inspect.getsource(function).strip())
        names = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        names |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        assert not {"score", "score_at", "low_score_threshold"} & names, function.__name__


# --- The beat task -------------------------------------------------------------------------------------


def test_reviews_tick_runs_every_minute_from_beat():
    entry = celery_app.conf.beat_schedule["reviews-tick"]
    assert entry["task"] == "crm.tasks.reviews_tick" and entry["schedule"] == 60.0
    from crm import tasks

    assert tasks.reviews_tick.name == "crm.tasks.reviews_tick"


# --- The settings page ---------------------------------------------------------------------------------


def _form(**changes) -> dict:
    data = {
        "enabled": "on",
        "trigger": "invoice.paid",
        "delay_hours": "2",
        "google_place_id": PLACE,
        "google_review_url": "",
        "ask_score": "on",
        "low_score_threshold": "3",
        "reminder_days": "3",
        "min_days_between": "90",
        "sms_template": "Hi {first_name}, thanks! {review_link}",
        "email_subject": "How did we do?",
        "email_template": "Hi {first_name}, {review_link}",
        "reminder_template": "A reminder: {review_link}",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_owner_saves_the_settings(business, owner, client_for):
    response = client_for(owner).post("/settings/reviews/", _form(delay_hours="24"))
    assert response.status_code == 302
    rules = ReviewSettings.current()
    assert rules.enabled and rules.delay_hours == 24 and rules.review_url == GOOGLE


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"sms_template": "Hi {nickname} {review_link}"}, "sms_template", "Unknown merge field {nickname}"),
        ({"reminder_template": "Please review us"}, "reminder_template", "Put {review_link} in the message"),
        ({"google_place_id": ""}, "google_place_id", "Give your Google review link or place ID"),
        ({"google_place_id": "not a place id!"}, "google_place_id", "A place ID is letters"),
        ({"google_review_url": "http://example.com/x"}, "google_review_url", "https://"),
        ({"low_score_threshold": "5"}, "low_score_threshold", ""),
        ({"reminder_days": "45"}, "reminder_days", "Choose 0 to 30"),
    ],
)
def test_settings_errors_show_on_their_field(business, owner, client_for, changes, field, message):
    response = client_for(owner).post("/settings/reviews/", _form(**changes))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field])
    assert not ReviewSettings.current().enabled


@pytest.mark.parametrize("url", ["/settings/reviews/", "/reports/reviews/"])
def test_only_the_owner_opens_the_review_pages(business, personas, client_for, url, client):
    assert client_for(personas["owner"]).get(url).status_code == 200
    for role in ("office", "dispatcher", "technician", "outsider"):
        assert client_for(personas[role]).get(url).status_code == 403, role
    assert client.get(url).status_code == 302


# --- The report ----------------------------------------------------------------------------------------


def _request(customer, key, *, sent, tech, clicked=False, score=None) -> ReviewRequest:
    return ReviewRequest.objects.create(
        customer=customer,
        subject_key=key,
        milestone="invoice.paid",
        technician_first_name=tech,
        state="clicked" if clicked else "sent",
        sent_at=sent,
        clicked_at=sent + timedelta(hours=1) if clicked else None,
        score=score,
        created_at=sent,
    )


def test_the_report_counts_sent_clicked_rate_and_average_score(business, owner, client_for, office):
    customer = make_customer(actor=office)
    oct_1 = datetime(2026, 10, 5, 12, tzinfo=CHICAGO)
    nov_1 = datetime(2026, 11, 5, 12, tzinfo=CHICAGO)
    _request(customer, "invoice:1", sent=oct_1, tech="Luis", clicked=True, score=5)
    _request(customer, "invoice:2", sent=oct_1, tech="Luis", score=2)
    _request(customer, "invoice:3", sent=nov_1, tech="Jake", clicked=True)
    _request(customer, "invoice:4", sent=nov_1, tech="Luis")
    _request(customer, "invoice:5", sent=datetime(2026, 8, 1, 12, tzinfo=CHICAGO), tech="Luis")  # outside

    report = reviews.review_report(start=date(2026, 10, 1), end=date(2026, 11, 30), tz=CHICAGO)
    total = report["total"]
    # 4 sent, 2 clicked: 50.0 %; scores 5 and 2: 3.5
    assert (total.sent, total.clicked, total.click_rate, total.average_score) == (4, 2, 50.0, 3.5)
    luis, jake = report["technicians"]
    assert (luis.label, luis.sent, luis.clicked, luis.click_rate, luis.average_score) == (
        "Luis",
        3,
        1,
        33.3,
        3.5,
    )
    assert (jake.label, jake.sent, jake.clicked, jake.click_rate, jake.average_score) == (
        "Jake",
        1,
        1,
        100.0,
        None,
    )
    october, november = report["months"]
    assert (october.label, october.sent, october.clicked, october.average_score) == (
        "Oct 2026",
        2,
        1,
        3.5,
    )
    assert (november.label, november.sent, november.clicked, november.click_rate) == (
        "Nov 2026",
        2,
        1,
        50.0,
    )

    client = client_for(owner)
    page = client.get("/reports/reviews/", {"start": "2026-10-01", "end": "2026-11-30"})
    assert page.status_code == 200 and "50.0%" in page.content.decode()
    csv = client.get("/reports/reviews/", {"start": "2026-10-01", "end": "2026-11-30", "download": "csv"})
    lines = csv.content.decode().splitlines()
    assert lines[1] == "total,All requests,4,2,50.0,2,3.5"
    assert "technician,Luis,3,1,33.3,2,3.5" in lines


@time_machine.travel(MONDAY_10, tick=False)
def test_a_request_a_week_overdue_is_not_sent(review_settings, customer):
    paid(customer, 1)
    request = ReviewRequest.objects.get(customer=customer)
    reviews.reviews_tick(now=request.due_at + timedelta(days=8))
    request.refresh_from_db()
    assert (
        request.state == "not_sent"
        and request.note.startswith("Too late")
        and review_messages(customer) == []
    )


@time_machine.travel(datetime(2026, 11, 16, 19, 30, tzinfo=CHICAGO), tick=False)
def test_a_request_due_at_night_waits_for_quiet_hours_to_end(review_settings, customer):
    request = sent_request(customer)  # due at 21:30: after the customer's window closes
    (text,) = review_messages(customer)
    assert text.status == "held" and text.not_before > request.sent_at
    assert f"/r/{request.token}" in text.body


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_send_the_same_request(require_postgres, business):
    rules = ReviewSettings.current()
    rules.enabled, rules.google_place_id = True, PLACE
    rules.save()
    now = timezone.now()
    for i in range(30):
        customer = make_customer(phones=[unique_phone()])
        reviews.review_request_create(
            customer_id=customer.pk, milestone="invoice.paid", subject_key=f"invoice:{i}", occurred_at=now
        )
    ReviewRequest.objects.update(due_at=now - timedelta(minutes=1))
    counts = at_once([lambda: reviews.reviews_tick(batch=4)] * 2)
    assert sum(counts) == 30 and all(counts), "both took a share"
    assert Message.objects.filter(template="review").count() == 30
    assert connection.vendor == "postgresql"
