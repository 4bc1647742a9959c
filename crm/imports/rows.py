"""One CSV row as it will be imported: cleaned values, what had to be dropped, and its content hash.

Pure functions: no database. A row has `problems` (a value was dropped, the row is still imported) and
at most one `error` (the row cannot be imported at all).
"""

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from common.csvfile import Record
from common.errors import ApplicationError
from customers.models import Customer, PhoneNumber
from customers.services import (
    MAX_TAGS,
    TAG_LENGTH,
    PropertyIn,
    email_normalize,
    phone_normalize,
    tags_normalize,
)
from customers.us_states import US_STATES

from .columns import CUSTOMERS, LEADS

CENTS = Decimal("0.01")
MAX_TOTAL = Decimal("9999999999.99")
PHONE_FIELDS = (
    ("mobile_phone", PhoneNumber.Kind.MOBILE),
    ("phone", PhoneNumber.Kind.MOBILE),
    ("home_phone", PhoneNumber.Kind.HOME),
    ("work_phone", PhoneNumber.Kind.WORK),
)
DATE_FORMATS = (
    "%m/%d/%Y",
    "%m/%d/%y",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%m-%d-%Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d %b %Y",
)
FULL_ADDRESS = re.compile(
    r"^(?P<street>[^,]+),\s*(?P<city>[^,]+),\s*(?P<state>[A-Za-z .]+?)\s+(?P<zip>[\d-]+)$"
)


@dataclass
class PastJobIn:
    service_date: date | None
    total: Decimal | None
    description: str


@dataclass
class RowIn:
    number: int
    values: dict[str, str]  # our field -> the cell, whitespace-trimmed (mapped fields only)
    row_hash: str = ""
    kind: str = Customer.Kind.RESIDENTIAL
    first_name: str = ""
    last_name: str = ""
    company_name: str = ""
    phones: list[tuple[str, str]] = field(default_factory=list)  # (E.164, kind)
    emails: list[str] = field(default_factory=list)
    address: PropertyIn | None = None
    past_job: PastJobIn | None = None
    notes: str = ""
    tags: list[str] = field(default_factory=list)
    service: str = ""
    lead_date: date | None = None
    problems: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def has_name(self) -> bool:
        return bool(self.first_name or self.last_name or self.company_name)

    @property
    def contact_keys(self) -> list[str]:
        return [p for p, _ in self.phones] + [e.lower() for e in self.emails]

    @property
    def display_name(self) -> str:
        person = f"{self.first_name} {self.last_name}".strip()
        if self.kind == Customer.Kind.COMMERCIAL and self.company_name:
            return self.company_name
        return person or self.company_name


def cells_for(record: Record, headers: list[str], mapping: dict[str, str]) -> dict[str, str]:
    index = {h: i for i, h in enumerate(headers)}
    values = {}
    for name, header in mapping.items():
        if header in index:
            cell = record.values[index[header]].strip()
            values[name] = _lines(cell) if name == "notes" else " ".join(cell.split())
    return values


def _lines(cell: str) -> str:
    return "\n".join(" ".join(line.split()) for line in cell.splitlines() if line.strip())


def row_hash(kind: str, values: dict[str, str]) -> str:
    """The row's content, whatever the column order or letter case: the same row hashes the same."""
    content = sorted((k, " ".join(v.lower().split())) for k, v in values.items() if v)
    return hashlib.sha256(json.dumps([kind, content]).encode()).hexdigest()


def parse_row(record: Record, headers: list[str], mapping: dict[str, str], import_kind: str) -> RowIn:
    values = cells_for(record, headers, mapping)
    row = RowIn(number=record.number, values=values, row_hash=row_hash(import_kind, values))
    _names(row)
    _phones(row)
    _emails(row)
    _address(row)
    if import_kind == CUSTOMERS:
        _past_job(row)
        _tags(row)
        row.notes = _notes({k: v for k, v in values.items() if k != "tags"})  # tags are tags now
    else:
        row.service = values.get("service", "")[:200]
        row.notes = _notes(values)
        row.lead_date = _date(row, "lead_date", "date received")
    _check_identity(row, import_kind)
    return row


def _names(row: RowIn) -> None:
    v = row.values
    first, last = v.get("first_name", ""), v.get("last_name", "")
    company = v.get("company_name", "")
    full = v.get("full_name", "")
    if not (first or last) and full and full.lower() != company.lower():
        first, last = _split_name(full)
    row.first_name, row.last_name, row.company_name = first[:100], last[:100], company[:200]
    kind = v.get("customer_type", "").lower()
    commercial = kind.startswith(("com", "bus")) or (not kind and company and not (first or last))
    row.kind = Customer.Kind.COMMERCIAL if commercial else Customer.Kind.RESIDENTIAL


def _split_name(full: str) -> tuple[str, str]:
    if "," in full:  # "Ruiz, Ana"
        last, _, first = full.partition(",")
        return first.strip(), last.strip()
    first, _, last = full.rpartition(" ")
    return (first, last) if first else (last, "")


def _split_list(cell: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;,\n]| / ", cell) if part.strip()]


def _phones(row: RowIn) -> None:
    seen = set()
    for name, kind in PHONE_FIELDS:
        for raw in _split_list(row.values.get(name, "")):
            try:
                number = phone_normalize(raw)
            except ApplicationError:
                row.problems.append(f"Bad phone number {raw!r}: left out.")
                continue
            if number not in seen:
                seen.add(number)
                row.phones.append((number, kind))


def _emails(row: RowIn) -> None:
    seen = set()
    for raw in _split_list(row.values.get("email", "").replace(" ", ",")):
        try:
            email = email_normalize(raw)
        except ApplicationError:
            row.problems.append(f"Bad e-mail address {raw!r}: left out.")
            continue
        if len(email) <= 254 and email.lower() not in seen:
            seen.add(email.lower())
            row.emails.append(email)


def _address(row: RowIn) -> None:
    v = row.values
    street, unit, city = v.get("street", ""), v.get("unit", ""), v.get("city", "")
    state, zip_code = v.get("state", ""), v.get("zip_code", "")
    if not any((street, city, state, zip_code)):
        return
    if street and not (city or state or zip_code) and (found := FULL_ADDRESS.match(street)):
        street, city, state, zip_code = found["street"], found["city"], found["state"], found["zip"]
    missing = [label for label, value in (("street", street), ("city", city), ("state", state)) if not value]
    if not zip_code:
        missing.append("ZIP")
    if missing:
        row.problems.append(f"Address without {', '.join(missing)}: address left out.")
        return
    state_code = _state(state)
    zip_clean = _zip(zip_code)
    if state_code is None:
        row.problems.append(f"Bad state {state!r}: address left out.")
    elif zip_clean is None:
        row.problems.append(f"Bad ZIP {zip_code!r}: address left out.")
    else:
        row.address = PropertyIn(
            street=street[:200], unit=unit[:40], city=city[:100], state=state_code, zip_code=zip_clean
        )


def _state(value: str) -> str | None:
    cleaned = value.strip(" .").lower()
    if re.fullmatch(r"[a-z]{2}", cleaned):
        return cleaned.upper()
    return US_STATES.get(" ".join(cleaned.split()))


def _zip(value: str) -> str | None:
    digits = re.sub(r"\s", "", value)
    if re.fullmatch(r"\d{5}(-\d{4})?", digits):
        return digits
    if re.fullmatch(r"\d{9}", digits):
        return f"{digits[:5]}-{digits[5:]}"
    if re.fullmatch(r"\d{4}", digits):  # a spreadsheet dropped the leading zero (New England)
        return f"0{digits}"
    return None


def _date(row: RowIn, name: str, label: str) -> date | None:
    raw = row.values.get(name, "")
    if not raw:
        return None
    parsed = parse_date(raw)
    if parsed is None:
        row.problems.append(f"Bad {label} {raw!r}: left out.")
    return parsed


def parse_date(raw: str) -> date | None:
    candidates = [raw, raw.split(" ")[0], raw.split("T")[0]]
    for text in candidates:
        for fmt in DATE_FORMATS:
            try:
                return datetime.strptime(text, fmt).date()  # noqa: DTZ007 (a calendar date, no time)
            except ValueError:
                continue
    return None


def parse_amount(raw: str) -> Decimal | None:
    cleaned = re.sub(r"[\s$,]|USD", "", raw)
    try:
        amount = Decimal(cleaned).quantize(CENTS, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return None
    return amount if Decimal("0.00") <= amount <= MAX_TOTAL else None


def _past_job(row: RowIn) -> None:
    service_date = _date(row, "past_job_date", "last job date")
    total = None
    raw_total = row.values.get("past_job_total", "")
    if raw_total:
        total = parse_amount(raw_total)
        if total is None:
            row.problems.append(f"Bad amount {raw_total!r}: left out.")
    if service_date or total is not None:
        description = row.values.get("past_job_description", "") or "Work before this system (imported)"
        row.past_job = PastJobIn(service_date=service_date, total=total, description=description[:300])


def _tags(row: RowIn) -> None:
    """The Tags cell ("VIP, Member" or "VIP; Member") as the customer's tags; one too long is cut."""
    names = [name for name in re.split(r"[,;]", row.values.get("tags", "")) if name.strip()]
    cut = [name.strip() for name in names if len(name.strip()) > TAG_LENGTH]
    if cut:
        row.problems.append(f"Tag cut to {TAG_LENGTH} characters: {cut[0][:TAG_LENGTH]}…")
    try:
        row.tags = tags_normalize([name.strip()[:TAG_LENGTH] for name in names])
    except ApplicationError as error:  # more than a customer carries: the first ones kept
        row.tags = tags_normalize([name.strip()[:TAG_LENGTH] for name in names][:MAX_TAGS])
        row.problems.append(error.message)


def _notes(values: dict[str, str]) -> str:
    parts = [values.get("notes", "")]
    if values.get("tags"):
        parts.append(f"Tags: {values['tags']}")
    if values.get("lead_source"):
        parts.append(f"Lead source: {values['lead_source']}")
    return "\n".join(p for p in parts if p)[:5000]


def _check_identity(row: RowIn, import_kind: str) -> None:
    has_contact = bool(row.phones or row.emails)
    if import_kind == LEADS and not has_contact:
        row.error = "No valid phone number or e-mail address: a lead needs one."
    elif not (row.has_name or has_contact):
        row.error = "No name and no valid phone number or e-mail address."
    elif import_kind == CUSTOMERS and not row.has_name:
        # named the way crm.services.lead_capture names a customer it knows only by a number
        row.first_name, row.last_name = "Unknown", row.contact_keys[0]
        row.problems.append(f"No name: saved as {row.display_name!r}.")
