import pytest
from django.urls import reverse

from events import services
from events.models import Delivery, Event
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_delivery(office, recorder, settings):
    settings.EVENTS_MAX_ATTEMPTS = 1
    recorder.failing = True
    make_customer(actor=office)
    delivery = services.event_fan_out(event_id=Event.objects.get().pk)[0]
    return services.delivery_attempt(delivery_id=delivery.pk)


def test_the_page_lists_failed_deliveries_with_their_error(office, client_for, failed_delivery, business):
    body = client_for(office).get(reverse("events:exceptions")).content.decode()
    assert "tests.recorder" in body and "ledger is closed for maintenance" in body
    assert "Retry" in body and "Dismiss" in body


def test_retry_button_delivers_it_once(
    owner, client_for, failed_delivery, recorder, business, django_capture_on_commit_callbacks
):
    recorder.failing = False
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).post(
            reverse("events:delivery-action", args=[failed_delivery.pk]), {"action": "retry"}
        )
    assert response.status_code == 302
    assert Delivery.objects.get().status == "delivered" and len(recorder.calls) == 1


def test_dismiss_button_clears_it_from_the_queue(office, client_for, failed_delivery, business):
    client = client_for(office)
    client.post(reverse("events:delivery-action", args=[failed_delivery.pk]), {"action": "dismiss"})
    assert Delivery.objects.get().status == "dismissed"
    assert "Nothing failed" in client.get(reverse("events:exceptions")).content.decode()


def test_an_unknown_action_changes_nothing(office, client_for, failed_delivery, business):
    client_for(office).post(
        reverse("events:delivery-action", args=[failed_delivery.pk]), {"action": "explode"}
    )
    assert Delivery.objects.get().status == "failed"


@pytest.mark.parametrize("persona", ["dispatcher", "technician"])
def test_only_office_and_owner_may_act(persona, personas, client_for, failed_delivery, business):
    response = client_for(personas[persona]).post(
        reverse("events:delivery-action", args=[failed_delivery.pk]), {"action": "dismiss"}
    )
    assert response.status_code == 403
    assert Delivery.objects.get().status == "failed"
