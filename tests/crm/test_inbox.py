import pytest
import time_machine
from django.urls import reverse

from customers.services import consent_record
from messaging import services as messaging
from messaging.models import Conversation, Message
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def texted(office, business):
    customer = make_customer(actor=office, first_name="Ana", last_name="Ruiz", phones=["512-555-0199"])
    message, _ = messaging.message_receive(
        from_number="+15125550199", to_number="+15555550100", body="Can you come Tuesday?", provider_sid="SM1"
    )
    return customer, message.conversation


def test_the_inbox_lists_conversations_with_unread_counts(office, client_for, texted):
    body = client_for(office).get(reverse("crm:inbox")).content.decode()
    assert "Ana Ruiz" in body and "Can you come Tuesday?" in body and 'class="badge badge-bad">1<' in body


def test_opening_a_conversation_marks_it_read(office, client_for, texted):
    _, conversation = texted
    client_for(office).get(reverse("crm:inbox-conversation", args=[conversation.pk]))
    assert Conversation.objects.get(pk=conversation.pk).unread_count == 0


@time_machine.travel("2026-11-20 15:00 -06:00", tick=False)
def test_a_reply_goes_to_the_number_they_texted_from(office, client_for, texted):
    _, conversation = texted
    response = client_for(office).post(
        reverse("crm:inbox-reply", args=[conversation.pk]), {"body": "Yes, 9am!"}, HTTP_HX_REQUEST="true"
    )
    reply = Message.objects.get(direction="out")
    assert (reply.to_number, reply.status, reply.created_by) == ("+15125550199", "queued", office)
    assert "Yes, 9am!" in response.content.decode() and "<html" not in response.content.decode()


def test_a_reply_to_an_opted_out_number_is_not_sent_and_says_why(office, client_for, texted):
    _, conversation = texted
    consent_record(number="+15125550199", state="opted_out", method="keyword")
    response = client_for(office).post(
        reverse("crm:inbox-reply", args=[conversation.pk]), {"body": "Hello?"}, follow=True
    )
    assert Message.objects.get(direction="out").status == "suppressed"
    assert "opted out" in response.content.decode()


def test_an_empty_reply_is_refused(office, client_for, texted):
    _, conversation = texted
    response = client_for(office).post(
        reverse("crm:inbox-reply", args=[conversation.pk]), {"body": " "}, follow=True
    )
    assert "Write a message." in response.content.decode()
    assert not Message.objects.filter(direction="out").exists()


def test_mark_done_and_assign(office, client_for, texted):
    _, conversation = texted
    client = client_for(office)
    client.post(reverse("crm:inbox-action", args=[conversation.pk]), {"action": "done"})
    client.post(
        reverse("crm:inbox-action", args=[conversation.pk]), {"action": "assign", "assigned_to": office.pk}
    )
    conversation = Conversation.objects.get(pk=conversation.pk)
    assert conversation.status == "done" and conversation.assigned_to == office


def test_technicians_and_dispatchers_cannot_open_the_inbox(technician, dispatcher, client_for, texted):
    for user in (technician, dispatcher):
        assert client_for(user).get(reverse("crm:inbox")).status_code == 403


def test_the_owner_sets_ring_through_numbers_and_templates(owner, client_for, business):
    from messaging.models import MessagingSettings

    client = client_for(owner)
    data = {
        "ring_through": "(512) 555-0101\n512.555.0102",
        "ring_seconds": "20",
        "missed_call_text_enabled": "on",
        "missed_call_template": "Sorry we missed you! {business_name}",
        "missed_call_window_minutes": "30",
        "instant_reply_enabled": "on",
        "instant_reply_template": "Hi {first_name}!",
        "help_template": "Call us",
        "quiet_hours_start": "21:00",
        "quiet_hours_end": "08:00",
    }
    assert client.post(reverse("crm:messaging-settings"), data).status_code == 302
    assert MessagingSettings.current().ring_through_numbers == ["+15125550101", "+15125550102"]
    bad = client.post(reverse("crm:messaging-settings"), {**data, "ring_through": "555-12"})
    assert "not a valid phone number" in bad.content.decode()


def test_office_cannot_change_messaging_settings(office, client_for, business):
    assert client_for(office).get(reverse("crm:messaging-settings")).status_code == 403


def test_saved_replies_are_offered_with_merge_fields_filled_in(office, owner, client_for, texted):
    from messaging.models import MessagingSettings

    _, conversation = texted
    data = {
        "ring_through": "",
        "ring_seconds": "20",
        "missed_call_template": "x",
        "missed_call_window_minutes": "30",
        "instant_reply_template": "x",
        "help_template": "x",
        "quiet_hours_start": "21:00",
        "quiet_hours_end": "08:00",
        "saved": "On my way | Hi {first_name}, {business_name} is on the way.",
    }
    assert client_for(owner).post(reverse("crm:messaging-settings"), data).status_code == 302
    assert MessagingSettings.current().saved_replies == [
        {"title": "On my way", "body": "Hi {first_name}, {business_name} is on the way."}
    ]
    body = client_for(office).get(reverse("crm:inbox-conversation", args=[conversation.pk])).content.decode()
    assert '<option value="Hi Ana, Test Plumbing Co is on the way.">On my way</option>' in body
    bad = client_for(owner).post(reverse("crm:messaging-settings"), {**data, "saved": "no separator here"})
    assert "write it as Title | text" in bad.content.decode()


def test_an_email_in_the_thread_shows_its_subject_not_its_header_lines(office, client_for, texted):
    customer, conversation = texted
    messaging.email_queue(
        to="ana@example.com",
        subject="Your estimate",
        body="Attached, as promised.",
        customer=customer,
        actor=office,
    )
    page = client_for(office).get(reverse("crm:inbox-conversation", args=[conversation.pk])).content.decode()
    assert '<div class="subject">Your estimate</div>' in page and "Attached, as promised." in page
    assert "To: ana@example.com" not in page and "Subject:" not in page
