"""One test of the outbox's contract, run against every channel's transport: a queued message is sent
once; a send interrupted by a dead worker (before or after the provider took it) reaches the recipient
once; a provider error is retried, then the row fails with the reason.

Providers: SMS through the real twilio SDK against the local fake Twilio; e-mail through Django's SMTP
backend against a local SMTP server (aiosmtpd) that can refuse; web chat has no remote provider (the
widget reads the database), so its failing provider is a ChatTransport told to fail, set by dotted path
as any transport is.
"""

import socket
from datetime import datetime, timedelta
from email import message_from_bytes
from zoneinfo import ZoneInfo

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.utils import timezone

from events.models import Event
from messaging import outbox
from messaging import services as messaging
from messaging.models import Message
from messaging.transports import ChatTransport, TransportError
from tests.factories import make_customer
from tests.integrations.sms.conftest import fake_twilio  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db

TO_NUMBER = "+15125550199"
TO_EMAIL = "ana@example.com"


class SmtpServer:
    """Keeps what it accepted (`messages`); `refuse_next(n)` answers the next n DATA with a 451."""

    def __init__(self):
        self.messages, self.refusals = [], 0

    async def handle_DATA(self, server, session, envelope):
        if self.refusals:
            self.refusals -= 1
            return "451 4.3.0 Try again later"
        self.messages.append(message_from_bytes(envelope.original_content))
        return "250 OK"


class FailingChatTransport(ChatTransport):
    failures = 0

    def send(self, message):
        if FailingChatTransport.failures:
            FailingChatTransport.failures -= 1
            raise TransportError("The chat store did not answer.", "chat-down", retryable=True)
        return super().send(message)


class Sms:
    def __init__(self, fake, customer):
        self.fake, self.customer = fake, customer

    def queue(self) -> Message:
        return messaging.message_queue(to=TO_NUMBER, body="Your tech is on the way.", customer=self.customer)

    def provider_takes(self, message):
        self.fake.hold(to=message.to_number, body=message.body)

    def fail_next(self, times):
        self.fake.fail_next(times)

    def delivered(self) -> int:
        return len(self.fake.messages)


class Email:
    def __init__(self, smtp, customer):
        self.smtp, self.customer = smtp, customer

    def queue(self) -> Message:
        return messaging.email_queue(
            to=TO_EMAIL, subject="Your visit", body="See you at 9.", customer=self.customer
        )

    def provider_takes(self, message):
        from integrations.email.transport import EmailTransport

        EmailTransport().send(message)  # the worker died after the server had it

    def fail_next(self, times):
        self.smtp.refusals = times

    def delivered(self) -> int:
        """Mail systems keep one message per Message-ID: distinct ids are what the customer sees."""
        return len({m["Message-ID"] for m in self.smtp.messages})


class Chat:
    def __init__(self, customer):
        self.conversation = messaging.conversation_for(customer)

    def queue(self) -> Message:
        return messaging.chat_line_queue(conversation=self.conversation, body="We can come at 3pm.")

    def provider_takes(self, message):
        pass  # nothing is handed anywhere: the line shows once the row says sent

    def fail_next(self, times):
        FailingChatTransport.failures = times

    def delivered(self) -> int:
        return Message.objects.filter(channel="chat", direction="out", status="sent").count()


@pytest.fixture(params=["sms", "email", "chat"])
def channel(request, business, settings):
    customer = make_customer(first_name="Ana", last_name="Ruiz", phones=[TO_NUMBER], emails=[TO_EMAIL])
    if request.param == "sms":
        return Sms(request.getfixturevalue("fake_twilio"), customer)
    if request.param == "email":
        smtp = SmtpServer()
        controller = Controller(smtp, hostname="127.0.0.1", port=_free_port())
        controller.start()
        request.addfinalizer(controller.stop)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_MAX_ATTEMPTS = 3
        return Email(smtp, customer)
    settings.MESSAGING_TRANSPORTS = {
        **settings.MESSAGING_TRANSPORTS,
        "chat": "tests.messaging.test_transports.FailingChatTransport",
    }
    FailingChatTransport.failures = 0
    return Chat(customer)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _queued(channel, capture) -> Message:
    """The row committed and its send run after commit (the send task runs inline in tests, its retries
    too); then the sweeps of the next hours, which retry what a claimed send left (chat lines)."""
    with capture(execute=True):
        message = channel.queue()
    for hour in range(1, 5):
        outbox.outbox_sweep(now=timezone.now() + timedelta(hours=hour))
    message.refresh_from_db()
    return message


def _interrupted(channel, capture) -> Message:
    """A row a worker claimed and then died on: `sending`, one attempt, its lease over."""
    with capture(execute=False):
        message = channel.queue()
    Message.objects.filter(pk=message.pk).update(
        status="sending", attempts=1, not_before=timezone.now() - timedelta(seconds=1)
    )
    message.refresh_from_db()
    return message


def test_a_queued_message_is_sent_once(channel, django_capture_on_commit_callbacks):
    message = _queued(channel, django_capture_on_commit_callbacks)

    assert (message.status, message.attempts) == ("sent", 1) and message.provider_sid
    outbox.message_send(message_id=message.pk)  # a duplicate task changes nothing
    assert channel.delivered() == 1
    assert Event.objects.filter(code="crm.message.sent", subject_id=str(message.pk)).count() == 1


@pytest.mark.parametrize("provider_had_it", [False, True], ids=["before-the-provider", "after-the-provider"])
def test_an_interrupted_send_reaches_the_recipient_once(
    channel, provider_had_it, django_capture_on_commit_callbacks
):
    message = _interrupted(channel, django_capture_on_commit_callbacks)
    if provider_had_it:
        channel.provider_takes(message)

    assert outbox.outbox_sweep() == 1  # the sweep hands the row back to the engine
    message.refresh_from_db()
    assert message.status == "sent" and message.provider_sid
    assert outbox.outbox_sweep() == 0 and outbox.message_send(message_id=message.pk).status == "sent"
    assert channel.delivered() == 1


def test_a_provider_error_is_retried_then_fails_with_the_reason(channel, django_capture_on_commit_callbacks):
    attempts = outbox.transport_for(channel_name(channel)).max_attempts()
    channel.fail_next(attempts)

    message = _queued(channel, django_capture_on_commit_callbacks)

    assert (message.status, message.attempts) == ("failed", attempts)
    assert message.error_message  # the provider's words, shown to staff
    assert channel.delivered() == 0
    assert Event.objects.filter(code="crm.message.failed", subject_id=str(message.pk)).count() == 1


def test_a_provider_error_then_success_sends_once(channel, django_capture_on_commit_callbacks):
    channel.fail_next(1)

    message = _queued(channel, django_capture_on_commit_callbacks)

    assert (message.status, message.attempts) == ("sent", 2)
    assert channel.delivered() == 1


def channel_name(channel) -> str:
    return {Sms: "sms", Email: "email", Chat: "chat"}[type(channel)]


@time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("America/Chicago")))  # not in quiet hours
def test_a_batch_of_automated_texts_is_decided_like_one_and_sent_by_the_batch_task(
    business, request, django_capture_on_commit_callbacks
):
    """texts_queue_many: consent, the first automated text's identity line and the timeline as
    message_queue decides them; the sends go to the broker 25 to a task and each is sent once, a
    provider error on one retried on its own."""
    from customers import services as customer_services

    twilio = request.getfixturevalue("fake_twilio")
    customers = [
        make_customer(first_name=f"Pat{i}", last_name="Lee", phones=[f"+1512555{i:04d}"]) for i in range(30)
    ]
    customer_services.consent_record(number="+15125550003", state="opted_out", method="sms")
    twilio.fail_next(1)
    texts = [
        messaging.TextOut(to=c.phones.first().number.as_e164, body="Still thinking it over?", customer=c)
        for c in customers
    ]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        made = messaging.texts_queue_many(texts=texts, purpose=Message.Purpose.AUTOMATED)
    assert len(callbacks) == 1  # one hook: 2 broker messages for 29 texts
    statuses = {m.to_number: Message.objects.get(pk=m.pk).status for m in made}
    assert statuses.pop("+15125550003") == "suppressed"
    assert set(statuses.values()) == {"sent"} and len(twilio.messages) == 29
    assert all(business.name in m.body and "STOP" in m.body for m in made if m.status != "suppressed")
    assert Event.objects.filter(code="crm.message.queued").count() == 29
    assert Event.objects.filter(code="crm.message.suppressed").count() == 1
    again = messaging.texts_queue_many(texts=texts[:1], purpose=Message.Purpose.AUTOMATED)
    assert again[0].body == "Still thinking it over?", "only a number's first automated text says who we are"
