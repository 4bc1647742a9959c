"""manage.py events_replay: past milestones to one subscriber, once each."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from events.models import Delivery
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def test_the_command_queues_each_past_milestone_once_and_says_how_many(
    office, recorder, django_capture_on_commit_callbacks
):
    make_customer(actor=office)  # published; its fan-out never ran (no commit in this test)
    make_customer(actor=office)
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("events_replay", subscriber="tests.recorder", since="2020-01-01", stdout=out)
    assert "2 deliveries to tests.recorder queued" in out.getvalue()
    assert len(recorder.calls) == 2  # tasks run inline in tests
    call_command("events_replay", subscriber="tests.recorder", since="2020-01-01", stdout=out)
    assert "0 deliveries" in out.getvalue().splitlines()[-1]
    assert Delivery.objects.filter(subscriber="tests.recorder").count() == 2


def test_the_command_refuses_a_bad_date_and_an_unknown_subscriber(recorder):
    with pytest.raises(CommandError, match="not a date"):
        call_command("events_replay", subscriber="tests.recorder", since="last tuesday")
    with pytest.raises(CommandError, match=r"Known subscribers: .*tests\.recorder"):
        call_command("events_replay", subscriber="nope", since="2026-01-01")
    with pytest.raises(CommandError, match="must come after"):
        call_command("events_replay", subscriber="tests.recorder", since="2026-02-01", until="2026-01-01")
