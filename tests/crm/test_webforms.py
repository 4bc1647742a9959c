"""Web forms: the office's settings pages, and the public page, embed.js and endpoint a website uses."""

import json
import re
import uuid

import pytest
from django.test import Client
from django.urls import reverse

from common.ratelimit import rate_parse
from crm.models import Lead, ServiceType, Source, WebForm
from customers.models import Customer
from events.models import Event

pytestmark = pytest.mark.django_db

SITE = "https://www.lonestarplumbing.com"
ANA = {"name": "Ana Ruiz", "phone": "(512) 555-0199", "email": "ana@example.com"}
# The rate-limit counters live in the cache, which tests/conftest.py (`_fresh_cache`) empties per test.


@pytest.fixture
def ac_repair(db):
    return ServiceType.objects.create(name="AC repair")


@pytest.fixture
def web_form(web_source, ac_repair):
    form = WebForm.objects.create(
        name="Homepage form",
        source=web_source,
        allowed_origins=[SITE],
        thank_you_text="Thanks! We'll text you back within minutes.",
    )
    form.services.add(ac_repair)
    return form


def _url(web_form, name="webform-public") -> str:
    return reverse(name, args=[web_form.public_id])


def post_json(web_form, payload, *, client=None, **headers):
    body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    return (client or Client()).post(_url(web_form), body, content_type="application/json", headers=headers)


def _settings(**changes) -> dict:
    data = {
        "name": "Spring promo form",
        "source": "new",
        "headline": "Book your AC tune-up",
        "submit_label": "Send",
        "thank_you_text": "Thanks, talk soon.",
        "consent_text": "",
        "allowed_origins": "https://www.lonestarplumbing.com/\nhttp://localhost:8080",
        "ask_email": "on",
        "ask_address": "on",
        "ask_message": "on",
        "is_active": "on",
        "new_services": "Water heater repair, Drain cleaning",
    }
    return {**data, **changes}


# --- The office's pages ----------------------------------------------------------------------------------


def test_office_creates_a_web_form_with_a_new_website_source_and_new_service_types(office, client_for):
    response = client_for(office).post(reverse("crm:webform-create"), _settings())

    web_form = WebForm.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "crm:webform-edit", args=[web_form.pk]
    )
    assert web_form.source.name == "Website" and web_form.source.kind == Source.Kind.WEB_FORM
    assert web_form.allowed_origins == ["https://www.lonestarplumbing.com", "http://localhost:8080"]
    assert sorted(s.name for s in web_form.services.all()) == ["Drain cleaning", "Water heater repair"]
    assert Event.objects.filter(code="crm.webform.created", actor=office).exists()


def test_the_new_form_page_offers_to_create_the_website_source_only_when_there_is_none(office, client_for):
    client = client_for(office)
    assert "Create a new “Website” source" in client.get(reverse("crm:webform-create")).content.decode()

    Source.objects.create(name="Website", slug="website", kind=Source.Kind.WEB_FORM)
    assert "Create a new “Website” source" not in client.get(reverse("crm:webform-create")).content.decode()


@pytest.mark.parametrize(
    "origin",
    [
        "https://example.com/contact",
        "example.com",
        "ftp://example.com",
        "https://exa mple.com",
        "https://x.com?a=1",
    ],
)
def test_an_allowed_site_must_be_a_bare_http_or_https_origin(office, client_for, origin):
    response = client_for(office).post(reverse("crm:webform-create"), _settings(allowed_origins=origin))

    assert response.status_code == 200 and not WebForm.objects.exists()
    assert "is not a site address such as https://example.com" in response.content.decode()


def test_allowed_sites_are_stored_the_way_browsers_send_their_origin(office, client_for):
    origins = "HTTPS://Example.com:443\nhttps://example.com/\nhttp://127.0.0.1:8001"
    client_for(office).post(reverse("crm:webform-create"), _settings(allowed_origins=origins))

    assert WebForm.objects.get().allowed_origins == ["https://example.com", "http://127.0.0.1:8001"]


def test_requiring_an_email_needs_the_email_question(office, client_for):
    data = _settings(require_email="on")
    del data["ask_email"]
    response = client_for(office).post(reverse("crm:webform-create"), data)
    assert "Ask for the e-mail address to require it." in response.content.decode()


def test_the_edit_page_shows_both_embed_snippets_with_absolute_urls(office, client_for, web_form):
    page = client_for(office).get(reverse("crm:webform-edit", args=[web_form.pk])).content.decode()

    div = f"&lt;div id=&quot;lead-form-{web_form.public_id}&quot;&gt;&lt;/div&gt;"
    script = f"&lt;script src=&quot;http://testserver/forms/{web_form.public_id}/embed.js&quot; async&gt;"
    assert div in page and script in page
    assert f"&lt;iframe src=&quot;http://testserver/forms/{web_form.public_id}/&quot;" in page
    assert 'data-copy="#snippet-script"' in page and "js/webform-admin.js" in page


def test_office_edits_a_form_and_the_change_is_logged(office, client_for, web_form, web_source):
    data = _settings(source=str(web_source.pk), allowed_origins="https://new.example.com", new_services="")
    response = client_for(office).post(reverse("crm:webform-edit", args=[web_form.pk]), data)

    web_form.refresh_from_db()
    assert response.status_code == 302
    assert web_form.allowed_origins == ["https://new.example.com"] and web_form.source == web_source
    event = Event.objects.get(code="crm.webform.updated")
    assert "allowed_origins" in event.data["changed"] and "services" in event.data["changed"]


def test_the_list_counts_leads_and_spam_per_form(owner, client_for, web_form):
    post_json(web_form, ANA)
    post_json(web_form, {**ANA, "website": "http://spam.example"})

    page = client_for(owner).get(reverse("crm:webform-list")).content.decode()
    assert "Homepage form" in page
    assert re.search(r'data-label="Leads" class="num">1<', page)
    assert re.search(r'data-label="Spam held" class="num">1<', page)


@pytest.mark.parametrize("name", ["crm:webform-list", "crm:webform-create", "crm:webform-edit"])
def test_a_technician_cannot_open_the_web_form_pages(technician, client_for, web_form, name):
    url = reverse(name, args=[web_form.pk]) if name.endswith("edit") else reverse(name)
    assert client_for(technician).get(url).status_code == 403


# --- Posting a request --------------------------------------------------------------------------------


def test_a_one_line_address_becomes_the_leads_service_address(web_form):
    payload = {**ANA, "address": "1944 Stanton St, Round Rock, TX 78665"}
    response = post_json(web_form, payload, Origin=SITE)
    assert response.status_code == 201 and response.json()["warnings"] == []
    assert Lead.objects.get().property.one_line == "1944 Stanton St, Round Rock, TX 78665"


def test_a_field_the_form_does_not_ask_is_named_in_the_warnings_and_on_the_lead(web_form, office, client_for):
    web_form.ask_address = False
    web_form.save()
    response = post_json(web_form, {**ANA, "address": "1944 Stanton St, Round Rock, TX 78665"}, Origin=SITE)
    warning = '"address" is not a field this channel reads: ignored (kept in the raw payload).'
    assert response.status_code == 201 and response.json()["warnings"] == [warning]
    lead = Lead.objects.get()
    assert lead.property is None and lead.capture_warnings == [warning]
    page = client_for(office).get(reverse("crm:detail", args=[lead.pk])).content.decode()
    assert "Left out when it came in" in page and "&quot;address&quot; is not a field" in page


def test_a_json_request_makes_a_lead_and_customer_with_its_attribution(web_form, ac_repair):
    payload = {
        **ANA,
        "street": "1944 Stanton St",
        "city": "Round Rock",
        "state": "tx",
        "zip": "78665",
        "service": "AC repair",
        "message": "Upstairs is 85F",
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "spring-ac",
        "gclid": "abc123",
        "landing_page": "https://www.lonestarplumbing.com/?utm_source=google&gclid=abc123",
        "referrer": "https://www.google.com/",
        "favorite_color": "blue",
    }
    response = post_json(web_form, payload, Origin=SITE)

    assert response.status_code == 201
    assert response.json() == {
        "ok": True,
        "message": "Thanks! We'll text you back within minutes.",
        "warnings": [
            '"favorite_color" is not a field this channel reads: ignored (kept in the raw payload).'
        ],
    }
    lead = Lead.objects.get()
    assert lead.state == Lead.State.NEW and lead.web_form == web_form and lead.source == web_form.source
    assert lead.name == "Ana Ruiz" and lead.phone == "+15125550199" and lead.service_type == ac_repair
    assert lead.customer == Customer.objects.get() and lead.property.zip_code == "78665"
    assert lead.attribution == {
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "spring-ac",
        "gclid": "abc123",
        "landing_page": "https://www.lonestarplumbing.com/?utm_source=google&gclid=abc123",
        "referrer": "https://www.google.com/",
    }
    assert lead.raw_payload["favorite_color"] == "blue"
    assert Event.objects.get(milestone="lead.created").actor_label == "web form Homepage form"


def test_a_request_with_the_utm_campaign_of_a_campaign_joins_it(web_form, spring_campaign):
    post_json(web_form, {**ANA, "utm_campaign": "spring-ac"})
    assert Lead.objects.get().campaign == spring_campaign


def test_the_iframe_page_carries_the_visit_into_hidden_fields(web_form):
    response = Client().get(
        _url(web_form) + "?utm_source=facebook&fbclid=fb1", headers={"Referer": SITE + "/ac"}
    )

    page = response.content.decode()
    assert response.status_code == 200 and "Mobile phone" in page and "AC repair" in page
    assert '<input type="hidden" name="utm_source" value="facebook">' in page
    assert '<input type="hidden" name="fbclid" value="fb1">' in page
    assert f'<input type="hidden" name="landing_page" value="{SITE}/ac">' in page


def test_the_honeypot_is_hidden_by_a_class_and_kept_out_of_tab_order(web_form):
    page = Client().get(_url(web_form)).content.decode()
    honeypot = re.search(r'<div class="lf-hp" aria-hidden="true">.*?</div>', page, re.S).group(0)
    assert 'name="website"' in honeypot and 'tabindex="-1"' in honeypot and 'autocomplete="off"' in honeypot
    assert "style=" not in page


def test_a_form_encoded_request_from_the_iframe_page_shows_the_thank_you_text(web_form):
    data = {**ANA, "utm_source": "facebook", "landing_page": SITE + "/ac"}
    response = Client().post(_url(web_form), data, headers={"Origin": "http://testserver"})

    assert response.status_code == 200
    assert "Thanks! We&#x27;ll text you back within minutes." in response.content.decode()
    lead = Lead.objects.get()
    assert lead.attribution == {"utm_source": "facebook", "landing_page": SITE + "/ac"}


def test_a_form_encoded_request_with_a_bad_phone_shows_the_error_next_to_the_field(web_form):
    response = Client().post(_url(web_form), {**ANA, "phone": "555-12", "utm_source": "fb"})

    page = response.content.decode()
    assert response.status_code == 400 and not Lead.objects.exists()
    assert re.search(r'lf-f-phone[^"]*lf-has-error', page)
    assert "Enter a valid phone number" in page
    assert 'value="Ana Ruiz"' in page and '<input type="hidden" name="utm_source" value="fb">' in page


# --- CORS and origins -------------------------------------------------------------------------------------


def test_the_preflight_from_an_allowed_site_is_answered(web_form):
    response = Client().options(
        _url(web_form), headers={"Origin": SITE, "Access-Control-Request-Method": "POST"}
    )

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == SITE
    assert response["Access-Control-Allow-Methods"] == "POST"
    assert response["Access-Control-Allow-Headers"] == "Content-Type"
    assert int(response["Access-Control-Max-Age"]) > 0
    assert "Origin" in response["Vary"]


def test_the_preflight_from_another_site_is_refused(web_form):
    response = Client().options(_url(web_form), headers={"Origin": "https://evil.example"})
    assert response.status_code == 403 and "Access-Control-Allow-Origin" not in response


def test_a_request_from_an_allowed_site_may_read_the_answer(web_form):
    response = post_json(web_form, ANA, Origin=SITE)
    assert response["Access-Control-Allow-Origin"] == SITE and "Origin" in response["Vary"]


def test_a_request_from_a_site_not_allowed_is_refused_and_nothing_is_stored(web_form):
    response = post_json(web_form, ANA, Origin="https://evil.example")

    assert response.status_code == 403 and response.json() == {"detail": "origin not allowed"}
    assert "Access-Control-Allow-Origin" not in response
    assert not Lead.objects.exists() and not Customer.objects.exists()


def test_a_request_without_an_origin_is_accepted(web_form):
    assert post_json(web_form, ANA).status_code == 201


# --- Spam ----------------------------------------------------------------------------------------------


def test_a_filled_honeypot_is_held_as_spam_and_answered_like_a_success(web_form):
    response = post_json(web_form, {**ANA, "website": "http://cheap-pills.example"}, Origin=SITE)

    assert response.status_code == 201 and response.json()["ok"] is True
    lead = Lead.objects.get()
    assert lead.state == Lead.State.SPAM and lead.raw_payload["_spam"] == "honeypot"
    assert not Lead.objects.open().exists() and not Event.objects.filter(milestone="lead.created").exists()


def test_a_filled_honeypot_with_junk_contact_stores_nothing_and_still_looks_like_success(web_form):
    response = post_json(web_form, {"name": "x", "phone": "1", "website": "spam"})
    assert response.status_code == 201 and not Lead.objects.exists()


def test_the_sixth_request_in_a_minute_from_one_address_is_429_and_held_as_spam(web_form, settings):
    settings.WEB_FORM_RATE_LIMIT = "5/m"
    statuses = [post_json(web_form, {**ANA, "message": f"try {n}"}).status_code for n in range(6)]

    assert statuses == [201] * 5 + [429]
    last = Lead.objects.get(message="try 5")
    assert last.state == Lead.State.SPAM and last.raw_payload["_spam"] == "rate_limited"
    assert Lead.objects.exclude(state=Lead.State.SPAM).count() == 5


def test_the_limit_counts_per_address(web_form, settings):
    settings.WEB_FORM_RATE_LIMIT = "5/m"
    for _ in range(5):
        post_json(web_form, ANA, client=Client(REMOTE_ADDR="10.0.0.1"))
    assert post_json(web_form, ANA, client=Client(REMOTE_ADDR="10.0.0.2")).status_code == 201
    assert post_json(web_form, ANA, client=Client(REMOTE_ADDR="10.0.0.1")).status_code == 429


def test_the_default_limit_lets_a_busy_shared_address_through(web_form):
    """An office or a mall behind one address: twenty people in a minute are twenty leads, not spam."""
    office = Client(REMOTE_ADDR="203.0.113.7")
    assert {post_json(web_form, ANA, client=office).status_code for _ in range(20)} == {201}


def test_the_iframe_page_over_the_limit_says_so_kindly(web_form, settings):
    settings.WEB_FORM_RATE_LIMIT = "1/h"
    Client().post(_url(web_form), ANA)
    response = Client().post(_url(web_form), ANA)
    assert response.status_code == 429 and "Please wait a minute" in response.content.decode()


@pytest.mark.parametrize(("rate", "parsed"), [("5/m", (5, 60)), ("10/s", (10, 1)), ("100/h", (100, 3600))])
def test_rates_are_read_as_hits_per_window(rate, parsed):
    assert rate_parse(rate) == parsed


# --- Refusals --------------------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_413(web_form, settings):
    settings.LEADS_MAX_BODY_BYTES = 1000
    response = post_json(web_form, {**ANA, "message": "x" * 2000})
    assert response.status_code == 413 and not Lead.objects.exists()


@pytest.mark.parametrize("body", ['{"name": "Ana",', "[1, 2]", "null"])
def test_a_body_that_is_not_a_json_object_is_400(web_form, body):
    response = post_json(web_form, body)
    assert response.status_code == 400 and "body" in response.json()["errors"]


def test_a_bad_phone_is_400_naming_the_phone_and_nothing_is_stored(web_form):
    response = post_json(web_form, {**ANA, "phone": "555-12"}, Origin=SITE)

    assert response.status_code == 400 and list(response.json()["errors"]) == ["phone"]
    assert response["Access-Control-Allow-Origin"] == SITE  # the script can show the error
    assert not Lead.objects.exists() and not Customer.objects.exists()


def test_a_request_needs_a_name_and_a_phone_or_email(web_form):
    errors = post_json(web_form, {"message": "help"}).json()["errors"]
    assert set(errors) == {"name", "phone"}
    assert errors["phone"] == ["Give a phone number or an e-mail address."]


def test_a_bad_email_is_400_naming_the_email(web_form):
    assert list(post_json(web_form, {**ANA, "email": "ana@"}).json()["errors"]) == ["email"]


def test_a_form_that_requires_email_refuses_a_request_without_one(web_form):
    web_form.require_email = True
    web_form.save()
    response = post_json(web_form, {**ANA, "email": ""})
    assert response.status_code == 400 and "email" in response.json()["errors"]


def test_a_form_that_does_not_ask_for_email_needs_a_phone(web_form):
    web_form.ask_email = False
    web_form.save()
    errors = post_json(web_form, {"name": "Ana", "email": "ana@example.com"}).json()["errors"]
    assert errors == {"phone": ["Give a phone number."]}


@pytest.mark.parametrize("name", ["webform-public", "webform-embed-js"])
def test_an_inactive_form_is_not_found(web_form, name):
    web_form.is_active = False
    web_form.save()
    assert Client().get(_url(web_form, name)).status_code == 404
    assert post_json(web_form, ANA).status_code == 404 and not Lead.objects.exists()


@pytest.mark.parametrize("public_id", [uuid.uuid4(), "not-a-uuid"])
def test_an_unknown_form_is_not_found(db, public_id):
    assert Client().get(f"/forms/{public_id}/").status_code == 404
    assert Client().get(f"/forms/{public_id}/embed.js").status_code == 404


# --- The iframe page and embed.js -------------------------------------------------------------------------


def test_only_the_allowed_sites_may_frame_the_form_page(web_form):
    web_form.allowed_origins = [SITE, "http://localhost:8080"]
    web_form.save()
    response = Client().get(_url(web_form))

    directives = dict(d.strip().split(" ", 1) for d in response["Content-Security-Policy"].split(";"))
    assert directives["frame-ancestors"] == f"'self' {SITE} http://localhost:8080"
    assert "X-Frame-Options" not in response


def _embed_config(source: str) -> dict:
    return json.loads(source[source.rindex("})(") + 3 : source.rindex(");")])


def test_embed_js_is_javascript_without_eval_or_html_injection(web_form):
    response = Client().get(_url(web_form, "webform-embed-js"))

    source = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert not re.search(r"\beval\(|innerHTML|new Function|document\.write", source)
    config = _embed_config(source)
    assert config["action"] == f"http://testserver/forms/{web_form.public_id}/"
    assert config["stylesheet"] == "http://testserver/static/css/webform.css"
    names = [field["name"] for field in config["fields"]]
    assert names == ["name", "phone", "email", "street", "city", "state", "zip", "service", "message"]
    assert config["honeypot"] == "website"


def test_embed_js_escapes_what_the_office_typed(web_form):
    web_form.headline = "</script><script>alert(1)</script>"
    web_form.save()
    source = Client().get(_url(web_form, "webform-embed-js")).content.decode()
    assert "</script>" not in source and "\\u003C/script\\u003E" in source


def test_a_request_from_a_form_with_a_disclosure_records_consent_with_evidence(client, db):
    from crm.models import Source, WebForm
    from customers.models import ConsentEvent

    source = Source.objects.create(name="Website", slug="website-consent", kind=Source.Kind.WEB_FORM)
    web_form = WebForm.objects.create(name="Site", source=source)
    response = client.post(
        f"/forms/{web_form.public_id}/",
        {"name": "Ana Ruiz", "phone": "512-555-0199"},
        REMOTE_ADDR="203.0.113.7",
    )
    assert response.status_code in (200, 201)
    event = ConsentEvent.objects.get(number="+15125550199")
    assert (event.state, event.method, event.purpose) == ("opted_in", "web_form", "care")
    assert event.evidence["ip"] == "203.0.113.7" and "Reply STOP" in event.evidence["disclosure"]
