"""Reads for the import pages."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from crm.models import ImportJob


def import_jobs() -> QuerySet[ImportJob]:
    return ImportJob.objects.select_related("uploaded_by", "source").order_by("-created_at", "-pk")


def get_import_job(pk) -> ImportJob:
    """Imports are the business's, not a user's: any office or owner user may open any of them."""
    return get_object_or_404(import_jobs(), pk=pk)
