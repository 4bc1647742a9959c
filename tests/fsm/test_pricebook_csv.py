"""The pricebook as CSV: export every column, upload -> check every row -> import, with the rows that
cannot be imported listed (and downloadable) and the rest written together or not at all."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from common.errors import ApplicationError
from fsm.pricebook import csv_io
from fsm.pricebook.models import PricebookItem
from tests.fsm.factories import make_pricebook_item

pytestmark = pytest.mark.django_db

HEADER = "Code,Name,Kind,Category,Unit,Price,Cost,Markup %,Member price,Taxable\n"


def _plan(text: str) -> csv_io.Plan:
    return csv_io.import_plan(text.encode())


def _by_row(plan: csv_io.Plan) -> dict[int, csv_io.Row]:
    return {row.number: row for row in plan.rows}


def _upload(client, text: str, name: str = "prices.csv"):
    return client.post(
        reverse("pricebook-import"),
        {"file": SimpleUploadedFile(name, text.encode(), content_type="text/csv")},
    )


@pytest.fixture
def existing(db):
    return make_pricebook_item(code="WH-50G", price="1895", cost="910")


def test_the_check_finds_new_updated_unchanged_and_problem_rows(existing):
    plan = _plan(
        HEADER
        + "DR-MAIN,Main line clear,service,Drains,each,325,70,,,no\n"  # 2 new
        + "wh-50g,Water heater 50 gal gas replace,service,,each,1995,910,,,yes\n"  # 3 update (any case)
        + "M-CAP,Capacitor,material,,each,,18.45,35,,yes\n"  # 4 new, priced by markup
        + "BAD-1,Bad price,service,,each,12.345,,,,yes\n"  # 5 more than two decimals
        + "BAD-2,Negative,service,,each,-4,,,,yes\n"  # 6 negative
        + "BAD-3,Unknown kind,labour,,each,10,,,,yes\n"  # 7 unknown kind
        + "dr-main,Same code again,service,,each,10,,,,yes\n"  # 8 duplicate code in the file
        + ",No code,service,,each,10,,,,yes\n"  # 9 no code
        + "BAD-4,Taxable?,service,,each,10,,,,maybe\n"  # 10 not yes or no
        + "BAD-5,,service,,each,10,,,,yes\n"  # 11 a new item without a name
        + "M-2,Markup and a price that disagree,material,,each,30,10,50,,yes\n"  # 12
    )
    rows = _by_row(plan)
    assert plan.counts == {"create": 2, "update": 1, "unchanged": 0, "problem": 8}
    assert rows[3].action == "update" and rows[3].changes == ["price"] and rows[3].data.code == "WH-50G"
    assert rows[4].checked["price"] == Decimal("24.91")
    problems = {n: rows[n].problem for n in range(5, 13)}
    assert problems[5] == "Price: The price has more than 2 decimal places."
    assert "cannot be negative" in problems[6]
    assert "Kind: Unknown kind 'labour'" in problems[7]
    assert "also on row 2" in problems[8]
    assert problems[9] == "Code: the code is missing."
    assert problems[10] == "Taxable: 'maybe' is not yes or no."
    assert "Name:" in problems[11]
    assert "not the cost plus the markup (15.00)" in problems[12]
    assert PricebookItem.objects.count() == 1  # the check writes nothing


def test_a_file_without_a_code_column_is_refused_as_a_whole(db):
    with pytest.raises(ApplicationError) as caught:
        _plan("Name,Price\nWater heater,1895\n")
    assert caught.value.field == "file" and "no Code column" in caught.value.message


def test_columns_left_out_keep_their_values_and_blank_cells_clear_only_what_may_be_blank(existing):
    existing.description = "Haul away included."
    existing.save()
    plan = _plan("Item Code,Unit Price,Description\nWH-50G,2050.00,\n")
    row = plan.rows[0]
    assert row.action == "update" and set(row.changes) == {"price", "description"}
    assert row.data.cost == Decimal("910.00") and row.data.name == existing.name
    assert plan.not_imported == []


def test_export_then_import_round_trip_changes_nothing(db):
    make_pricebook_item(code="WH-50G", cost="910", member_price="1611", category="Plumbing · Water heaters")
    make_pricebook_item(
        code="M-CAP", name='Capacitor, "dual"', kind="material", cost="18.45", markup_percent="35"
    )
    make_pricebook_item(code="=CMD", name="=1+2 formula-looking name", price="5", taxable=False)
    deactivated = make_pricebook_item(code="OLD", name="Old item", price="1")
    PricebookItem.objects.filter(pk=deactivated.pk).update(active=False)
    text = csv_io.pricebook_export()
    header = next(csv.reader(io.StringIO(text)))
    assert header == list(csv_io.HEADERS.values())
    assert "'=1+2 formula-looking name" in text  # a spreadsheet will not run it
    plan = _plan(text)
    assert plan.counts == {"create": 0, "update": 0, "unchanged": 4, "problem": 0}, [
        r.problem for r in plan.rows
    ]


def test_an_exported_file_imports_into_an_empty_pricebook_as_it_was(db, office):
    make_pricebook_item(code="M-CAP", name="Capacitor", kind="material", cost="18.45", markup_percent="35")
    make_pricebook_item(code="OLD", name="Old", price="1", member_price="0.50", taxable=False)
    text = csv_io.pricebook_export()
    before = list(PricebookItem.objects.order_by("code").values())
    PricebookItem.objects.all().delete()
    token = csv_io.upload_store(text.encode())
    csv_io.import_apply(token=token, actor=office)
    after = list(PricebookItem.objects.order_by("code").values())
    fields = ["code", "name", "kind", "price", "cost", "markup_percent", "member_price", "taxable", "active"]
    assert [{f: i[f] for f in fields} for i in after] == [{f: i[f] for f in fields} for i in before]


def test_apply_writes_the_good_rows_and_leaves_the_problem_rows_out(existing, office):
    token = csv_io.upload_store(
        (
            HEADER + "DR-MAIN,Main line clear,service,,each,325,70,,,no\nBAD,Bad,service,,each,-1,,,,yes\n"
        ).encode()
    )
    plan = csv_io.import_apply(token=token, actor=office)
    assert plan.counts["create"] == 1 and plan.counts["problem"] == 1
    assert set(PricebookItem.objects.values_list("code", flat=True)) == {"WH-50G", "DR-MAIN"}
    with pytest.raises(ApplicationError):  # the stored file is gone once applied
        csv_io.upload_read(token)


def test_apply_writes_nothing_when_one_row_fails_while_writing(existing, office, monkeypatch):
    token = csv_io.upload_store(
        (HEADER + "A-1,First,service,,each,10,,,,yes\nA-2,Second,service,,each,20,,,,yes\n").encode()
    )
    real_create = csv_io.services.item_create

    def create_then_fail_on_the_second(*, data, actor):
        if data.code == "A-2":
            raise ApplicationError("Another item has the code A-2.", field="code")
        return real_create(data=data, actor=actor)

    monkeypatch.setattr(csv_io.services, "item_create", create_then_fail_on_the_second)
    with pytest.raises(ApplicationError) as caught:
        csv_io.import_apply(token=token, actor=office)
    assert "Row 3" in caught.value.message and "Nothing was imported" in caught.value.message
    assert set(PricebookItem.objects.values_list("code", flat=True)) == {"WH-50G"}


def test_the_office_uploads_checks_downloads_the_problems_and_imports(office, client_for, business, existing):
    client = client_for(office)
    response = _upload(
        client,
        HEADER
        + "DR-MAIN,Main line clear,service,,each,325,70,,,no\nBAD,Bad price,service,,each,1.234,,,,yes\n",
    )
    assert response.status_code == 302
    preview_url = response["Location"]
    page = client.get(preview_url)
    assert page.context["counts"] == {"create": 1, "update": 0, "unchanged": 0, "problem": 1}
    assert "more than 2 decimal places" in page.text and "prices.csv" in page.text

    token = page.context["token"]
    report = client.get(reverse("pricebook-import-problems", args=[token]))
    assert report["Content-Disposition"] == 'attachment; filename="prices-problems.csv"'
    lines = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert lines[0][:3] == ["Row", "Outcome", "Problem"] and lines[1][0] == "3" and lines[1][3] == "BAD"

    assert client.post(preview_url).status_code == 302
    assert PricebookItem.objects.filter(code="DR-MAIN", price=Decimal("325.00")).exists()
    assert client.get(preview_url).status_code == 404  # applied once


def test_an_unreadable_upload_is_refused_on_the_form(office, client_for, business):
    response = _upload(client_for(office), "%PDF-1.4 not a csv", name="logo.csv")
    assert response.status_code == 200
    assert "not a CSV file" in " ".join(response.context["form"].errors["file"])


def test_a_made_up_import_token_is_a_404(office, client_for, business):
    client = client_for(office)
    assert client.get(reverse("pricebook-import-preview", args=["..%2F..%2Fetc"])).status_code == 404
    assert client.get(reverse("pricebook-import-preview", args=["0" * 32])).status_code == 404


def test_the_export_downloads_every_item(office, client_for, business, existing):
    response = client_for(office).get(reverse("pricebook-export"))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [
        {
            "Code": "WH-50G",
            "Name": "Water heater 50 gal gas replace",
            "Kind": "service",
            "Category": "",
            "Description": "",
            "Unit": "each",
            "Price": "1895.00",
            "Cost": "910.00",
            "Markup %": "",
            "Member price": "",
            "Taxable": "yes",
            "Active": "yes",
        }
    ]
