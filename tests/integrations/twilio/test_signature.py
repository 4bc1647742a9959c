"""Only Twilio may call the webhooks: the signature is checked before anything is read or stored."""

import pytest

from crm.models import Lead
from messaging.models import Call, Message

from .helpers import BASE_URL, call_params, sign, sms_params

URLS = [
    "/integrations/twilio/voice/",
    "/integrations/twilio/voice/status/",
    "/integrations/twilio/sms/",
    "/integrations/twilio/status/",
]
PARAMS = {**call_params(), **sms_params("hello"), "MessageStatus": "delivered"}


def _nothing_stored() -> bool:
    return not (Call.objects.exists() or Message.objects.exists() or Lead.objects.exists())


@pytest.mark.parametrize("url", URLS)
def test_a_request_without_signature_is_refused_and_stores_nothing(url, twilio_post, rules):
    response = twilio_post(url, PARAMS, signature="")
    assert response.status_code == 403
    assert _nothing_stored()


@pytest.mark.parametrize("url", URLS)
def test_a_request_signed_with_another_token_is_refused(url, twilio_post, rules):
    response = twilio_post(url, PARAMS, signature=sign(url, PARAMS, token="not-our-token"))
    assert response.status_code == 403
    assert _nothing_stored()


def test_a_tampered_body_is_refused(twilio_post, rules):
    signature = sign("/integrations/twilio/voice/", call_params())
    response = twilio_post(
        "/integrations/twilio/voice/", call_params(From="+15125559876"), signature=signature
    )
    assert response.status_code == 403
    assert _nothing_stored()


def test_without_an_auth_token_configured_every_request_is_refused(twilio_post, rules, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    assert twilio_post("/integrations/twilio/voice/", call_params()).status_code == 403
    assert _nothing_stored()


def test_the_query_string_is_part_of_the_signed_url(client, rules):
    path, params = "/integrations/twilio/voice/?source=main", call_params()
    signature = sign(path, params)
    response = client.post(path, params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    assert Call.objects.count() == 1


def test_the_signature_uses_the_public_url_not_the_host_behind_the_proxy(client, rules):
    params = call_params()
    signature = sign("/integrations/twilio/voice/", params)
    assert BASE_URL.startswith("https://")
    response = client.post("/integrations/twilio/voice/", params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200  # the test client's host is http://testserver


@pytest.mark.parametrize("url", URLS)
def test_get_is_not_allowed(url, client, rules):
    assert client.get(url).status_code == 405


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/integrations/twilio/voice/", {"CallSid": "CA001", "To": "+15125550100"}),
        ("/integrations/twilio/sms/", {"MessageSid": "SM001", "Body": "hi"}),
        ("/integrations/twilio/voice/status/", {"DialCallStatus": "no-answer"}),
        ("/integrations/twilio/status/", {"MessageStatus": "delivered"}),
        ("/integrations/twilio/sms/", {**sms_params("hi"), "NumMedia": "lots"}),
    ],
)
def test_missing_or_bad_fields_answer_400(url, params, twilio_post, rules):
    assert twilio_post(url, params).status_code == 400
    assert _nothing_stored()
