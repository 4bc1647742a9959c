"""Demo business and one user per role (three technicians)."""

import io
import math

from django.core.files.base import ContentFile
from PIL import Image, ImageDraw

from .models import Business, PaymentTerms
from .roles import Role
from .services import business_update, tax_rate_create, user_create

AUSTIN_ZIPS = [
    "78701",
    "78702",
    "78703",
    "78704",
    "78745",
    "78748",
    "78749",
    "78750",
    "78757",
    "78758",
    "78759",
    "78613",
    "78660",
    "78664",
    "78665",
    "78681",
    "78626",
    "78628",
]

DEMO_USERS = [
    ("owner", Role.OWNER, "Dana", "Whitfield"),
    ("office", Role.OFFICE, "Maria", "Delgado"),
    ("dispatcher", Role.DISPATCHER, "Sam", "Okafor"),
    ("tech1", Role.TECHNICIAN, "Jake", "Morrison"),
    ("tech2", Role.TECHNICIAN, "Luis", "Herrera"),
    ("tech3", Role.TECHNICIAN, "Priya", "Natarajan"),
]


ESTIMATE_TERMS = """\
This estimate is valid for 30 days from the date above. Prices include labor, materials and haul-away of \
replaced equipment unless a line says otherwise.
A 50% deposit is due when you accept an estimate over $2,500; the balance is due when the work is done.
Work that turns out to need more than this estimate describes (hidden damage, code corrections required by \
the city inspector) is quoted to you in writing before we do it.
Equipment carries the manufacturer's warranty; our workmanship is guaranteed for one year."""

INVOICE_TERMS = """\
Payment is due on receipt. We accept Visa, Mastercard, American Express, Discover, checks payable to \
Lone Star Comfort & Plumbing LLC, and ACH.
Balances unpaid after 30 days are charged 1.5% per month.
Questions about this invoice? Call (512) 555-0100 or reply to the e-mail it came with."""

TAX_RATES = [  # (name, percent, default)
    ("Texas + Austin", "8.25", True),
    ("Texas state only", "6.25", False),
]


def seed(*, rng, log, password: str, **_):
    business = Business.objects.create(
        name="Lone Star Comfort & Plumbing",
        time_zone="America/Chicago",
        phone="+15125550100",
        email="office@lonestarcomfort.example",
        website="https://lonestarcomfort.example",
        service_area_zip_codes=AUSTIN_ZIPS,
    )
    users = {
        username: user_create(
            username=username,
            password=password,
            role=role,
            first_name=first,
            last_name=last,
            email=f"{username}@lonestarcomfort.example",
        )
        for username, role, first, last in DEMO_USERS
    }
    owner = users["owner"]
    business_update(
        business=business,
        actor=owner,
        logo=ContentFile(demo_logo(), name="logo.png"),
        legal_name="Lone Star Comfort & Plumbing LLC",
        license_number="TACLA00123456C",
        street="4410 S Congress Ave, Suite 200",
        city="Austin",
        state="TX",
        zip_code="78745",
        estimate_terms=ESTIMATE_TERMS,
        invoice_terms=INVOICE_TERMS,
        payment_terms_days=PaymentTerms.DUE_ON_RECEIPT,  # residential customers pay when the job is done
        estimate_valid_days=30,
    )
    for name, percent, default in TAX_RATES:
        tax_rate_create(name=name, percent=percent, is_default=default, actor=owner)
    log(f"Business, {len(TAX_RATES)} tax rates and {len(DEMO_USERS)} users (password {password!r}).")


def demo_logo() -> bytes:
    """A simple mark drawn here (no image files in the repo): a house in a blue tile with a star."""
    size, blue, white = 240, (15, 98, 174), (255, 255, 255)
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=44, fill=blue)
    draw.polygon([(120, 36), (204, 116), (180, 116), (180, 196), (60, 196), (60, 116), (36, 116)], fill=white)
    star = [
        (120 + r * math.sin(math.radians(36 * i)), 146 - r * math.cos(math.radians(36 * i)))
        for i, r in zip(range(10), [30, 12] * 5, strict=True)
    ]
    draw.polygon(star, fill=blue)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
