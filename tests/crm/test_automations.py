"""The sequences engine with a frozen clock: enrollment by milestone, steps at their due time, the exit
rules, frequency caps (and Florida's), quiet hours, once-only steps, merges."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from common.errors import ApplicationError
from crm.automations import engine
from crm.automations.defaults import defaults_install
from crm.automations.models import AutomationSettings, Enrollment, EnrollmentStep, Sequence, Step, Task
from customers import services as customer_services
from customers.services import PropertyIn
from events.models import Delivery, Event
from events.services import delivery_attempt, event_fan_out
from fsm.estimates import services as estimates
from messaging import services as messaging
from messaging.models import Message
from tests.concurrency import at_once
from tests.factories import make_customer, unique_phone
from tests.fsm.estimate_helpers import austin_tax, good_better_best

pytestmark = pytest.mark.django_db
CHICAGO = ZoneInfo("America/Chicago")
MONDAY_9 = datetime(2026, 11, 16, 9, 0, tzinfo=CHICAGO)


def deliver(prefix: str = "crm.automations.") -> None:
    """What the worker does for these subscribers: fan out pending milestones, deliver (oldest first)."""
    for event in Event.objects.filter(fanned_out_at__isnull=True).exclude(milestone="").order_by("pk"):
        event_fan_out(event_id=event.pk)
    for delivery in Delivery.objects.filter(status="pending", subscriber__startswith=prefix).order_by(
        "event_id"
    ):
        delivery_attempt(delivery_id=delivery.pk, force=True)


def texts(customer) -> list[Message]:
    return list(Message.objects.filter(customer=customer, direction="out", template__startswith="sequence:"))


@pytest.fixture
def follow_up(business):
    defaults_install(active=True)
    return Sequence.objects.get(key="estimate-follow-up")


@pytest.fixture
def customer(business, office):
    austin_tax()
    return make_customer(actor=office, first_name="Ana", emails=["ana@example.com"])


def _send_estimate(customer, office):
    estimate = good_better_best(customer=customer, actor=office)
    estimate = estimates.estimate_send(estimate=estimate, actor=office, sms=True, email=False)
    deliver()
    return estimate


@time_machine.travel(MONDAY_9, tick=False)
def test_estimate_sent_enrolls_and_the_first_follow_up_goes_the_next_day_at_ten_not_before(
    follow_up, customer, office
):
    estimate = _send_estimate(customer, office)
    enrollment = Enrollment.objects.get(customer=customer, sequence=follow_up)
    assert enrollment.subject_key == f"estimate:{estimate.pk}" and enrollment.state == "active"
    assert enrollment.due_at == datetime(2026, 11, 17, 10, 0, tzinfo=CHICAGO)
    assert engine.automations_tick(now=enrollment.due_at - timedelta(minutes=1)) == 0
    assert texts(customer) == []
    assert engine.automations_tick(now=enrollment.due_at) == 1
    (text,) = texts(customer)
    assert f"/e/{estimate.public_token}/" in text.body and "Ana" in text.body
    assert text.purpose == "automated" and text.status == "queued"
    enrollment.refresh_from_db()
    assert enrollment.due_at == datetime(2026, 11, 19, 10, 0, tzinfo=CHICAGO)  # day 3
    assert engine.automations_tick(now=enrollment.due_at) == 2  # the financing text and the call task
    task = Task.objects.get(customer=customer)
    assert task.title.startswith("Call Ana") and estimate.number in task.title
    assert engine.automations_tick(now=enrollment.due_at) == 0, "a step runs once"


@time_machine.travel(MONDAY_9, tick=False)
def test_accepting_the_estimate_stops_the_follow_ups_at_once(follow_up, customer, office):
    estimate = _send_estimate(customer, office)
    estimates.estimate_accept(
        estimate=estimate,
        option_id=estimate.options.first().pk,
        signer_name="Ana Ruiz",
        signature=_signature(),
    )
    deliver()
    enrollment = Enrollment.objects.get(customer=customer)
    assert enrollment.state == "stopped" and enrollment.stop_reason == "The estimate was accepted"
    assert engine.automations_tick(now=MONDAY_9 + timedelta(days=30)) == 0
    assert texts(customer) == []


def _signature():
    from tests.fsm.estimate_helpers import signature_data_url

    return signature_data_url()


@time_machine.travel(MONDAY_9, tick=False)
def test_each_exit_is_checked_before_the_next_step_even_without_its_milestone_delivered(
    follow_up, customer, office
):
    _send_estimate(customer, office)
    enrollment = Enrollment.objects.get(customer=customer)
    number = customer.phones.first().number.as_e164
    messaging.message_receive(
        from_number=number, to_number="+15125550100", body="Is Tuesday ok?", provider_sid="SM1"
    )
    assert engine.automations_tick(now=enrollment.due_at) == 0
    enrollment.refresh_from_db()
    assert enrollment.state == "stopped" and enrollment.stop_reason == "The customer replied"
    assert texts(customer) == []


@pytest.mark.parametrize(
    ("milestone_action", "reason"),
    [("decline", "The estimate was declined"), ("book", "A job was booked")],
)
@time_machine.travel(MONDAY_9, tick=False)
def test_declined_or_a_job_booked_stops_the_sequence(follow_up, customer, office, milestone_action, reason):
    estimate = _send_estimate(customer, office)
    if milestone_action == "decline":
        estimates.estimate_decline(estimate=estimate, reason="Too much")
    else:
        from fsm import services as fsm

        job = fsm.job_create(
            customer=customer, property=customer.properties.first(), description="Leak", actor=office
        )
        fsm.visit_schedule(job=job, start=MONDAY_9 + timedelta(days=2), actor=office, confirm=True)
    deliver()
    enrollment = Enrollment.objects.get(customer=customer)
    assert enrollment.state == "stopped" and enrollment.stop_reason == reason


@time_machine.travel(MONDAY_9, tick=False)
def test_an_opted_out_number_stops_the_sequence_and_gets_nothing(follow_up, customer, office):
    _send_estimate(customer, office)
    number = customer.phones.first().number.as_e164
    customer_services.consent_record(number=number, state="opted_out", method="office")  # told the office
    enrollment = Enrollment.objects.get(customer=customer)
    engine.automations_tick(now=enrollment.due_at)
    enrollment.refresh_from_db()
    assert enrollment.state == "stopped" and "Opted out" in enrollment.stop_reason
    assert all(m.status == "suppressed" for m in texts(customer))


def _manual(business, *steps) -> Sequence:
    sequence = Sequence.objects.create(name="Test", trigger="manual")
    for values in steps:
        engine.step_save(sequence=sequence, **values)
    return engine.sequence_activate(sequence=sequence)


def _text(n):
    return {"kind": "sms", "body": f"Message {n} for {{first_name}}"}


@time_machine.travel(MONDAY_9, tick=False)
def test_the_daily_cap_makes_a_step_wait_with_its_reason_and_send_later(business, customer):
    AutomationSettings.objects.create(max_per_day=2, max_per_week=10)
    sequence = _manual(business, _text(1), _text(2), _text(3))
    enrollment = engine.enroll(sequence=sequence, customer=customer, origin="by hand")
    assert engine.automations_tick(now=MONDAY_9) == 2
    enrollment.refresh_from_db()
    assert enrollment.position == 2 and enrollment.due_at == MONDAY_9 + timedelta(hours=24)
    assert "2 a day" in enrollment.waiting_reason
    assert EnrollmentStep.objects.filter(enrollment=enrollment, outcome="capped").count() == 1
    assert engine.automations_tick(now=MONDAY_9 + timedelta(hours=23)) == 0
    assert engine.automations_tick(now=MONDAY_9 + timedelta(hours=24)) == 1
    assert [m.body.split(" for")[0].split(": ")[-1] for m in texts(customer)][-1] == "Message 3"


@time_machine.travel(MONDAY_9, tick=False)
def test_florida_allows_three_messages_on_one_subject_in_24_hours(business):
    AutomationSettings.objects.create(max_per_day=10, max_per_week=20)
    miami = make_customer(
        properties=[PropertyIn(street="1 Ocean Dr", city="Miami", state="FL", zip_code="33139")]
    )
    sequence = _manual(business, *(_text(n) for n in range(1, 6)))
    enrollment = engine.enroll(sequence=sequence, customer=miami, origin="by hand")
    noon = MONDAY_9 + timedelta(hours=3)  # inside Florida's hours
    assert engine.automations_tick(now=noon) == 3
    enrollment.refresh_from_db()
    assert "Florida" in enrollment.waiting_reason and enrollment.due_at == noon + timedelta(hours=24)


@time_machine.travel(datetime(2026, 11, 16, 22, 30, tzinfo=CHICAGO), tick=False)
def test_a_step_due_at_night_is_held_for_the_recipient_s_quiet_hours(business, customer):
    sequence = _manual(business, _text(1))
    enrollment = engine.enroll(sequence=sequence, customer=customer, origin="by hand")
    assert engine.automations_tick() == 1
    (text,) = texts(customer)
    assert text.status == "held" and timezone.localtime(text.not_before, CHICAGO).time() == time(9, 0)
    assert enrollment.log.filter(outcome="held").exists()


def test_a_template_with_an_unknown_merge_field_is_refused_naming_it(business):
    sequence = Sequence.objects.create(name="Bad")
    with pytest.raises(ApplicationError, match=r"Unknown merge field \{first_nmae\}"):
        engine.step_save(sequence=sequence, kind="sms", body="Hi {first_nmae}")
    assert not sequence.steps.exists()


def test_a_sequence_with_no_steps_cannot_be_switched_on(business):
    sequence = Sequence.objects.create(name="Empty")
    engine.step_save(sequence=sequence, kind="wait", wait_days=1)
    with pytest.raises(ApplicationError, match="before switching it on"):
        engine.sequence_activate(sequence=sequence)
    sequence.refresh_from_db()
    assert not sequence.active


@time_machine.travel(MONDAY_9, tick=False)
def test_a_worker_that_dies_mid_step_leaves_it_to_be_done_once(business, customer, monkeypatch):
    sequence = _manual(business, _text(1))
    engine.enroll(sequence=sequence, customer=customer, origin="by hand")
    real = engine._log

    def dies_after_queueing(enrollment, outcome, now, **kwargs):
        if outcome == "sent":
            raise RuntimeError("worker killed")
        return real(enrollment, outcome, now, **kwargs)

    def batch_dies_after_queueing(batch):
        assert batch.texts, "the batch queued its text before it died"
        raise RuntimeError("worker killed")

    monkeypatch.setattr(engine, "_log", dies_after_queueing)  # one at a time, after the batch failed
    monkeypatch.setattr(engine._Batch, "write", batch_dies_after_queueing)
    assert engine.automations_tick() == 0
    assert texts(customer) == [], "the queued text rolled back with the step"
    monkeypatch.undo()
    Enrollment.objects.update(due_at=MONDAY_9)
    assert engine.automations_tick() == 1
    assert len(texts(customer)) == 1


@time_machine.travel(MONDAY_9, tick=False)
def test_a_merged_customer_s_enrollment_moves_with_the_survivor_and_never_doubles(business, customer, office):
    sequence = _manual(business, {"kind": "wait", "wait_days": 1}, _text(1))
    duplicate = make_customer(first_name="A.", last_name=customer.last_name)
    engine.enroll(sequence=sequence, customer=customer, origin="by hand")
    engine.enroll(sequence=sequence, customer=duplicate, origin="by hand")
    customer_services.customer_merge(survivor=customer, duplicate=duplicate, actor=office)
    rows = Enrollment.objects.filter(customer=customer)
    assert rows.count() == 2 and rows.filter(state="active").count() == 1
    assert rows.get(state="stopped").stop_reason.startswith("Customer merged")
    engine.automations_tick(now=MONDAY_9 + timedelta(days=1))
    assert len(texts(customer)) == 1


def test_waits_until_a_weekday_and_time_of_day(business):
    step = Step(kind="wait", wait_days=1, at_time=time(10), weekday=0)
    friday_evening = datetime(2026, 11, 20, 18, 0, tzinfo=CHICAGO)
    assert engine.wait_until(step, friday_evening, business) == datetime(2026, 11, 23, 10, 0, tzinfo=CHICAGO)


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_send_the_same_step(require_postgres, business):
    AutomationSettings.objects.create(max_per_day=5, max_per_week=10)
    sequence = _manual(business, _text(1))
    customers = [make_customer(phones=[unique_phone()]) for _ in range(40)]
    now = timezone.now()
    for each in customers:
        engine.enroll(sequence=sequence, customer=each, origin="by hand", now=now)
    Enrollment.objects.update(due_at=now - timedelta(minutes=1))
    counts = at_once([lambda: engine.automations_tick(batch=5)] * 2)
    assert sum(counts) == 40 and all(counts), "both took a share"
    assert Message.objects.filter(template=f"sequence:{sequence.pk}").count() == 40
    assert connection.vendor == "postgresql"


def test_the_defaults_install_once_and_start_off(business):
    made = defaults_install()
    assert {s.key for s in made} == {"estimate-follow-up", "new-lead-nurture", "missed-appointment-rebook"}
    assert not any(s.active for s in made) and defaults_install() == []
    follow_up = Sequence.objects.get(key="estimate-follow-up")
    assert follow_up.steps.filter(kind="task", min_estimate_total=Decimal("2500.00")).exists()
    for sequence in made:
        engine.sequence_activate(sequence=sequence)  # every default text uses known merge fields


@time_machine.travel(MONDAY_9, tick=False)
def test_an_estimate_past_its_expiry_gets_no_more_follow_ups(follow_up, customer, office):
    _send_estimate(customer, office)
    enrollment = Enrollment.objects.get(customer=customer)
    expires = enrollment.context["expires_on"]
    assert expires
    with time_machine.travel(datetime.fromisoformat(expires) + timedelta(days=1, hours=12), tick=False):
        engine.automations_tick(now=timezone.now())
    enrollment.refresh_from_db()
    assert enrollment.stop_reason == "The estimate expired"


def test_a_milestone_delivered_days_late_starts_no_sequence(follow_up, customer, office):
    with time_machine.travel(MONDAY_9, tick=False):
        estimate = good_better_best(customer=customer, actor=office)
        estimates.estimate_send(estimate=estimate, actor=office, sms=True, email=False)
    with time_machine.travel(MONDAY_9 + timedelta(days=3), tick=False):  # the worker was down for days
        deliver()
    assert not Enrollment.objects.exists()


@pytest.mark.parametrize("decision", ["decline", "accept"])
@time_machine.travel(MONDAY_9, tick=False)
def test_a_decision_stops_the_next_step_even_before_its_milestone_is_delivered(
    follow_up, customer, office, decision
):
    estimate = _send_estimate(customer, office)
    if decision == "decline":
        estimates.estimate_decline(estimate=estimate, reason="Too much")
    else:
        estimates.estimate_accept(
            estimate=estimate,
            option_id=estimate.options.first().pk,
            signer_name="Ana",
            signature=_signature(),
        )
    enrollment = Enrollment.objects.get(customer=customer)
    assert engine.automations_tick(now=enrollment.due_at) == 0  # the worker has not delivered it yet
    enrollment.refresh_from_db()
    assert enrollment.state == "stopped" and enrollment.stop_reason.startswith("The estimate was")
    assert texts(customer) == []


@time_machine.travel(MONDAY_9, tick=False)
def test_an_email_step_goes_to_the_primary_address_and_a_text_step_without_a_mobile_is_skipped(business):
    sequence = _manual(business, {"kind": "email", "subject": "Hi {first_name}", "body": "Body"}, _text(1))
    nobody = make_customer(first_name="Bo", phones=[], emails=["bo@example.com"])
    enrollment = engine.enroll(sequence=sequence, customer=nobody, origin="by hand")
    assert engine.automations_tick() == 2
    mail = Message.objects.get(customer=nobody, channel="email")
    assert mail.to_email == "bo@example.com" and mail.subject == "Hi Bo" and mail.purpose == "automated"
    assert list(enrollment.log.values_list("outcome", flat=True)) == ["enrolled", "sent", "skipped", "done"]
