from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet

from .models import Delivery, Event


def timeline_for(obj: models.Model, *, limit: int = 100) -> QuerySet[Event]:
    """Every event on `obj`'s timeline, newest first, in two queries whatever its length."""
    ct = ContentType.objects.get_for_model(obj)
    return (
        Event.objects.filter(links__target_type=ct, links__target_id=str(obj.pk))
        .select_related("actor", "subject_type")
        .order_by("-occurred_at", "-pk")[:limit]
    )


def exception_queue() -> QuerySet[Delivery]:
    return (
        Delivery.objects.filter(status=Delivery.Status.FAILED)
        .select_related("event", "event__subject_type", "event__actor")
        .order_by("-last_attempt_at")
    )
