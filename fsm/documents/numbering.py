"""Gapless document numbers: EST-2026-000123, INV-2026-000123, CN-2026-000007.

A number is taken inside the caller's transaction with the series' row locked: a second issue waits for
the first to commit (or roll back, which gives the number back), so numbers never skip or repeat.
"""

from django.db import transaction

from .models import DocumentSequence


def number_take(prefix: str, year: int) -> str:
    """The next number of the series `prefix`-`year`. Call inside transaction.atomic()."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("number_take must run inside the document's transaction.")
    series = f"{prefix}-{year}"
    # The row may not exist yet: create it without a race (a concurrent insert is ignored), then lock it.
    DocumentSequence.objects.bulk_create([DocumentSequence(series=series)], ignore_conflicts=True)
    sequence = DocumentSequence.objects.select_for_update().get(series=series)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return f"{series}-{sequence.last_number:06d}"
