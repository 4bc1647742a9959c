"""Thin Celery adapters: a job id in, one service call. Both are safe to run twice."""

from celery import shared_task

from . import services


@shared_task(name="crm.imports.tasks.run_import")
def run_import(job_id: int) -> str:
    return services.import_run(job_id=job_id).status


@shared_task(name="crm.imports.tasks.dry_run_import")
def dry_run_import(job_id: int) -> str:
    return services.import_dry_run(job_id=job_id).status
