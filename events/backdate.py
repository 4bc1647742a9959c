"""Demo data only: the activity rows a block records read as having happened at a given moment.

Services stamp events with the wall clock; a demo seeder that tells a two-week story (a job booked last
Tuesday, completed on Thursday) runs each step inside `backdated(moment)` so its timeline reads in order,
in the past. Years of history (seed_demo --years) run each step inside `clock_at(moment)` instead: the
process's clock itself is moved, so what services date from it (an invoice's issue date and number, a
payment's day in the ledger) is of that moment too. Never used by a request, a task or a service: their
events happen when they run."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import time_machine
from django.db.models import Max

from .models import Event


@contextmanager
def backdated(moment: datetime) -> Iterator[None]:
    """Every event recorded inside the block gets `occurred_at=moment` (one process seeding, no race)."""
    last = Event.objects.aggregate(last=Max("pk"))["last"] or 0
    yield
    Event.objects.filter(pk__gt=last).update(occurred_at=moment)


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """The process's clock reads `moment` inside the block (time-machine; it stands still there, so a
    block at "now" never runs past it)."""
    with time_machine.travel(moment, tick=False):
        yield
