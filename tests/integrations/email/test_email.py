"""The e-mail channel: outbox (queue, send once, retry, fail), an inbox reply by e-mail, and Postmark's
inbound webhook through django-anymail (basic auth, threading by sender address, redeliveries)."""

import base64
import json

import pytest
from django.core import mail
from django.urls import reverse

from common.errors import ApplicationError
from events.models import Event
from integrations.email.transport import provider_sid_for
from messaging import outbox
from messaging import services as messaging
from messaging.models import Message
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

SECRET = "postmark:s3cret-hook"
INBOUND = "/integrations/email/postmark/inbound/"


@pytest.fixture(autouse=True)
def _email_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "office@acme-hvac.example"
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": SECRET}


@pytest.fixture
def ana(office, business):
    return make_customer(
        actor=office, first_name="Ana", last_name="Ruiz", phones=["512-555-0199"], emails=["Ana@Example.com"]
    )


def _auth(secret: str = SECRET) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


def _postmark(sender="ana@example.com", message_id="<CAF1234@mail.example.com>", text="Tuesday works."):
    return {
        "FromName": "Ana Ruiz",
        "From": sender,
        "FromFull": {"Email": sender, "Name": "Ana Ruiz", "MailboxHash": ""},
        "To": "office@acme-hvac.example",
        "ToFull": [{"Email": "office@acme-hvac.example", "Name": "", "MailboxHash": ""}],
        "OriginalRecipient": "office@acme-hvac.example",
        "Subject": "Re: Your AC visit",
        "MessageID": "22c74902-a0c1-4511-804f-341342852c90",
        "Date": "Fri, 20 Nov 2026 15:00:00 -0600",
        "TextBody": f"{text}\n\nOn Fri you wrote:\n> old text",
        "HtmlBody": f"<p>{text}</p>",
        "StrippedTextReply": text,
        "Headers": [{"Name": "Message-ID", "Value": message_id}],
        "Attachments": [],
    }


def _post(client, payload, **extra):
    return client.post(INBOUND, data=json.dumps(payload), content_type="application/json", **extra)


def test_queue_then_send_once(ana, office, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = messaging.email_queue(
            to="ana@example.com", subject="Your AC visit", body="See you at 9.", customer=ana, actor=office
        )
    message.refresh_from_db()
    assert (message.channel, message.status, message.to_number, message.attempts) == ("email", "sent", "", 1)
    assert message.conversation.customer == ana and message.provider_sid.startswith("email:")
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert (sent.to, sent.subject, sent.body) == (["ana@example.com"], "Your AC visit", "See you at 9.")
    assert sent.from_email == "office@acme-hvac.example" and sent.reply_to == ["office@acme-hvac.example"]
    assert Event.objects.filter(code="crm.message.sent", data__message_id=message.pk).exists()
    # A second run of the task (a redelivered Celery message) sends nothing more.
    assert outbox.message_send(message_id=message.pk).status == "sent"
    assert len(mail.outbox) == 1


def test_a_bad_address_is_refused_before_anything_is_stored(ana, office):
    with pytest.raises(ApplicationError):
        messaging.email_queue(to="not-an-address", subject="x", body="hi", customer=ana, actor=office)
    assert not Message.objects.exists()


def test_failures_retry_then_fail(ana, office, settings, django_capture_on_commit_callbacks, monkeypatch):
    settings.EMAIL_MAX_ATTEMPTS = 3
    calls = []

    def broken(self, *args, **kwargs):
        calls.append(1)
        raise ConnectionRefusedError("SMTP down")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", broken)
    with django_capture_on_commit_callbacks(execute=True):
        message = messaging.email_queue(
            to="ana@example.com", subject="s", body="b", customer=ana, actor=office
        )
    message.refresh_from_db()
    assert (message.status, message.attempts, len(calls)) == ("failed", 3, 3)
    assert "SMTP down" in message.error_message
    assert Event.objects.filter(code="crm.message.failed", data__message_id=message.pk).exists()


def test_an_inbox_reply_by_email(ana, office, client_for, django_capture_on_commit_callbacks):
    conversation = messaging.conversation_for(ana)
    page = client_for(office).get(reverse("crm:inbox-conversation", args=[conversation.pk])).content.decode()
    assert 'name="channel"' in page and ">E-mail<" in page
    with django_capture_on_commit_callbacks(execute=True):
        client_for(office).post(
            reverse("crm:inbox-reply", args=[conversation.pk]),
            {"body": "Yes, 9am!", "channel": "email"},
            HTTP_HX_REQUEST="true",
        )
    reply = Message.objects.get(direction="out")
    assert (reply.channel, reply.status, reply.created_by, reply.conversation) == (
        "email",
        "sent",
        office,
        conversation,
    )
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["Ana@example.com"]


def test_no_email_choice_for_a_customer_without_an_address(office, business, client_for):
    customer = make_customer(actor=office, phones=["512-555-0123"])
    conversation = messaging.conversation_for(customer)
    page = client_for(office).get(reverse("crm:inbox-conversation", args=[conversation.pk])).content.decode()
    assert 'name="channel"' not in page


def test_inbound_postmark_threads_into_the_conversation(ana, client):
    response = _post(client, _postmark(sender="ANA@example.com"), **_auth())
    assert response.status_code == 200
    message = Message.objects.get()
    assert (message.direction, message.channel, message.status) == ("in", "email", "received")
    assert message.customer == ana and message.conversation == messaging.conversation_for(ana)
    assert message.provider_sid == "email:<CAF1234@mail.example.com>"
    assert (message.from_email, message.subject, message.body) == (
        "ANA@example.com",
        "Re: Your AC visit",
        "Tuesday works.",
    )
    assert message.conversation.unread_count == 1


@pytest.mark.parametrize("auth", [{}, _auth("postmark:wrong")])
def test_a_wrong_or_missing_secret_is_refused(ana, client, auth):
    response = _post(client, _postmark(), **auth)
    assert response.status_code in (400, 403)
    assert not Message.objects.exists()


def test_no_secret_configured_refuses_everything(ana, client, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": ""}
    assert _post(client, _postmark(), **_auth()).status_code == 400
    assert not Message.objects.exists()


def test_a_repeated_delivery_is_stored_once(ana, client):
    for _ in range(2):
        assert _post(client, _postmark(), **_auth()).status_code == 200
    assert Message.objects.count() == 1
    assert messaging.conversation_for(ana).unread_count == 1


def test_an_unknown_sender_is_stored_without_a_customer(ana, client):
    assert _post(client, _postmark(sender="stranger@elsewhere.example"), **_auth()).status_code == 200
    message = Message.objects.get()
    assert message.customer is None and message.conversation is None
    assert not ana.leads.exists()


def test_get_on_the_webhook_is_405(client):
    assert client.get(INBOUND).status_code == 405


def test_a_long_message_id_still_fits():
    sid = provider_sid_for("<" + "x" * 200 + "@mail.example.com>")
    assert len(sid) <= 64 and sid.startswith("email:")


def test_the_outbox_sweep_queues_an_email_on_the_mail_task_and_a_text_on_the_sms_queue(
    ana, office, monkeypatch
):
    from datetime import timedelta

    from django.utils import timezone

    queued = []
    monkeypatch.setattr(outbox, "enqueue", lambda task, pk: queued.append((task, pk)))
    email = messaging.email_queue(to="ana@example.com", subject="s", body="b", customer=ana, actor=office)
    text = messaging.message_queue(to="+15125550111", body="hi", customer=ana, actor=office)
    outbox.outbox_sweep(now=timezone.now() + timedelta(hours=1))
    assert sorted(queued) == [
        ("messaging.tasks.send_message", email.pk),
        ("messaging.tasks.send_text", text.pk),
    ]


def test_the_migration_moves_old_header_lines_into_the_fields(ana):
    from importlib import import_module

    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    migration = import_module("crm.migrations.0009_email_fields")
    # The models as that migration saw them (Message was crm's then; the table is the same).
    apps = MigrationExecutor(connection).loader.project_state(("crm", "0009_email_fields")).apps
    old = Message.objects.create(
        customer=ana,
        direction="out",
        channel="email",
        status="sent",
        body="To: ana@example.com\nSubject: Your AC visit\n\nSee you at 9.\n\nBob",
    )
    chat = Message.objects.create(customer=ana, direction="in", channel="chat", status="received", body="hi")
    migration.headers_to_fields(apps, None)
    old.refresh_from_db()
    expected = ("ana@example.com", "Your AC visit", "See you at 9.\n\nBob")
    assert (old.to_email, old.subject, old.body) == expected
    migration.fields_to_headers(apps, None)
    old.refresh_from_db()
    assert old.body == "To: ana@example.com\nSubject: Your AC visit\n\nSee you at 9.\n\nBob"
    assert Message.objects.get(pk=chat.pk).body == "hi"


def test_an_interrupted_send_goes_again_with_the_same_message_id_once(ana, office, settings):
    """A worker died between claiming the row and hearing back from the provider."""
    from datetime import timedelta

    from django.utils import timezone

    settings.EMAIL_MAX_ATTEMPTS = 3
    message = messaging.email_queue(to="ana@example.com", subject="s", body="b", customer=ana, actor=office)
    Message.objects.filter(pk=message.pk).update(
        status="sending", attempts=1, not_before=timezone.now() - timedelta(seconds=1)
    )
    assert outbox.outbox_sweep() == 1  # the sweep hands it back to the sender (inline in tests)
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 2)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].extra_headers["Message-ID"] == f"<{message.send_key}@acme-hvac.example>"
    assert message.provider_sid == f"email:<{message.send_key}@acme-hvac.example>"
    assert outbox.message_send(message_id=message.pk).status == "sent" and len(mail.outbox) == 1


def test_a_send_still_within_its_lease_is_left_to_its_worker(ana, office):
    from datetime import timedelta

    from django.utils import timezone

    message = messaging.email_queue(to="ana@example.com", subject="s", body="b", customer=ana, actor=office)
    Message.objects.filter(pk=message.pk).update(
        status="sending", attempts=1, not_before=timezone.now() + timedelta(minutes=1)
    )
    assert outbox.message_send(message_id=message.pk).status == "sending"
    assert mail.outbox == []


def test_an_interrupted_send_out_of_attempts_fails_with_the_reason(ana, office, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.EMAIL_MAX_ATTEMPTS = 2
    message = messaging.email_queue(to="ana@example.com", subject="s", body="b", customer=ana, actor=office)
    Message.objects.filter(pk=message.pk).update(
        status="sending", attempts=2, not_before=timezone.now() - timedelta(seconds=1)
    )
    message = outbox.message_send(message_id=message.pk)
    assert message.status == "failed" and "out of attempts" in message.error_message
    assert mail.outbox == []


def test_an_emailed_reply_is_a_message_received_and_its_score_lands_on_the_review_request(ana, client):
    """A review request that went by e-mail asks for a score too; the customer answers "5" above their
    phone's signature: the reply is `message.received` (as a text is), and the score is recorded."""
    from datetime import timedelta

    from django.utils import timezone

    from crm.automations.review_models import SCORE_QUESTION, ReviewRequest, ReviewSettings
    from crm.automations.reviews import review_body
    from events.models import Delivery
    from events.services import delivery_attempt, event_fan_out

    rules = ReviewSettings.current()
    rules.enabled, rules.ask_score, rules.google_place_id = True, True, "ChIJN1t_tDeuEmsRUsoyG83frY4"
    rules.save()
    request = ReviewRequest.objects.create(
        customer=ana,
        subject_key="invoice:1",
        milestone="invoice.paid",
        channel="email",
        state="sent",
        sent_at=timezone.now() - timedelta(hours=2),
        due_at=timezone.now() - timedelta(hours=3),
        created_at=timezone.now() - timedelta(hours=3),
    )
    assert SCORE_QUESTION in review_body(request, rules, channel="email", reminder=False)

    reply = _postmark(sender="ana@example.com", text="5\n\nSent from my iPhone")
    assert _post(client, reply, **_auth()).status_code == 200
    event = Event.objects.get(milestone="message.received")
    assert event.data["customer_id"] == ana.pk and event.data["body"].startswith("5")
    event_fan_out(event_id=event.pk)
    for delivery in Delivery.objects.filter(event=event):
        delivery_attempt(delivery_id=delivery.pk, force=True)
    request.refresh_from_db()
    assert request.score == 5
    assert _post(client, reply, **_auth()).status_code == 200  # a redelivery publishes nothing more
    assert Event.objects.filter(milestone="message.received").count() == 1
