"""CSV imports of customers and open leads: upload, map the columns, preview, dry run, import.

    import_upload -> import_map -> import_preview (first rows) -> import_check (dry run, in the background)
    -> import_start (the import, in the background) -> import_run, batch after batch.

New customers go in through the bulk path (crm.imports.bulk); rows about existing customers merge into
them through customers.services; lead rows go through crm.services.lead_capture. Each applied row's
content hash is kept (ImportRowKey), so the same row imported again is skipped.
"""

import csv
import hashlib
import io
import logging
import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime, time

import phonenumbers
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone

from common.csvfile import Table, read_table, safe_cell
from common.errors import ApplicationError
from crm.models import ImportJob, ImportRowKey, Lead, PastJob, Source
from crm.services import LeadIn, lead_capture
from customers import selectors as customer_selectors
from customers import services as customer_services
from customers.models import Customer
from events import services as events
from users.models import Business

from . import bulk, columns
from .plan import Outcome, Planned, Planner
from .rows import RowIn, parse_row

logger = logging.getLogger(__name__)
NATIONAL = phonenumbers.PhoneNumberFormat.NATIONAL

Status = ImportJob.Status
ACTOR_LABEL = "CSV import"
BATCH_SIZE = 1000
PREVIEW_ROWS = 20
IMPORT_SOURCE_SLUG = "csv-import"
IMPORT_LOCK = 0x1A9C_0F_1E  # one import batch at a time (PostgreSQL advisory lock)
DRY_RUN, IMPORT = "dry_run", "import"
TASKS = {DRY_RUN: "crm.imports.tasks.dry_run_import", IMPORT: "crm.imports.tasks.run_import"}
NAME_FIELDS = {"first_name", "last_name", "full_name", "company_name"}
CONTACT_FIELDS = {"mobile_phone", "phone", "home_phone", "work_phone", "email"}

# What each state allows, in one place. A failed dry run may be redone; a failed import only resumed.
ALLOWED = {
    "map": {Status.UPLOADED, Status.MAPPED, Status.DRY_RUN},
    "check": {Status.UPLOADED, Status.MAPPED, Status.DRY_RUN},
    "start": {Status.UPLOADED, Status.MAPPED, Status.DRY_RUN},
}


def job_can(job: ImportJob, action: str) -> bool:
    """May the job "map" (change its columns), "check" (dry run) or "start" (import, or resume)?"""
    if job.status == Status.FAILED:
        return action == "start" or job.summary.get("phase") == DRY_RUN
    return job.status in ALLOWED[action]


def job_is_busy(job: ImportJob) -> bool:
    return job.status in (Status.QUEUED, Status.RUNNING)


# --- Upload and columns ------------------------------------------------------------------------------


def import_upload(
    *, kind: str, data: bytes, original_name: str, actor, source: Source | None = None
) -> ImportJob:
    """Store an uploaded CSV as an import job, its columns mapped automatically where recognised."""
    if kind not in ImportJob.Kind.values:
        raise ApplicationError("Choose customers or open leads.", field="kind")
    table = read_table(data)
    digest = hashlib.sha256(data).hexdigest()
    earlier = ImportJob.objects.filter(kind=kind, file_sha256=digest).order_by("-created_at").first()
    if kind == ImportJob.Kind.LEADS:
        source = source or import_source()
    job = ImportJob(
        kind=kind,
        original_name=original_name[:255],
        file_sha256=digest,
        total_rows=len(table.records),
        mapping=columns.auto_map(table.headers, kind),
        summary={
            "headers": table.headers,
            "encoding": table.encoding,
            "delimiter": table.delimiter,
            "same_file_as": earlier.pk if earlier else None,
        },
        source=source,
        uploaded_by=actor,
    )
    with transaction.atomic():
        job.file.save(f"{uuid.uuid4().hex}.csv", ContentFile(data), save=False)
        job.save()
        events.record(
            "crm.import.uploaded",
            subject=job,
            actor=actor,
            summary=f"{job.original_name} uploaded: {job.total_rows} rows ({job.get_kind_display().lower()})",
            data={"rows": job.total_rows, "sha256": digest, "kind": kind},
        )
    return job


def import_source() -> Source:
    """The source imported leads carry when the upload named none."""
    source, _ = Source.objects.get_or_create(
        slug=IMPORT_SOURCE_SLUG, defaults={"name": "CSV import", "kind": Source.Kind.IMPORT}
    )
    return source


def mapping_validate(*, job: ImportJob, mapping: dict[str, str]) -> dict[str, str]:
    """The mapping without blanks, or an ApplicationError naming the field at fault."""
    headers = job.summary.get("headers", [])
    fields = {f.name: f for f in columns.fields_for(job.kind)}
    cleaned: dict[str, str] = {}
    for name, header in mapping.items():
        if not header:
            continue
        if name not in fields:
            raise ApplicationError(f"Unknown field {name!r}.", field=name)
        if header not in headers:
            raise ApplicationError(f"The file has no column {header!r}.", field=name)
        taken = next((fields[n].label for n, h in cleaned.items() if h == header), None)
        if taken:
            raise ApplicationError(f"“{header}” is already imported as {taken}.", field=name)
        cleaned[name] = header
    _require_identity(job.kind, cleaned)
    return cleaned


def _require_identity(kind: str, mapping: dict[str, str]) -> None:
    if kind == ImportJob.Kind.LEADS and not CONTACT_FIELDS & set(mapping):
        raise ApplicationError(
            "Pick the column with the phone number or the e-mail address.", code="no_contact"
        )
    if not (CONTACT_FIELDS | NAME_FIELDS) & set(mapping):
        raise ApplicationError(
            "Pick the columns with the customer's name, phone or e-mail.", code="no_contact"
        )


def import_map(*, job: ImportJob, mapping: dict[str, str], actor) -> ImportJob:
    """Save the column mapping. A changed mapping makes an earlier dry run stale."""
    cleaned = mapping_validate(job=job, mapping=mapping)
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if not job_can(job, "map"):
            raise ApplicationError(
                "This import has started: its columns can no longer change.", code="started"
            )
        if job.mapping == cleaned and job.status == Status.DRY_RUN:
            return job
        job.mapping, job.status = cleaned, Status.MAPPED
        job.summary.pop(DRY_RUN, None)
        job.save(update_fields=["mapping", "status", "summary"])
        events.record(
            "crm.import.mapped",
            subject=job,
            actor=actor,
            summary=f"Columns of {job.original_name} mapped",
            data={"mapping": cleaned},
        )
    return job


def job_table(job: ImportJob, *, limit: int | None = None) -> Table:
    """The job's file, read again from storage (all of it, or its first `limit` rows)."""
    with job.file.open("rb") as handle:
        return read_table(handle.read(), limit=limit)


def job_head(job: ImportJob) -> Table:
    return job_table(job, limit=PREVIEW_ROWS)


def column_samples(table: Table) -> dict[str, str]:
    """Each column's first value, to show next to its name."""
    samples = {}
    for i, header in enumerate(table.headers):
        samples[header] = next((r.values[i].strip() for r in table.records if r.values[i].strip()), "")
    return samples


# --- Preview -----------------------------------------------------------------------------------------


PREVIEW_LABELS = {
    Outcome.CREATE: "New",
    Outcome.MERGE: "Merge",
    Outcome.DUPLICATE: "Skip",
    Outcome.IMPORTED: "Skip",
    Outcome.ERROR: "Error",
}


@dataclass
class PreviewRow:
    row: RowIn
    outcome: Outcome
    message: str
    level: str  # ok, info, warn, bad: the badge's colour

    @property
    def label(self) -> str:
        return PREVIEW_LABELS[self.outcome]

    @property
    def phones_display(self) -> list[str]:
        return [phonenumbers.format_number(phonenumbers.parse(n), NATIONAL) for n, _ in self.row.phones]


def import_preview(
    *, job: ImportJob, mapping: dict[str, str] | None = None, table: Table | None = None
) -> list[PreviewRow]:
    """The first rows as they will be imported with this mapping, and what each will do. Writes nothing."""
    table = table or job_head(job)
    mapping = job.mapping if mapping is None else mapping
    rows = [parse_row(r, table.headers, mapping, job.kind) for r in table.records[:PREVIEW_ROWS]]
    planned = Planner(job.kind).plan(rows)
    ids = {p.claim.customer_id for p in planned if p.claim and p.claim.customer_id}
    names = {c.pk: c.display_name for c in Customer.objects.filter(pk__in=ids)}
    return [PreviewRow(p.row, p.outcome, *_describe(p, job.kind, names)) for p in planned]


def _describe(p: Planned, kind: str, names: dict[int, str]) -> tuple[str, str]:
    claim = p.claim
    existing = claim and claim.customer_id
    who = f"customer #{claim.customer_id} ({names.get(claim.customer_id, '?')})" if existing else ""
    if p.outcome == Outcome.ERROR:
        return p.row.error, "bad"
    if p.outcome == Outcome.DUPLICATE:
        return f"Duplicate of row {p.same_as_row}: skipped.", "warn"
    if p.outcome == Outcome.IMPORTED:
        return "Imported before: skipped.", "info"
    if kind == ImportJob.Kind.LEADS and existing:
        return f"New lead for {who}.", "ok"
    if kind == ImportJob.Kind.LEADS:
        if claim.first_row != p.row.number:
            return f"New lead; same person as row {claim.first_row}.", "ok"
        return "New lead and customer.", "ok"
    if p.outcome == Outcome.MERGE:
        return (f"Will merge into {who}." if existing else f"Same person as row {claim.first_row}."), "info"
    return "New customer.", "ok"


# --- Dry run and import, in the background -----------------------------------------------------------


def import_check(*, job: ImportJob, actor) -> ImportJob:
    """Queue the dry run: every row validated and planned, nothing written."""
    return _queue(job=job, phase=DRY_RUN, actor=actor)


def import_start(*, job: ImportJob, actor) -> ImportJob:
    """Queue the import (or resume a failed one where it stopped)."""
    return _queue(job=job, phase=IMPORT, actor=actor)


def _queue(*, job: ImportJob, phase: str, actor) -> ImportJob:
    action = "check" if phase == DRY_RUN else "start"
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job_is_busy(job) and job.summary.get("phase") == phase:
            return job
        if not job_can(job, action):
            raise ApplicationError(f"A job that is {job.get_status_display().lower()} cannot do that.")
        mapping_validate(job=job, mapping=job.mapping)
        resuming = job.status == Status.FAILED and job.summary.get("phase") == IMPORT
        job.status = Status.QUEUED
        job.summary = {**job.summary, "phase": phase, "error": ""}
        job.save(update_fields=["status", "summary"])
        code = {DRY_RUN: "crm.import.dry_run_queued", IMPORT: "crm.import.started"}[phase]
        events.record(
            "crm.import.resumed" if resuming else code,
            subject=job,
            actor=actor,
            summary=f"{'Resumed' if resuming else 'Queued'} {phase.replace('_', ' ')} of {job.original_name}",
        )
        transaction.on_commit(lambda: _enqueue(TASKS[phase], job.pk))
    return job


def _enqueue(task_name: str, job_id: int) -> None:
    from . import tasks  # noqa: F401  (registers the tasks in this process, for eager runs)

    events.enqueue(task_name, job_id)


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: int = 0
    warnings: int = 0

    def count(self, outcome: Outcome, row: RowIn) -> None:
        if outcome == Outcome.CREATE:
            self.created += 1
        elif outcome == Outcome.MERGE:
            self.updated += 1
        elif outcome == Outcome.ERROR:
            self.errors += 1
        else:
            self.skipped += 1
        if row.problems and outcome in (Outcome.CREATE, Outcome.MERGE):
            self.warnings += 1

    def add(self, other: "Tally") -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)


@dataclass
class Problem:
    row: int
    outcome: str
    message: str


def problem_of(outcome: Outcome, row: RowIn, same_as_row: int | None = None) -> Problem | None:
    if outcome == Outcome.ERROR:
        return Problem(row.number, "Not imported", row.error)
    if outcome == Outcome.DUPLICATE:
        return Problem(row.number, "Skipped", f"Duplicate of row {same_as_row}.")
    if row.problems and outcome != Outcome.IMPORTED:
        return Problem(row.number, "Values left out", " ".join(row.problems))
    return None


class _Run:
    """One pass over the job's file, batch after batch, and what it found."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.table = job_table(job)
        self.planner = Planner(job.kind)
        self.tally = Tally()
        self.problems: list[Problem] = []

    def batches(self):
        headers, mapping, kind = self.table.headers, self.job.mapping, self.job.kind
        records = self.table.records
        for start in range(0, len(records), BATCH_SIZE):
            yield start, [parse_row(r, headers, mapping, kind) for r in records[start : start + BATCH_SIZE]]

    def note(self, planned: list[Planned], tally: Tally) -> None:
        for p in planned:
            tally.count(p.outcome, p.row)
            problem = problem_of(p.outcome, p.row, p.same_as_row)
            if problem:
                self.problems.append(problem)


def _begin(job_id: int, phase: str) -> ImportJob | None:
    """Take a queued job (or one a lost worker was running). None when there is nothing to do."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.summary.get("phase") != phase or not job_is_busy(job):
            return None
        job.status = Status.RUNNING
        if phase == IMPORT and job.started_at is None:
            job.started_at = timezone.now()
        job.save(update_fields=["status", "started_at"])
    return job


def import_dry_run(*, job_id: int) -> ImportJob:
    """Validate and plan every row without writing; the counts and the problem report go on the job."""
    job = _begin(job_id, DRY_RUN)
    if job is None:
        return ImportJob.objects.get(pk=job_id)
    run = None
    try:
        run = _Run(job)
        for start, rows in run.batches():
            run.note(run.planner.plan(rows), run.tally)
            ImportJob.objects.filter(pk=job.pk).update(processed_rows=start + len(rows))
    except Exception as error:
        logger.exception("Dry run of import %s failed", job.pk)
        return _fail(job, DRY_RUN, error, run)
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        _write_report(job, run)
        job.status, job.processed_rows = Status.DRY_RUN, 0
        job.summary = {**job.summary, DRY_RUN: {**asdict(run.tally), "problem_rows": len(run.problems)}}
        job.save(update_fields=["status", "processed_rows", "summary", "report"])
    return job


def import_run(*, job_id: int) -> ImportJob:
    """Import the job's rows in batches, each in its own transaction with the job's progress.

    Safe to run twice: a second worker finds the job taken or its batch already done, and a restarted
    import continues after the last committed batch.
    """
    job = _begin(job_id, IMPORT)
    if job is None:
        return ImportJob.objects.get(pk=job_id)
    run = None
    try:
        run = _Run(job)
        run.tally = Tally(
            job.created_count,
            job.updated_count,
            job.skipped_count,
            job.error_count,
            job.summary.get("warnings", 0),
        )
        for start, rows in run.batches():
            if start + len(rows) <= job.processed_rows:  # committed before a restart
                run.note(run.planner.plan(rows), Tally())
            elif not _import_batch(run, start, rows):
                return ImportJob.objects.get(pk=job.pk)
    except Exception as error:
        logger.exception("Import %s failed", job.pk)
        return _fail(job, IMPORT, error, run)
    return _finish(job, run)


def _import_batch(run: _Run, start: int, rows: list[RowIn]) -> bool:
    """Apply one batch. False when another worker got there first."""
    job = run.job
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status != Status.RUNNING or locked.processed_rows != start:
            return False
        _one_import_at_a_time()
        planned = run.planner.plan(rows)
        if job.kind == ImportJob.Kind.CUSTOMERS:
            applied, created = _apply_customers(job, planned)
        else:
            applied, created = _apply_leads(job, planned)
        tally = Tally()
        run.note(planned, tally)
        ImportRowKey.objects.bulk_create(
            ImportRowKey(kind=job.kind, row_hash=row.row_hash, customer=customer, import_job=job)
            for row, customer in applied
        )
        _record_batch(job, rows, tally, created)
        run.tally.add(tally)
        _save_progress(job, start + len(rows), run.tally)
    return True


def _one_import_at_a_time() -> None:
    """Two imports at once could both create the same new customer; their batches take turns."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK])


def _save_progress(job: ImportJob, processed: int, tally: Tally) -> None:
    job.summary = {**job.summary, "warnings": tally.warnings}
    ImportJob.objects.filter(pk=job.pk).update(
        processed_rows=processed,
        created_count=tally.created,
        updated_count=tally.updated,
        skipped_count=tally.skipped,
        error_count=tally.errors,
        summary=job.summary,
    )


def _record_batch(job: ImportJob, rows: list[RowIn], tally: Tally, created: list[Customer]) -> None:
    """One activity row per batch (not an event per customer), on the timeline of each new customer."""
    first, last = rows[0].number, rows[-1].number
    event = events.record(
        "crm.import.batch",
        subject=job,
        actor=job.uploaded_by,
        actor_label=ACTOR_LABEL,
        summary=f"Imported from {job.original_name} (rows {first}-{last})",
        data={"rows": [first, last], **asdict(tally)},
    )
    bulk.link_to_timelines(event=event, customers=created)


# --- Customers ---------------------------------------------------------------------------------------


def _apply_customers(job: ImportJob, planned: list[Planned]) -> tuple[list, list[Customer]]:
    """New customers in bulk; rows about existing customers merged one by one. Returns (row, customer)
    for every applied row, and the customers created."""
    groups: dict[int, list[Planned]] = {}  # one list of rows per new customer
    merges = []
    for p in planned:
        if p.joins_new_customer and id(p.claim) not in groups:  # its first row was not applied
            p.outcome, p.claim.first_row = Outcome.CREATE, p.row.number
        if p.outcome == Outcome.CREATE or p.joins_new_customer:
            groups.setdefault(id(p.claim), []).append(p)
        elif p.outcome == Outcome.MERGE:
            merges.append(p)
    checked, refused = _checked_new_customers(list(groups.values()))
    created = bulk.customers_create(
        new=[(record, c) for _, record, c in checked], job=job, actor_label=ACTOR_LABEL
    )
    applied = []
    for group, record, _ in checked:
        group[0].claim.customer_id = record.customer.pk
        applied += [(p.row, record.customer) for p in group]
    for group, error in refused:
        for p in group:
            p.outcome, p.row.error = Outcome.ERROR, f"Not a valid customer: {error.message}"
    for p in merges:
        customer = _merge_row(job, p)
        if customer is not None:
            applied.append((p.row, customer))
    return applied, created


def _checked_new_customers(groups: list[list[Planned]]) -> tuple[list, list]:
    """Each new customer's rows through customers' rules: (group, record, checked) for those that pass,
    (group, error) for those that do not (their rows become errors; the batch goes on)."""
    checked, refused = [], []
    for group in groups:
        record = bulk.NewCustomer.of_rows([p.row for p in group])
        try:
            checked.append((group, record, record.check()))
        except ApplicationError as error:
            refused.append((group, error))
    return checked, refused


def _merge_row(job: ImportJob, p: Planned) -> Customer | None:
    """Add what the row knows to the customer it matched, through the customer services."""
    row = p.row
    try:
        with transaction.atomic():
            customer = _find_customer(row) or Customer.objects.get(pk=p.claim.customer_id)
            p.claim.customer_id = customer.pk
            customer_services.customer_add_contacts(
                customer=customer,
                actor=job.uploaded_by,
                actor_label=ACTOR_LABEL,
                phones=[number for number, _ in row.phones],
                emails=row.emails,
            )
            prop = _property(customer, row, job)
            if row.tags:  # added to what the customer carries
                customer_services.customers_tags_add(names_by_customer={customer.pk: row.tags})
            if row.past_job:
                PastJob.objects.create(
                    customer=customer, property=prop, import_job=job, **asdict(row.past_job)
                )
    except ApplicationError as error:
        p.outcome, row.error = Outcome.ERROR, f"Could not merge into customer #{p.claim.customer_id}: {error}"
        return None
    return customer


def _find_customer(row: RowIn) -> Customer | None:
    for number, _ in row.phones:
        if found := customer_selectors.customer_find_by_contact(phone=number):
            return found
    for email in row.emails:
        if found := customer_selectors.customer_find_by_contact(email=email):
            return found
    return None


def _property(customer: Customer, row: RowIn, job: ImportJob):
    if row.address is None:
        return None
    return customer_services.property_find_or_add(
        customer=customer, address=row.address, actor=job.uploaded_by, actor_label=ACTOR_LABEL
    )


# --- Leads -------------------------------------------------------------------------------------------


def _apply_leads(job: ImportJob, planned: list[Planned]) -> tuple[list, list[Customer]]:
    source = job.source or import_source()
    applied = []
    for p in planned:
        if p.outcome != Outcome.CREATE:
            continue
        lead = _capture_lead(job, source, p)
        if lead is not None:
            applied.append((p.row, lead.customer))
    return applied, []


def _capture_lead(job: ImportJob, source: Source, p: Planned) -> Lead | None:
    row = p.row
    try:
        with transaction.atomic():
            captured = lead_capture(
                source=source,
                contact=_lead_in(row),
                actor=job.uploaded_by,
                actor_label=ACTOR_LABEL,
                external_id=row.row_hash,
                raw_payload={"import_job": job.pk, "row": row.number, "values": row.values},
                arrived_at=_arrived_at(row.lead_date),
            )
            _add_other_contacts(job, captured.lead.customer, row)
    except ApplicationError as error:
        p.outcome, row.error = Outcome.ERROR, str(error)
        return None
    if not captured.created:
        p.outcome = Outcome.IMPORTED
    return captured.lead


def _lead_in(row: RowIn) -> LeadIn:
    address = row.address
    return LeadIn(
        first_name=row.first_name,
        last_name=row.last_name,
        name="" if (row.first_name or row.last_name) else row.company_name,
        phone=row.phones[0][0] if row.phones else "",
        email=row.emails[0] if row.emails else "",
        street=address.street if address else "",
        unit=address.unit if address else "",
        city=address.city if address else "",
        state=address.state if address else "",
        zip_code=address.zip_code if address else "",
        service=row.service,
        message=row.notes,
    )


def _add_other_contacts(job: ImportJob, customer: Customer, row: RowIn) -> None:
    phones, emails = [n for n, _ in row.phones[1:]], row.emails[1:]
    if phones or emails:
        customer_services.customer_add_contacts(
            customer=customer, actor=job.uploaded_by, actor_label=ACTOR_LABEL, phones=phones, emails=emails
        )


def _arrived_at(day: date | None) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day, time(12, 0), tzinfo=Business.current().tzinfo)


# --- The end -----------------------------------------------------------------------------------------


def _finish(job: ImportJob, run: _Run) -> ImportJob:
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        _write_report(job, run)
        job.status, job.finished_at = Status.DONE, timezone.now()
        job.summary = {**job.summary, "problem_rows": len(run.problems)}
        job.save(update_fields=["status", "finished_at", "summary", "report"])
        events.record(
            "crm.import.finished",
            subject=job,
            actor=job.uploaded_by,
            actor_label=ACTOR_LABEL,
            summary=f"Import of {job.original_name} done: {job.created_count} created, "
            f"{job.updated_count} merged, {job.skipped_count} skipped, {job.error_count} not imported",
            data=asdict(run.tally),
        )
    return job


def _fail(job: ImportJob, phase: str, error: Exception, run: _Run | None) -> ImportJob:
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if run is not None:
            _write_report(job, run)
        job.status = Status.FAILED
        job.summary = {**job.summary, "error": f"{type(error).__name__}: {error}"[:500]}
        if phase == DRY_RUN:
            job.processed_rows = 0
        job.save(update_fields=["status", "summary", "processed_rows", "report"])
        events.record(
            "crm.import.failed",
            subject=job,
            actor=job.uploaded_by,
            actor_label=ACTOR_LABEL,
            summary=f"{phase.replace('_', ' ').capitalize()} of {job.original_name} failed",
            data={"error": job.summary["error"], "processed_rows": job.processed_rows},
        )
    return job


# --- The problem report ------------------------------------------------------------------------------


def _write_report(job: ImportJob, run: _Run) -> None:
    """The rows with a problem, with their original values: a CSV the office can fix and re-upload."""
    if job.report:
        job.report.delete(save=False)
    if not run.problems:
        return
    values = {r.number: r.values for r in run.table.records}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Row", "Outcome", "Problem", *run.table.headers])
    for problem in sorted(run.problems, key=lambda p: p.row):
        writer.writerow([problem.row, problem.outcome, problem.message, *map(safe_cell, values[problem.row])])
    content = ContentFile(buffer.getvalue().encode("utf-8-sig"))
    job.report.save(f"import-{job.pk}-problems.csv", content, save=False)
