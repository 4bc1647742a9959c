import json

import pytest
from django.urls import reverse

from crm.models import Lead, Source
from crm.services import source_key_create, source_key_revoke
from customers.models import Customer
from integrations.models import InboundLead
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

ANA = {
    "name": "Ana Ruiz",
    "phone": "(512) 555-0199",
    "email": "ana@example.com",
    "street": "1944 Stanton St",
    "city": "Round Rock",
    "state": "TX",
    "zip": "78665",
    "service": "AC not cooling",
    "message": "Upstairs is 85F",
    "utm_source": "angi",
    "utm_campaign": "summer-ac",
    "gclid": "Cj0KCQ-abc",
    "landing_page": "https://example.com/ac",
    "lead_id": "angi-778",
    "angi_category": "HVAC",
}


_on_commit = {}


@pytest.fixture(autouse=True)
def _run_on_commit(django_capture_on_commit_callbacks):
    """The webhook stores the delivery; after commit a worker (eager here) captures the lead."""
    _on_commit["capture"] = django_capture_on_commit_callbacks


def post(client, body, *, key="", slug="zapier", **headers):
    if key:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    url = reverse("leadsources:generic", kwargs={"slug": slug})
    with _on_commit["capture"](execute=True):
        return client.post(url, data, content_type="application/json", **headers)


def assert_nothing_stored():
    assert InboundLead.objects.count() == 0
    assert Lead.objects.count() == 0
    assert Customer.objects.count() == 0


def test_a_lead_posted_with_a_live_key_creates_the_lead_and_customer_with_attribution(client, zapier_key):
    response = post(client, ANA, key=zapier_key)

    assert response.status_code == 202
    lead = Lead.objects.get()
    assert response.json()["created"] is True
    assert InboundLead.objects.get(pk=response.json()["delivery_id"]).lead == lead
    assert lead.source.slug == "zapier" and lead.external_id == "angi-778"
    assert lead.customer.display_name == "Ana Ruiz" and lead.phone == "+15125550199"
    assert lead.property.one_line == "1944 Stanton St, Round Rock, TX 78665"
    assert lead.service == "AC not cooling" and lead.message == "Upstairs is 85F"
    assert lead.attribution == {
        "utm_source": "angi",
        "utm_campaign": "summer-ac",
        "gclid": "Cj0KCQ-abc",
        "landing_page": "https://example.com/ac",
    }


ANGI_CATEGORY_IGNORED = (
    '"angi_category" is not a field this channel reads: ignored (kept in the raw payload).'
)


def test_unknown_keys_are_kept_in_the_raw_payload_and_named_in_warnings(client, zapier_key):
    response = post(client, ANA, key=zapier_key)
    assert response.status_code == 202 and response.json()["warnings"] == [ANGI_CATEGORY_IGNORED]
    lead = Lead.objects.get()
    assert lead.raw_payload == {**ANA, "_warnings": [ANGI_CATEGORY_IGNORED]}
    assert lead.capture_warnings == [ANGI_CATEGORY_IGNORED]


def test_a_one_line_address_is_split_into_street_city_state_and_zip(client, zapier_key):
    body = {
        "name": "Ana Ruiz",
        "phone": "512-555-0199",
        "address": "4512 Oak Hollow Dr Apt 4, Round Rock, Texas 78665",
    }
    response = post(client, body, key=zapier_key)
    assert response.status_code == 202 and response.json()["warnings"] == []
    prop = Lead.objects.get().property
    assert (prop.street, prop.unit, prop.city, prop.state, prop.zip_code) == (
        "4512 Oak Hollow Dr",
        "Apt 4",
        "Round Rock",
        "TX",
        "78665",
    )


def test_an_address_that_cannot_be_read_in_full_is_kept_in_the_message_with_a_warning(client, zapier_key):
    body = {"name": "Ana Ruiz", "phone": "512-555-0199", "address": "the blue house behind the church"}
    response = post(client, body, key=zapier_key)
    assert response.status_code == 202
    (warning,) = response.json()["warnings"]
    assert "could not be read in full" in warning and "street, city, ST 12345" in warning
    lead = Lead.objects.get()
    assert lead.property is None and "Address as given: the blue house behind the church" in lead.message
    assert lead.capture_warnings == [warning]


def test_split_names_address_aliases_and_a_spelled_out_state_are_understood(client, zapier_key):
    body = {
        "first_name": "Ana",
        "last_name": "Ruiz",
        "phone": 5125550199,
        "address": "1944 Stanton St",
        "city": "Round Rock",
        "state": "Texas",
        "postal_code": 78665,
        "external_id": 42,
    }
    assert post(client, body, key=zapier_key).status_code == 202
    lead = Lead.objects.get()
    assert lead.name == "Ana Ruiz" and lead.external_id == "42"
    assert lead.property.one_line == "1944 Stanton St, Round Rock, TX 78665"


def test_the_same_lead_delivered_twice_makes_one_lead(client, zapier_key):
    first = post(client, ANA, key=zapier_key)
    second = post(client, ANA, key=zapier_key)

    assert second.status_code == 200
    assert second.json() == {
        "delivery_id": first.json()["delivery_id"],
        "created": False,
        "status": "done",
        "warnings": [ANGI_CATEGORY_IGNORED],
        "lead_id": Lead.objects.get().pk,
    }
    assert Lead.objects.count() == 1


def test_a_retry_with_the_same_idempotency_key_makes_one_lead(client, zapier_key):
    body = {k: v for k, v in ANA.items() if k != "lead_id"}
    assert post(client, body, key=zapier_key, HTTP_IDEMPOTENCY_KEY="zap-1").status_code == 202
    assert post(client, body, key=zapier_key, HTTP_IDEMPOTENCY_KEY="zap-1").status_code == 200
    assert Lead.objects.get().idempotency_key == "zap-1"


def test_a_phone_written_differently_lands_on_the_existing_customer(client, zapier_key, office):
    existing = make_customer(actor=office, first_name="Ana", last_name="Ruiz", phones=["512.555.0199"])

    response = post(client, {"name": "Ana R.", "phone": "+1 512 555 0199"}, key=zapier_key)

    assert response.status_code == 202
    assert Lead.objects.get().customer_id == existing.pk
    assert Customer.objects.count() == 1


@pytest.mark.parametrize("key", ["", "lk_not-a-real-key"])
def test_a_missing_or_wrong_key_is_refused_and_nothing_is_stored(client, zapier_key, key):
    response = post(client, ANA, key=key)

    assert response.status_code == 403
    assert response.json()["detail"]
    assert_nothing_stored()


def test_a_revoked_key_is_refused(client, zapier, owner):
    key, raw = source_key_create(source=zapier, actor=owner)
    source_key_revoke(key=key, actor=owner)

    assert post(client, ANA, key=raw).status_code == 403
    assert_nothing_stored()


def test_another_sources_key_is_refused(client, zapier_key):
    Source.objects.create(name="Thumbtack", slug="thumbtack", kind=Source.Kind.WEBHOOK)

    assert post(client, ANA, key=zapier_key, slug="thumbtack").status_code == 403
    assert_nothing_stored()


def test_an_unknown_slug_or_an_inactive_source_is_refused(client, zapier, zapier_key):
    assert post(client, ANA, key=zapier_key, slug="nope").status_code == 403
    zapier.is_active = False
    zapier.save()
    assert post(client, ANA, key=zapier_key).status_code == 403
    assert_nothing_stored()


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"text"', '{"phone": NaN}', b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_refused_naming_the_body(client, zapier_key, body):
    response = post(client, body, key=zapier_key)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["body"]
    assert_nothing_stored()


def test_a_nul_character_is_refused_before_the_database_sees_it(client, zapier_key):
    response = post(client, {**ANA, "message": "a\x00b"}, key=zapier_key)
    assert response.status_code == 400 and "body" in response.json()["errors"]


def test_a_field_of_the_wrong_type_is_refused_naming_it(client, zapier_key):
    response = post(client, {**ANA, "phone": ["512", "555"], "city": {"x": 1}}, key=zapier_key)

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"phone", "city"}
    assert_nothing_stored()


def test_an_invalid_phone_is_refused_naming_the_phone(client, zapier_key):
    response = post(client, {**ANA, "phone": "555-12"}, key=zapier_key)

    assert response.status_code == 400
    assert "phone" in response.json()["errors"]
    assert_nothing_stored()


def test_a_lead_without_phone_or_email_is_refused(client, zapier_key):
    response = post(client, {"name": "Ana"}, key=zapier_key)
    assert response.status_code == 400 and "phone" in response.json()["errors"]


def test_a_body_over_the_limit_is_refused_with_413(client, zapier_key, settings):
    settings.LEADS_MAX_BODY_BYTES = 1000

    response = post(client, {**ANA, "notes": "x" * 1000}, key=zapier_key)

    assert response.status_code == 413
    assert_nothing_stored()


def test_a_declared_length_over_the_limit_is_refused_without_reading(client, zapier_key, settings):
    settings.LEADS_MAX_BODY_BYTES = 1000
    assert post(client, ANA, key=zapier_key, CONTENT_LENGTH="5000000").status_code == 413


def test_only_post_is_allowed(client, zapier_key):
    url = reverse("leadsources:generic", kwargs={"slug": "zapier"})
    assert client.get(url).status_code == 405
