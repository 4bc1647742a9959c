"""Subscribers to milestones.

    @subscriber("invoice.paid", name="finance.post_invoice_payment")
    def post_payment(event): ...

A subscriber receives the Event and runs inside a transaction that also marks its Delivery delivered,
so its database work and the delivery record commit together: a retry never posts twice. Side effects
outside the database (SMS, e-mail, HTTP) go through an outbox row, never straight from a subscriber.
Each app declares its subscribers in `<app>/subscribers.py`, imported at start-up.
"""

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

from django.apps import apps
from django.conf import settings


@dataclass(frozen=True)
class Subscriber:
    name: str
    milestones: tuple[str, ...]
    handler: Callable


_subscribers: dict[str, Subscriber] = {}


def subscriber(*milestones: str, name: str | None = None) -> Callable:
    def decorator(handler: Callable) -> Callable:
        key = name or f"{handler.__module__}.{handler.__qualname__}"
        _subscribers[key] = Subscriber(name=key, milestones=tuple(milestones), handler=handler)
        return handler

    return decorator


def unsubscribe(name: str) -> None:
    _subscribers.pop(name, None)


def subscribers_for(milestone: str) -> list[Subscriber]:
    return [s for s in _subscribers.values() if milestone in s.milestones]


def get(name: str) -> Subscriber | None:
    return _subscribers.get(name)


def autodiscover() -> None:
    for config in apps.get_app_configs():
        try:
            import_module(f"{config.name}.subscribers")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.subscribers":
                raise
    for module in getattr(settings, "EVENTS_EXTRA_SUBSCRIBER_MODULES", []):
        import_module(module)
