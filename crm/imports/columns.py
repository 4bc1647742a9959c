"""Our import fields, and the column names other tools export them under (Jobber, Housecall Pro,
ServiceTitan, spreadsheets). Pure: no database."""

import re
from dataclasses import dataclass

CUSTOMERS = "customers"
LEADS = "leads"
BOTH = (CUSTOMERS, LEADS)


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    aliases: tuple[str, ...]  # in order of preference: the first one present in the file wins
    kinds: tuple[str, ...] = BOTH
    group: str = "Contact"


FIELDS: tuple[Field, ...] = (
    Field("first_name", "First name", ("First Name", "First", "Given Name", "Contact First Name")),
    Field("last_name", "Last name", ("Last Name", "Last", "Surname", "Family Name", "Contact Last Name")),
    Field(
        "full_name",
        "Full name",
        ("Client Name", "Customer Name", "Display Name", "Full Name", "Name", "Contact Name", "Client"),
    ),
    Field("company_name", "Company", ("Company", "Company Name", "Business Name", "Organization")),
    Field(
        "customer_type", "Residential or commercial", ("Customer Type", "Client Type", "Type"), (CUSTOMERS,)
    ),
    Field(
        "mobile_phone",
        "Mobile phone",
        ("Mobile Phone", "Mobile Phone #s", "Mobile Number", "Mobile", "Cell Phone", "Cell", "Cell Number"),
    ),
    Field(
        "phone",
        "Phone",
        ("Phone", "Phone Number", "Main Phone", "Main Phone #s", "Primary Phone", "Phone #", "Telephone"),
    ),
    Field("home_phone", "Home phone", ("Home Phone", "Home Phone #s", "Home Number")),
    Field("work_phone", "Work phone", ("Work Phone", "Work Phone #s", "Work Number", "Business Phone")),
    Field("email", "E-mail", ("Email", "Email Address", "E-mails", "Emails", "Primary Email")),
    Field(
        "street",
        "Street",
        (
            "Service Street",
            "Service Street 1",
            "Service Address",
            "Street",
            "Street 1",
            "Street Address",
            "Address",
            "Address Line 1",
            "Address 1",
            "Address Street",
            "Location Address",
            "Billing Street",
            "Billing Street 1",
        ),
        group="Service address",
    ),
    Field(
        "unit",
        "Unit",
        (
            "Service Street 2",
            "Unit",
            "Street 2",
            "Address Line 2",
            "Address 2",
            "Address Unit",
            "Apt",
            "Suite",
            "Billing Street 2",
        ),
        group="Service address",
    ),
    Field("city", "City", ("Service City", "City", "Address City", "Billing City"), group="Service address"),
    Field(
        "state",
        "State",
        ("Service State", "State", "Province", "State/Province", "Address State", "Billing State"),
        group="Service address",
    ),
    Field(
        "zip_code",
        "ZIP",
        (
            "Service Zip Code",
            "Service Zip",
            "Zip",
            "Zip Code",
            "Postal Code",
            "Zip/Postal Code",
            "Postcode",
            "Address Zip",
            "Billing Zip Code",
            "Billing Zip",
        ),
        group="Service address",
    ),
    Field(
        "past_job_date",
        "Last job date",
        ("Last Job Date", "Last Service Date", "Last Job", "Last Visit Date", "Last Job Completed"),
        (CUSTOMERS,),
        group="History",
    ),
    Field(
        "past_job_total",
        "Last job total or lifetime value",
        ("Job Total", "Last Job Total", "Lifetime Value", "Total Revenue", "Lifetime Revenue", "Total Spent"),
        (CUSTOMERS,),
        group="History",
    ),
    Field(
        "past_job_description",
        "Last job description",
        ("Last Job Description", "Job Description", "Service", "Last Service", "Job Type"),
        (CUSTOMERS,),
        group="History",
    ),
    Field(
        "service",
        "Service asked for",
        ("Service", "Service Type", "Service Requested", "Requested Service", "Job Type", "Work Requested"),
        (LEADS,),
        group="Request",
    ),
    Field(
        "lead_date",
        "Date received",
        ("Lead Date", "Created Date", "Date Created", "Created", "Created On", "Request Date", "Date"),
        (LEADS,),
        group="Request",
    ),
    Field("tags", "Tags", ("Tags", "Tag", "Labels"), group="Notes"),
    Field("lead_source", "Lead source", ("Lead Source", "Source", "Referral Source"), group="Notes"),
    Field("notes", "Notes", ("Notes", "Note", "Comments", "Message", "Description"), group="Notes"),
)


def fields_for(kind: str) -> list[Field]:
    return [f for f in FIELDS if kind in f.kinds]


def header_key(header: str) -> str:
    """'E-mail Address ' -> 'emailaddress': case, spaces and punctuation do not matter."""
    return re.sub(r"[^a-z0-9]", "", header.lower())


def auto_map(headers: list[str], kind: str) -> dict[str, str]:
    """Our field -> the file's column, for the columns whose names we recognise; each column used once."""
    by_key: dict[str, str] = {}
    for header in headers:
        by_key.setdefault(header_key(header), header)
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for field in fields_for(kind):
        for alias in field.aliases:
            header = by_key.get(header_key(alias))
            if header is not None and header not in taken:
                mapping[field.name] = header
                taken.add(header)
                break
    return mapping


def unmapped(headers: list[str], mapping: dict[str, str]) -> list[str]:
    """The file's columns no field takes: they are not imported."""
    used = set(mapping.values())
    return [h for h in headers if h not in used]
