"""The sequences a home-service business can switch on at once, with texts written for it. Installed
off (the owner reads them and switches them on); the demo company runs them."""

from datetime import time
from decimal import Decimal

from django.db import transaction

from .models import Sequence, Step

W, S, E, T = Step.Kind.WAIT, Step.Kind.SMS, Step.Kind.EMAIL, Step.Kind.TASK
TEN = time(10, 0)

DEFAULTS = [
    {
        "key": "estimate-follow-up",
        "name": "Unsold estimate follow-up",
        "description": "Day 1, 3, 7 and 14 after an estimate goes out, until the customer decides.",
        "trigger": Sequence.Trigger.ESTIMATE_SENT,
        "steps": [
            {"kind": W, "wait_days": 1, "at_time": TEN},
            {
                "kind": S,
                "body": "Hi {first_name}, it's {technician} from {business_name}. Any questions about the "
                "options we put together? You can look them over and approve here: {estimate_link}",
            },
            {"kind": W, "wait_days": 2, "at_time": TEN},
            {
                "kind": S,
                "body": "Hi {first_name}, a note from {business_name}: the work on your estimate can be "
                "financed with monthly payments. Reply here and we'll send the details. {estimate_link}",
            },
            {
                "kind": T,
                "task_title": "Call {first_name} {last_name} about {estimate_number} ({estimate_total})",
                "task_due_hours": 4,
                "min_estimate_total": Decimal("2500.00"),
            },
            {"kind": W, "wait_days": 4, "at_time": TEN},
            {
                "kind": S,
                "body": "Hi {first_name}, every option on your estimate comes with our workmanship "
                "warranty, and the price holds until it expires. Questions? Just reply. {estimate_link}",
            },
            {"kind": W, "wait_days": 7, "at_time": TEN},
            {
                "kind": E,
                "subject": "Your estimate {estimate_number} from {business_name}",
                "body": "Hi {first_name},\n\nWe haven't heard back about your estimate, so this is our last "
                "check-in. If the timing isn't right, no problem: the options are here whenever you're "
                "ready: {estimate_link}\n\nIf something about it didn't work for you (the price, the "
                "options, the schedule), reply and tell us. We'd rather fix it than lose you.\n\n"
                "{business_name}\n{business_phone}",
            },
        ],
    },
    {
        "key": "new-lead-nurture",
        "name": "New lead nurture",
        "description": "A new lead who has not replied or booked: a text at 2 hours, a call the next day.",
        "trigger": Sequence.Trigger.LEAD_CREATED,
        "steps": [
            {"kind": W, "wait_hours": 2},
            {
                "kind": S,
                "body": "Hi {first_name}, {business_name} here following up on your request. What day "
                "works for us to come take a look? Reply with a day and time and we'll book it.",
            },
            {"kind": W, "wait_days": 1, "at_time": TEN},
            {"kind": T, "task_title": "Call new lead {first_name} {last_name}", "task_due_hours": 3},
            {"kind": W, "wait_days": 2, "at_time": TEN},
            {
                "kind": S,
                "body": "Hi {first_name}, still need a hand? We have openings this week. Reply YES and "
                "we'll call you to set a time.",
            },
        ],
    },
    {
        "key": "missed-appointment-rebook",
        "name": "Missed appointment rebook",
        "description": "A canceled appointment: offer a new time the same day, then a call.",
        "trigger": Sequence.Trigger.JOB_CANCELED,
        "steps": [
            {"kind": W, "wait_hours": 1},
            {
                "kind": S,
                "body": "Hi {first_name}, this is {business_name}. Sorry we couldn't make your appointment "
                "work. Reply with a day and time that suits you and we'll put you back on the schedule.",
            },
            {"kind": W, "wait_days": 2, "at_time": TEN},
            {"kind": T, "task_title": "Call {first_name} {last_name} to rebook", "task_due_hours": 4},
        ],
    },
]


def defaults_install(*, active: bool = False) -> list[Sequence]:
    """Create the default sequences that are missing (by key); the ones there stay as the owner left them."""
    made = []
    with transaction.atomic():
        for spec in DEFAULTS:
            if Sequence.objects.filter(key=spec["key"]).exists():
                continue
            sequence = Sequence.objects.create(
                key=spec["key"],
                name=spec["name"],
                description=spec["description"],
                trigger=spec["trigger"],
                active=active,
            )
            Step.objects.bulk_create(
                Step(sequence=sequence, position=i, **step) for i, step in enumerate(spec["steps"])
            )
            made.append(sequence)
    return made
