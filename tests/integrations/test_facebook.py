import hashlib
import hmac
import json
import logging

import pytest
from django.urls import reverse

from config.celery import app as celery_app
from crm.models import Lead, Source
from customers.models import Customer

pytestmark = pytest.mark.django_db

APP_SECRET = "fb-app-secret"
LEADGEN_ID = "444444444444"
GRAPH_PATH = f"/v21.0/{LEADGEN_ID}"


@pytest.fixture
def meta(settings, provider):
    settings.FACEBOOK_APP_SECRET = APP_SECRET
    settings.FACEBOOK_VERIFY_TOKEN = "verify-me"
    settings.FACEBOOK_PAGE_ACCESS_TOKEN = "page-token"
    settings.FACEBOOK_GRAPH_BASE_URL = f"{provider.url}/v21.0"
    return provider


def graph_lead(**changes) -> dict:
    return {
        "id": LEADGEN_ID,
        "created_time": "2026-11-20T16:01:02+0000",
        "ad_id": "6001",
        "form_id": "7001",
        "campaign_id": "8001",
        "field_data": [
            {"name": "full_name", "values": ["Ana Ruiz"]},
            {"name": "phone_number", "values": ["+15125550199"]},
            {"name": "email", "values": ["ana@example.com"]},
            {"name": "street_address", "values": ["1944 Stanton St"]},
            {"name": "city", "values": ["Round Rock"]},
            {"name": "state", "values": ["TX"]},
            {"name": "zip_code", "values": ["78665"]},
            {"name": "which_service_do_you_need?", "values": ["Drain cleaning", "Water heater"]},
        ],
        **changes,
    }


def notification(leadgen_id=LEADGEN_ID) -> dict:
    value = {
        "leadgen_id": leadgen_id,
        "page_id": "1111",
        "form_id": "7001",
        "adgroup_id": "5001",
        "ad_id": "6001",
        "created_time": 1763654462,
    }
    return {
        "object": "page",
        "entry": [{"id": "1111", "time": 1763654463, "changes": [{"field": "leadgen", "value": value}]}],
    }


def signed(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(client, django_capture_on_commit_callbacks, payload, *, signature=None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"HTTP_X_HUB_SIGNATURE_256": signed(body) if signature is None else signature}
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("leadsources:facebook"), body, content_type="application/json", **headers)


def assert_nothing_stored():
    assert Lead.objects.count() == 0
    assert Customer.objects.count() == 0


# --- The subscription handshake ---------------------------------------------------------------------


def verify(client, **params):
    return client.get(reverse("leadsources:facebook"), params)


def test_the_subscription_handshake_echoes_the_challenge(client, meta):
    response = verify(
        client, **{"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "42"}
    )

    assert response.status_code == 200
    assert response.content == b"42" and response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(("mode", "token"), [("subscribe", "wrong"), ("unsubscribe", "verify-me")])
def test_a_handshake_with_a_wrong_token_or_mode_is_refused(client, meta, mode, token):
    response = verify(client, **{"hub.mode": mode, "hub.verify_token": token, "hub.challenge": "42"})
    assert response.status_code == 403


def test_no_handshake_passes_while_the_verify_token_is_unset(client, settings):
    settings.FACEBOOK_VERIFY_TOKEN = ""
    assert verify(client, **{"hub.mode": "subscribe", "hub.verify_token": ""}).status_code == 403


# --- Lead notifications ------------------------------------------------------------------------------


def test_a_signed_notification_fetches_the_lead_and_creates_lead_and_customer(
    client, meta, django_capture_on_commit_callbacks
):
    meta.answer(GRAPH_PATH, graph_lead())

    response = deliver(client, django_capture_on_commit_callbacks, notification())

    assert response.status_code == 200 and response.json() == {"queued": 1}
    lead = Lead.objects.get()
    assert lead.source.kind == "facebook" and lead.source.slug == "facebook"
    assert lead.external_id == LEADGEN_ID
    assert lead.customer.display_name == "Ana Ruiz" and lead.phone == "+15125550199"
    assert lead.property.one_line == "1944 Stanton St, Round Rock, TX 78665"
    assert lead.message == "Which service do you need?: Drain cleaning, Water heater"
    assert lead.attribution == {
        "ad_id": "6001",
        "form_id": "7001",
        "campaign_id": "8001",
        "adgroup_id": "5001",
    }
    assert lead.arrived_at.isoformat() == "2026-11-20T16:01:02+00:00"
    assert lead.raw_payload["lead"]["field_data"] == graph_lead()["field_data"]


def test_the_graph_api_is_asked_for_the_lead_with_the_page_token_and_app_secret_proof(
    client, meta, django_capture_on_commit_callbacks
):
    meta.answer(GRAPH_PATH, graph_lead())

    deliver(client, django_capture_on_commit_callbacks, notification())

    (request,) = meta.requests
    assert request["method"] == "GET" and request["path"] == GRAPH_PATH
    assert request["query"]["access_token"] == "page-token"
    assert request["query"]["fields"] == "field_data,created_time,ad_id,form_id,campaign_id"
    proof = hmac.new(APP_SECRET.encode(), b"page-token", hashlib.sha256).hexdigest()
    assert request["query"]["appsecret_proof"] == proof


def test_a_notification_delivered_twice_creates_one_lead_and_fetches_once(
    client, meta, django_capture_on_commit_callbacks
):
    meta.answer(GRAPH_PATH, graph_lead())

    deliver(client, django_capture_on_commit_callbacks, notification())
    deliver(client, django_capture_on_commit_callbacks, notification())

    assert Lead.objects.count() == 1
    assert meta.paths() == [GRAPH_PATH]


def test_leads_go_to_the_existing_active_facebook_source(client, meta, django_capture_on_commit_callbacks):
    ours = Source.objects.create(name="FB spring ads", slug="fb-spring", kind=Source.Kind.FACEBOOK)
    meta.answer(GRAPH_PATH, graph_lead())

    deliver(client, django_capture_on_commit_callbacks, notification())

    assert Lead.objects.get().source == ours


@pytest.mark.parametrize("signature", ["", "sha256=" + "0" * 64, signed(b"another body"), "sha1=abc"])
def test_a_missing_or_bad_signature_is_refused_and_nothing_is_fetched_or_stored(
    client, meta, django_capture_on_commit_callbacks, signature
):
    meta.answer(GRAPH_PATH, graph_lead())

    response = deliver(client, django_capture_on_commit_callbacks, notification(), signature=signature)

    assert response.status_code == 403 and response.json()["detail"]
    assert meta.requests == []
    assert_nothing_stored()


def test_a_signature_made_with_another_secret_is_refused(client, meta, django_capture_on_commit_callbacks):
    body = json.dumps(notification()).encode()
    response = deliver(client, django_capture_on_commit_callbacks, body, signature=signed(body, "other"))
    assert response.status_code == 403


def test_nothing_is_accepted_while_the_app_secret_is_unset(
    client, meta, settings, django_capture_on_commit_callbacks
):
    settings.FACEBOOK_APP_SECRET = ""
    body = json.dumps(notification()).encode()
    response = deliver(client, django_capture_on_commit_callbacks, body, signature=signed(body, ""))
    assert response.status_code == 403


def test_a_signed_body_that_is_not_json_is_refused_naming_the_body(
    client, meta, django_capture_on_commit_callbacks
):
    response = deliver(client, django_capture_on_commit_callbacks, b"not json")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["body"]


def test_a_leadgen_id_that_is_not_an_id_is_refused_naming_it(
    client, meta, django_capture_on_commit_callbacks
):
    response = deliver(client, django_capture_on_commit_callbacks, notification(leadgen_id="../me"))

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["entry[0].changes[0].value.leadgen_id"]
    assert meta.requests == []


def test_entries_that_are_not_a_list_are_refused_naming_them(
    client, meta, django_capture_on_commit_callbacks
):
    response = deliver(client, django_capture_on_commit_callbacks, {"object": "page", "entry": {"id": 1}})
    assert response.status_code == 400 and list(response.json()["errors"]) == ["entry"]


def test_other_objects_and_fields_are_acknowledged_and_ignored(
    client, meta, django_capture_on_commit_callbacks
):
    feed = {"object": "page", "entry": [{"id": "1", "changes": [{"field": "feed", "value": {}}]}]}

    assert deliver(client, django_capture_on_commit_callbacks, feed).json() == {"queued": 0}
    assert deliver(client, django_capture_on_commit_callbacks, {"object": "user"}).json() == {"queued": 0}
    assert meta.requests == []


def test_a_body_over_the_limit_is_refused_with_413(
    client, meta, settings, django_capture_on_commit_callbacks
):
    settings.LEADS_MAX_BODY_BYTES = 500
    payload = {**notification(), "padding": "x" * 500}

    assert deliver(client, django_capture_on_commit_callbacks, payload).status_code == 413
    assert meta.requests == []


# --- The fetch task ----------------------------------------------------------------------------------


def test_a_graph_server_error_is_retried_until_the_lead_is_fetched(
    client, meta, django_capture_on_commit_callbacks, monkeypatch
):
    # Eager Celery runs the retry at once, unless it propagates the Retry to the caller.
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)
    meta.answer(GRAPH_PATH, {"error": {"message": "Please retry"}}, status=500)
    meta.answer(GRAPH_PATH, graph_lead())

    deliver(client, django_capture_on_commit_callbacks, notification())

    assert meta.paths() == [GRAPH_PATH, GRAPH_PATH]
    assert Lead.objects.count() == 1


def test_a_graph_client_error_is_logged_and_not_retried(
    client, meta, django_capture_on_commit_callbacks, caplog
):
    meta.answer(GRAPH_PATH, {"error": {"message": "Unsupported get request", "code": 100}}, status=400)

    with caplog.at_level(logging.ERROR, logger="integrations.leadsources.tasks"):
        response = deliver(client, django_capture_on_commit_callbacks, notification())

    assert response.status_code == 200
    assert meta.paths() == [GRAPH_PATH]
    assert f"Facebook lead {LEADGEN_ID} not fetched" in caplog.text
    assert "page-token" not in caplog.text
    assert_nothing_stored()


def test_an_unreadable_phone_is_kept_in_the_message_when_the_email_reaches_them(
    client, meta, django_capture_on_commit_callbacks
):
    fields = [
        {"name": "full_name", "values": ["Ana Ruiz"]},
        {"name": "phone_number", "values": ["12"]},
        {"name": "email", "values": ["ana@example.com"]},
    ]
    meta.answer(GRAPH_PATH, graph_lead(field_data=fields))

    deliver(client, django_capture_on_commit_callbacks, notification())

    lead = Lead.objects.get()
    assert lead.email == "ana@example.com" and lead.phone == ""
    assert "Phone as given: 12" in lead.message
    assert lead.raw_payload["_warnings"]


def test_a_lead_nobody_can_be_reached_on_is_logged_and_not_stored(
    client, meta, django_capture_on_commit_callbacks, caplog
):
    meta.answer(GRAPH_PATH, graph_lead(field_data=[{"name": "full_name", "values": ["Ana"]}]))

    with caplog.at_level(logging.ERROR, logger="integrations.leadsources.tasks"):
        deliver(client, django_capture_on_commit_callbacks, notification())

    assert "not captured" in caplog.text
    assert_nothing_stored()
