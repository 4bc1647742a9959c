import pytest
import time_machine

from common.errors import ApplicationError
from crm.models import Lead, PipelineSettings
from crm.services import LeadIn, lead_capture, lead_lose, lead_qualify
from customers.models import Customer
from events.models import Event
from tests.factories import UserFactory, make_customer
from users.roles import Role

pytestmark = pytest.mark.django_db

ANA = LeadIn(
    name="Ana Ruiz",
    phone="(512) 555-0199",
    email="ana@example.com",
    street="1944 Stanton St",
    city="Round Rock",
    state="TX",
    zip_code="78665",
    service="AC not cooling",
    message="Upstairs is 85F",
)


def _ana(**changes) -> LeadIn:
    return LeadIn(**{**ANA.__dict__, "warnings": [], **changes})


def test_a_new_lead_creates_one_customer_with_property_and_publishes_lead_created(web_source):
    result = lead_capture(source=web_source, contact=_ana(), actor_label="web form")
    lead = result.lead
    assert result.created and lead.state == "new"
    assert lead.customer.display_name == "Ana Ruiz"
    assert lead.property.one_line == "1944 Stanton St, Round Rock, TX 78665"
    assert lead.phone == "+15125550199"
    event = Event.objects.get(milestone="lead.created")
    assert event.data["lead_id"] == lead.pk and event.data["new_customer"] is True


def test_a_phone_written_differently_finds_the_existing_customer(web_source, office):
    existing = make_customer(actor=office, first_name="Ana", last_name="Ruiz", phones=["512.555.0199"])
    lead = lead_capture(source=web_source, contact=_ana(phone="+1 512 555 0199", email="")).lead
    assert lead.customer == existing
    assert Customer.objects.count() == 1


def test_an_email_in_another_case_finds_the_existing_customer_and_adds_the_new_phone(web_source, office):
    existing = make_customer(actor=office, phones=["7375550100"], emails=["Ana@Example.com"])
    lead = lead_capture(source=web_source, contact=_ana()).lead
    assert lead.customer == existing
    assert {p.number.as_e164 for p in existing.phones.all()} == {"+17375550100", "+15125550199"}


def test_the_same_address_is_not_added_twice(web_source):
    first = lead_capture(source=web_source, contact=_ana()).lead
    second = lead_capture(source=web_source, contact=_ana(street="1944  stanton st.")).lead
    assert second.property == first.property
    assert first.customer.properties.count() == 1


def test_a_retried_delivery_with_the_same_idempotency_key_makes_one_lead(zapier):
    one = lead_capture(source=zapier, contact=_ana(), idempotency_key="abc-1")
    two = lead_capture(source=zapier, contact=_ana(), idempotency_key="abc-1")
    assert one.created and not two.created and one.lead == two.lead
    assert Lead.objects.count() == 1 and Event.objects.filter(milestone="lead.created").count() == 1


def test_the_sources_own_lead_id_twice_makes_one_lead(zapier):
    lead_capture(source=zapier, contact=_ana(), external_id="thumbtack-778")
    assert not lead_capture(source=zapier, contact=_ana(), external_id="thumbtack-778").created
    assert Lead.objects.count() == 1


def test_a_bad_phone_is_refused_with_the_field_and_nothing_is_stored(web_source):
    with pytest.raises(ApplicationError) as error:
        lead_capture(source=web_source, contact=_ana(phone="555-12"))
    assert error.value.field == "phone"
    assert not Lead.objects.exists() and not Customer.objects.exists()


def test_no_phone_and_no_email_is_refused(web_source):
    with pytest.raises(ApplicationError) as error:
        lead_capture(source=web_source, contact=LeadIn(name="Ana"))
    assert error.value.code == "contact_required"


def test_a_bad_address_keeps_the_lead_and_notes_why(web_source):
    lead = lead_capture(source=web_source, contact=_ana(zip_code="7866")).lead
    assert lead.property is None
    assert "5-digit ZIP" in lead.raw_payload["_warnings"][0]


def test_utm_campaign_attributes_the_campaign_and_first_touch(web_source, spring_campaign):
    lead = lead_capture(
        source=web_source,
        contact=_ana(),
        attribution={"utm_campaign": "Spring-AC", "gclid": "xyz", "junk": "dropped"},
    ).lead
    assert lead.campaign == spring_campaign
    assert lead.first_touch_source == web_source and lead.first_touch_campaign == spring_campaign
    assert lead.attribution == {"utm_campaign": "Spring-AC", "gclid": "xyz"}


def test_a_returning_customer_keeps_the_original_first_touch(web_source, zapier, spring_campaign):
    lead_capture(source=web_source, contact=_ana(), attribution={"utm_campaign": "spring-ac"})
    second = lead_capture(source=zapier, contact=_ana(), external_id="z-2").lead
    assert second.source == zapier and second.campaign is None
    assert second.first_touch_source == web_source and second.first_touch_campaign == spring_campaign


def test_spam_is_held_out_of_the_pipeline_and_publishes_nothing(web_source):
    lead = lead_capture(source=web_source, contact=_ana(), spam=True).lead
    assert lead.state == "spam"
    assert not Event.objects.filter(milestone="lead.created").exists()
    assert Event.objects.filter(code="crm.lead.spam_captured").exists()
    assert lead.customer is None and not Customer.objects.exists()


def test_spam_reopened_becomes_a_lead_on_a_customer(web_source, office):
    from crm.services import lead_reopen

    lead = lead_capture(source=web_source, contact=_ana(), spam=True).lead
    lead = lead_reopen(lead=lead, actor=office)
    assert lead.state == "new" and lead.customer.phones.get().number.as_e164 == "+15125550199"


def test_spam_from_a_known_number_does_not_touch_the_customer(web_source, office):
    existing = make_customer(actor=office, phones=["512-555-0199"], properties=[])
    lead = lead_capture(source=web_source, contact=_ana(), spam=True).lead
    assert lead.customer == existing
    assert not existing.emails.exists() and not existing.properties.exists()


def test_round_robin_assigns_office_users_in_turn(web_source):
    a, b = UserFactory(role=Role.OFFICE), UserFactory(role=Role.OFFICE)
    rules = PipelineSettings.current()
    rules.round_robin_enabled = True
    rules.save()
    rules.round_robin_users.set([a, b])
    assigned = [
        lead_capture(source=web_source, contact=_ana(), external_id=str(i)).lead.assigned_to for i in range(3)
    ]
    assert assigned == [a, b, a]


def test_a_lead_for_a_merged_away_customer_lands_on_the_survivor(web_source, office):
    from customers.services import customer_merge

    survivor = make_customer(actor=office, phones=["7375550100"])
    duplicate = make_customer(actor=office, phones=["5125550199"])
    customer_merge(survivor=survivor, duplicate=duplicate, actor=office)
    lead = lead_capture(source=web_source, contact=_ana(email="")).lead
    assert lead.customer == survivor


def test_qualified_then_lost_with_a_reason(web_source, office):
    lead = lead_capture(source=web_source, contact=_ana()).lead
    lead = lead_qualify(lead=lead, actor=office)
    with pytest.raises(ApplicationError):
        lead_lose(lead=lead, actor=office, reason="")
    lead = lead_lose(lead=lead, actor=office, reason="price", note="Quoted 9k")
    assert lead.state == "lost" and lead.lost_reason == "price" and lead.closed_at


def test_an_unknown_caller_becomes_a_lead_once_per_call(db):
    from crm.services import lead_capture_from_phone

    first = lead_capture_from_phone(phone="+15125550177", kind="phone", external_id="CA123")
    again = lead_capture_from_phone(phone="+15125550177", kind="phone", external_id="CA123")
    assert first.created and not again.created
    assert (
        first.lead.source.kind == "phone"
        and first.lead.customer.phones.get().number.as_e164 == "+15125550177"
    )


def test_a_text_from_a_known_customer_lands_on_that_customer(office):
    from crm.services import lead_capture_from_phone

    customer = make_customer(actor=office, phones=["512-555-0177"])
    lead = lead_capture_from_phone(phone="+15125550177", kind="sms", message="Is Tuesday ok?").lead
    assert lead.customer == customer and lead.source.kind == "sms" and lead.message == "Is Tuesday ok?"


def test_a_spelled_out_state_is_understood(web_source):
    lead = lead_capture(source=web_source, contact=_ana(state="Texas")).lead
    assert lead.property.state == "TX"


@time_machine.travel("2026-11-20 15:00 -06:00", tick=False)
def test_a_web_lead_gets_one_instant_text_and_its_response_time(
    web_source, django_capture_on_commit_callbacks
):
    from messaging.models import Message

    with django_capture_on_commit_callbacks(execute=True):
        lead = lead_capture(source=web_source, contact=_ana()).lead
    message = Message.objects.get(lead=lead)
    assert message.to_number == "+15125550199" and message.purpose == "automated"
    assert "Hi Ana" in message.body and "Reply STOP to opt out." in message.body
    lead.refresh_from_db()
    assert lead.first_response_channel == "auto-sms" and lead.state == "contacted"


@time_machine.travel("2026-11-20 23:30 -06:00", tick=False)
def test_at_night_the_instant_text_is_held_until_morning(
    web_source, business, django_capture_on_commit_callbacks
):
    from messaging.models import Message

    with django_capture_on_commit_callbacks(execute=True):
        lead = lead_capture(source=web_source, contact=_ana()).lead
    message = Message.objects.get(lead=lead)
    assert message.status == "held" and message.not_before.timestamp() == 1795273200  # 09:00 CST (Texas)
    assert Lead.objects.get(pk=lead.pk).first_response_at is None


@time_machine.travel("2026-11-20 15:00 -06:00", tick=False)
def test_no_instant_text_to_an_opted_out_number(web_source, django_capture_on_commit_callbacks):
    from customers.services import consent_record
    from messaging.models import Message

    consent_record(number="+15125550199", state="opted_out", method="keyword")
    with django_capture_on_commit_callbacks(execute=True):
        lead = lead_capture(source=web_source, contact=_ana()).lead
    assert Message.objects.get(lead=lead).status == "suppressed"
    assert Lead.objects.get(pk=lead.pk).first_response_at is None


def test_a_source_can_switch_its_instant_text_off(zapier, django_capture_on_commit_callbacks):
    from messaging.models import Message

    zapier.instant_reply_enabled = False
    zapier.save()
    with django_capture_on_commit_callbacks(execute=True):
        lead_capture(source=zapier, contact=_ana())
    assert not Message.objects.exists()
