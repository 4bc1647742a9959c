import logging
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from crm.models import Lead
from customers.models import Customer
from integrations.leadsources import google_lsa
from integrations.leadsources.tasks import poll_google_lsa

pytestmark = pytest.mark.django_db

SEARCH_PATH = "/v18/customers/1234567890/googleAds:search"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.delete_many([google_lsa.CURSOR_KEY, google_lsa.LAST_RUN_KEY])
    yield
    cache.delete_many([google_lsa.CURSOR_KEY, google_lsa.LAST_RUN_KEY])


@pytest.fixture
def ads_api(settings, provider, business):
    settings.GOOGLE_LSA_ENABLED = True
    settings.GOOGLE_LSA_POLL_SECONDS = 300
    settings.GOOGLE_ADS_API_BASE_URL = f"{provider.url}/v18"
    settings.GOOGLE_ADS_CUSTOMER_ID = "123-456-7890"
    settings.GOOGLE_ADS_LOGIN_CUSTOMER_ID = "111-222-3333"
    settings.GOOGLE_ADS_DEVELOPER_TOKEN = "dev-token"
    settings.GOOGLE_ADS_ACCESS_TOKEN = "access-token"
    return provider


def lsa_lead(lead_id="9001", *, phone="+15125550199", name="Ana Ruiz", created="2026-11-20 10:01:02.123456"):
    return {
        "localServicesLead": {
            "resourceName": f"customers/1234567890/localServicesLeads/{lead_id}",
            "id": lead_id,
            "leadType": "PHONE_CALL",
            "categoryId": "xcat:service_area_business_plumber",
            "serviceId": "drain_cleaning",
            "contactDetails": {"phoneNumber": phone, "email": "", "consumerName": name},
            "creationDateTime": created,
            "leadStatus": "NEW",
        }
    }


def test_a_poll_captures_each_new_lead_onto_a_customer(ads_api):
    ads_api.answer(SEARCH_PATH, {"results": [lsa_lead()]})

    assert poll_google_lsa() == 1

    lead = Lead.objects.get()
    assert lead.source.kind == "google_lsa" and lead.source.slug == "google-lsa"
    assert lead.external_id == "9001"
    assert lead.customer.display_name == "Ana Ruiz" and lead.phone == "+15125550199"
    assert lead.service == "Drain cleaning"
    assert lead.message == "Phone call lead from Google Local Services."
    assert lead.raw_payload == lsa_lead()["localServicesLead"]


def test_the_creation_time_is_read_in_the_business_time_zone(ads_api, business):
    ads_api.answer(SEARCH_PATH, {"results": [lsa_lead()]})

    poll_google_lsa()

    arrived = Lead.objects.get().arrived_at  # 10:01 in Chicago (CST, UTC-6) is 16:01 UTC
    assert arrived.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") == "2026-11-20 16:01:02"


def test_the_search_is_authorized_and_follows_the_next_page_token(ads_api):
    ads_api.answer(SEARCH_PATH, {"results": [lsa_lead("1")], "nextPageToken": "page-2"})
    ads_api.answer(SEARCH_PATH, {"results": [lsa_lead("2", phone="+15125550100", name="Bo Li")]})

    assert poll_google_lsa() == 2

    first, second = ads_api.requests
    assert first["method"] == "POST" and first["path"] == SEARCH_PATH
    assert first["headers"]["authorization"] == "Bearer access-token"
    assert first["headers"]["developer-token"] == "dev-token"
    assert first["headers"]["login-customer-id"] == "1112223333"
    assert (
        "FROM local_services_lead WHERE local_services_lead.creation_date_time > '" in first["json"]["query"]
    )
    assert "pageToken" not in first["json"]
    assert second["json"] == {**first["json"], "pageToken": "page-2"}
    assert set(Lead.objects.values_list("external_id", flat=True)) == {"1", "2"}


def test_the_first_poll_looks_back_a_day_and_the_next_starts_after_the_last_lead(ads_api):
    ads_api.answer(SEARCH_PATH, {"results": [lsa_lead(created="2026-11-20 10:01:02.123456")]})

    with time_machine.travel(datetime(2026, 11, 20, 18, 0, tzinfo=UTC), tick=False) as clock:
        poll_google_lsa()
        clock.shift(timedelta(seconds=301))
        poll_google_lsa()

    first, second = (r["json"]["query"] for r in ads_api.requests)
    assert "creation_date_time > '2026-11-19 12:00:00'" in first  # a day ago, in Chicago
    assert "creation_date_time > '2026-11-20 10:01:02'" in second


def test_a_lead_seen_again_by_a_later_poll_stays_one_lead(ads_api):
    ads_api.answer(SEARCH_PATH, {"results": [lsa_lead()]})
    poll_google_lsa()

    with time_machine.travel(timezone.now() + timedelta(seconds=301)):
        assert poll_google_lsa() == 0

    assert Lead.objects.count() == 1


def test_polls_closer_than_the_interval_call_the_api_once(ads_api):
    ads_api.answer(SEARCH_PATH, {"results": []})

    poll_google_lsa()
    poll_google_lsa()

    assert len(ads_api.requests) == 1


def test_nothing_is_polled_unless_enabled(ads_api, settings):
    settings.GOOGLE_LSA_ENABLED = False
    ads_api.answer(SEARCH_PATH, {"results": [lsa_lead()]})

    assert poll_google_lsa() == 0
    assert ads_api.requests == []


def test_a_refused_token_is_logged_and_nothing_is_stored(ads_api, caplog):
    ads_api.answer(SEARCH_PATH, {"error": {"code": 401, "status": "UNAUTHENTICATED"}}, status=401)

    with caplog.at_level(logging.ERROR, logger="integrations.leadsources.tasks"):
        assert poll_google_lsa() == 0

    assert "answered 401" in caplog.text
    assert Lead.objects.count() == 0 and Customer.objects.count() == 0


def test_a_lead_without_contact_details_is_skipped_and_the_rest_captured(ads_api, caplog):
    nobody = lsa_lead("1", phone="", name="")
    ads_api.answer(SEARCH_PATH, {"results": [nobody, lsa_lead("2")]})

    with caplog.at_level(logging.WARNING, logger="integrations.leadsources.google_lsa"):
        assert poll_google_lsa() == 1

    assert Lead.objects.get().external_id == "2"
    assert "Google LSA lead 1 not captured" in caplog.text


def test_malformed_results_are_logged_and_nothing_is_stored(ads_api, caplog):
    ads_api.answer(SEARCH_PATH, {"results": {"localServicesLead": {}}})

    with caplog.at_level(logging.ERROR, logger="integrations.leadsources.tasks"):
        assert poll_google_lsa() == 0

    assert "results that are not a list" in caplog.text
    assert Lead.objects.count() == 0
