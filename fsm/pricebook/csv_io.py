"""The pricebook as a CSV file: export every item, import a file back.

    pricebook_export() -> text                     every column, one item a row
    upload_store(raw, name) -> token               the uploaded file, kept until it is applied
    import_plan(raw) -> Plan                       every row checked, nothing written: the preview
    import_apply(token, actor) -> Plan             the plan's good rows written in ONE transaction
    problems_csv(plan) -> text                     the rows left out, with the reason, to fix and re-upload

Columns are found by their header (any case, a few other apps' names too). Only Code is required; a
column left out of the file leaves that field alone on existing items. A row whose code exists (in any
case) updates that item, else creates one. A blank cell clears Description, Category, Markup % and Member
price; for the other columns it keeps the item's value (a new item gets the default: service, each,
cost 0, taxable, active). Rows with a problem (bad price, unknown kind, the same code twice...) are left
out and listed; the others go in together or, if anything fails while writing, not at all.
"""

import csv
import io
import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from common.csvfile import read_table, safe_cell, unquote_cell
from common.errors import ApplicationError, NotFound

from . import services
from .models import PricebookItem
from .services import ItemIn, item_values

# (field, header in the export, other headers understood on import)
COLUMNS = [
    ("code", "Code", ("item code", "sku", "part number", "part #", "part no")),
    ("name", "Name", ("item name", "item", "task name")),
    ("kind", "Kind", ("type", "item type")),
    ("category", "Category", ("categories",)),
    ("description", "Description", ("customer description", "task description")),
    ("unit", "Unit", ("uom", "unit of measure")),
    ("price", "Price", ("unit price", "sell price", "rate")),
    ("cost", "Cost", ("unit cost",)),
    ("markup_percent", "Markup %", ("markup", "markup percent", "markup (%)")),
    ("member_price", "Member price", ("member", "member rate")),
    ("taxable", "Taxable", ("tax", "is taxable")),
    ("active", "Active", ("is active", "status")),
]
HEADERS = {name: header for name, header, _ in COLUMNS}
CLEARABLE = {"description", "category", "markup_percent", "member_price"}
KINDS = {
    **{kind: kind for kind in PricebookItem.Kind.values},
    **{f"{k}s": k for k in PricebookItem.Kind.values},
}
YES = {"yes", "y", "true", "t", "1", "x", "active", "taxable"}
NO = {"no", "n", "false", "f", "0", "inactive", "non-taxable", "not taxable"}
MAX_ROWS = 5000
UPLOAD_DIR = "pricebook-imports"
UPLOAD_KEEP = timedelta(days=2)
TOKEN = re.compile(r"^[0-9a-f]{32}$")

CREATE, UPDATE, UNCHANGED, PROBLEM = "create", "update", "unchanged", "problem"


# --- Export ---------------------------------------------------------------------------------------------


def _cell(item: PricebookItem, name: str) -> str:
    value = getattr(item, name)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return ""
    return safe_cell(str(value))


def pricebook_export(items=None) -> str:
    """Every item (or `items`), every column, in the order the import reads them back."""
    items = PricebookItem.objects.order_by("category", "name", "pk") if items is None else items
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS.values())
    for item in items:
        writer.writerow(_cell(item, name) for name in HEADERS)
    return buffer.getvalue()


# --- The stored upload ----------------------------------------------------------------------------------


def _path(token: str) -> str:
    if not TOKEN.match(token or ""):
        raise NotFound("This import is not there any more: upload the file again.")
    return f"{UPLOAD_DIR}/{token}.csv"


def upload_store(raw: bytes) -> str:
    """Keep an uploaded file for its preview and apply; return its token. Old ones are swept."""
    _sweep_old_uploads()
    token = secrets.token_hex(16)
    default_storage.save(_path(token), ContentFile(raw))
    return token


def upload_read(token: str) -> bytes:
    path = _path(token)
    if not default_storage.exists(path):
        raise NotFound("This import is not there any more: upload the file again.")
    with default_storage.open(path, "rb") as handle:
        return handle.read()


def upload_delete(token: str) -> None:
    default_storage.delete(_path(token))


def _sweep_old_uploads() -> None:
    try:
        _, names = default_storage.listdir(UPLOAD_DIR)
    except FileNotFoundError:
        return
    cutoff = timezone.now() - UPLOAD_KEEP
    for name in names:
        path = f"{UPLOAD_DIR}/{name}"
        if default_storage.get_modified_time(path) < cutoff:
            default_storage.delete(path)


# --- The plan (the preview) -----------------------------------------------------------------------------


@dataclass
class Row:
    number: int
    values: list[str]
    code: str = ""
    action: str = PROBLEM
    data: ItemIn | None = None
    active: bool | None = None
    item: PricebookItem | None = None
    changes: list[str] = field(default_factory=list)
    problem: str = ""
    problem_field: str = ""
    checked: dict = field(default_factory=dict)  # the values as they will be saved

    @property
    def label(self) -> str:
        return {CREATE: "New", UPDATE: "Update", UNCHANGED: "Unchanged", PROBLEM: "Not imported"}[self.action]

    @property
    def change_labels(self) -> list[str]:
        return [HEADERS.get(name, name) for name in self.changes]


@dataclass
class Plan:
    headers: list[str]
    mapping: dict[str, int]  # field -> column index
    rows: list[Row]

    @property
    def not_imported(self) -> list[str]:
        used = set(self.mapping.values())
        return [h for i, h in enumerate(self.headers) if i not in used]

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def counts(self) -> dict[str, int]:
        return {action: self.count(action) for action in (CREATE, UPDATE, UNCHANGED, PROBLEM)}

    @property
    def problems(self) -> list[Row]:
        return [row for row in self.rows if row.action == PROBLEM]

    @property
    def to_write(self) -> list[Row]:
        return [row for row in self.rows if row.action in (CREATE, UPDATE)]


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9%#]+", " ", header.lower()).strip()


def match_columns(headers: list[str]) -> dict[str, int]:
    """Our field for each recognised header (the first column wins when two say the same)."""
    known = {}
    for name, header, aliases in COLUMNS:
        for text in (name, header, *aliases):
            known.setdefault(_key(text), name)
    mapping: dict[str, int] = {}
    for index, header in enumerate(headers):
        name = known.get(_key(header))
        if name and name not in mapping:
            mapping[name] = index
    return mapping


def _yes_no(text: str, name: str) -> bool:
    value = text.strip().lower()
    if value in YES:
        return True
    if value in NO:
        return False
    raise ApplicationError(f"{text!r} is not yes or no.", field=name)


def _cells(row_values: list[str], mapping: dict[str, int]) -> dict[str, str]:
    return {name: unquote_cell(row_values[index].strip()) for name, index in mapping.items()}


def _row_data(cells: dict[str, str], item: PricebookItem | None) -> tuple[ItemIn, bool]:
    """The row's values over the item's (or the defaults for a new one); ApplicationError when a cell
    cannot be read."""
    data = ItemIn.of(item) if item else ItemIn(code="", name="", cost="0")
    active = item.active if item else True
    changes = {}
    for name, text in cells.items():
        if name == "active":
            active = _yes_no(text, name) if text else active
        elif name == "taxable":
            changes[name] = _yes_no(text, name) if text else data.taxable
        elif name == "kind":
            changes[name] = KINDS.get(text.lower(), text) if text else data.kind
        elif text or name in CLEARABLE:
            changes[name] = text
    if "markup_percent" in cells and cells["markup_percent"] and "price" in changes:
        changes.pop("price")  # checked against the markup in _check_markup
    return replace(data, **changes), active


def _check_markup(cells: dict[str, str], values: dict) -> None:
    """A row giving both a markup and a price must agree with itself."""
    if not (cells.get("markup_percent") and cells.get("price")):
        return
    given = services.money_in(cells["price"], "price", label="price")
    if given != values["price"]:
        raise ApplicationError(
            f"The price {given} is not the cost plus the markup ({values['price']}): "
            "clear the Markup % cell to set the price by hand.",
            field="price",
        )


def _problem(row: Row, message: str, name: str = "") -> Row:
    row.action, row.problem, row.problem_field = PROBLEM, message, name
    return row


def _label(name: str | None) -> str:
    return f"{HEADERS.get(name, name)}: " if name else ""


def _plan_row(row: Row, mapping: dict[str, int], existing: dict[str, PricebookItem]) -> Row:
    cells = _cells(row.values, mapping)
    row.code = " ".join(cells.get("code", "").split())
    if not row.code:
        return _problem(row, "Code: the code is missing.", "code")
    row.item = existing.get(row.code.lower())
    try:
        row.data, row.active = _row_data(cells, row.item)
        values = item_values(replace(row.data, code=row.code if not row.item else row.item.code))
        _check_markup(cells, values)
    except ApplicationError as error:
        return _problem(row, f"{_label(error.field)}{error.message}", error.field or "")
    row.checked = values
    if row.item is None:
        row.action = CREATE
        return row
    row.data = replace(row.data, code=row.item.code)  # the item keeps its own spelling of the code
    row.changes = [n for n, v in values.items() if getattr(row.item, n) != v]
    row.changes += ["active"] if row.active != row.item.active else []
    row.action = UPDATE if row.changes else UNCHANGED
    return row


def import_plan(raw: bytes) -> Plan:
    """Read and check every row of the file against the pricebook as it is now. Writes nothing."""
    table = read_table(raw, limit=MAX_ROWS, example_headers="Code, Name, Price")
    if len(table.records) > MAX_ROWS:
        raise ApplicationError(f"The file has more than {MAX_ROWS:,} rows: split it.", field="file")
    mapping = match_columns(table.headers)
    if "code" not in mapping:
        raise ApplicationError(
            "The file has no Code column: each row needs the item's code (export the pricebook to see "
            "the columns it reads).",
            field="file",
            code="no_code_column",
        )
    existing = {item.code.lower(): item for item in PricebookItem.objects.all()}
    first_row: dict[str, int] = {}
    rows = []
    for record in table.records:
        row = _plan_row(Row(record.number, record.values), mapping, existing)
        key = row.code.lower()
        if key and key in first_row:
            message = f"Code: {row.code} is also on row {first_row[key]}; a code may be on one row only."
            _problem(row, message, "code")
        elif key:
            first_row[key] = row.number
        rows.append(row)
    return Plan(headers=table.headers, mapping=mapping, rows=rows)


# --- Apply and the problem report -----------------------------------------------------------------------


def _write(row: Row, actor) -> None:
    if row.action == CREATE:
        item = services.item_create(data=row.data, actor=actor)
    else:
        item = services.item_update(item=row.item, data=row.data, actor=actor)
    if row.active is not None and row.active != item.active:
        setter = services.item_reactivate if row.active else services.item_deactivate
        setter(item=item, actor=actor)


def import_apply(*, token: str, actor) -> Plan:
    """Check the stored file again (the pricebook may have changed since the preview) and write its good
    rows in one transaction: all of them or, when one fails, none. The stored file is then removed."""
    services.require_manager(actor)
    plan = import_plan(upload_read(token))
    with transaction.atomic():
        for row in plan.to_write:
            try:
                _write(row, actor)
            except ApplicationError as error:
                raise ApplicationError(
                    f"Row {row.number}: {error.message} Nothing was imported.", field="file"
                ) from None
    upload_delete(token)
    return plan


def problems_csv(plan: Plan) -> str:
    """The rows left out with their original cells, in the leads import's report shape."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Row", "Outcome", "Problem", *plan.headers])
    for row in plan.problems:
        writer.writerow([row.number, row.label, row.problem, *map(safe_cell, row.values)])
    return buffer.getvalue()
