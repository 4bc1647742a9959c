import json

import pytest
from django.urls import reverse

from crm.models import Lead
from customers.models import Customer

pytestmark = pytest.mark.django_db


def lead_form(**changes) -> dict:
    """A lead as Google's documented webhook payload posts it."""
    return {
        "lead_id": "TeSter-123-ABCDEFGHIJKLMNOPQRSTUVWXYZ-abcdefghijklmnopqrstuvwxyz-0123456789",
        "api_version": "1.0",
        "form_id": 40000000000,
        "campaign_id": 20000000000,
        "adgroup_id": 30000000000,
        "creative_id": 50000000000,
        "gcl_id": "EAIaIQobChMI",
        "google_key": "s3cret-key",
        "is_test": False,
        "user_column_data": [
            {"column_name": "Full Name", "string_value": "Ana Ruiz", "column_id": "FULL_NAME"},
            {"column_name": "User Phone", "string_value": "+15125550199", "column_id": "PHONE_NUMBER"},
            {"column_name": "User Email", "string_value": "ana@example.com", "column_id": "EMAIL"},
            {
                "column_name": "Street address",
                "string_value": "1944 Stanton St",
                "column_id": "STREET_ADDRESS",
            },
            {"column_name": "City", "string_value": "Round Rock", "column_id": "CITY"},
            {"column_name": "Region", "string_value": "Texas", "column_id": "REGION"},
            {"column_name": "Postal Code", "string_value": "78665", "column_id": "POSTAL_CODE"},
            {
                "column_name": "What do you need help with?",
                "string_value": "Water heater leaking",
                "column_id": "what_do_you_need_help_with?",
            },
            {"column_name": "Best time to call", "string_value": "Mornings", "column_id": "best_time"},
        ],
        **changes,
    }


def post(client, body, *, slug="google-form"):
    data = body if isinstance(body, str) else json.dumps(body)
    url = reverse("leadsources:google_ads", kwargs={"slug": slug})
    return client.post(url, data, content_type="application/json")


def assert_nothing_stored():
    assert Lead.objects.count() == 0
    assert Customer.objects.count() == 0


def test_a_lead_form_submission_creates_the_lead_and_customer_with_ad_attribution(client, google_ads_source):
    response = post(client, lead_form())

    assert response.status_code == 200
    lead = Lead.objects.get()
    assert response.json() == {"lead_id": lead.pk, "customer_id": lead.customer_id, "created": True}
    assert lead.source == google_ads_source and lead.state == "new"
    assert lead.external_id == lead_form()["lead_id"]
    assert lead.customer.display_name == "Ana Ruiz" and lead.email == "ana@example.com"
    assert lead.property.one_line == "1944 Stanton St, Round Rock, TX 78665"
    assert lead.attribution == {
        "campaign_id": "20000000000",
        "adgroup_id": "30000000000",
        "form_id": "40000000000",
        "ad_id": "50000000000",
        "gclid": "EAIaIQobChMI",
    }


def test_custom_questions_go_to_the_message_and_every_column_stays_in_the_raw_payload(
    client, google_ads_source
):
    post(client, lead_form())

    lead = Lead.objects.get()
    assert lead.message == "What do you need help with?: Water heater leaking\nBest time to call: Mornings"
    assert lead.raw_payload["user_column_data"] == lead_form()["user_column_data"]


def test_the_google_key_is_not_kept_in_the_raw_payload(client, google_ads_source):
    post(client, lead_form())
    assert "google_key" not in Lead.objects.get().raw_payload


def test_the_same_lead_delivered_twice_makes_one_lead(client, google_ads_source):
    first = post(client, lead_form())
    second = post(client, lead_form())

    assert second.status_code == 200 and second.json() == {**first.json(), "created": False}
    assert Lead.objects.count() == 1


def test_a_test_lead_is_held_as_spam(client, google_ads_source):
    post(client, lead_form(is_test=True))
    assert Lead.objects.get().state == "spam"


def test_an_unreadable_phone_is_kept_in_the_message_when_the_email_reaches_them(client, google_ads_source):
    columns = [
        {"string_value": "Ana Ruiz", "column_id": "FULL_NAME"},
        {"string_value": "555-12", "column_id": "PHONE_NUMBER"},
        {"string_value": "ana@example.com", "column_id": "EMAIL"},
    ]
    assert post(client, lead_form(user_column_data=columns)).status_code == 200
    lead = Lead.objects.get()
    assert lead.phone == "" and lead.email == "ana@example.com"
    assert "Phone as given: 555-12" in lead.message


@pytest.mark.parametrize("google_key", ["wrong", "", None, 12])
def test_a_wrong_or_missing_google_key_is_refused_and_nothing_is_stored(
    client, google_ads_source, google_key
):
    body = lead_form(google_key=google_key)

    response = post(client, body)

    assert response.status_code == 403 and response.json()["detail"]
    assert_nothing_stored()


def test_a_source_without_a_configured_key_refuses_everything(client, google_ads_source):
    google_ads_source.google_key = ""
    google_ads_source.save()

    assert post(client, lead_form(google_key="")).status_code == 403
    assert_nothing_stored()


def test_an_unknown_slug_is_refused(client, google_ads_source):
    assert post(client, lead_form(), slug="nope").status_code == 403
    assert_nothing_stored()


def test_a_body_that_is_not_json_is_refused_naming_the_body(client, google_ads_source):
    response = post(client, "lead_id=1")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["body"]


def test_columns_that_are_not_a_list_are_refused_naming_them(client, google_ads_source):
    response = post(client, lead_form(user_column_data={"FULL_NAME": "Ana"}))

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["user_column_data"]
    assert_nothing_stored()


def test_an_answer_of_the_wrong_type_is_refused_naming_its_column(client, google_ads_source):
    columns = lead_form()["user_column_data"]
    columns[1] = {"column_id": "PHONE_NUMBER", "string_value": ["+15125550199"]}

    response = post(client, lead_form(user_column_data=columns))

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["user_column_data[1].string_value"]
    assert_nothing_stored()


def test_a_lead_without_a_lead_id_is_refused_naming_it(client, google_ads_source):
    response = post(client, lead_form(lead_id=None))
    assert response.status_code == 400 and list(response.json()["errors"]) == ["lead_id"]


def test_a_body_over_the_limit_is_refused_with_413(client, google_ads_source, settings):
    settings.LEADS_MAX_BODY_BYTES = 2000
    answers = [{"column_id": f"q{i}", "string_value": "x" * 100} for i in range(30)]

    response = post(client, lead_form(user_column_data=answers))

    assert response.status_code == 413
    assert_nothing_stored()


def test_only_post_is_allowed(client, google_ads_source):
    assert client.get(reverse("leadsources:google_ads", kwargs={"slug": "google-form"})).status_code == 405
