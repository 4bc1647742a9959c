"""Roles are auth groups. Each role has a home page and a navigation; views declare who may use them."""

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    OFFICE = "office", "Office"
    DISPATCHER = "dispatcher", "Dispatcher"
    TECHNICIAN = "technician", "Technician"


STAFF_ROLES = (Role.OWNER, Role.OFFICE)
ALL_ROLES = tuple(Role)

# The model permissions each role's group carries (app_label.codename). Admin and API checks read these.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.OWNER: [
        "customers.view_customer",
        "customers.add_customer",
        "customers.change_customer",
        "customers.merge_customer",
        "customers.view_property",
        "customers.add_property",
        "customers.change_property",
        "events.view_event",
        "events.view_delivery",
        "events.change_delivery",
    ],
    Role.OFFICE: [
        "customers.view_customer",
        "customers.add_customer",
        "customers.change_customer",
        "customers.merge_customer",
        "customers.view_property",
        "customers.add_property",
        "customers.change_property",
        "events.view_event",
        "events.view_delivery",
        "events.change_delivery",
    ],
    Role.DISPATCHER: ["customers.view_customer", "customers.view_property", "events.view_event"],
    Role.TECHNICIAN: [],
}

HOME_URL_NAMES = {
    Role.OWNER: "dashboard",
    Role.OFFICE: "customers:list",
    Role.DISPATCHER: "dispatch-board",
    Role.TECHNICIAN: "my-day",
}

# Pages reached from a section's hub that live under another section's URL prefix (the marketing
# pages are under /leads/): the nav marks the hub's item, not "Leads".
NAVIGATION_SECTIONS: dict[str, tuple[str, ...]] = {
    "crm:marketing": (
        "crm:report",
        "crm:sources",
        "crm:campaigns",
        "crm:settings",
        "crm:messaging-settings",
        "crm:webform-list",
        "crm:import-list",
        "crm:segments",
        "crm:outreaches",
        "automations:list",
        "review-report",
    ),
    "users:settings": ("review-settings", "automation-settings"),
    "invoice-list": ("payment-list",),
}

# Shown in the account menu (under the user's name) rather than in the bar: visited rarely, and the bar
# must fit a 1280-1440 px screen.
ACCOUNT_MENU = frozenset({"events:exceptions", "finance:hub", "finance:ar-aging", "users:settings"})

# Items whose open count the bar shows, fetched by htmx after the page (no page pays a query for it).
NAVIGATION_COUNTS = {"tasks": "task-count"}

# (label, url name, roles) for the top navigation, in order.
NAVIGATION: list[tuple[str, str, tuple[str, ...]]] = [
    ("Dashboard", "dashboard", (Role.OWNER,)),
    ("Inbox", "crm:inbox", (Role.OWNER, Role.OFFICE)),
    ("Leads", "crm:board", (Role.OWNER, Role.OFFICE)),
    ("Tasks", "tasks", STAFF_ROLES),
    ("Customers", "customers:list", (Role.OWNER, Role.OFFICE, Role.DISPATCHER)),
    ("Jobs", "job-list", (Role.OWNER, Role.OFFICE, Role.DISPATCHER)),
    ("Estimates", "estimate-list", (Role.OWNER, Role.OFFICE, Role.DISPATCHER)),
    ("Invoices", "invoice-list", (Role.OWNER, Role.OFFICE)),
    ("Dispatch", "dispatch-board", (Role.OWNER, Role.OFFICE, Role.DISPATCHER)),
    ("My day", "my-day", (Role.TECHNICIAN,)),
    ("Pricebook", "pricebook-list", STAFF_ROLES),
    ("Marketing", "crm:marketing", STAFF_ROLES),
    ("Exceptions", "events:exceptions", STAFF_ROLES),
    ("Finance", "finance:hub", (Role.OWNER,)),
    ("AR aging", "finance:ar-aging", (Role.OFFICE,)),  # the owner reaches it from Finance
    ("Settings", "users:settings", (Role.OWNER,)),
]
