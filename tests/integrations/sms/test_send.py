"""The outbox sender through the real Twilio SDK against a local fake Twilio: one text per row, always."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import ConsentEvent, PhoneNumber
from events.models import Event
from messaging import outbox as services
from messaging.models import Message
from messaging.services import message_queue
from messaging.tasks import send_text as send_message
from messaging.transports import TransportError as SmsError
from tests.factories import make_customer

from .conftest import ACCOUNT_SID, FROM_NUMBER

pytestmark = pytest.mark.django_db

TO = "+15125550199"


@pytest.fixture
def queue(shop, django_capture_on_commit_callbacks):
    """message_queue as the app calls it; the send task runs (inline) when the transaction commits."""

    def run(body: str = "Your technician is on the way.", **kwargs) -> Message:
        with django_capture_on_commit_callbacks(execute=True):
            message = message_queue(to=kwargs.pop("to", TO), body=body, purpose=kwargs.pop("purpose", "care"))
        message.refresh_from_db()
        return message

    return run


@pytest.fixture
def customer(shop):
    return make_customer(first_name="Ana", last_name="Diaz", phones=[TO])


def test_a_queued_text_is_sent_once_with_twilios_sid(fake_twilio, queue):
    message = queue()

    [create] = fake_twilio.creates()
    assert create["form"] == {
        "To": TO,
        "From": FROM_NUMBER,
        "Body": "Your technician is on the way.",
        "StatusCallback": "https://crm.example.com/integrations/twilio/status/",
    }
    assert create["path"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert message.status == Message.Status.SENT
    assert message.provider_sid == fake_twilio.messages[0]["sid"]
    assert message.attempts == 1 and message.sent_at is not None
    assert Event.objects.filter(code="crm.message.sent", subject_id=str(message.pk)).exists()


def test_running_the_send_task_twice_posts_once(fake_twilio, queue):
    message = queue()
    send_message.apply(args=[message.pk], throw=True)
    send_message.apply(args=[message.pk], throw=True)

    assert len(fake_twilio.creates()) == 1
    message.refresh_from_db()
    assert message.attempts == 1


def test_a_server_error_is_retried_and_the_text_goes_out_once(fake_twilio, queue):
    fake_twilio.fail_next(status=500)
    message = queue()

    assert len(fake_twilio.creates()) == 2
    assert len(fake_twilio.messages) == 1
    assert message.status == Message.Status.SENT
    assert message.provider_sid == fake_twilio.messages[0]["sid"]
    assert message.attempts == 2 and message.error_message == ""


def test_a_retryable_error_puts_the_text_back_in_the_queue_with_a_retry_time(fake_twilio, queue, shop):
    fake_twilio.fail_next(status=503)
    message = message_queue(to=TO, body="Running late, sorry!")

    with pytest.raises(SmsError) as raised:
        services.message_send(message_id=message.pk)

    assert raised.value.retryable
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED and message.attempts == 1
    assert message.error_code == "503" and message.not_before > timezone.now()


def test_after_the_last_attempt_a_retryable_error_fails_the_text(fake_twilio, queue):
    fake_twilio.fail_next(3, status=500)
    message = queue()

    assert len(fake_twilio.creates()) == 3 and not fake_twilio.messages
    assert message.status == Message.Status.FAILED and message.attempts == 3
    assert Event.objects.filter(code="crm.message.failed", subject_id=str(message.pk)).exists()


def test_a_carrier_opt_out_fails_the_text_and_opts_the_number_out(fake_twilio, queue, customer):
    fake_twilio.fail_next(status=400, code=21610, message="Attempt to send to unsubscribed recipient")
    message = queue()

    assert len(fake_twilio.creates()) == 1
    assert message.status == Message.Status.FAILED and message.error_code == "21610"
    event = ConsentEvent.objects.get(number=TO)
    assert (event.state, event.method) == ("opted_out", "carrier")
    assert event.evidence == {"message_id": message.pk, "error_code": "21610"}
    assert PhoneNumber.objects.get(number=TO).sms_consent == PhoneNumber.Consent.OPTED_OUT

    later = queue("Are you still there?")
    assert later.status == Message.Status.SUPPRESSED
    assert len(fake_twilio.creates()) == 1


def test_a_landline_fails_the_text_and_marks_the_number_not_textable(fake_twilio, queue, customer):
    fake_twilio.fail_next(status=400, code=21614, message="'To' number is not a valid mobile number")
    message = queue()

    assert message.status == Message.Status.FAILED and message.error_code == "21614"
    event = ConsentEvent.objects.get(number=TO)
    assert (event.state, event.method) == ("not_textable", "provider")
    assert PhoneNumber.objects.get(number=TO).textable is False


def test_an_invalid_number_fails_without_a_retry(fake_twilio, queue):
    fake_twilio.fail_next(status=400, code=21211, message="Invalid 'To' Phone Number")
    message = queue()

    assert len(fake_twilio.creates()) == 1
    assert message.status == Message.Status.FAILED and message.attempts == 1
    assert not ConsentEvent.objects.exists()


def test_a_number_opted_out_after_queueing_is_never_texted(fake_twilio, customer, shop):
    from customers.services import consent_record

    message = message_queue(to=TO, body="See you tomorrow at 9.")
    consent_record(number=TO, state="opted_out", method="keyword")

    services.message_send(message_id=message.pk)

    message.refresh_from_db()
    assert message.status == Message.Status.SUPPRESSED
    assert fake_twilio.requests == []


def test_a_keyword_confirmation_goes_to_an_opted_out_number(fake_twilio, customer, shop):
    from customers.services import consent_record

    consent_record(number=TO, state="opted_out", method="keyword")
    message = message_queue(
        to=TO, body="You are unsubscribed. Reply START to resubscribe.", purpose="keyword"
    )

    services.message_send(message_id=message.pk)

    message.refresh_from_db()
    assert message.status == Message.Status.SENT and len(fake_twilio.creates()) == 1


def _as_if_the_worker_died_mid_send(message: Message) -> None:
    """The row a worker leaves when it is killed after Twilio accepted the text: `sending`, lease over."""
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.SENDING, attempts=1, not_before=timezone.now() - timedelta(seconds=1)
    )


def test_after_a_crash_the_text_twilio_already_holds_is_adopted_not_sent_again(fake_twilio, shop):
    message = message_queue(to=TO, body="Your invoice is ready.")
    held = fake_twilio.hold(to=TO, body="Your invoice is ready.")
    _as_if_the_worker_died_mid_send(message)

    services.message_send(message_id=message.pk)

    message.refresh_from_db()
    assert fake_twilio.creates() == []
    assert message.status == Message.Status.SENT and message.provider_sid == held["sid"]
    assert Event.objects.get(code="crm.message.sent").data["adopted"] is True


def test_after_a_crash_before_twilio_got_it_the_text_is_sent(fake_twilio, shop):
    message = message_queue(to=TO, body="Your invoice is ready.")
    _as_if_the_worker_died_mid_send(message)

    services.message_send(message_id=message.pk)

    message.refresh_from_db()
    assert len(fake_twilio.creates()) == 1
    assert message.status == Message.Status.SENT and message.attempts == 2


def test_a_send_in_flight_is_left_alone(fake_twilio, shop):
    message = message_queue(to=TO, body="On our way.")
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.SENDING, not_before=timezone.now() + timedelta(minutes=1)
    )

    services.message_send(message_id=message.pk)

    assert fake_twilio.requests == []
    assert Message.objects.get(pk=message.pk).status == Message.Status.SENDING


def test_an_earlier_identical_text_already_on_another_row_is_not_adopted(fake_twilio, queue):
    first = queue("Reminder: visit tomorrow.")
    second = message_queue(to=TO, body="Reminder: visit tomorrow.")
    _as_if_the_worker_died_mid_send(second)

    services.message_send(message_id=second.pk)

    second.refresh_from_db()
    assert len(fake_twilio.creates()) == 2
    assert second.provider_sid not in (None, first.provider_sid)


def test_the_sweep_requeues_stuck_texts_only(fake_twilio, shop, django_capture_on_commit_callbacks):
    old = timezone.now() - timedelta(minutes=5)
    stuck_queued = message_queue(to=TO, body="one", now=old)
    stuck_sending = message_queue(to=TO, body="two", now=old)
    _as_if_the_worker_died_mid_send(stuck_sending)
    fresh = message_queue(to=TO, body="three")
    in_flight = message_queue(to=TO, body="four", now=old)
    Message.objects.filter(pk=in_flight.pk).update(
        status=Message.Status.SENDING, not_before=timezone.now() + timedelta(minutes=1)
    )

    assert services.outbox_sweep() == 2

    statuses = dict(Message.objects.values_list("pk", "status"))
    assert statuses[stuck_queued.pk] == statuses[stuck_sending.pk] == Message.Status.SENT
    assert statuses[fresh.pk] == Message.Status.QUEUED
    assert statuses[in_flight.pk] == Message.Status.SENDING
    assert sorted(r["form"]["Body"] for r in fake_twilio.creates()) == ["one", "two"]


def test_the_console_backend_sends_nothing_and_gives_a_fake_sid(shop, settings):
    settings.SMS_BACKEND = "console"
    message = message_queue(to=TO, body="Hello from development.")

    services.message_send(message_id=message.pk)

    message.refresh_from_db()
    assert message.status == Message.Status.SENT and message.provider_sid.startswith("SMconsole")
