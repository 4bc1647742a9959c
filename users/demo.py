"""Demo business and one user per role (three technicians)."""

from .models import Business
from .roles import Role
from .services import user_create

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


def seed(*, rng, log, password: str, **_):
    Business.objects.create(
        name="Lone Star Comfort & Plumbing",
        time_zone="America/Chicago",
        phone="+15125550100",
        email="office@lonestarcomfort.example",
        website="https://lonestarcomfort.example",
        service_area_zip_codes=AUSTIN_ZIPS,
    )
    for username, role, first, last in DEMO_USERS:
        user_create(
            username=username,
            password=password,
            role=role,
            first_name=first,
            last_name=last,
            email=f"{username}@lonestarcomfort.example",
        )
    log(f"Business and {len(DEMO_USERS)} users (password {password!r}).")
