"""Web chat: chat.js, starting a chat from a business's site, continuing it with its token, and the office's
replies from the inbox (also texted when the visitor has left)."""

import json

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from crm.models import Lead, WebForm
from crm.webchat import services
from customers.models import Customer
from messaging.models import Message

pytestmark = pytest.mark.django_db

SITE = "https://www.lonestarplumbing.com"
ANA = {"name": "Ana Ruiz", "phone": "(512) 555-0199", "message": "Is anyone free to look at my AC today?"}


@pytest.fixture
def web_form(web_source):
    return WebForm.objects.create(name="Homepage form", source=web_source, allowed_origins=[SITE])


def _post(url, payload, *, origin=SITE, client=None):
    body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    headers = {"Origin": origin} if origin else {}
    return (client or Client()).post(url, body, content_type="application/json", headers=headers)


def start(web_form, payload=ANA, **kwargs):
    return _post(reverse("webchat-start", args=[web_form.public_id]), payload, **kwargs)


def messages_url(web_form, token) -> str:
    return reverse("webchat-messages", args=[web_form.public_id, token])


def poll(web_form, token, after=0, origin=SITE):
    return Client().get(f"{messages_url(web_form, token)}?after={after}", headers={"Origin": origin})


def test_chat_js_is_a_script_with_the_forms_endpoints(web_form, business):
    response = Client().get(reverse("webchat-js", args=[web_form.public_id]))
    body = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("application/javascript")
    assert f"/chat/{web_form.public_id}/start/" in body and "css/webchat.css" in body
    assert "Chat with us" in body and "innerHTML" not in body


def test_an_unknown_or_inactive_form_is_404(web_form, business):
    web_form.is_active = False
    web_form.save()
    assert Client().get(reverse("webchat-js", args=[web_form.public_id])).status_code == 404
    assert start(web_form).status_code == 404
    assert Client().get("/chat/not-a-uuid/chat.js").status_code == 404


def test_start_creates_the_lead_the_conversation_and_an_inbound_chat_message(web_form, business):
    response = start(web_form)
    assert response.status_code == 201, response.content
    assert response["Access-Control-Allow-Origin"] == SITE
    token = response.json()["token"]

    lead = Lead.objects.get()
    assert (lead.name, lead.phone, lead.web_form, lead.source) == (
        "Ana Ruiz",
        "+15125550199",
        web_form,
        web_form.source,
    )
    message = Message.objects.get()
    assert (message.channel, message.direction, message.status) == ("chat", "in", "received")
    assert message.from_number == "+15125550199" and message.provider_sid.startswith("chat:")
    assert message.customer == lead.customer and message.lead == lead
    conversation = message.conversation
    assert conversation.customer == lead.customer and conversation.unread_count == 1
    assert services.chat_token_read(token=token, web_form=web_form) == conversation


def test_a_bad_phone_is_400_naming_phone_and_nothing_is_stored(web_form, business):
    response = start(web_form, {**ANA, "phone": "555-12"})
    assert response.status_code == 400 and "phone" in response.json()["errors"]
    response = start(web_form, {**ANA, "message": "  "})
    assert response.status_code == 400 and "message" in response.json()["errors"]
    assert not Lead.objects.exists() and not Message.objects.exists()


def test_bad_bodies_are_400_or_413_never_500(web_form, business, settings):
    assert start(web_form, "{not json").status_code == 400
    assert start(web_form, "[1, 2]").status_code == 400
    assert start(web_form, {"name": 5, "phone": ["x"], "message": None}).status_code == 400
    settings.LEADS_MAX_BODY_BYTES = 50
    assert start(web_form, {**ANA, "message": "x" * 100}).status_code == 413
    assert not Message.objects.exists()


def test_a_disallowed_origin_is_403_and_nothing_is_stored(web_form, business):
    response = start(web_form, origin="https://evil.example")
    assert response.status_code == 403 and "Access-Control-Allow-Origin" not in response
    assert not Lead.objects.exists() and not Customer.objects.exists() and not Message.objects.exists()
    preflight = Client().options(
        reverse("webchat-start", args=[web_form.public_id]), headers={"Origin": "https://evil.example"}
    )
    assert preflight.status_code == 403


def test_the_preflight_allows_the_forms_site(web_form, business):
    response = Client().options(reverse("webchat-start", args=[web_form.public_id]), headers={"Origin": SITE})
    assert response.status_code == 204 and response["Access-Control-Allow-Origin"] == SITE
    assert "POST" in response["Access-Control-Allow-Methods"]


def test_the_honeypot_answers_like_a_success_and_stores_no_chat(web_form, business):
    response = start(web_form, {**ANA, "website": "http://spam.example"})
    assert response.status_code == 201 and response.json()["token"]
    assert not Message.objects.exists()
    assert poll(web_form, response.json()["token"]).status_code == 403


def test_starting_is_rate_limited_per_ip(web_form, business, settings):
    settings.WEB_FORM_RATE_LIMIT = "2/m"
    statuses = [start(web_form, {**ANA, "phone": f"(512) 555-010{i}"}).status_code for i in range(3)]
    assert statuses == [201, 201, 429]


def test_the_token_continues_the_chat_and_a_wrong_token_is_403(web_form, business):
    token = start(web_form).json()["token"]
    response = _post(messages_url(web_form, token), {"message": "It's a Trane, about 10 years old."})
    assert response.status_code == 201, response.content
    assert response.json()["message"]["body"] == "It's a Trane, about 10 years old."
    lines = poll(web_form, token).json()["messages"]
    assert [(m["direction"], m["body"]) for m in lines] == [
        ("in", ANA["message"]),
        ("in", "It's a Trane, about 10 years old."),
    ]
    assert poll(web_form, token, after=lines[0]["id"]).json()["messages"] == lines[1:]
    conversation = Message.objects.first().conversation
    assert set(Message.objects.values_list("conversation", flat=True)) == {conversation.pk}

    forged = token[:-4] + ("aaaa" if not token.endswith("aaaa") else "bbbb")
    assert poll(web_form, forged).status_code == 403
    assert poll(web_form, "set-password").status_code == 403
    assert _post(messages_url(web_form, forged), {"message": "hi"}).status_code == 403
    other = WebForm.objects.create(name="Other", source=web_form.source, allowed_origins=[SITE])
    assert poll(other, token).status_code == 403  # a token belongs to its own form
    assert Message.objects.count() == 2


def test_an_expired_token_is_403(web_form, business, settings):
    token = start(web_form).json()["token"]
    settings_max = services.CHAT_TOKEN_MAX_AGE
    try:
        services.CHAT_TOKEN_MAX_AGE = -1
        assert poll(web_form, token).status_code == 403
    finally:
        services.CHAT_TOKEN_MAX_AGE = settings_max


def test_a_continuing_message_must_not_be_empty_and_the_origin_is_checked(web_form, business):
    token = start(web_form).json()["token"]
    response = _post(messages_url(web_form, token), {"message": ""})
    assert response.status_code == 400 and "message" in response.json()["errors"]
    assert (
        _post(messages_url(web_form, token), {"message": "hi"}, origin="https://evil.example").status_code
        == 403
    )
    assert poll(web_form, token, origin="https://evil.example").status_code == 403
    assert poll(web_form, token, after="abc").status_code == 400
    assert Message.objects.count() == 1


def test_polling_records_that_the_visitor_is_on_the_page(web_form, business):
    token = start(web_form).json()["token"]
    conversation = Message.objects.get().conversation
    cache.clear()
    assert not services.visitor_present(conversation)
    poll(web_form, token)
    assert cache.get(f"chat-seen:{conversation.pk}") is not None


def _chat(web_form):
    token = start(web_form).json()["token"]
    return token, Message.objects.get().conversation


def test_the_inbox_offers_chat_and_the_widget_gets_the_reply(
    web_form, business, office, client_for, django_capture_on_commit_callbacks
):
    token, conversation = _chat(web_form)
    office_client = client_for(office)
    page = office_client.get(reverse("crm:inbox-conversation", args=[conversation.pk])).content.decode()
    assert '<option value="chat" selected>Chat</option>' in page

    poll(web_form, token)  # the visitor is on the page
    with django_capture_on_commit_callbacks(execute=True):  # the outbox sends the line after commit
        response = office_client.post(
            reverse("crm:inbox-reply", args=[conversation.pk]),
            {"body": "Yes! A tech can be there at 3pm.", "channel": "chat"},
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200 and "Yes! A tech can be there at 3pm." in response.content.decode()
    reply = Message.objects.get(direction="out")
    assert (reply.channel, reply.status, reply.created_by, reply.conversation) == (
        "chat",
        "sent",
        office,
        conversation,
    )
    assert not Message.objects.filter(channel="sms").exists()  # present: no text

    first_id = Message.objects.get(direction="in").pk
    lines = poll(web_form, token, after=first_id).json()["messages"]
    assert [(m["direction"], m["body"]) for m in lines] == [("out", "Yes! A tech can be there at 3pm.")]
    assert lines[0]["time"]


def test_a_reply_when_the_visitor_has_left_is_also_texted(
    web_form, business, office, client_for, django_capture_on_commit_callbacks
):
    token, conversation = _chat(web_form)
    cache.delete(f"chat-seen:{conversation.pk}")  # the visitor closed the page over a minute ago
    with django_capture_on_commit_callbacks(execute=True):  # the outbox sends the line after commit
        client_for(office).post(
            reverse("crm:inbox-reply", args=[conversation.pk]),
            {"body": "We can come at 3pm.", "channel": "chat"},
        )
    chat = Message.objects.get(direction="out", channel="chat")
    text = Message.objects.get(direction="out", channel="sms")
    assert chat.status == "sent" and chat.body == text.body == "We can come at 3pm."
    assert (text.to_number, text.purpose, text.status) == (
        "+15125550199",
        "care",
        "sent",
    )  # sent after commit too
    # The visitor who comes back sees the reply once, not twice.
    lines = poll(web_form, token).json()["messages"]
    assert [m["body"] for m in lines].count("We can come at 3pm.") == 1


def test_the_service_texts_only_when_the_visitor_is_away(web_form, business, office):
    _, conversation = _chat(web_form)
    services.chat_seen(conversation=conversation)
    _, text = services.chat_reply(conversation=conversation, body="On our way", actor=office)
    assert text is None
    cache.clear()
    _, text = services.chat_reply(conversation=conversation, body="Running 10 min late", actor=office)
    assert text is not None and text.channel == "sms" and text.to_number == "+15125550199"


def test_no_chat_channel_when_the_last_inbound_message_is_a_text(web_form, business, office, client_for):
    from messaging import services as messaging

    _, conversation = _chat(web_form)
    messaging.message_receive(
        from_number="+15125550199", to_number="+15555550100", body="Texting instead", provider_sid="SM9"
    )
    page = client_for(office).get(reverse("crm:inbox-conversation", args=[conversation.pk])).content.decode()
    assert 'value="chat"' not in page
    client_for(office).post(
        reverse("crm:inbox-reply", args=[conversation.pk]), {"body": "Got it", "channel": "chat"}
    )
    assert Message.objects.get(direction="out").channel == "sms"


def test_the_widget_shows_the_offices_texts_but_not_held_or_suppressed_ones(web_form, business):
    token, conversation = _chat(web_form)
    customer = conversation.customer
    common = {"conversation": conversation, "customer": customer, "direction": "out", "channel": "sms"}
    Message.objects.create(**common, body="Sent text", status="sent")
    Message.objects.create(**common, body="Held until morning", status="held")
    Message.objects.create(**common, body="Not sent", status="suppressed")
    Message.objects.create(**{**common, "channel": "email"}, body="To: a@b.c\nSubject: x", status="sent")
    bodies = [m["body"] for m in poll(web_form, token).json()["messages"]]
    assert bodies == [ANA["message"], "Sent text"]
