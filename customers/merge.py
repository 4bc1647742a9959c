"""Move every reference from one customer to another, whatever app owns the referencing model.

The walk finds its targets itself, so records that later apps add (leads, jobs, invoices, messages)
follow a merge without this module changing:

* every foreign key or one-to-one to Customer, hidden ones included (many-to-many through tables);
* every GenericForeignKey whose content type is Customer (timeline links, notes, attachments),
  except on models that set `merge_follow_generic = False` (the append-only Event row itself).

Rows that cannot move because the survivor already has an equal one (a unique constraint) are handed
to the model's `merge_conflict(row, target)` classmethod when it has one, else deleted: they are
duplicates of the survivor's row. A model can take over completely with `@handler(Model)`.
"""

from collections.abc import Callable

from django.apps import apps
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.db.models.deletion import ProtectedError, RestrictedError

from common.errors import ApplicationError

_handlers: dict[type[models.Model], Callable] = {}


def handler(model: type[models.Model]) -> Callable:
    def decorator(func: Callable) -> Callable:
        _handlers[model] = func
        return func

    return decorator


def reverse_relations(model: type[models.Model]) -> list:
    return [
        f
        for f in model._meta.get_fields(include_hidden=True)
        if f.auto_created and not f.concrete and (f.one_to_many or f.one_to_one)
    ]


def generic_foreign_keys() -> list[tuple[type[models.Model], GenericForeignKey]]:
    return [
        (model, f)
        for model in apps.get_models()
        if getattr(model, "merge_follow_generic", True)
        for f in model._meta.private_fields
        if isinstance(f, GenericForeignKey)
    ]


def move_references(*, source: models.Model, target: models.Model) -> dict[str, int]:
    moved: dict[str, int] = {}
    for rel in reverse_relations(type(source)):
        model, field_name = rel.related_model, rel.field.name
        move = _handlers.get(model, _move_rows)
        count = move(model=model, lookup={field_name: source}, values={field_name: target})
        if count:
            moved[model._meta.label] = moved.get(model._meta.label, 0) + count
    ct = ContentType.objects.get_for_model(type(source))
    for model, gfk in generic_foreign_keys():
        id_field = model._meta.get_field(gfk.fk_field)
        lookup = {gfk.ct_field: ct, gfk.fk_field: id_field.to_python(source.pk)}
        count = _move_rows(model=model, lookup=lookup, values={gfk.fk_field: id_field.to_python(target.pk)})
        if count:
            moved[model._meta.label] = moved.get(model._meta.label, 0) + count
    return moved


def _move_rows(*, model: type[models.Model], lookup: dict, values: dict) -> int:
    manager = model._base_manager
    try:
        with transaction.atomic():
            return manager.filter(**lookup).update(**values)
    except IntegrityError:
        pass
    count = 0
    for row in manager.filter(**lookup):
        try:
            with transaction.atomic():
                manager.filter(pk=row.pk).update(**values)
        except IntegrityError:
            _resolve_conflict(model, row, values)
        count += 1
    return count


def _resolve_conflict(model: type[models.Model], row: models.Model, values: dict) -> None:
    resolver = getattr(model, "merge_conflict", None)
    if resolver is not None:
        resolver(row, values)
        return
    try:
        row.delete()
    except (ProtectedError, RestrictedError) as exc:
        raise ApplicationError(
            f"Cannot merge: a {model._meta.verbose_name} of both customers conflicts and has history.",
            code="merge_conflict",
        ) from exc


def has_dependents(obj: models.Model) -> bool:
    """True when anything but cascading children points at `obj` (used before deleting a property)."""
    for rel in reverse_relations(type(obj)):
        if rel.on_delete is models.CASCADE:
            continue
        if rel.related_model._base_manager.filter(**{rel.field.name: obj}).exists():
            return True
    return False
