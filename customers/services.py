"""Writes to the customer master. Views, the API, imports, the demo seeder and tests all come here."""

import re
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from common.errors import ApplicationError
from events import services as events

from . import merge
from .models import ConsentEvent, Customer, EmailAddress, PhoneNumber, Property, Tag
from .us_states import US_STATES

CUSTOMER_FIELDS = (
    "kind",
    "first_name",
    "last_name",
    "company_name",
    "notes",
    "tax_exempt",
    "tax_exempt_certificate",
)
PROPERTY_FIELDS = (
    "label",
    "street",
    "unit",
    "city",
    "state",
    "zip_code",
    "latitude",
    "longitude",
    "time_zone",
    "access_notes",
    "is_primary",
    "tax_exempt",
    "tax_exempt_certificate",
)


@dataclass
class PhoneIn:
    number: str
    kind: str = PhoneNumber.Kind.MOBILE
    is_primary: bool = False
    id: int | None = None


@dataclass
class EmailIn:
    email: str
    is_primary: bool = False
    id: int | None = None


@dataclass
class PropertyIn:
    street: str
    city: str
    state: str
    zip_code: str
    label: str = ""
    unit: str = ""
    latitude: Any = None
    longitude: Any = None
    time_zone: str = ""
    access_notes: str = ""
    is_primary: bool = False
    tax_exempt: bool = False
    tax_exempt_certificate: str = ""
    id: int | None = None
    extra: dict = field(default_factory=dict)


_VALID_E164: set[str] = set()  # numbers this process already found valid, as phone_normalize returns them


def phone_normalize(raw: str, *, field_name: str = "phone") -> str:
    """Any human formatting of a phone number to E.164, or a field error. A number already in the E.164
    form this function returned before is not parsed again (an import normalizes each row's numbers,
    then customer_check sees the same numbers)."""
    if raw in _VALID_E164:
        return raw
    try:
        parsed = phonenumbers.parse(str(raw), settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise ApplicationError(
            f"{raw!r} is not a valid phone number.", field=field_name, code="invalid_phone"
        )
    number = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if len(_VALID_E164) > 200_000:
        _VALID_E164.clear()
    _VALID_E164.add(number)
    return number


def email_normalize(raw: str, *, field_name: str = "email") -> str:
    email = (raw or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ApplicationError(
            f"{raw!r} is not a valid e-mail address.", field=field_name, code="invalid_email"
        ) from None
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


@dataclass
class CustomerIn:
    """A new customer as a value: customer_create's arguments, for customers_create_bulk."""

    first_name: str = ""
    last_name: str = ""
    company_name: str = ""
    kind: str = Customer.Kind.RESIDENTIAL
    notes: str = ""
    tax_exempt: bool = False
    tax_exempt_certificate: str = ""
    phones: list[PhoneIn] = field(default_factory=list)
    emails: list[EmailIn] = field(default_factory=list)
    properties: list[PropertyIn] = field(default_factory=list)


@dataclass(frozen=True)
class CheckedCustomer:
    """A CustomerIn that passed customer_check: values stripped, contacts normalized, one primary each."""

    values: dict
    phones: list[PhoneIn]
    emails: list[EmailIn]
    properties: list[PropertyIn]

    def build(self, created_by) -> Customer:
        return Customer(
            **self.values,
            **search_columns(
                first_name=self.values["first_name"],
                last_name=self.values["last_name"],
                company_name=self.values["company_name"],
                phones=[p.number for p in self.phones],
                emails=[e.email for e in self.emails],
                addresses=[f"{p.street} {p.unit} {p.city} {p.zip_code}" for p in self.properties],
            ),
            created_by=created_by,
        )


@dataclass(frozen=True)
class BulkCreated:
    customer: Customer
    properties: list[Property]  # in the order given


def customer_check(item: CustomerIn) -> CheckedCustomer:
    """The rules every new customer passes (a name, known kind, valid and unrepeated phones and e-mails,
    complete US addresses, one primary of each); ApplicationError names the field at fault."""
    values = {name: _stripped(getattr(item, name)) for name in CUSTOMER_FIELDS}
    _validate_customer(values)
    phones, emails = _normalized_phones(item.phones), _normalized_emails(item.emails)
    properties = [_clean_property(p, i) for i, p in enumerate(item.properties)]
    _one_primary(properties)
    return CheckedCustomer(values=values, phones=phones, emails=emails, properties=properties)


def customer_create(
    *,
    actor,
    first_name: str = "",
    last_name: str = "",
    company_name: str = "",
    kind: str = Customer.Kind.RESIDENTIAL,
    notes: str = "",
    tax_exempt: bool = False,
    tax_exempt_certificate: str = "",
    phones: list[PhoneIn] = (),
    emails: list[EmailIn] = (),
    properties: list[PropertyIn] = (),
    actor_label: str = "",
) -> Customer:
    """Create a customer with its phones, e-mails and properties; publishes customer.created."""
    checked = customer_check(
        CustomerIn(
            first_name=first_name,
            last_name=last_name,
            company_name=company_name,
            kind=kind,
            notes=notes,
            tax_exempt=tax_exempt,
            tax_exempt_certificate=tax_exempt_certificate,
            phones=list(phones),
            emails=list(emails),
            properties=list(properties),
        )
    )
    with transaction.atomic(savepoint=False):  # no caller recovers inside its own transaction
        customer = checked.build(actor if actor is not None and actor.is_authenticated else None)
        customer.save(force_insert=True)
        _create_children([(customer, checked)])
        events.publish(
            "customer.created",
            subject=customer,
            actor=actor,
            actor_label=actor_label,
            code="customers.customer.created",
            summary=f"Customer {customer.display_name} created",
            data=_created_data(checked),
        )
    return customer


def _created_data(checked: CheckedCustomer) -> dict:
    return {"phones": [p.number for p in checked.phones], "emails": [e.email for e in checked.emails]}


def customers_create_bulk(
    *, customers: list[CustomerIn | CheckedCustomer], actor, actor_label: str = "", origin: str = ""
) -> list[BulkCreated]:
    """customer_create for many at once (the CSV import): the same rules (customer_check, unless the
    caller already checked), a handful of INSERTs for the whole batch, and customer.created published
    for each (events.publish_many: one fan-out task per batch) with `origin` in its data (e.g.
    "csv-import:42"), so subscribers can tell a migration from customers arriving. All or nothing."""
    checked = [c if isinstance(c, CheckedCustomer) else customer_check(c) for c in customers]
    created_by = actor if actor is not None and actor.is_authenticated else None
    with transaction.atomic(savepoint=False):
        made = Customer.objects.bulk_create([c.build(created_by) for c in checked])
        properties = _create_children(list(zip(made, checked, strict=True)))
        events.publish_many(
            "customer.created",
            [
                events.Publication(
                    subject=m,
                    summary=f"Customer {m.display_name} created",
                    data={**_created_data(c), "origin": origin},
                )
                for m, c in zip(made, checked, strict=True)
            ],
            actor=actor,
            actor_label=actor_label,
            code="customers.customer.created",
        )
    return [BulkCreated(customer=m, properties=p) for m, p in zip(made, properties, strict=True)]


def customer_update(
    *,
    customer: Customer,
    actor,
    phones: list[PhoneIn] | None = None,
    emails: list[EmailIn] | None = None,
    properties: list[PropertyIn] | None = None,
    **values: Any,
) -> Customer:
    """Change a customer. Lists given replace the current ones (items with an id are kept and updated)."""
    unknown = set(values) - set(CUSTOMER_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown field(s): {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    phones = None if phones is None else _normalized_phones(phones)
    emails = None if emails is None else _normalized_emails(emails)
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        if customer.is_merged:
            raise ApplicationError(
                "This customer was merged into another one; edit that one instead.", code="merged"
            )
        values = {k: _stripped(v) for k, v in values.items()}
        changed = {k: [getattr(customer, k), v] for k, v in values.items() if getattr(customer, k) != v}
        for name, (_, new) in changed.items():
            setattr(customer, name, new)
        _validate_customer({k: getattr(customer, k) for k in CUSTOMER_FIELDS})
        customer.save()
        _sync_children(customer, phones, emails, properties)
        customer_refresh_search(customer=customer)
        events.record(
            "customers.customer.updated",
            subject=customer,
            actor=actor,
            summary=f"Customer {customer.display_name} updated",
            data={"changed": changed, "phones": _phone_list(customer), "emails": _email_list(customer)},
        )
    return customer


CUSTOMER_KINDS = frozenset(Customer.Kind.values)
PHONE_KINDS = frozenset(PhoneNumber.Kind.values)


def _stripped(value: Any) -> Any:
    """Text without surrounding blanks (None as ""); flags and numbers as they are."""
    if isinstance(value, bool):
        return value
    return (value or "").strip()


def _validate_customer(values: dict) -> None:
    if values.get("kind") not in CUSTOMER_KINDS:
        raise ApplicationError("Choose residential or commercial.", field="kind")
    if not any((values.get(k) or "").strip() for k in ("first_name", "last_name", "company_name")):
        raise ApplicationError("Give a name or a company name.", field="last_name", code="name_required")
    _check_exemption(
        values.get("tax_exempt", False),
        values.get("tax_exempt_certificate", ""),
        field="tax_exempt_certificate",
    )


def _check_exemption(exempt: bool, certificate: str, *, field: str) -> None:
    """A tax-exempt customer or address needs the certificate's number (it goes on every document)."""
    if exempt and not (certificate or "").strip():
        raise ApplicationError(
            "Enter the exemption certificate number, or untick tax exempt.", field=field, code="certificate"
        )


def _normalized_phones(phones) -> list[PhoneIn]:
    seen, result = set(), []
    for i, phone in enumerate(phones):
        number = phone_normalize(phone.number, field_name=f"phones[{i}].number")
        if phone.kind not in PHONE_KINDS:
            raise ApplicationError("Unknown phone kind.", field=f"phones[{i}].kind")
        if number in seen:
            raise ApplicationError(
                "This number is listed twice.", field=f"phones[{i}].number", code="duplicate"
            )
        seen.add(number)
        result.append(PhoneIn(number=number, kind=phone.kind, is_primary=phone.is_primary, id=phone.id))
    _one_primary(result)
    return result


def _normalized_emails(emails) -> list[EmailIn]:
    seen, result = set(), []
    for i, item in enumerate(emails):
        email = email_normalize(item.email, field_name=f"emails[{i}].email")
        if email.lower() in seen:
            raise ApplicationError(
                "This address is listed twice.", field=f"emails[{i}].email", code="duplicate"
            )
        seen.add(email.lower())
        result.append(EmailIn(email=email, is_primary=item.is_primary, id=item.id))
    _one_primary(result)
    return result


def _one_primary(items: list) -> None:
    if items and not any(i.is_primary for i in items):
        items[0].is_primary = True
    first = next((i for i in items if i.is_primary), None)
    for item in items:
        item.is_primary = item is first


def _sync_children(customer: Customer, phones, emails, properties) -> None:
    if phones is not None:
        _sync(customer, customer.phones, phones, ("number", "kind", "is_primary"), "phones")
    if emails is not None:
        _sync(customer, customer.emails, emails, ("email", "is_primary"), "emails")
    if properties is not None:
        properties = [_clean_property(p, i) for i, p in enumerate(properties)]
        _one_primary(properties)
        _sync_properties(customer, properties)


def _create_children(made: list[tuple[Customer, CheckedCustomer]]) -> list[list[Property]]:
    """New customers' phones, e-mails and properties: one INSERT each, for one customer (a lead from a
    missed call is on the speed-to-lead path) or a whole import batch. Returns each one's properties."""
    PhoneNumber.objects.bulk_create(
        PhoneNumber(customer=m, number=p.number, kind=p.kind, is_primary=p.is_primary)
        for m, c in made
        for p in c.phones
    )
    EmailAddress.objects.bulk_create(
        EmailAddress(customer=m, email=e.email, is_primary=e.is_primary) for m, c in made for e in c.emails
    )
    properties = [
        [Property(customer=m, **{name: getattr(p, name) for name in PROPERTY_FIELDS}) for p in c.properties]
        for m, c in made
    ]
    Property.objects.bulk_create(p for group in properties for p in group)
    return properties


def _sync(customer: Customer, manager, items, fields: tuple[str, ...], label: str) -> None:
    existing = {obj.pk: obj for obj in manager.all()}
    keep = {item.id for item in items if item.id}
    if keep - set(existing):
        raise ApplicationError(f"One of the {label} does not belong to this customer.", field=label)
    manager.exclude(pk__in=keep).delete()
    for item in items:
        obj = existing.get(item.id) or manager.model(customer=customer)
        for name in fields:
            setattr(obj, name, getattr(item, name))
        obj.save()


def _clean_property(prop: PropertyIn, i: int) -> PropertyIn:
    for name in ("street", "city", "state", "zip_code"):
        value = (getattr(prop, name) or "").strip()
        if not value:
            raise ApplicationError("This field is required.", field=f"properties[{i}].{name}")
        setattr(prop, name, value)
    prop.state = state_normalize(prop.state)
    if not re.fullmatch(r"[A-Z]{2}", prop.state):
        raise ApplicationError("Use the two-letter state code.", field=f"properties[{i}].state")
    if not re.fullmatch(r"\d{5}(-\d{4})?", prop.zip_code):
        raise ApplicationError("Use a 5-digit ZIP code.", field=f"properties[{i}].zip_code")
    prop.tax_exempt_certificate = (prop.tax_exempt_certificate or "").strip()
    _check_exemption(
        prop.tax_exempt, prop.tax_exempt_certificate, field=f"properties[{i}].tax_exempt_certificate"
    )
    return prop


def _sync_properties(customer: Customer, properties: list[PropertyIn]) -> None:
    existing = {p.pk: p for p in customer.properties.all()}
    keep = {p.id for p in properties if p.id}
    if keep - set(existing):
        raise ApplicationError("One of the properties does not belong to this customer.", field="properties")
    removed = [p for pk, p in existing.items() if pk not in keep]
    for prop in removed:
        if merge.has_dependents(prop):
            raise ApplicationError(
                f"{prop.one_line} has jobs or history and cannot be removed.",
                field="properties",
                code="protected",
            )
        prop.delete()
    for item in properties:
        obj = existing.get(item.id) or Property(customer=customer)
        for name in PROPERTY_FIELDS:
            setattr(obj, name, getattr(item, name))
        obj.save()


def search_columns(
    *,
    first_name: str,
    last_name: str,
    company_name: str,
    phones: list[str],
    emails: list[str],
    addresses: list[str],
) -> dict[str, str]:
    """The normalized search columns of a customer (a pure function; bench/ uses it for bulk loads)."""
    parts = [first_name, last_name, company_name, *emails, *addresses]
    sort_name = (last_name or company_name or first_name).lower()
    return {
        "search_text": " ".join(" ".join(parts).lower().split()),
        "search_digits": " ".join(re.sub(r"\D", "", p) for p in phones),
        "sort_name": f"{sort_name} {first_name.lower()}".strip()[:200],
    }


def customer_refresh_search(*, customer: Customer) -> None:
    """Recompute the normalized search columns from the customer and its children."""
    columns = search_columns(
        first_name=customer.first_name,
        last_name=customer.last_name,
        company_name=customer.company_name,
        phones=[p.number.as_e164 for p in customer.phones.all()],
        emails=[e.email for e in customer.emails.all()],
        addresses=[f"{p.street} {p.unit} {p.city} {p.zip_code}" for p in customer.properties.all()],
    )
    Customer.objects.filter(pk=customer.pk).update(**columns)
    for name, value in columns.items():
        setattr(customer, name, value)


def customer_merge(*, survivor: Customer, duplicate: Customer, actor) -> Customer:
    """Fold `duplicate` into `survivor`: everything that points at the duplicate ends up on the survivor."""
    if survivor.pk == duplicate.pk:
        raise ApplicationError("A customer cannot be merged into itself.", field="duplicate", code="same")
    with transaction.atomic():
        locked = {
            c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=[survivor.pk, duplicate.pk])
        }
        survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]
        if survivor.is_merged:
            raise ApplicationError(
                "The customer to keep was itself merged away.", field="survivor", code="already_merged"
            )
        if duplicate.is_merged:
            raise ApplicationError(
                "That customer was already merged.", field="duplicate", code="already_merged"
            )
        moved = merge.move_references(source=duplicate, target=survivor)
        for name in ("first_name", "last_name", "company_name"):
            if not getattr(survivor, name) and getattr(duplicate, name):
                setattr(survivor, name, getattr(duplicate, name))
        if duplicate.notes:
            survivor.notes = "\n\n".join(n for n in (survivor.notes, duplicate.notes) if n)
        survivor.save()
        duplicate.merged_into, duplicate.merged_at = survivor, timezone.now()
        duplicate.save(update_fields=["merged_into", "merged_at", "updated_at"])
        _one_primary_in_db(survivor)
        customer_refresh_search(customer=survivor)
        customer_refresh_search(customer=duplicate)
        events.publish(
            "customer.merged",
            subject=survivor,
            actor=actor,
            code="customers.customer.merged",
            links=[duplicate],
            summary=f"{duplicate.display_name} (#{duplicate.pk}) merged into this customer",
            data={"survivor_id": survivor.pk, "duplicate_id": duplicate.pk, "moved": moved},
        )
    return survivor


# --- Tags ---------------------------------------------------------------------------------------------

MAX_TAGS = 20
TAG_LENGTH = 40  # Tag.name's max_length


def tags_normalize(names: str | list[str]) -> list[str]:
    """Tag names from a comma-separated string or a list: trimmed, inner spaces collapsed, one per name
    whatever the case (the first spelling kept), at most `MAX_TAGS` of at most 40 characters each."""
    if isinstance(names, str):
        names = names.replace("\n", ",").split(",")
    cleaned: dict[str, str] = {}
    for raw in names:
        name = " ".join(str(raw).split())
        if not name:
            continue
        if len(name) > TAG_LENGTH:
            raise ApplicationError(
                f"Keep a tag under {TAG_LENGTH} characters: {name[:TAG_LENGTH]}…", field="tags"
            )
        cleaned.setdefault(name.lower(), name)
    if len(cleaned) > MAX_TAGS:
        raise ApplicationError(f"At most {MAX_TAGS} tags on a customer.", field="tags")
    return list(cleaned.values())


def tags_for(names: list[str]) -> list[Tag]:
    """The tags with these names, made when new; an existing tag keeps its own spelling."""
    known = _tags_named(names)
    missing = [name for name in names if name.lower() not in known]
    if missing:
        Tag.objects.bulk_create([Tag(name=name) for name in missing], ignore_conflicts=True)
        known |= _tags_named(missing)
    return [known[name.lower()] for name in names]


def _tags_named(names: list[str]) -> dict[str, Tag]:
    lowered = [name.lower() for name in names]
    found = Tag.objects.annotate(lowered=Lower("name")).filter(lowered__in=lowered)
    return {tag.lowered: tag for tag in found}


def customers_tags_add(*, names_by_customer: dict[int, list[str]]) -> int:
    """Add tags to many customers at once (an import: what each already carries stays), in a handful of
    statements whatever the number; the names already normalized. The caller records the activity."""
    tags = {
        tag.name.lower(): tag
        for tag in tags_for(sorted({n for names in names_by_customer.values() for n in names}))
    }
    links = [
        Customer.tags.through(customer_id=customer_id, tag_id=tags[name.lower()].pk)
        for customer_id, names in names_by_customer.items()
        for name in names
    ]
    return len(Customer.tags.through.objects.bulk_create(links, ignore_conflicts=True))


def customer_tags_set(*, customer: Customer, names: str | list[str], actor) -> list[Tag]:
    """Put exactly these tags on the customer (new names become tags); the change on its timeline."""
    names = tags_normalize(names)
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        if customer.is_merged:
            raise ApplicationError("This customer was merged into another one; tag that one.", code="merged")
        before = {tag.pk: tag.name for tag in customer.tags.all()}
        tags = tags_for(names)
        customer.tags.set(tags)
        after = {tag.pk: tag.name for tag in tags}
        added = [name for pk, name in after.items() if pk not in before]
        removed = [name for pk, name in before.items() if pk not in after]
        if added or removed:
            changes = [f"+{name}" for name in added] + [f"-{name}" for name in removed]
            events.record(
                "customers.customer.tagged",
                subject=customer,
                actor=actor,
                summary="Tags " + ", ".join(changes),
                data={"added": added, "removed": removed},
            )
    return sorted(tags, key=lambda tag: tag.name.lower())


def _one_primary_in_db(customer: Customer) -> None:
    for manager in (customer.phones, customer.emails, customer.properties):
        primaries = list(manager.filter(is_primary=True).order_by("pk").values_list("pk", flat=True))
        if len(primaries) > 1:
            manager.filter(pk__in=primaries[1:]).update(is_primary=False)


def _phone_list(customer: Customer) -> list[str]:
    return [p.number.as_e164 for p in customer.phones.all()]


def _email_list(customer: Customer) -> list[str]:
    return [e.email for e in customer.emails.all()]


def customer_add_contacts(
    *, customer: Customer, actor=None, actor_label: str = "", phones: list[str] = (), emails: list[str] = ()
) -> list[str]:
    """Add the phones (E.164) and e-mails a customer does not have yet; returns what was added."""
    have_phones = {p.number.as_e164 for p in customer.phones.all()}
    have_emails = {e.email.lower() for e in customer.emails.all()}
    added = []
    for number in phones:
        if number and number not in have_phones:
            PhoneNumber.objects.create(customer=customer, number=number, is_primary=not have_phones)
            have_phones.add(number)
            added.append(number)
    for email in emails:
        if email and email.lower() not in have_emails:
            EmailAddress.objects.create(customer=customer, email=email, is_primary=not have_emails)
            have_emails.add(email.lower())
            added.append(email)
    if added:
        customer_refresh_search(customer=customer)
        events.record(
            "customers.customer.contacts_added",
            subject=customer,
            actor=actor,
            actor_label=actor_label,
            summary=f"Added {', '.join(added)}",
            data={"added": added},
        )
    return added


def state_normalize(value: str) -> str:
    """'Texas', 'texas', ' tx ' -> 'TX'; anything else upper-cased (and then validated)."""
    value = (value or "").strip()
    return US_STATES.get(value.lower(), value.upper())


def address_key(street: str, zip_code: str) -> str:
    """Street and ZIP, spelling-insensitive: two addresses with the same key are one property."""
    return f"{' '.join(re.sub(r'[^a-z0-9 ]', '', street.lower()).split())}|{zip_code[:5]}"


def property_find_or_add(
    *, customer: Customer, address: PropertyIn, actor=None, actor_label: str = ""
) -> Property:
    """The customer's property at this street and ZIP, added when it is new."""
    cleaned = _clean_property(address, 0)
    key = address_key(cleaned.street, cleaned.zip_code)
    for prop in customer.properties.all():
        if address_key(prop.street, prop.zip_code) == key:
            return prop
    prop = Property.objects.create(
        customer=customer,
        is_primary=not customer.properties.exists(),
        **{name: getattr(cleaned, name) for name in PROPERTY_FIELDS if name != "is_primary"},
    )
    customer_refresh_search(customer=customer)
    events.record(
        "customers.property.added",
        subject=prop,
        actor=actor,
        actor_label=actor_label,
        links=[customer],
        summary=f"Service address added: {prop.one_line}",
    )
    return prop


CONSENT_TO_PHONE_STATE = {
    ConsentEvent.State.OPTED_IN: PhoneNumber.Consent.OPTED_IN,
    ConsentEvent.State.OPTED_OUT: PhoneNumber.Consent.OPTED_OUT,
}


def consent_record(
    *, number: str, state: str, method: str, purpose: str = "all", evidence: dict | None = None, actor=None
) -> ConsentEvent:
    """Write one consent ledger row for a number and apply it to every customer that lists the number."""
    now = timezone.now()
    with transaction.atomic():
        phones = list(
            PhoneNumber.objects.select_for_update().filter(number=number).select_related("customer")
        )
        customer = phones[0].customer if phones else None
        event = ConsentEvent.objects.create(
            number=number,
            customer=customer,
            state=state,
            method=method,
            purpose=purpose,
            evidence=evidence or {},
            actor=actor if actor is not None and actor.is_authenticated else None,
        )
        for phone in phones:
            _apply_consent(phone, state, method, now)
            events.record(
                f"customers.consent.{state}",
                subject=phone.customer,
                actor=actor,
                actor_label="" if actor else method,
                summary=f"{phone.number.as_national}: {ConsentEvent.State(state).label} ({method})",
                data={"number": number, "method": method, "purpose": purpose, **(evidence or {})},
            )
    return event


def _apply_consent(phone: PhoneNumber, state: str, method: str, now) -> None:
    if state in CONSENT_TO_PHONE_STATE:
        phone.sms_consent = CONSENT_TO_PHONE_STATE[state]
        phone.consent_changed_at, phone.consent_method = now, method
        if state == ConsentEvent.State.OPTED_IN:
            phone.revocation_flagged_at = None
    elif state == ConsentEvent.State.REVOCATION_FLAGGED:
        phone.revocation_flagged_at = now
    elif state == ConsentEvent.State.REVOCATION_CLEARED:
        phone.revocation_flagged_at = None
    elif state == ConsentEvent.State.NOT_TEXTABLE:
        phone.textable = False
    phone.save(
        update_fields=[
            "sms_consent",
            "consent_changed_at",
            "consent_method",
            "revocation_flagged_at",
            "textable",
        ]
    )


def consent_check(*, number: str, purpose: str) -> str:
    """'' when `number` may get a text for `purpose` (care, marketing, automated, keyword), else why not.

    Read from the ledger alone (one query): every consent change is a ledger row, newest first.
    """
    states = list(
        ConsentEvent.objects.filter(number=number)
        .order_by("-created_at", "-pk")
        .values_list("state", flat=True)[:100]
    )
    return _refusal(states, purpose)


def consent_check_many(*, numbers: list[str], purpose: str) -> dict[str, str]:
    """`consent_check` for many numbers in one query: number -> '' or why not."""
    states: dict[str, list[str]] = {number: [] for number in numbers}
    rows = (
        ConsentEvent.objects.filter(number__in=list(states))
        .order_by("-created_at", "-pk")
        .values_list("number", "state")
    )
    for number, state in rows:
        states.setdefault(getattr(number, "as_e164", str(number)), []).append(state)
    return {number: _refusal(states[number], purpose) for number in numbers}


def _refusal(states: list[str], purpose: str) -> str:
    """What the ledger's states for one number (newest first) say about a text for `purpose`."""
    State = ConsentEvent.State
    opt = next((s for s in states if s in (State.OPTED_IN, State.OPTED_OUT)), None)
    if opt == State.OPTED_OUT:
        return "opted out"
    if State.NOT_TEXTABLE in states:
        return "not a mobile number"
    flag = next(
        (s for s in states if s in (State.REVOCATION_FLAGGED, State.REVOCATION_CLEARED, State.OPTED_IN)), None
    )
    if purpose in ("marketing", "automated") and flag == State.REVOCATION_FLAGGED:
        return "asked to stop; a person must clear the flag first"
    if purpose == "marketing" and opt != State.OPTED_IN:
        return "no marketing consent"
    return ""
