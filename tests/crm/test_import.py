"""CSV imports: reading messy files, mapping columns, preview, dry run, the import and its report, pages."""

import csv
import io
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from common.csvfile import read_table
from common.errors import ApplicationError
from crm.imports import services
from crm.imports.columns import auto_map
from crm.imports.forms import UploadForm
from crm.imports.plan import Outcome
from crm.models import ImportJob, ImportRowKey, Lead, PastJob
from customers import services as customer_services
from customers.models import Customer, Tag
from events.models import Event, EventLink
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
MESSY = (FIXTURES / "messy_customers.csv").read_bytes()
LEADS = (FIXTURES / "open_leads.csv").read_bytes()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def carla(office):
    """An existing customer; the file writes her number differently."""
    return make_customer(actor=office, first_name="Carla", last_name="Diaz", phones=["512.555.0142"])


def _upload(actor, data=MESSY, kind=ImportJob.Kind.CUSTOMERS, name="clients.csv") -> ImportJob:
    return services.import_upload(kind=kind, data=data, original_name=name, actor=actor)


def _run(job, actor, *, phase, on_commit) -> ImportJob:
    start = services.import_check if phase == "dry_run" else services.import_start
    with on_commit(execute=True):
        start(job=job, actor=actor)
    job.refresh_from_db()
    return job


def _import(actor, on_commit, data=MESSY, kind=ImportJob.Kind.CUSTOMERS) -> ImportJob:
    return _run(_upload(actor, data, kind), actor, phase="import", on_commit=on_commit)


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows])
    return buffer.getvalue().encode()


# --- Reading files -----------------------------------------------------------------------------------


def test_a_bom_and_windows_line_endings_are_read_and_blank_rows_left_out():
    table = read_table(MESSY)
    assert table.encoding == "utf-8-sig" and table.headers[0] == "First Name"
    assert [r.number for r in table.records] == [2, 3, 5, 6, 7, 8, 9, 10, 11]
    notes = table.headers.index("Notes")
    assert table.records[7].values[notes] == "Front desk, ask for Pat\r\nAfter 5pm use the side door"


def test_a_cp1252_file_with_semicolons_is_read():
    table = read_table(LEADS)
    assert (table.encoding, table.delimiter) == ("cp1252", ";")
    assert "Ask for Renée" in table.records[1].values


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"\r\n ,, \r\n", "empty"),
        (b"Ana,Ruiz,512-555-0199,ana@example.com\n", "no_header"),
        (b"First Name,Last Name,Phone\n", "no_rows"),
    ],
)
def test_an_unusable_file_is_refused_with_the_reason(data, code):
    with pytest.raises(ApplicationError) as error:
        read_table(data)
    assert error.value.code == code and error.value.field == "file"


def _xlsx() -> bytes:
    """What Excel writes: a ZIP of XML parts under xl/."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        book.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256))


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (PNG, "a PNG image"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "a PDF document"),
        (_xlsx(), "an Excel workbook (.xlsx)"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,
            "an old-style Excel or Word file (.xls or .doc)",
        ),
        (b"First Name,Phone\nAna,512\x00\x01\x02\x03 555\n", "a binary file"),
    ],
)
def test_a_binary_file_named_csv_is_refused_saying_what_it_looks_like(data, kind):
    with pytest.raises(ApplicationError) as error:
        read_table(data)
    assert (error.value.code, error.value.field) == ("not_text", "file")
    assert error.value.message.startswith(f"This file is {kind}, not a CSV file")
    assert "column names in its first row" in error.value.message


def test_text_in_no_encoding_we_read_is_refused():
    with pytest.raises(ApplicationError) as error:
        read_table("First Name,Phone\nRenée,512-555-0199\n".encode() + b"\x81\x8d\n")
    assert error.value.code == "not_text" and "neither UTF-8 nor Windows-1252" in error.value.message


def test_a_utf16_export_is_still_read():
    table = read_table("First Name,Phone\r\nRenée,512-555-0199\r\n".encode("utf-16"))
    assert table.encoding == "utf-16" and table.records[0].values == ["Renée", "512-555-0199"]


# --- Column auto-mapping -----------------------------------------------------------------------------


def test_a_jobber_export_maps_itself():
    headers = [
        "J-ID",
        "Display name",
        "Company name",
        "First name",
        "Last name",
        "E-mails",
        "Main phone #s",
        "Mobile phone #s",
        "Home phone #s",
        "Billing street 1",
        "Service street 1",
        "Service street 2",
        "Service city",
        "Service state",
        "Service zip code",
        "Tags",
        "Lead source",
    ]
    mapping = auto_map(headers, "customers")
    assert mapping["first_name"] == "First name" and mapping["full_name"] == "Display name"
    assert mapping["email"] == "E-mails"
    assert (mapping["phone"], mapping["mobile_phone"], mapping["home_phone"]) == (
        "Main phone #s",
        "Mobile phone #s",
        "Home phone #s",
    )
    # The service address wins over the billing address.
    assert (mapping["street"], mapping["unit"], mapping["zip_code"]) == (
        "Service street 1",
        "Service street 2",
        "Service zip code",
    )
    assert "J-ID" not in mapping.values() and "Billing street 1" not in mapping.values()


def test_a_housecall_pro_export_maps_itself():
    headers = [
        "First Name",
        "Last Name",
        "Display Name",
        "Email",
        "Mobile Number",
        "Home Number",
        "Work Number",
        "Company",
        "Address Street",
        "Address Unit",
        "Address City",
        "Address State",
        "Address Zip",
        "Lifetime Value",
        "Last Service Date",
        "Notes",
        "Tags",
    ]
    mapping = auto_map(headers, "customers")
    assert mapping == {
        "first_name": "First Name",
        "last_name": "Last Name",
        "full_name": "Display Name",
        "company_name": "Company",
        "mobile_phone": "Mobile Number",
        "home_phone": "Home Number",
        "work_phone": "Work Number",
        "email": "Email",
        "street": "Address Street",
        "unit": "Address Unit",
        "city": "Address City",
        "state": "Address State",
        "zip_code": "Address Zip",
        "past_job_date": "Last Service Date",
        "past_job_total": "Lifetime Value",
        "tags": "Tags",
        "notes": "Notes",
    }


def test_headers_match_whatever_their_case_spacing_and_punctuation():
    mapping = auto_map(["CUSTOMER  NAME", "phone_number", "e-mail address", "ZIP/Postal code"], "customers")
    assert mapping == {
        "full_name": "CUSTOMER  NAME",
        "phone": "phone_number",
        "email": "e-mail address",
        "zip_code": "ZIP/Postal code",
    }


# --- Upload and mapping ------------------------------------------------------------------------------


def test_an_upload_stores_the_file_counts_its_rows_and_maps_known_columns(office):
    job = _upload(office)
    assert job.status == ImportJob.Status.UPLOADED and job.total_rows == 9
    assert job.file.read() == MESSY and len(job.file_sha256) == 64
    assert job.mapping["mobile_phone"] == "Mobile Phone"
    assert set(job.summary["headers"]) - set(job.mapping.values()) == {"Customer ID", "Balance"}


def test_a_mapping_using_one_column_twice_is_refused(office):
    job = _upload(office)
    with pytest.raises(ApplicationError) as error:
        services.import_map(
            job=job, mapping={"phone": "Mobile Phone", "mobile_phone": "Mobile Phone"}, actor=office
        )
    assert error.value.field == "mobile_phone"


def test_a_leads_mapping_needs_a_phone_or_email_column(office):
    job = _upload(office, LEADS, ImportJob.Kind.LEADS)
    with pytest.raises(ApplicationError, match="phone number or the e-mail"):
        services.import_map(job=job, mapping={"full_name": "Customer Name"}, actor=office)


# --- Preview and dry run -----------------------------------------------------------------------------


def test_the_preview_shows_each_rows_problem_and_what_it_will_do(office, carla):
    preview = {p.row.number: p for p in services.import_preview(job=_upload(office))}
    assert preview[2].outcome == Outcome.CREATE and preview[2].row.phones == [("+15125550199", "mobile")]
    assert preview[3].row.problems == [
        "Bad phone number '512-555-12': left out.",
        "Bad e-mail address 'bob@example': left out.",
        "Bad ZIP '787': address left out.",
    ]
    assert preview[5].message == "Duplicate of row 2: skipped."
    assert preview[6].message == f"Will merge into customer #{carla.pk} (Carla Diaz)."
    assert preview[7].outcome == Outcome.ERROR and "No name" in preview[7].message
    assert preview[9].message == "Same person as row 8."
    assert preview[10].row.kind == "commercial" and preview[11].row.address.state == "TX"


def test_the_dry_run_counts_every_row_and_writes_nothing(office, carla, django_capture_on_commit_callbacks):
    job = _run(_upload(office), office, phase="dry_run", on_commit=django_capture_on_commit_callbacks)
    assert job.status == ImportJob.Status.DRY_RUN and job.processed_rows == 0
    assert job.summary["dry_run"] == {
        "created": 5,
        "updated": 2,
        "skipped": 1,
        "errors": 1,
        "warnings": 1,
        "problem_rows": 3,
    }
    assert Customer.objects.count() == 1 and not ImportRowKey.objects.exists()
    assert job.report  # the problem rows can be fixed before importing


# --- The import --------------------------------------------------------------------------------------


def test_the_import_creates_customers_once_and_merges_into_the_existing_one(
    office, carla, django_capture_on_commit_callbacks
):
    job = _import(office, django_capture_on_commit_callbacks)
    assert job.status == ImportJob.Status.DONE and job.processed_rows == 9
    assert (job.created_count, job.updated_count, job.skipped_count, job.error_count) == (5, 2, 1, 1)
    assert Customer.objects.count() == 6
    assert Customer.objects.filter(first_name="Ana", last_name="Ruiz").count() == 1
    carla.refresh_from_db()
    assert {e.email for e in carla.emails.all()} == {"carla.new@example.com"}
    assert "77 Lake Austin Blvd" in {p.street for p in carla.properties.all()}
    assert carla.past_jobs.get().total == Decimal("389.50")


def test_rows_about_one_person_in_the_file_end_in_one_customer(office, django_capture_on_commit_callbacks):
    _import(office, django_capture_on_commit_callbacks)
    dan = Customer.objects.get(phones__number="+17375550100")
    assert (dan.first_name, dan.last_name) == ("Dan", "Wu")
    assert [e.email for e in dan.emails.all()] == ["dan@example.com"]


def test_new_customers_get_their_contacts_address_search_columns_and_past_job(
    office, django_capture_on_commit_callbacks
):
    job = _import(office, django_capture_on_commit_callbacks)
    ana = Customer.objects.get(first_name="Ana")
    assert ana.created_by == office and "Tags" not in ana.notes and "Gate code 4412" in ana.notes
    assert [tag.name for tag in ana.tags.all()] == ["VIP"]
    assert sorted(t.name for t in Customer.objects.get(company_name="Hill Country Dental").tags.all()) == [
        "commercial",
        "monthly",
    ]
    assert ana.phones.get().is_primary and ana.emails.get().email == "ana@example.com"
    assert ana.properties.get().one_line == "1944 Stanton St, Round Rock, TX 78665"
    assert "stanton" in ana.search_text and "5125550199" in ana.search_digits
    past = PastJob.objects.get(customer=ana)
    assert (past.service_date, past.total, past.property, past.import_job) == (
        date(2024, 3, 14),
        Decimal("1250.00"),
        ana.properties.get(),
        job,
    )
    dental = Customer.objects.get(company_name="Hill Country Dental")
    assert dental.kind == "commercial" and dental.display_name == "Hill Country Dental"


def test_tags_in_the_file_become_tags_added_to_an_existing_customer_s_own(
    office, carla, django_capture_on_commit_callbacks
):
    customer_services.customer_tags_set(customer=carla, names="Member", actor=office)
    data = _csv(
        ["First Name", "Last Name", "Phone", "Tags"],
        [
            ["Carla", "Diaz", "512-555-0142", "vip; member"],
            ["Eve", "Park", "512-555-0111", "Landlord, " + "x" * 45],
            ["Eve", "Park", "512-555-0111", "Pets on site"],
        ],
    )
    job = _import(office, django_capture_on_commit_callbacks, data=data)
    assert job.created_count == 1 and job.error_count == 0
    carla.refresh_from_db()
    assert sorted(t.name for t in carla.tags.all()) == ["Member", "vip"], "added to hers, once each"
    eve = Customer.objects.get(first_name="Eve")
    assert sorted(t.name for t in eve.tags.all()) == ["Landlord", "Pets on site", "x" * 40]
    assert Tag.objects.filter(name__iexact="member").count() == 1


def test_one_activity_row_per_batch_links_every_new_customer_and_each_gets_customer_created(
    office, django_capture_on_commit_callbacks
):
    job = _import(office, django_capture_on_commit_callbacks)
    batch = Event.objects.get(code="crm.import.batch")
    assert batch.subject == job and batch.data["created"] == 6  # Carla is new here
    assert EventLink.objects.filter(event=batch).count() == 1 + 6  # the job and each new customer
    # The same milestone customer_create publishes, once per new customer, fanned out by the worker.
    created = Event.objects.filter(milestone="customer.created")
    new_ids = {str(pk) for pk in Customer.objects.values_list("pk", flat=True)}  # all six are new
    assert sorted(created.values_list("subject_id", flat=True)) == sorted(new_ids)
    assert all(e.actor_label == "CSV import" and e.fanned_out_at for e in created)
    assert {e.data["origin"] for e in created} == {f"csv-import:{job.pk}"}


def test_the_report_lists_problem_rows_with_their_numbers_and_original_values(
    office, django_capture_on_commit_callbacks
):
    job = _import(office, django_capture_on_commit_callbacks)
    report = list(csv.reader(io.StringIO(job.report.read().decode("utf-8-sig"))))
    assert report[0][:4] == ["Row", "Outcome", "Problem", "First Name"]
    by_row = {line[0]: line for line in report[1:]}
    assert set(by_row) == {"3", "5", "7"}
    assert by_row["3"][1] == "Values left out" and "Bad ZIP '787'" in by_row["3"][2]
    assert by_row["3"][3:5] == ["Bob", "Stone"] and by_row["3"][6] == "512-555-12"
    assert by_row["5"][2] == "Duplicate of row 2."
    assert by_row["7"][1] == "Not imported" and by_row["7"][16] == "call back about the quote"


def test_importing_the_same_file_again_creates_nothing(office, carla, django_capture_on_commit_callbacks):
    _import(office, django_capture_on_commit_callbacks)
    counts = (Customer.objects.count(), PastJob.objects.count(), Event.objects.count())
    again = _import(office, django_capture_on_commit_callbacks)
    assert again.summary["same_file_as"] is not None
    assert (again.created_count, again.updated_count, again.skipped_count, again.error_count) == (0, 0, 8, 1)
    assert (Customer.objects.count(), PastJob.objects.count()) == counts[:2]


def test_running_the_task_twice_does_the_work_once(office, django_capture_on_commit_callbacks):
    job = _import(office, django_capture_on_commit_callbacks)
    services.import_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.created_count == 6
    assert Customer.objects.count() == 6


def test_small_batches_give_the_same_result_and_merge_across_batches(
    office, carla, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "BATCH_SIZE", 3)  # rows 8 and 9 (the same person) in different batches
    job = _import(office, django_capture_on_commit_callbacks)
    assert (job.created_count, job.updated_count, job.skipped_count, job.error_count) == (5, 2, 1, 1)
    assert Event.objects.filter(code="crm.import.batch").count() == 3
    assert (
        Customer.objects.filter(phones__number="+17375550100").get().emails.get().email == "dan@example.com"
    )


def test_a_customer_row_without_a_name_is_kept_under_its_number(office, django_capture_on_commit_callbacks):
    data = _csv(["Name", "Phone"], [["", "512-555-0155"]])
    _import(office, django_capture_on_commit_callbacks, data)
    assert Customer.objects.get().display_name == "Unknown +15125550155"


def test_the_bulk_path_runs_a_constant_number_of_queries_not_a_few_per_row(
    office, django_capture_on_commit_callbacks
):
    rows = [
        [
            f"First{i}",
            f"Last{i}",
            f"(512) 7{i // 100:02d}-{i % 100:02d}00",
            f"p{i}@example.com",
            f"{i} Oak St",
        ]
        for i in range(200)
    ]
    data = _csv(["First Name", "Last Name", "Phone", "Email", "Street"], rows)
    job = services.import_upload(kind="customers", data=data, original_name="big.csv", actor=office)
    with CaptureQueriesContext(connection) as queries:
        job = _run(job, office, phase="import", on_commit=django_capture_on_commit_callbacks)
    assert job.created_count == 200
    assert len(queries) < 100, f"{len(queries)} queries for 200 rows"


# --- Leads -------------------------------------------------------------------------------------------


def test_a_leads_import_creates_new_leads_once(office, django_capture_on_commit_callbacks):
    job = _import(office, django_capture_on_commit_callbacks, LEADS, ImportJob.Kind.LEADS)
    assert (job.created_count, job.error_count) == (2, 1)
    maria = Lead.objects.get(phone="+15125550161")
    assert maria.state == Lead.State.NEW and maria.source.kind == "import"
    assert maria.service == "Water heater leaking" and maria.property.zip_code == "78745"
    assert maria.arrived_at.date() == date(2025, 4, 2) and len(maria.external_id) == 64  # the row's hash
    assert Lead.objects.get(phone="+15125550162").message == "Ask for Renée\nLead source: Yelp"
    again = _import(office, django_capture_on_commit_callbacks, LEADS, ImportJob.Kind.LEADS)
    assert (again.created_count, again.skipped_count) == (0, 2)
    assert Lead.objects.count() == 2


def test_an_imported_lead_for_a_known_phone_joins_that_customer(office, django_capture_on_commit_callbacks):
    known = make_customer(actor=office, phones=["+1 512 555 0162"])
    _import(office, django_capture_on_commit_callbacks, LEADS, ImportJob.Kind.LEADS)
    assert Lead.objects.get(phone="+15125550162").customer == known


# --- The upload form ---------------------------------------------------------------------------------


def _form(content: bytes, name="clients.csv") -> UploadForm:
    upload = SimpleUploadedFile(name, content, content_type="text/csv")
    return UploadForm({"kind": "customers"}, {"file": upload})


def test_the_upload_form_refuses_a_file_that_is_not_csv():
    form = _form(MESSY, name="clients.xlsx")
    assert not form.is_valid() and "Upload a .csv file" in form.errors["file"][0]


def test_the_upload_form_refuses_a_file_over_the_limit(settings):
    settings.IMPORT_MAX_UPLOAD_MB = 1
    form = _form(MESSY + b"x" * (1024 * 1024))
    assert not form.is_valid() and "the limit is 1 MB" in form.errors["file"][0]


def test_the_upload_form_refuses_an_empty_file():
    form = _form(b"")
    assert not form.is_valid() and form.errors["file"] == ["The file is empty."]


def test_the_upload_page_refuses_a_png_renamed_csv_before_any_column_matching(office, client_for):
    upload = SimpleUploadedFile("clients.csv", PNG, content_type="text/csv")
    response = client_for(office).post(reverse("crm:import-upload"), {"kind": "customers", "file": upload})
    assert response.status_code == 200
    assert response.context["form"].errors["file"][0].startswith("This file is a PNG image, not a CSV file")
    assert not ImportJob.objects.exists()


def test_the_upload_page_shows_a_file_without_header_row_as_a_field_error(office, client_for):
    upload = SimpleUploadedFile("clients.csv", b"Ana,Ruiz,512-555-0199,ana@example.com\n")
    response = client_for(office).post(reverse("crm:import-upload"), {"kind": "customers", "file": upload})
    assert response.status_code == 200
    assert "The first row should name the columns" in response.context["form"].errors["file"][0]
    assert not ImportJob.objects.exists()


# --- Pages -------------------------------------------------------------------------------------------


def test_office_uploads_maps_checks_and_imports_through_the_pages(
    office, client_for, carla, django_capture_on_commit_callbacks
):
    client = client_for(office)
    assert client.get(reverse("crm:import-upload")).status_code == 200
    upload = SimpleUploadedFile("clients.csv", MESSY, content_type="text/csv")
    response = client.post(reverse("crm:import-upload"), {"kind": "customers", "file": upload})
    job = ImportJob.objects.get()
    assert response.url == reverse("crm:import-mapping", args=[job.pk])

    page = client.get(response.url)
    assert page.status_code == 200 and len(page.context["preview"]) == 9
    assert (
        "Will merge into customer" in page.content.decode() and "Customer ID" in page.context["not_imported"]
    )

    form = {name: job.mapping.get(name, "") for name in page.context["form"].fields}
    preview = client.post(response.url, {**form, "notes": ""}, headers={"HX-Request": "true"})
    html = preview.content.decode()
    assert '<span class="badge">Notes</span>' in html and "<html" not in html

    with django_capture_on_commit_callbacks(execute=True):
        checked = client.post(response.url, {**form, "action": "check"})
    assert checked.url == reverse("crm:import-detail", args=[job.pk])
    detail = client.get(checked.url).content.decode()
    assert "Check done" in detail and "Import 9 rows" in detail

    with django_capture_on_commit_callbacks(execute=True):
        client.post(checked.url, {"action": "start"})
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and Customer.objects.count() == 6
    assert "Import done" in client.get(checked.url).content.decode()
    report = client.get(reverse("crm:import-report", args=[job.pk]))
    assert report["Content-Disposition"] == 'attachment; filename="clients-problems.csv"'
    assert client.get(reverse("crm:import-list")).context["jobs"][0] == job


def test_the_job_page_polls_while_the_import_runs_and_stops_when_done(office, client_for):
    job = _upload(office)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, processed_rows=3, summary={**job.summary, "phase": "import"}
    )
    client = client_for(office)
    running = client.get(reverse("crm:import-detail", args=[job.pk]), headers={"HX-Request": "true"})
    html = running.content.decode()
    assert 'hx-trigger="every 1s"' in html and '<progress class="import-progress" value="3" max="9">' in html
    assert "style=" not in html and "<html" not in html
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.DONE)
    done = client.get(reverse("crm:import-detail", args=[job.pk]), headers={"HX-Request": "true"})
    assert "hx-trigger" not in done.content.decode()


def test_the_mapping_page_shows_a_column_used_twice_as_an_error(office, client_for):
    job = _upload(office)
    url = reverse("crm:import-mapping", args=[job.pk])
    response = client_for(office).post(url, {"phone": "Mobile Phone", "mobile_phone": "Mobile Phone"})
    assert response.status_code == 200 and "already imported as" in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.UPLOADED


@pytest.mark.parametrize("role", ["technician", "dispatcher"])
def test_only_office_and_owner_reach_the_import_pages(role, personas, client_for, office):
    job = _upload(office)
    client = client_for(personas[role])
    for name, args in [
        ("crm:import-list", []),
        ("crm:import-upload", []),
        ("crm:import-mapping", [job.pk]),
        ("crm:import-detail", [job.pk]),
        ("crm:import-report", [job.pk]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 403, name
    assert client.post(reverse("crm:import-detail", args=[job.pk]), {"action": "start"}).status_code == 403


def test_the_owner_reaches_the_import_list(owner, client_for):
    assert client_for(owner).get(reverse("crm:import-list")).status_code == 200
