"""`manage.py seed_demo`, the command `make run` runs: every app's demo seeder together, once."""

from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from crm.models import Lead
from fsm.models import Job
from messaging.models import Conversation, Message

pytestmark = pytest.mark.django_db


@time_machine.travel("2026-11-18 11:10 -06:00", tick=False)  # a weekday morning in Austin
def test_the_whole_demo_loads_through_every_apps_seeder_and_a_second_run_does_nothing():
    out = StringIO()
    call_command("seed_demo", customers=40, stdout=out)
    assert "Demo data loaded." in out.getvalue()
    assert Lead.objects.exists() and Job.objects.exists()
    assert Conversation.objects.exists() and Message.objects.filter(direction="in").exists()

    again = StringIO()
    call_command("seed_demo", customers=40, stdout=again)
    assert "already loaded" in again.getvalue()
