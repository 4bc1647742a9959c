"""Following up an estimate by hand, from its page: the office starts a sequence about that estimate (its
link and total merged as if it had just been sent), sees how each follow-up went, stops one; an estimate
never sent or already decided has nothing to follow up; technicians and dispatchers cannot start one."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from crm.automations import engine
from crm.automations.models import Enrollment, Sequence, Step
from events.models import Event
from fsm.estimates import services as estimates
from messaging.models import Message
from tests.factories import make_customer
from tests.fsm.estimate_helpers import austin_tax, good_better_best, signature_data_url

pytestmark = pytest.mark.django_db
CHICAGO = ZoneInfo("America/Chicago")
TUESDAY_11 = datetime(2026, 11, 17, 11, 0, tzinfo=CHICAGO)  # inside every state's sending hours
HX = {"HX-Request": "true"}


@pytest.fixture
def chaser(business):
    """A by-hand sequence that quotes the estimate: offered on the estimate page, not the customer's."""
    sequence = Sequence.objects.create(name="Big-ticket chaser", trigger=Sequence.Trigger.MANUAL)
    engine.step_save(
        sequence=sequence,
        kind=Step.Kind.SMS,
        body="Hi {first_name}, {technician} here: your options start at {estimate_total}. {estimate_link}",
    )
    return engine.sequence_activate(sequence=sequence)


@pytest.fixture
def customer(business, office):
    austin_tax()
    return make_customer(actor=office, first_name="Ana")


def _sent(customer, office):
    estimate = good_better_best(customer=customer, actor=office)
    return estimates.estimate_send(estimate=estimate, actor=office, sms=True, email=False)


def _card(client, estimate) -> str:
    return client.get(reverse("automations:estimate", args=[estimate.pk]), headers=HX).content.decode()


def _start(client, estimate, sequence):
    return client.post(
        reverse("automations:estimate-enroll", args=[estimate.pk]), {"sequence": sequence.pk}, headers=HX
    )


@time_machine.travel(TUESDAY_11, tick=False)
def test_office_follows_up_a_sent_estimate_with_its_link_and_total(office, client_for, customer, chaser):
    estimate = _sent(customer, office)
    client = client_for(office)
    page = client.get(reverse("estimate-detail", args=[estimate.pk])).content.decode()
    assert reverse("automations:estimate", args=[estimate.pk]) in page
    assert "Big-ticket chaser" in _card(client, estimate)
    card = _start(client, estimate, chaser).content.decode()
    enrollment = Enrollment.objects.get(sequence=chaser)
    assert enrollment.subject_key == f"estimate:{estimate.pk}" and enrollment.customer == customer
    assert enrollment.context["estimate_link"] and enrollment.context["estimate_number"] == estimate.number
    assert 'data-testid="enrollment"' in card and "Follow up with" not in card, "the only one runs"
    _start(client, estimate, chaser)  # a second click finds it
    assert Enrollment.objects.filter(sequence=chaser).count() == 1
    assert Event.objects.filter(code="crm.enrollment.started").count() == 1
    assert engine.automations_tick() == 1
    text = Message.objects.get(template=f"sequence:{chaser.pk}")
    assert (
        enrollment.context["estimate_link"] in text.body and enrollment.context["estimate_total"] in text.body
    )


@time_machine.travel(TUESDAY_11, tick=False)
def test_accepting_the_estimate_stops_its_follow_up(office, client_for, customer, chaser):
    estimate = _sent(customer, office)
    _start(client_for(office), estimate, chaser)
    option = estimate.options.order_by("position").first()
    estimates.estimate_accept(
        estimate=estimate, option_id=option.pk, signer_name="Ana", signature=signature_data_url()
    )
    assert engine.automations_tick() == 0
    enrollment = Enrollment.objects.get(sequence=chaser)
    assert enrollment.state == "stopped" and enrollment.stop_reason == "The estimate was accepted"
    card = _card(client_for(office), estimate)
    assert "nothing more to follow up" in card and "Follow up with" not in card
    refused = _start(client_for(office), estimate, chaser).content.decode()
    assert "The estimate was accepted: there is nothing to follow up." in refused
    assert Enrollment.objects.filter(sequence=chaser, state="active").count() == 0


def test_an_estimate_never_sent_has_nothing_to_follow_up(office, client_for, customer, chaser):
    estimate = good_better_best(customer=customer, actor=office)
    client = client_for(office)
    assert "Follow up with" not in _card(client, estimate)
    refused = _start(client, estimate, chaser).content.decode()
    assert "Send the estimate first" in refused and not Enrollment.objects.exists()
    page = client.get(reverse("estimate-detail", args=[estimate.pk])).content.decode()
    assert "estimate-automations" not in page, "a draft's page does not ask for the card"


def test_a_sequence_needing_a_job_number_is_not_offered_on_an_estimate(office, client_for, customer):
    rebook = Sequence.objects.create(name="Rebook", trigger=Sequence.Trigger.MANUAL)
    engine.step_save(sequence=rebook, kind=Step.Kind.SMS, body="Job {job_number} was canceled: rebook?")
    engine.sequence_activate(sequence=rebook)
    estimate = _sent(customer, office)
    client = client_for(office)
    assert "Rebook" not in _card(client, estimate)
    refused = _start(client, estimate, rebook).content.decode()
    assert (
        "cannot follow up an estimate" in refused and not Enrollment.objects.filter(sequence=rebook).exists()
    )


@time_machine.travel(TUESDAY_11, tick=False)
def test_stopping_from_the_estimate_card_shows_the_estimate_card_again(office, client_for, customer, chaser):
    estimate = _sent(customer, office)
    client = client_for(office)
    _start(client, estimate, chaser)
    enrollment = Enrollment.objects.get(sequence=chaser)
    response = client.post(
        reverse("automations:stop", args=[enrollment.pk]), {"card": "estimate"}, headers=HX
    ).content.decode()
    assert 'data-testid="estimate-automations"' in response
    enrollment.refresh_from_db()
    assert enrollment.state == "stopped"
    plain = client.post(reverse("automations:stop", args=[enrollment.pk]), {"card": "estimate"})
    assert plain.status_code == 302 and plain.url == reverse("estimate-detail", args=[estimate.pk])


@pytest.mark.parametrize("role", ["technician", "dispatcher"])
def test_only_the_owner_and_office_follow_up_estimates(role, personas, client_for, office, customer, chaser):
    estimate = _sent(customer, office)
    client = client_for(personas[role])
    assert client.get(reverse("automations:estimate", args=[estimate.pk])).status_code == 403
    assert _start(client, estimate, chaser).status_code == 403
    assert not Enrollment.objects.exists()


def test_the_follow_up_is_timed_from_when_it_was_started(office, client_for, customer, chaser):
    with time_machine.travel(TUESDAY_11 - timedelta(days=3), tick=False):
        estimate = _sent(customer, office)
    with time_machine.travel(TUESDAY_11, tick=False):
        _start(client_for(office), estimate, chaser)
        assert Enrollment.objects.get(sequence=chaser).started_at == TUESDAY_11
