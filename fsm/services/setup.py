"""The owner's lists: skills, technician profiles, job types; and the equipment at a property."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone

from common.errors import ApplicationError
from customers.models import Property
from events import services as events
from users.models import Business, User
from users.roles import Role

from ..models import (
    DISPATCH_ROLES,
    SETUP_ROLES,
    Equipment,
    JobType,
    Skill,
    TechnicianProfile,
    Visit,
    parse_working_hours,
)
from ._base import Forbidden, is_person, require_role

COLOR_LENGTH = 7


def skill_save(*, actor, name: str, skill: Skill | None = None, is_active: bool = True) -> Skill:
    """Add a skill, or rename / retire one (owner, office)."""
    require_role(actor, SETUP_ROLES, "Only the owner and the office edit skills.")
    name = (name or "").strip()
    if not name:
        raise ApplicationError("Name the skill.", field="name", code="required")
    skill = skill or Skill()
    skill.name, skill.is_active = name[:80], is_active
    try:
        with transaction.atomic():
            skill.save()
            events.record("fsm.skill.saved", subject=skill, actor=actor, summary=f"Skill {skill.name} saved")
    except IntegrityError:
        raise ApplicationError("That skill exists already.", field="name", code="duplicate") from None
    return skill


def _coordinate(value, field: str, limit: int) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except InvalidOperation:
        raise ApplicationError("Give a number.", field=field) from None
    if abs(number) > limit:
        raise ApplicationError(f"Must be between -{limit} and {limit}.", field=field)
    return number


def _profile_values(working_hours, color, home_latitude, home_longitude) -> dict:
    values = {}
    if working_hours is not None:
        try:
            parse_working_hours(working_hours)
        except ValueError as error:
            raise ApplicationError(str(error), field="working_hours") from None
        values["working_hours"] = working_hours
    if color is not None:
        if len(color) != COLOR_LENGTH or not color.startswith("#") or not _is_hex(color[1:]):
            raise ApplicationError("Use a hex colour like #2563eb.", field="color")
        values["color"] = color.lower()
    values["home_latitude"] = _coordinate(home_latitude, "home_latitude", 90)
    values["home_longitude"] = _coordinate(home_longitude, "home_longitude", 180)
    return values


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def technician_profile_save(
    *,
    user: User,
    actor,
    skills=None,
    working_hours: dict | None = None,
    home_latitude=None,
    home_longitude=None,
    color: str | None = None,
    is_active: bool | None = None,
) -> TechnicianProfile:
    """Create or change a technician's profile (owner, office). Arguments left None are kept
    (home base: both None clears it)."""
    require_role(actor, SETUP_ROLES, "Only the owner and the office edit technicians.")
    if not user.has_role(Role.TECHNICIAN):
        raise ApplicationError("This user is not a technician.", field="user", code="not_a_technician")
    values = _profile_values(working_hours, color, home_latitude, home_longitude)
    with transaction.atomic():
        profile, _ = TechnicianProfile.objects.select_for_update().get_or_create(user=user)
        for name, value in values.items():
            setattr(profile, name, value)
        if is_active is not None:
            profile.is_active = is_active
        profile.save()
        if skills is not None:
            profile.skills.set(skills)
        events.record(
            "fsm.technician.saved",
            subject=profile,
            actor=actor,
            links=[user],
            summary=f"Technician {user} saved",
            data={"skills": sorted(profile.skills.values_list("name", flat=True))},
        )
    return profile


def job_type_save(
    *,
    actor,
    name: str,
    default_duration_minutes: int = 60,
    required_skill: Skill | None = None,
    checklist: list[str] = (),
    job_type: JobType | None = None,
    is_active: bool = True,
) -> JobType:
    """Add or change a job type (owner, office). Checklist items are trimmed; blanks and repeats dropped."""
    require_role(actor, SETUP_ROLES, "Only the owner and the office edit job types.")
    name = (name or "").strip()
    if not name:
        raise ApplicationError("Name the job type.", field="name", code="required")
    if not isinstance(default_duration_minutes, int) or not 5 <= default_duration_minutes <= 24 * 60:
        raise ApplicationError("Between 5 minutes and a day.", field="default_duration_minutes")
    items = list(dict.fromkeys(i.strip()[:200] for i in checklist if i and i.strip()))
    job_type = job_type or JobType()
    job_type.name, job_type.default_duration_minutes = name[:100], default_duration_minutes
    job_type.required_skill, job_type.checklist, job_type.is_active = required_skill, items, is_active
    try:
        with transaction.atomic():
            job_type.save()
            events.record(
                "fsm.job_type.saved", subject=job_type, actor=actor, summary=f"Job type {name} saved"
            )
    except IntegrityError:
        raise ApplicationError("That job type exists already.", field="name", code="duplicate") from None
    return job_type


def job_type_requirements_set(
    *, actor, job_type: JobType, checklist: bool, signature: bool, photo: bool
) -> JobType:
    """What completing a job of this type requires (the owner's call): every checklist item ticked,
    the customer's signature, a photo. The technician is told what is missing; the office may waive it
    with a reason (jobs.job_complete)."""
    require_role(actor, (Role.OWNER,), "Only the owner decides what completing a job requires.")
    wanted = {"requires_checklist": checklist, "requires_signature": signature, "requires_photo": photo}
    if checklist and not job_type.checklist:
        raise ApplicationError(f"{job_type.name} has no checklist to require.", field="requires_checklist")
    with transaction.atomic():
        job_type = JobType.objects.select_for_update().get(pk=job_type.pk)
        if all(getattr(job_type, name) == value for name, value in wanted.items()):
            return job_type
        for name, value in wanted.items():
            setattr(job_type, name, bool(value))
        job_type.save(update_fields=list(wanted))
        required = [
            label
            for label, on in zip(("checklist", "signature", "photo"), wanted.values(), strict=True)
            if on
        ]
        events.record(
            "fsm.job_type.requirements_set",
            subject=job_type,
            actor=actor,
            summary=f"{job_type.name}: completing requires {', '.join(required) or 'a note only'}",
            data={name: bool(value) for name, value in wanted.items()},
        )
    return job_type


def _require_may_edit_equipment(prop: Property, actor) -> None:
    if not is_person(actor) or actor.has_role(*DISPATCH_ROLES):
        return
    if (
        actor.has_role(Role.TECHNICIAN)
        and Visit.objects.filter(job__property=prop, technicians=actor).exists()
    ):
        return
    raise Forbidden("Only the office, or a technician with a job there, records equipment.")


EARLIEST_INSTALL = date(1900, 1, 1)


def _check_install_date(installed_on: date | None) -> None:
    if installed_on is None:
        return
    if installed_on > timezone.localdate(timezone=Business.current().tzinfo):
        raise ApplicationError("The install date is in the future.", field="installed_on", code="future")
    if installed_on < EARLIEST_INSTALL:
        raise ApplicationError("Give a real install date.", field="installed_on")


def equipment_save(
    *,
    property: Property,
    actor,
    kind: str,
    brand: str = "",
    model_number: str = "",
    serial_number: str = "",
    installed_on: date | None = None,
    notes: str = "",
    equipment: Equipment | None = None,
) -> Equipment:
    """Add a unit found at the property, or correct one (office, or a technician with a job there)."""
    _require_may_edit_equipment(property, actor)
    kind = (kind or "").strip()
    if not kind:
        raise ApplicationError("Say what it is (furnace, water heater...).", field="kind", code="required")
    if equipment is not None and equipment.property_id != property.pk:
        raise ApplicationError("This equipment is at another property.", field="equipment")
    _check_install_date(installed_on)
    item = equipment or Equipment(property=property)
    item.kind, item.brand, item.model_number = kind[:80], brand.strip()[:80], model_number.strip()[:80]
    item.serial_number, item.installed_on, item.notes = (
        serial_number.strip()[:80],
        installed_on,
        notes.strip(),
    )
    with transaction.atomic():
        item.save()
        events.publish(
            "equipment.saved",
            code="fsm.equipment.saved",
            subject=item,
            actor=actor,
            links=[property, property.customer],
            summary=f"Equipment: {item}",
            data={
                "equipment_id": item.pk,
                "property_id": property.pk,
                "customer_id": property.customer_id,
                "kind": item.kind,
                "installed_on": item.installed_on.isoformat() if item.installed_on else None,
            },
        )
    return item
