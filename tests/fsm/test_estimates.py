"""Estimates: drafting, the state machine and its refused transitions, sending through the outbox, the
customer's acceptance (the chosen lines land on the job) and the public page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from common.errors import ApplicationError
from events.models import Event
from fsm.documents.lines import LineIn
from fsm.errors import Forbidden
from fsm.estimates import services as estimates
from fsm.estimates.models import Estimate
from fsm.invoices.models import Invoice
from fsm.models import Job
from messaging.models import Message
from tests.factories import make_customer
from users.models import Business

from .estimate_helpers import austin_tax, good_better_best, signature_data_url


@pytest.fixture
def customer(business, office):
    return make_customer(actor=office, first_name="Ana", last_name="Ruiz", emails=["ana.ruiz@example.org"])


@pytest.fixture
def estimate(customer, office):
    austin_tax()
    return good_better_best(customer=customer, actor=office)


def test_options_carry_their_totals_with_tax_and_without_add_ons(estimate):
    good, better, best = estimate.options.all()
    assert estimate.number.startswith("EST-") and estimate.number.endswith("-000001")
    assert (good.subtotal, good.tax, good.total) == (
        Decimal("1895.00"),
        Decimal("156.34"),
        Decimal("2051.34"),
    )
    # 3450 taxable + 75 haul-away untaxed; the add-on is not in the option's total
    assert (better.subtotal, better.tax, better.total) == (
        Decimal("3525.00"),
        Decimal("284.63"),
        Decimal("3809.63"),
    )
    with_addon = estimates.option_totals(better, {better.lines.get(is_addon=True).pk})
    assert with_addon.total == Decimal("4014.22")  # + 189 + 15.59 tax
    assert best.total == Decimal("4649.34")


def test_numbers_follow_each_other_without_gaps(customer, office):
    numbers = [
        estimates.estimate_create(
            customer=customer, property=customer.properties.first(), actor=office, title=f"Job {i}"
        ).number
        for i in range(3)
    ]
    assert [n[-6:] for n in numbers] == ["000001", "000002", "000003"]


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        (LineIn(name="Part", unit_price="10", quantity="0"), "quantity", "more than zero"),
        (LineIn(name="Part", unit_price="10", quantity="-1"), "quantity", "more than zero"),
        (LineIn(name="Part", unit_price="10.999"), "unit_price", "more than 2 decimal places"),
        (LineIn(name="Part", unit_price="10", discount="12"), "discount", "more than the line"),
        (LineIn(name="Part", unit_price="-5"), "unit_price", "cannot be negative"),
        (LineIn(name="", unit_price="5"), "name", "Describe the line"),
    ],
)
def test_bad_lines_are_refused_and_change_nothing(estimate, office, line, field, message):
    option = estimate.options.first()
    before = (option.lines.count(), option.total)
    with pytest.raises(ApplicationError, match=message) as refused:
        estimates.line_add(option=option, actor=office, line=line)
    assert refused.value.field == field
    option.refresh_from_db()
    assert (option.lines.count(), option.total) == before


def test_at_most_three_options_and_at_least_one(estimate, office):
    with pytest.raises(ApplicationError, match="at most three"):
        estimates.option_add(estimate=estimate, actor=office)
    good, better, best = estimate.options.all()
    estimates.option_remove(option=best, actor=office)
    estimates.option_remove(option=better, actor=office)
    with pytest.raises(ApplicationError, match="at least one option"):
        estimates.option_remove(option=good, actor=office)


def test_a_technician_only_works_on_estimates_for_their_jobs(customer, technician):
    with pytest.raises(Forbidden):
        estimates.estimate_create(
            customer=customer, property=customer.properties.first(), actor=technician, title="Drain"
        )


def test_sending_texts_and_emails_the_link_and_starts_the_expiry(
    estimate, office, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        estimates.estimate_send(estimate=estimate, actor=office)
    estimate.refresh_from_db()
    assert estimate.state == Estimate.State.SENT
    assert estimate.expires_on == timezone.localdate() + timedelta(days=30) or estimate.expires_on
    texts = Message.objects.filter(customer=estimate.customer, template="estimate")
    mails = Message.objects.filter(customer=estimate.customer, channel="email")
    assert texts.count() == 1 and estimate.public_token in texts.get().body
    assert mails.count() == 1 and "Better: $3,809.63" in mails.get().body
    sent = Event.objects.get(milestone="estimate.sent")
    assert sent.data["channels"] == ["sms", "email"] and sent.data["option_totals"][0] == "2051.34"
    with pytest.raises(ApplicationError, match="sent estimate cannot be changed"):
        estimates.line_add(
            option=estimate.options.first(), actor=office, line=LineIn(name="x", unit_price="1")
        )
    with pytest.raises(ApplicationError, match="cannot be changed"):
        estimates.estimate_send(estimate=estimate, actor=office)


def test_an_option_without_lines_cannot_be_sent(customer, office):
    empty = estimates.estimate_create(
        customer=customer, property=customer.properties.first(), actor=office, title="Drain"
    )
    with pytest.raises(ApplicationError, match="Add at least one line"):
        estimates.estimate_send(estimate=empty, actor=office)
    assert Estimate.objects.get(pk=empty.pk).state == Estimate.State.DRAFT


@pytest.fixture
def sent(estimate, office):
    return estimates.estimate_send(estimate=estimate, actor=office)


def test_accepting_puts_the_chosen_lines_and_add_ons_on_a_new_job(sent):
    better = sent.options.get(name="Better")
    addon = better.lines.get(is_addon=True)
    accepted = estimates.estimate_accept(
        estimate=sent,
        option_id=better.pk,
        addon_ids=[str(addon.pk)],
        signer_name="  Ana   Ruiz ",
        signature=signature_data_url(),
    )
    assert accepted.state == Estimate.State.ACCEPTED
    assert (accepted.signer_name, accepted.accepted_total) == ("Ana Ruiz", Decimal("4014.22"))
    assert accepted.signature.name.endswith(".png")
    job = Job.objects.get(pk=accepted.job_id)
    assert job.state == Job.State.UNSCHEDULED and job.service == "Water heater replacement"
    draft = Invoice.objects.get(job=job)
    assert draft.state == Invoice.State.DRAFT
    assert [line.name for line in draft.lines.all()] == [
        "Tankless gas heater, installed",
        "Haul away",
        "Expansion tank",
    ]
    assert draft.total == Decimal("4014.22") and draft.estimate_id == accepted.pk
    event = Event.objects.get(milestone="estimate.accepted")
    assert event.data["option_name"] == "Better" and event.data["total"] == "4014.22"
    assert event.data["job_id"] == job.pk


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"signer_name": "   "}, "signer_name"),
        ({"signature": ""}, "signature"),
        ({"signature": signature_data_url(blank=True)}, "signature"),
        ({"signature": "data:image/png;base64,not-base64!"}, "signature"),
        ({"option_id": 0}, "option"),
    ],
)
def test_a_bad_acceptance_is_refused_and_changes_nothing(sent, changes, field):
    values = {
        "option_id": sent.options.first().pk,
        "signer_name": "Ana Ruiz",
        "signature": signature_data_url(),
        **changes,
    }
    with pytest.raises(ApplicationError) as refused:
        estimates.estimate_accept(estimate=sent, **values)
    assert refused.value.field == field
    sent.refresh_from_db()
    assert sent.state == Estimate.State.SENT and not sent.signature and sent.job_id is None
    assert not Job.objects.exists()


def test_an_add_on_of_another_option_is_refused(sent):
    good, better, _ = sent.options.all()
    addon = better.lines.get(is_addon=True)
    with pytest.raises(ApplicationError, match="not part of this option"):
        estimates.estimate_accept(
            estimate=sent,
            option_id=good.pk,
            addon_ids=[addon.pk],
            signer_name="Ana",
            signature=signature_data_url(),
        )


def test_decided_and_expired_estimates_refuse_the_other_answers(sent, office):
    estimates.estimate_decline(estimate=sent, reason="Went with another company")
    with pytest.raises(ApplicationError, match="declined and cannot be accepted"):
        estimates.estimate_accept(
            estimate=sent,
            option_id=sent.options.first().pk,
            signer_name="Ana",
            signature=signature_data_url(),
        )
    with pytest.raises(ApplicationError, match="Tell us why"):
        estimates.estimate_decline(estimate=sent, reason=" ")
    assert Event.objects.get(milestone="estimate.declined").data["reason"] == "Went with another company"


def test_expired_estimates_expire_overnight_and_renew_to_a_draft(sent, office):
    today = timezone.localdate(timezone.now(), Business.current().tzinfo)  # the business's day, not UTC's
    Estimate.objects.filter(pk=sent.pk).update(expires_on=today - timedelta(days=1))
    with pytest.raises(ApplicationError, match="expired"):
        estimates.estimate_accept(
            estimate=sent,
            option_id=sent.options.first().pk,
            signer_name="Ana",
            signature=signature_data_url(),
        )
    assert estimates.estimates_expire() == 1
    sent.refresh_from_db()
    assert sent.state == Estimate.State.EXPIRED
    with pytest.raises(ApplicationError, match="renew it first"):
        estimates.option_add(estimate=sent, actor=office)
    renewed = estimates.estimate_renew(estimate=sent, actor=office)
    assert renewed.state == Estimate.State.DRAFT and renewed.expires_on is None
    again = estimates.estimate_send(estimate=renewed, actor=office)
    assert again.expires_on > timezone.localdate()


def test_a_tax_exempt_customer_pays_no_tax(business, office):
    austin_tax()
    customer = make_customer(actor=office)
    type(customer).objects.filter(pk=customer.pk).update(tax_exempt=True, tax_exempt_certificate="TX-01-339")
    customer.refresh_from_db()
    estimate = good_better_best(customer=customer, actor=office)
    good = estimate.options.get(name="Good")
    assert good.tax == 0 and good.total == Decimal("1895.00")
    assert "TX-01-339" in estimate.tax_exempt_reason


# --- The public page -----------------------------------------------------------------------------------


def test_the_public_page_marks_it_viewed_with_private_headers(client, sent):
    response = client.get(f"/e/{sent.public_token}/")
    assert response.status_code == 200
    assert response["Referrer-Policy"] == "no-referrer" and "noindex" in response["X-Robots-Tag"]
    assert b"Tankless gas heater" in response.content and b"$3,809.63" in response.content
    sent.refresh_from_db()
    assert sent.state == Estimate.State.VIEWED and sent.viewed_at is not None
    client.get(f"/e/{sent.public_token}/")
    assert Event.objects.filter(code="fsm.estimate.viewed").count() == 1


def test_the_public_page_reads_a_constant_number_of_queries(client, sent, office):
    client.get(f"/e/{sent.public_token}/")  # viewed: the first visit writes
    with CaptureQueriesContext(connection) as first:
        assert client.get(f"/e/{sent.public_token}/").status_code == 200
    for option in sent.options.all():
        for i in range(4):
            option.lines.create(name=f"Extra {i}", unit_price=Decimal("10.00"), amount=Decimal("10.00"))
    with CaptureQueriesContext(connection) as more:
        assert client.get(f"/e/{sent.public_token}/").status_code == 200
    assert len(more) == len(first) <= 8, [q["sql"] for q in more]


def test_wrong_draft_and_revoked_links_are_404_and_guessing_is_limited(client, estimate, office, settings):
    assert client.get(f"/e/{estimate.public_token}/").status_code == 404  # a draft is not shown
    sent = estimates.estimate_send(estimate=estimate, actor=office)
    old = sent.public_token
    estimates.estimate_link_renew(estimate=sent, actor=office)
    assert client.get(f"/e/{old}/").status_code == 404
    settings.PUBLIC_LINK_GUESS_RATE = "3/h"
    cache.clear()  # the two misses above counted too
    codes = [client.get(f"/e/{'x' * 32}{i}/").status_code for i in range(5)]
    assert codes[:2] == [404, 404] and codes[-1] == 429


def test_the_customer_accepts_through_the_page(client, sent):
    better = sent.options.get(name="Better")
    response = client.post(
        f"/e/{sent.public_token}/accept/",
        {"option": better.pk, "signer_name": "Ana Ruiz", "signature": signature_data_url()},
    )
    assert response.status_code == 302
    page = client.get(f"/e/{sent.public_token}/")
    assert b"Accepted" in page.content and b"signed by Ana Ruiz" in page.content


def test_a_refused_acceptance_shows_the_field_error(client, sent):
    response = client.post(
        f"/e/{sent.public_token}/accept/",
        {"option": sent.options.first().pk, "signer_name": "Ana Ruiz", "signature": ""},
    )
    assert response.status_code == 400 and b"Sign in the box." in response.content
    assert Estimate.objects.get(pk=sent.pk).state == Estimate.State.SENT


def test_the_quote_is_the_servers_arithmetic(client, sent):
    better = sent.options.get(name="Better")
    addon = better.lines.get(is_addon=True)
    response = client.post(f"/e/{sent.public_token}/quote/", {"option": better.pk, "addons": [addon.pk]})
    assert b"$4,014.22" in response.content


def test_photos_from_the_job_show_on_the_customers_page(client, office, visit):
    import io

    from django.core.files.base import ContentFile
    from PIL import Image

    from fsm.models import JobPhoto

    def photo(caption):
        buffer = io.BytesIO()
        Image.new("RGB", (40, 30), "gray").save(buffer, "JPEG")
        made = JobPhoto(job=visit.job, caption=caption)
        made.image.save(f"{caption}.jpg", ContentFile(buffer.getvalue()), save=False)
        made.save()
        return made

    austin_tax()
    leak, other = photo("leak"), photo("other")
    estimate = good_better_best(customer=visit.job.customer, actor=office, job=visit.job)
    assert estimates.estimate_photos_set(estimate=estimate, actor=office, photo_ids=[str(leak.pk)]) == [
        leak.pk
    ]
    with pytest.raises(ApplicationError, match="this estimate's job"):
        estimates.estimate_photos_set(estimate=estimate, actor=office, photo_ids=[leak.pk, 999_999])
    estimate = estimates.estimate_send(estimate=estimate, actor=office)
    page = client.get(f"/e/{estimate.public_token}/")
    assert f"/e/{estimate.public_token}/photos/{leak.pk}/".encode() in page.content
    assert client.get(f"/e/{estimate.public_token}/photos/{leak.pk}/").status_code == 200
    assert client.get(f"/e/{estimate.public_token}/photos/{other.pk}/").status_code == 404  # not attached
    with pytest.raises(ApplicationError, match="cannot be changed"):
        estimates.estimate_photos_set(estimate=estimate, actor=office, photo_ids=[other.pk])
