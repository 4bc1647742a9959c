"""Reactivation campaigns: launch on a segment, throttled sends inside the sending hours, results."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from common.errors import ApplicationError
from crm.models import Campaign
from crm.segments import outreach as campaigns
from crm.segments import services as segments
from crm.segments.models import Outreach, OutreachRecipient
from crm.segments.services import SegmentSpec
from customers import services as customer_services
from customers.models import Customer
from customers.services import CustomerIn, PhoneIn, PropertyIn
from fsm import services as fsm
from messaging import services as messaging
from messaging.models import Message
from tests.factories import make_customer, unique_phone

pytestmark = pytest.mark.django_db
CHICAGO = ZoneInfo("America/Chicago")
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=CHICAGO)
BODY = "Hi {first_name}, it's tune-up season at {business_name}. Reply YES to book yours."


def _past_customers(count: int, *, months_ago: int = 14) -> list[int]:
    made = customer_services.customers_create_bulk(
        customers=[
            CustomerIn(
                first_name=f"Pat{i}",
                last_name="Lee",
                phones=[PhoneIn(number=unique_phone())],
                properties=[PropertyIn(street=f"{i} Oak St", city="Austin", state="TX", zip_code="78704")],
            )
            for i in range(count)
        ],
        actor=None,
    )
    ids = [row.customer.pk for row in made]
    for row in made:  # they ticked "text me offers" on the booking form
        customer_services.consent_record(
            number=row.customer.phones.first().number.as_e164, state="opted_in", method="web form"
        )
    for pk in ids:
        segments.history_job_completed(
            customer_id=pk, at=MONDAY_10 - timedelta(days=30 * months_ago), job_type="AC tune-up"
        )
    return ids


def _outreach(business, *, rate=100, name="Spring tune-up", body=BODY, **spec) -> Outreach:
    segment = segments.segment_save(name=name, spec=SegmentSpec(**(spec or {"last_job_months": 12})))
    return Outreach.objects.create(
        name=name, segment=segment, body=body, starts_at=MONDAY_10, rate_per_hour=rate
    )


@time_machine.travel(MONDAY_10, tick=False)
def test_a_campaign_to_1000_customers_is_throttled_as_set_and_says_when_it_will_finish(business):
    _past_customers(1000)
    make_customer()  # matches (never had a job? no: no history) and is not opted in anyway
    outreach = _outreach(business, rate=50)
    plan = campaigns.outreach_plan(outreach)
    assert plan.recipients == 1000 and plan.segments_per_text == 1
    assert plan.cost == Decimal("8.30")  # 1,000 one-segment texts at $0.0083
    # 50 an hour, 9:00-20:00: 500 today (10:00 to 20:00), the other 500 tomorrow.
    assert plan.days == 2 and plan.finishes_at.astimezone(CHICAGO).date() == MONDAY_10.date() + timedelta(
        days=1
    )
    campaigns.outreach_launch(outreach=outreach)
    outreach.refresh_from_db()
    assert outreach.state == "scheduled" and outreach.campaign.source.slug == "reactivation"
    assert campaigns.outreach_tick(now=MONDAY_10 + timedelta(hours=1)) == 51  # 10:00 to 11:00 inclusive
    assert Message.objects.filter(template=f"outreach:{outreach.pk}", purpose="marketing").count() == 51
    late = OutreachRecipient.objects.filter(outreach=outreach).order_by("due_at").last()
    assert 9 <= late.due_at.astimezone(CHICAGO).hour < 20, "never queued for the night"
    assert campaigns.outreach_tick(now=MONDAY_10 + timedelta(days=2)) == 949
    outreach.refresh_from_db()
    assert outreach.state == "done"
    assert Campaign.objects.get(pk=outreach.campaign_id).cost == Decimal("8.30")


def test_a_segment_that_matches_nobody_cannot_be_sent(business):
    outreach = _outreach(business, last_job_months=12)
    assert campaigns.outreach_plan(outreach).recipients == 0
    with pytest.raises(ApplicationError, match="no one to send it to"):
        campaigns.outreach_launch(outreach=outreach)
    outreach.refresh_from_db()
    assert outreach.state == "draft" and not OutreachRecipient.objects.exists()


def test_an_unknown_merge_field_or_no_message_is_refused(business):
    _past_customers(2)
    with pytest.raises(ApplicationError, match=r"\{frist_name\}"):
        campaigns.outreach_launch(outreach=_outreach(business, body="Hi {frist_name}"))
    with pytest.raises(ApplicationError, match="Write the text"):
        campaigns.outreach_launch(outreach=_outreach(business, name="Empty", body=""))


@time_machine.travel(MONDAY_10, tick=False)
def test_results_count_replies_opt_outs_and_jobs_booked_within_the_window(business, office):
    ids = _past_customers(4)
    outreach = _outreach(business, rate=1000)
    outreach = campaigns.outreach_launch(outreach=outreach)
    campaigns.outreach_tick(now=MONDAY_10 + timedelta(minutes=5))
    replier, quitter, booker, _ = (c for c in ids)
    from customers.models import Customer

    replier, quitter, booker = (Customer.objects.get(pk=pk) for pk in (replier, quitter, booker))
    with time_machine.travel(MONDAY_10 + timedelta(hours=2), tick=False):
        messaging.message_receive(
            from_number=replier.phones.first().number.as_e164,
            to_number="+15125550100",
            body="YES",
            provider_sid="S1",
        )
        customer_services.consent_record(
            number=quitter.phones.first().number.as_e164, state="opted_out", method="sms"
        )
        job = fsm.job_create(
            customer=booker, property=booker.properties.first(), description="Tune-up", actor=office
        )
        fsm.visit_schedule(job=job, start=MONDAY_10 + timedelta(days=3), actor=office, confirm=True)
    results = campaigns.outreach_results(outreach, now=MONDAY_10 + timedelta(days=5))
    assert (results.recipients, results.sent, results.replied, results.opted_out, results.jobs_booked) == (
        4,
        4,
        1,
        1,
        1,
    )
    assert results.cost == Decimal("0.03")


@time_machine.travel(MONDAY_10, tick=False)
def test_an_opted_out_customer_is_skipped_and_a_yearly_campaign_comes_back_next_year(business):
    ids = _past_customers(2)
    outreach = _outreach(business, rate=1000)
    Outreach.objects.filter(pk=outreach.pk).update(repeat="yearly")
    outreach.refresh_from_db()
    campaigns.outreach_launch(outreach=outreach)
    from customers.models import PhoneNumber

    PhoneNumber.objects.filter(customer_id=ids[0]).update(sms_consent="opted_out")
    customer_services.consent_record(
        number=str(PhoneNumber.objects.get(customer_id=ids[0]).number), state="opted_out", method="sms"
    )
    assert campaigns.outreach_tick(now=MONDAY_10 + timedelta(minutes=5)) == 1
    assert OutreachRecipient.objects.get(customer_id=ids[0]).state == "skipped"
    outreach.refresh_from_db()
    assert outreach.state == "done" and outreach.starts_at == MONDAY_10.replace(year=2027)
    assert campaigns.outreach_relaunch_yearly(now=MONDAY_10 + timedelta(days=100)) == 0
    with time_machine.travel(MONDAY_10.replace(year=2027), tick=False):
        number = str(PhoneNumber.objects.get(customer_id=ids[0]).number)
        # signed up for offers again at the next visit
        customer_services.consent_record(number=number, state="opted_in", method="web form")
        assert campaigns.outreach_relaunch_yearly() == 1
    outreach.refresh_from_db()
    assert outreach.run == 2 and outreach.recipients.filter(run=2).count() == 2


def test_the_test_text_goes_to_the_sender_s_own_phone(business, owner):
    _past_customers(1)
    outreach = _outreach(business)
    with pytest.raises(ApplicationError, match="Add your mobile number"):
        campaigns.outreach_test_send(outreach=outreach, actor=owner)
    owner.phone = "+15125550177"
    owner.save()
    message = campaigns.outreach_test_send(outreach=outreach, actor=owner)
    assert message.to_number == "+15125550177" and message.body.startswith("[Test] Hi there")
    assert not Message.objects.exclude(pk=message.pk).exists()


# --- Pages -----------------------------------------------------------------------------------------------


def _campaign_form(segment_chosen, **overrides) -> dict:
    return {
        "name": "Tune-up season",
        "segment": segment_chosen.pk,
        "body": BODY,
        "sequence": "",
        "starts_at": "2026-03-02T10:00",
        "repeat": "once",
        "rate_per_hour": "100",
        "attribution_days": "30",
        **overrides,
    }


def test_a_campaign_is_drafted_checked_tested_and_launched_from_the_pages(business, owner, client_for):
    _past_customers(3)
    segment = segments.segment_save(name="Lapsed", spec=SegmentSpec(last_job_months=12))
    owner.phone = "+15125550177"
    owner.save()
    client = client_for(owner)
    with time_machine.travel(MONDAY_10, tick=False):
        saved = client.post("/leads/reactivation/new/", _campaign_form(segment))
        outreach = Outreach.objects.get()
        assert saved.status_code == 302 and saved["Location"] == f"/leads/reactivation/{outreach.pk}/"
        page = client.get(f"/leads/reactivation/{outreach.pk}/")
        assert b'data-testid="plan-recipients">3<' in page.content
        assert b"Launch: text 3 customers" in page.content
        client.post(f"/leads/reactivation/{outreach.pk}/test/")
        assert Message.objects.get().to_number == "+15125550177"
        stale = client.post(f"/leads/reactivation/{outreach.pk}/launch/", {"expected": "2"}, follow=True)
        assert b"The segment changed: it now reaches 3" in stale.content
        assert not OutreachRecipient.objects.exists()
        client.post(f"/leads/reactivation/{outreach.pk}/launch/", {"expected": "3"})
        assert OutreachRecipient.objects.count() == 3
        campaigns.outreach_tick(now=MONDAY_10 + timedelta(hours=1))
        page = client.get(f"/leads/reactivation/{outreach.pk}/")
    assert b'data-testid="results-sent">3<' in page.content and b"Done" in page.content
    assert b"/leads/reactivation/%d/edit/" % outreach.pk in page.content  # a finished one can be reused
    listing = client.get("/leads/reactivation/")
    assert b"Tune-up season" in listing.content


@pytest.mark.parametrize(
    ("overrides", "field", "error"),
    [
        ({"body": "Hi {frist_name}"}, "body", "{frist_name}"),
        ({"body": "Your estimate: {estimate_link}"}, "body", "has no value in a campaign"),
        ({"body": ""}, "body", "Write the text, or choose a sequence"),
        ({"rate_per_hour": "0"}, "rate_per_hour", "between 1 and 5,000"),
        ({"attribution_days": "0"}, "attribution_days", "Between 1 and 365"),
        ({"starts_at": "next tuesday"}, "starts_at", "valid date"),
        ({"segment": ""}, "segment", "required"),
    ],
)
def test_a_bad_campaign_form_names_the_field_and_saves_nothing(
    business, owner, client_for, overrides, field, error
):
    segment = segments.segment_save(name="Lapsed", spec=SegmentSpec(last_job_months=12))
    page = client_for(owner).post("/leads/reactivation/new/", _campaign_form(segment, **overrides))
    assert page.status_code == 400 and field in page.context["form"].errors
    assert error in " ".join(page.context["form"].errors[field])
    assert not Outreach.objects.exists()


def test_a_campaign_to_nobody_shows_no_launch_button_and_refuses_to_launch(business, owner, client_for):
    outreach = _outreach(business)
    client = client_for(owner)
    page = client.get(f"/leads/reactivation/{outreach.pk}/")
    assert b'data-testid="plan-empty"' in page.content and b"Launch:" not in page.content
    refused = client.post(f"/leads/reactivation/{outreach.pk}/launch/", {"expected": "0"}, follow=True)
    assert b"Nobody matches the segment" in refused.content
    outreach.refresh_from_db()
    assert outreach.state == Outreach.State.DRAFT and not OutreachRecipient.objects.exists()


def test_a_campaign_under_way_can_be_stopped_but_not_edited(business, owner, client_for):
    _past_customers(2)
    outreach = _outreach(business, rate=1)
    client = client_for(owner)
    with time_machine.travel(MONDAY_10, tick=False):
        campaigns.outreach_launch(outreach=outreach)
        edit = client.get(f"/leads/reactivation/{outreach.pk}/edit/", follow=True)
        assert b"cannot be changed" in edit.content
        client.post(f"/leads/reactivation/{outreach.pk}/cancel/")
    outreach.refresh_from_db()
    assert outreach.state == Outreach.State.CANCELED
    assert not OutreachRecipient.objects.filter(state=OutreachRecipient.State.PENDING).exists()


def test_technicians_and_dispatchers_cannot_see_or_launch_campaigns(
    business, technician, dispatcher, client_for
):
    outreach = _outreach(business)
    for user in (technician, dispatcher):
        client = client_for(user)
        assert client.get("/leads/reactivation/").status_code == 403
        assert client.get(f"/leads/reactivation/{outreach.pk}/").status_code == 403
        assert client.post(f"/leads/reactivation/{outreach.pk}/launch/", {"expected": "0"}).status_code == 403


@time_machine.travel(MONDAY_10, tick=False)
def test_the_tick_asks_the_database_the_same_few_questions_for_10_recipients_as_for_60(business):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_to_send(more: int, name: str, day: int) -> tuple[int, int]:
        _past_customers(more)  # the segment matches these and the ones made before
        outreach = _outreach(business, rate=5000, name=name)
        campaigns.outreach_launch(outreach=outreach)
        with CaptureQueriesContext(connection) as captured:
            sent = campaigns.outreach_tick(now=MONDAY_10 + timedelta(days=day, minutes=5))
        return sent, len(captured.captured_queries)

    queries_to_send(1, "Warm-up", 0)  # the settings rows made on first read, the content types cached
    # a day apart, so the first ones' second and third texts stay under the caps of 2 a day
    (ten, few), (sixty, same) = queries_to_send(9, "Ten", 1), queries_to_send(50, "Sixty", 2)
    assert (ten, sixty) == (10, 60) and few == same


@time_machine.travel(MONDAY_10, tick=False)
def test_a_text_too_long_for_one_customer_skips_them_and_the_rest_of_the_batch_goes(business):
    ids = _past_customers(5)
    Customer.objects.filter(pk=ids[2]).update(first_name="Maximiliana-" + "x" * 80)
    body = "Hi {first_name}. " + "Our spring tune-up is here. " * 55
    assert len(body) < 1600 < len(body) + 80
    outreach = _outreach(business, rate=5000, body=body)
    campaigns.outreach_launch(outreach=outreach)
    assert campaigns.outreach_tick(now=MONDAY_10 + timedelta(minutes=5)) == 4
    skipped = OutreachRecipient.objects.get(customer_id=ids[2])
    assert skipped.state == "skipped" and "1,600 characters" in skipped.note and skipped.message is None
    assert Message.objects.filter(template=f"outreach:{outreach.pk}").count() == 4
    outreach.refresh_from_db()
    assert outreach.state == "done"
