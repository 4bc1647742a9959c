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
    when: Callable[[dict], bool] | None = None  # a cheap test of the event's data; False: not delivered

    def wants(self, milestone: str, data: dict | None) -> bool:
        return milestone in self.milestones and (self.when is None or data is None or self.when(data))


_subscribers: dict[str, Subscriber] = {}


def subscriber(
    *milestones: str, name: str | None = None, when: Callable[[dict], bool] | None = None
) -> Callable:
    """Register a handler for milestones. `when(event.data)` returning False skips the delivery
    altogether (no Delivery row): for subscribers that act on a small part of a busy milestone. The
    worker asks it when it fans the event out (events.services.event_fan_out), never the publisher."""

    def decorator(handler: Callable) -> Callable:
        key = name or f"{handler.__module__}.{handler.__qualname__}"
        _subscribers[key] = Subscriber(name=key, milestones=tuple(milestones), handler=handler, when=when)
        return handler

    return decorator


def unsubscribe(name: str) -> None:
    _subscribers.pop(name, None)


def subscribers_for(milestone: str, data: dict | None = None) -> list[Subscriber]:
    """Who gets this milestone; with the event's data, only those whose `when` accepts it."""
    return [s for s in _subscribers.values() if s.wants(milestone, data)]


def subscribers_all() -> list[Subscriber]:
    return list(_subscribers.values())


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
