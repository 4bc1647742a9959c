from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files import File
from django.db import transaction
from PIL import Image

from common.errors import ApplicationError

from .models import Business, TaxRate, User
from .roles import ROLE_PERMISSIONS, Role


def role_groups_sync(*, using: str = "default") -> None:
    """Create one group per role and give it exactly the permissions of users.roles."""
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=role)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted += list(
                Permission.objects.using(using).filter(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)


def user_create(
    *,
    username: str,
    password: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    phone: str = "",
) -> User:
    """Create a user with one role. The owner also gets the admin site."""
    if role not in Role.values:
        raise ValueError(f"Unknown role {role!r}")
    with transaction.atomic():
        user = User.objects.create_user(
            username=username,
            password=password,
            first_name=first_name,
            last_name=last_name,
            email=email,
            phone=phone,
            is_staff=role == Role.OWNER,
            is_superuser=role == Role.OWNER,
        )
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


# --- The business's own details (what its estimates and invoices carry) -----------------------------

BUSINESS_FIELDS = (
    "name",
    "legal_name",
    "license_number",
    "street",
    "city",
    "state",
    "zip_code",
    "phone",
    "email",
    "website",
    "time_zone",
    "estimate_terms",
    "invoice_terms",
    "payment_terms_days",
    "estimate_valid_days",
    "estimate_prefix",
    "invoice_prefix",
    "credit_note_prefix",
)
LOGO_FORMATS = {"PNG": "png", "JPEG": "jpg"}
LOGO_MAX_PIXELS = 4000  # on either side: a print logo needs far less


def business_update(
    *, business: Business, actor: User, logo: File | None = None, remove_logo: bool = False, **values: Any
) -> Business:
    """Change the business's details. `logo` replaces the logo (a real PNG or JPEG of at most
    BUSINESS_LOGO_MAX_BYTES), `remove_logo` takes it off. Every value is checked (the model's validators:
    prefixes, choices, lengths) before anything is written; ApplicationError names the field at fault."""
    unknown = set(values) - set(BUSINESS_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown field(s): {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    extension = _logo_extension(logo) if logo is not None else ""
    with transaction.atomic():
        row = Business.objects.select_for_update().get(pk=business.pk) if business.pk else Business()
        for name, value in values.items():
            setattr(row, name, value.strip() if isinstance(value, str) else value)
        row.state = row.state.upper()
        _full_clean(row, exclude=["logo", "service_area_zip_codes"])
        old_logo = row.logo.name if (logo is not None or remove_logo) else ""
        if logo is not None:
            row.logo.save(f"logo.{extension}", logo, save=False)
        elif remove_logo:
            row.logo = ""
        row.save()
        if old_logo:
            transaction.on_commit(lambda: row.logo.storage.delete(old_logo))
    return row


def _full_clean(obj, *, exclude: list[str]) -> None:
    try:
        obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise ApplicationError(messages[0], field=None if field == NON_FIELD_ERRORS else field) from None


def _logo_extension(file: File) -> str:
    """ "png" or "jpg" for a real PNG or JPEG (decoded with Pillow, whatever the file's name says) that is
    small enough to print; ApplicationError on the logo field otherwise."""
    limit = settings.BUSINESS_LOGO_MAX_BYTES
    if file.size is None or file.size > limit:
        raise ApplicationError(
            f"The logo can be at most {limit / (1024 * 1024):g} MB.", field="logo", code="too_large"
        )
    found, size = _image_header(file)
    if found not in LOGO_FORMATS:
        raise ApplicationError(
            "The logo must be a PNG or JPEG image.", field="logo", code="unsupported_image"
        )
    if max(size) > LOGO_MAX_PIXELS:
        raise ApplicationError(
            f"The logo can be at most {LOGO_MAX_PIXELS} pixels wide or high.", field="logo", code="too_large"
        )
    return LOGO_FORMATS[found]


def _image_header(file: File) -> tuple[str | None, tuple[int, int]]:
    try:
        file.seek(0)
        with Image.open(file) as image:
            image.verify()
            return image.format, image.size
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None, (0, 0)
    finally:
        file.seek(0)


# --- Sales tax rates ---------------------------------------------------------------------------------

PERCENT_MAX = Decimal("30")


def _tax_values(name: str, percent: Decimal | str) -> tuple[str, Decimal]:
    name = (name or "").strip()
    if not name:
        raise ApplicationError("Give the rate a name, e.g. “Austin 8.25%”.", field="name", code="required")
    if len(name) > TaxRate._meta.get_field("name").max_length:
        raise ApplicationError("Keep the name under 80 characters.", field="name")
    try:
        percent = Decimal(str(percent).strip().rstrip("%"))
    except (InvalidOperation, ValueError):
        raise ApplicationError("Enter the rate as a number, e.g. 8.25.", field="percent") from None
    if not percent.is_finite() or not Decimal("0") <= percent <= PERCENT_MAX:
        raise ApplicationError("The rate must be between 0 and 30 percent.", field="percent")
    if percent.as_tuple().exponent < -4:
        raise ApplicationError("Use at most 4 decimal places, e.g. 8.2500.", field="percent")
    return name, percent


def tax_rate_create(*, name: str, percent: Decimal | str, actor: User, is_default: bool = False) -> TaxRate:
    """A new active rate; `is_default` makes it the default in the same transaction."""
    name, percent = _tax_values(name, percent)
    with transaction.atomic():
        rate = TaxRate.objects.create(name=name, percent=percent)
        if is_default:
            rate = tax_rate_make_default(tax_rate=rate, actor=actor)
    return rate


def tax_rate_update(*, tax_rate: TaxRate, name: str, percent: Decimal | str, actor: User) -> TaxRate:
    """Rename or re-rate. Documents already written keep the percent they were written with (they copy it)."""
    name, percent = _tax_values(name, percent)
    with transaction.atomic():
        rate = TaxRate.objects.select_for_update().get(pk=tax_rate.pk)
        rate.name, rate.percent = name, percent
        rate.save(update_fields=["name", "percent"])
    return rate


def tax_rate_make_default(*, tax_rate: TaxRate, actor: User) -> TaxRate:
    """This rate becomes the one new documents start with; the old default stops being it, in one
    transaction (the database allows one default). Inactive rates cannot be the default."""
    with transaction.atomic():
        locked = TaxRate.objects.select_for_update()
        rate = locked.get(pk=tax_rate.pk)
        if rate.is_default:
            return rate
        if not rate.active:
            raise ApplicationError(
                f"{rate.name} is inactive: activate it before making it the default.", code="inactive"
            )
        list(locked.filter(is_default=True))
        TaxRate.objects.filter(is_default=True).update(is_default=False)
        rate.is_default = True
        rate.save(update_fields=["is_default"])
    return rate


def tax_rate_deactivate(*, tax_rate: TaxRate, actor: User) -> TaxRate:
    """No longer offered on new documents; those that use it keep it. The default cannot be deactivated."""
    return _tax_rate_set_active(tax_rate, active=False)


def tax_rate_activate(*, tax_rate: TaxRate, actor: User) -> TaxRate:
    return _tax_rate_set_active(tax_rate, active=True)


def _tax_rate_set_active(tax_rate: TaxRate, *, active: bool) -> TaxRate:
    with transaction.atomic():
        rate = TaxRate.objects.select_for_update().get(pk=tax_rate.pk)
        if rate.active == active:
            return rate
        if rate.is_default:
            raise ApplicationError(
                f"{rate.name} is the default rate: make another rate the default first.", code="is_default"
            )
        rate.active = active
        rate.save(update_fields=["active"])
    return rate
