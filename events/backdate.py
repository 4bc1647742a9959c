"""Demo data only: the activity rows a block records read as having happened at a given moment.

Services stamp events with the wall clock; a demo seeder that tells a two-week story (a job booked last
Tuesday, completed on Thursday) runs each step inside `backdated(moment)` so its timeline reads in order,
in the past. Never used by a request, a task or a service: their events happen when they run."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.db.models import Max

from .models import Event


@contextmanager
def backdated(moment: datetime) -> Iterator[None]:
    """Every event recorded inside the block gets `occurred_at=moment` (one process seeding, no race)."""
    last = Event.objects.aggregate(last=Max("pk"))["last"] or 0
    yield
    Event.objects.filter(pk__gt=last).update(occurred_at=moment)
