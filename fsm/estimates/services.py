"""Every write to an estimate goes through these functions (the office editor, the technician's phone,
the public page, the API, the nightly sweep, the seeder, tests). Keyword-only, one transaction each,
an explicit `actor` (None: the system, or the customer on the public page).

    estimate_create, estimate_update, option_add, option_update, option_remove,
    line_add, line_update, line_remove                      (a draft only: sent estimates never change)
    estimate_send      draft -> sent: the link by text and e-mail, the expiry starts; estimate.sent
    estimate_viewed    sent -> viewed (the public page was opened)
    estimate_accept    an option, ticked add-ons, a name and a signature; the chosen lines go on the
                       job (created when there is none); estimate.accepted
    estimate_decline   with a reason; estimate.declined
    estimates_expire   sent/viewed past their expiry date -> expired (the nightly task)
    estimate_renew     expired -> draft; sending it again starts a new expiry
    estimate_link_renew  a new public token (the old link stops working)
"""

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_fsm import can_proceed

from common import money
from common.errors import ApplicationError
from customers.models import Customer, Property
from events import services as events
from messaging import services as messaging
from users.models import Business
from users.roles import Role

from ..documents.lines import LineIn, line_fill, money_field
from ..documents.models import new_token
from ..documents.numbering import number_take
from ..documents.parties import customer_contacts, tax_for
from ..documents.signature import signature_png
from ..errors import Forbidden
from ..models import DISPATCH_ROLES, Job
from ..pricebook.models import PricebookItem
from ..services._base import is_person
from ..services.jobs import job_create
from .models import Estimate, EstimateLine, EstimateOption, EstimatePhoto

EDIT_ROLES = (*DISPATCH_ROLES, Role.TECHNICIAN)
DEFAULT_OPTION_NAMES = ("Good", "Better", "Best")


# --- Who may ------------------------------------------------------------------------------------------


def require_editor(estimate_or_job, actor) -> None:
    """The office roles; a technician only for an estimate on a job they have a visit on."""
    if not is_person(actor) or actor.has_role(*DISPATCH_ROLES):
        return
    job = estimate_or_job if isinstance(estimate_or_job, Job) else estimate_or_job.job
    on_job = job is not None and job.visits.exclude(state="canceled").filter(technicians=actor).exists()
    if actor.has_role(Role.TECHNICIAN) and on_job:
        return
    raise Forbidden("Only the office, or a technician on the estimate's job, can work on this estimate.")


# --- Drafting -----------------------------------------------------------------------------------------


def estimate_create(
    *,
    customer: Customer,
    property: Property | None,
    actor,
    title: str,
    job: Job | None = None,
    origin_lead_id: int | None = None,
    message: str = "",
    internal_notes: str = "",
    option_names: tuple[str, ...] = ("Option 1",),
) -> Estimate:
    """A draft estimate, numbered now (EST-2026-000123), with its first options (1 to 3, empty)."""
    title = " ".join((title or "").split())
    if not title:
        raise ApplicationError("Give the estimate a title, e.g. Water heater replacement.", field="title")
    if job is not None:
        if job.customer_id != customer.pk:
            raise ApplicationError("The job belongs to another customer.", field="job")
        property = property or job.property
        origin_lead_id = origin_lead_id or job.origin_lead_id
    if property is None:
        raise ApplicationError("Choose the service address.", field="property")
    if property.customer_id != customer.pk:
        raise ApplicationError("The address belongs to another customer.", field="property")
    if not 1 <= len(option_names) <= Estimate.MAX_OPTIONS:
        raise ApplicationError("An estimate has one to three options.", field="options")
    if customer.merged_into_id:
        raise ApplicationError("This customer was merged into another record.", field="customer")
    require_editor(job, actor) if job is not None else _require_office(actor)
    rate, percent, exempt = tax_for(customer, property)
    business = Business.current()
    with transaction.atomic():
        estimate = Estimate.objects.create(
            number=number_take(
                business.estimate_prefix, timezone.localdate(timezone.now(), business.tzinfo).year
            ),
            customer=customer,
            property=property,
            job=job,
            origin_lead_id=origin_lead_id,
            title=title[:200],
            message=(message or "").strip(),
            internal_notes=(internal_notes or "").strip(),
            tax_rate=rate,
            tax_percent=percent,
            tax_exempt_reason=exempt,
            created_by=actor if is_person(actor) else None,
        )
        EstimateOption.objects.bulk_create(
            EstimateOption(estimate=estimate, position=i, name=_option_name(name))
            for i, name in enumerate(option_names)
        )
        _record(
            estimate, "fsm.estimate.created", actor, f"Estimate {estimate.number} drafted: {estimate.title}"
        )
    return estimate


def _require_office(actor) -> None:
    if is_person(actor) and not actor.has_role(*DISPATCH_ROLES):
        raise Forbidden("A technician makes estimates from a job they are on.")


def _option_name(name: str) -> str:
    name = " ".join((name or "").split())[:80]
    if not name:
        raise ApplicationError("Name the option, e.g. Good, Better or Best.", field="name")
    return name


def _lock_draft(estimate: Estimate, actor) -> Estimate:
    """The estimate re-read under a row lock, refused unless a draft the actor may edit."""
    locked = Estimate.objects.select_for_update(of=("self",)).select_related("job").get(pk=estimate.pk)
    require_editor(locked, actor)
    if not locked.is_editable:
        raise ApplicationError(
            f"A {locked.get_state_display().lower()} estimate cannot be changed"
            + (": renew it first." if locked.state == Estimate.State.EXPIRED else "."),
            field="state",
            code="not_draft",
        )
    return locked


def estimate_update(*, estimate: Estimate, actor, **changes) -> Estimate:
    """Title, message, internal notes (a draft only)."""
    allowed = {"title", "message", "internal_notes"}
    if unknown := set(changes) - allowed:
        raise ApplicationError(f"Cannot change {', '.join(sorted(unknown))} here.", field=sorted(unknown)[0])
    with transaction.atomic():
        estimate = _lock_draft(estimate, actor)
        if "title" in changes:
            title = " ".join((changes["title"] or "").split())
            if not title:
                raise ApplicationError("Give the estimate a title.", field="title")
            estimate.title = title[:200]
        for field in ("message", "internal_notes"):
            if field in changes:
                setattr(estimate, field, (changes[field] or "").strip())
        estimate.save(update_fields=[*changes, "updated_at"])
    return estimate


def option_add(*, estimate: Estimate, actor, name: str = "") -> EstimateOption:
    with transaction.atomic():
        estimate = _lock_draft(estimate, actor)
        count = estimate.options.count()
        if count >= Estimate.MAX_OPTIONS:
            raise ApplicationError("An estimate has at most three options.", field="options", code="too_many")
        name = name or (DEFAULT_OPTION_NAMES[count] if count < len(DEFAULT_OPTION_NAMES) else "Option")
        last = estimate.options.order_by("-position").values_list("position", flat=True).first()
        return EstimateOption.objects.create(
            estimate=estimate, name=_option_name(name), position=(last or 0) + 1
        )


def option_update(
    *, option: EstimateOption, actor, name: str | None = None, description: str | None = None, discount=None
) -> EstimateOption:
    with transaction.atomic():
        _lock_draft(option.estimate, actor)
        option = EstimateOption.objects.select_for_update().get(pk=option.pk)
        if name is not None:
            option.name = _option_name(name)
        if description is not None:
            option.description = description.strip()
        if discount is not None:
            option.discount = money_field(discount, "discount")
        _refresh(option)
    return option


def option_remove(*, option: EstimateOption, actor) -> None:
    with transaction.atomic():
        estimate = _lock_draft(option.estimate, actor)
        if estimate.options.count() <= 1:
            raise ApplicationError(
                "An estimate keeps at least one option.", field="options", code="last_option"
            )
        option.delete()


def line_add(
    *, option: EstimateOption, actor, line: LineIn, item: PricebookItem | None = None
) -> EstimateLine:
    with transaction.atomic():
        _lock_draft(option.estimate, actor)
        option = EstimateOption.objects.select_for_update().get(pk=option.pk)
        last = option.lines.order_by("-position").values_list("position", flat=True).first()
        made = EstimateLine(option=option, position=(last if last is not None else -1) + 1)
        line_fill(made, line, item)
        made.save()
        _refresh(option)
    return made


def line_update(*, line: EstimateLine, actor, changes: LineIn) -> EstimateLine:
    with transaction.atomic():
        _lock_draft(line.option.estimate, actor)
        line = EstimateLine.objects.select_for_update().select_related("option").get(pk=line.pk)
        line_fill(line, changes, None)
        line.save()
        _refresh(line.option)
    return line


def line_remove(*, line: EstimateLine, actor) -> None:
    with transaction.atomic():
        _lock_draft(line.option.estimate, actor)
        option = line.option
        line.delete()
        _refresh(option)


def _refresh(option: EstimateOption) -> EstimateOption:
    """Recompute the option's totals (without add-ons) from its lines and save them."""
    lines = [line.as_line() for line in option.lines.all() if not line.is_addon]
    try:
        result = money.totals(lines, discount=option.discount, tax_percent=option.estimate.tax_percent)
    except money.MoneyError as error:
        raise ApplicationError(str(error), field="discount") from None
    option.subtotal, option.tax, option.total = result.subtotal, result.tax, result.total
    option.save()
    return option


def option_totals(option: EstimateOption, addon_ids: set[int] = frozenset()) -> money.Totals:
    """The option's totals with the given add-ons ticked (what the customer would accept)."""
    lines = [line for line in option.lines.all() if not line.is_addon or line.pk in addon_ids]
    return money.totals(
        [line.as_line() for line in lines], discount=option.discount, tax_percent=option.estimate.tax_percent
    )


# --- Sending and the customer's answer -----------------------------------------------------------------


def _first_name(user) -> str:
    return (user.first_name or user.username) if is_person(user) else ""


def public_url(estimate: Estimate) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("estimate-public", args=[estimate.public_token])


def estimate_photos_set(*, estimate: Estimate, actor, photo_ids) -> list[int]:
    """The job's photos the customer sees with the estimate (a draft's choice; the job's photos only)."""
    from ..models import JobPhoto

    wanted = {int(pk) for pk in photo_ids if str(pk).isdigit()}
    with transaction.atomic():
        estimate = _lock_draft(estimate, actor)
        allowed = set(JobPhoto.objects.filter(job_id=estimate.job_id).values_list("pk", flat=True))
        if wanted - allowed:
            raise ApplicationError("Only photos from this estimate's job can be attached.", field="photos")
        estimate.attachments.exclude(photo_id__in=wanted).delete()
        have = set(estimate.attachments.values_list("photo_id", flat=True))
        EstimatePhoto.objects.bulk_create(
            EstimatePhoto(estimate=estimate, photo_id=pk) for pk in wanted - have
        )
    return sorted(wanted)


def estimate_send(*, estimate: Estimate, actor, sms: bool = True, email: bool = True) -> Estimate:
    """Send the link by text and/or e-mail (through the outbox, with its consent rules) and start the
    expiry (the business's validity, from today). A draft with at least one priced option only."""
    if not (sms or email):
        raise ApplicationError("Choose text, e-mail or both.", field="channels")
    business = Business.current()
    with transaction.atomic():
        estimate = _lock_draft(estimate, actor)
        options = list(estimate.options.prefetch_related("lines"))
        if not any(line for option in options for line in option.lines.all() if not line.is_addon):
            raise ApplicationError("Add at least one line before sending.", field="options", code="empty")
        if empty := [o.name for o in options if not any(not line.is_addon for line in o.lines.all())]:
            raise ApplicationError(f"Option {empty[0]} has no lines: add some or remove it.", field="options")
        phone, address = customer_contacts(estimate.customer)
        channels = [c for c, wanted, to in (("sms", sms, phone), ("email", email, address)) if wanted and to]
        if not channels:
            raise ApplicationError(
                "The customer has no mobile number or e-mail address to send it to.", field="channels"
            )
        today = timezone.localdate(timezone.now(), business.tzinfo)
        estimate.expires_on = today + timedelta(days=business.estimate_valid_days)
        estimate.public_expires_at = _end_of(estimate.expires_on, business)
        estimate.public_revoked_at = None
        estimate.sent_at = timezone.now()
        estimate.send()
        estimate.save()
        link = public_url(estimate)
        if "sms" in channels:
            messaging.message_queue(
                to=phone,
                body=f"{business.name}: your estimate {estimate.number} for {estimate.title} is ready. "
                f"Review and approve it here: {link}",
                customer=estimate.customer,
                template="estimate",
                actor=actor,
            )
        if "email" in channels:
            messaging.email_queue(
                to=address,
                subject=f"Your estimate {estimate.number} from {business.name}",
                body=_email_body(estimate, options, link, business),
                customer=estimate.customer,
                actor=actor,
            )
        _publish(
            estimate,
            "estimate.sent",
            actor,
            f"Estimate {estimate.number} sent by {' and '.join(channels)}",
            option_totals=[str(o.total) for o in options],
            expires_on=estimate.expires_on.isoformat(),
            channels=channels,
            public_url=link,
            prepared_by_first_name=_first_name(estimate.created_by),
        )
    return estimate


def _end_of(day: date, business: Business) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=business.tzinfo)


def _email_body(estimate: Estimate, options, link: str, business: Business) -> str:
    name = estimate.customer.first_name or "there"
    prices = "\n".join(f"  {o.name}: {money.format_money(o.total)}" for o in options)
    return (
        f"Hi {name},\n\nThank you for the opportunity. Your estimate {estimate.number} for "
        f"{estimate.title} is ready:\n\n{prices}\n\nSee the details, choose an option and approve it "
        f"online:\n{link}\n\nThe estimate is valid until {estimate.expires_on:%B %-d, %Y}.\n\n{business.name}"
        + (f"\n{business.phone}" if business.phone else "")
    )


def estimate_present(*, estimate: Estimate, actor) -> Estimate:
    """Shown to the customer on site, on the technician's screen, instead of sent: draft -> sent with
    its expiry, nothing texted or e-mailed (the customer signs there, or gets the link later)."""
    business = Business.current()
    with transaction.atomic():
        estimate = _lock_draft(estimate, actor)
        if not any(not line.is_addon for option in estimate.options.all() for line in option.lines.all()):
            raise ApplicationError("Add at least one line before showing it.", field="options", code="empty")
        today = timezone.localdate(timezone.now(), business.tzinfo)
        estimate.expires_on = today + timedelta(days=business.estimate_valid_days)
        estimate.public_expires_at = _end_of(estimate.expires_on, business)
        estimate.sent_at = timezone.now()
        estimate.send()
        estimate.save()
        options = list(estimate.options.all())
        _publish(
            estimate,
            "estimate.sent",
            actor,
            f"Estimate {estimate.number} presented on site",
            option_totals=[str(o.total) for o in options],
            expires_on=estimate.expires_on.isoformat(),
            channels=["in person"],
            public_url=public_url(estimate),
            prepared_by_first_name=_first_name(estimate.created_by or actor),
        )
    return estimate


def estimate_viewed(*, estimate: Estimate) -> Estimate:
    """The customer opened the public page: the first time, sent -> viewed and recorded."""
    if estimate.state != Estimate.State.SENT:
        return estimate
    with transaction.atomic():
        estimate = Estimate.objects.select_for_update(of=("self",)).get(pk=estimate.pk)
        if estimate.state == Estimate.State.SENT:
            estimate.viewed_at = timezone.now()
            estimate.view()
            estimate.save(update_fields=["state", "viewed_at", "updated_at"])
            _record(
                estimate, "fsm.estimate.viewed", None, f"Estimate {estimate.number} opened by the customer"
            )
    return estimate


def _lock_open(estimate: Estimate, verb: str) -> Estimate:
    estimate = Estimate.objects.select_for_update(of=("self",)).select_related("job").get(pk=estimate.pk)
    today = timezone.localdate(timezone.now(), Business.current().tzinfo)
    if estimate.state in Estimate.OPEN_STATES and estimate.expires_on and estimate.expires_on < today:
        raise ApplicationError(
            "This estimate has expired: ask us for a renewed one.", field="state", code="expired"
        )
    if estimate.state not in Estimate.OPEN_STATES:
        raise ApplicationError(
            f"This estimate is {estimate.get_state_display().lower()} and cannot be {verb}.",
            field="state",
            code="not_open",
        )
    return estimate


def estimate_accept(
    *,
    estimate: Estimate,
    option_id: int,
    signer_name: str,
    signature: str,
    addon_ids=(),
    actor=None,
    in_person: bool = False,
) -> Estimate:
    """The customer chose an option (and ticked add-ons), typed their name and signed: accepted. The
    chosen lines go on the job's draft invoice (the job is created, unscheduled, when there is none)."""
    signer_name = " ".join((signer_name or "").split())
    if not signer_name:
        raise ApplicationError("Type your full name.", field="signer_name", code="required")
    raw = signature_png(signature, field="signature")
    if in_person:
        require_editor(estimate, actor)
    with transaction.atomic():
        estimate = _lock_open(estimate, "accepted")
        option = estimate.options.prefetch_related("lines").filter(pk=option_id).first()
        if option is None:
            raise ApplicationError("Choose one of the options.", field="option", code="required")
        addons = {line.pk for line in option.lines.all() if line.is_addon}
        chosen = {int(pk) for pk in addon_ids if str(pk).isdigit()}
        if chosen - addons:
            raise ApplicationError("An add-on ticked is not part of this option.", field="addons")
        total = option_totals(option, chosen).total
        EstimateLine.objects.filter(option=option, pk__in=chosen).update(addon_selected=True)
        estimate.accepted_option, estimate.accepted_total = option, total
        estimate.signer_name, estimate.accepted_in_person = signer_name[:150], in_person
        estimate.decided_at = timezone.now()
        estimate.signature.save("signature.png", ContentFile(raw), save=False)
        if estimate.job is None:
            estimate.job = job_create(
                customer=estimate.customer,
                property=estimate.property,
                actor=None,
                actor_label="estimate accepted",
                service=estimate.title,
                description=f"From estimate {estimate.number}: {option.name}",
                origin_lead_id=_free_lead(estimate.origin_lead_id),
            )
        estimate.accept()
        estimate.save()
        _lines_to_job(estimate, option, chosen, actor)
        _publish(
            estimate,
            "estimate.accepted",
            actor,
            f"Estimate {estimate.number} accepted: {option.name}, {money.format_money(total)}, signed by "
            f"{estimate.signer_name}" + (" on site" if in_person else " online"),
            option_id=option.pk,
            option_name=option.name,
            total=str(total),
            in_person=in_person,
        )
    return estimate


def _free_lead(lead_id: int | None) -> int | None:
    """A job remembers the lead it was booked from once: another job already has it -> None."""
    if lead_id is None or Job.objects.filter(origin_lead_id=lead_id).exists():
        return None
    return lead_id


def _lines_to_job(estimate: Estimate, option: EstimateOption, addon_ids: set[int], actor) -> None:
    from ..invoices.services import invoice_lines_from_estimate

    lines = [line for line in option.lines.all() if not line.is_addon or line.pk in addon_ids]
    invoice_lines_from_estimate(job=estimate.job, estimate=estimate, lines=lines, discount=option.discount)


def estimate_decline(*, estimate: Estimate, reason: str, actor=None) -> Estimate:
    reason = " ".join((reason or "").split())
    if not reason:
        raise ApplicationError("Tell us why, so we can do better.", field="reason", code="required")
    with transaction.atomic():
        estimate = _lock_open(estimate, "declined")
        estimate.decline_reason = reason[:300]
        estimate.decided_at = timezone.now()
        estimate.decline()
        estimate.save()
        _publish(
            estimate,
            "estimate.declined",
            actor,
            f"Estimate {estimate.number} declined: {reason}",
            reason=reason,
        )
    return estimate


def estimates_expire(*, today: date | None = None) -> int:
    """Sent or viewed estimates whose expiry date has passed -> expired. Returns how many."""
    today = today or timezone.localdate(timezone.now(), Business.current().tzinfo)
    done = 0
    due = Estimate.objects.filter(state__in=Estimate.OPEN_STATES, expires_on__lt=today).values_list(
        "pk", flat=True
    )
    for pk in list(due[:1000]):
        with transaction.atomic():
            estimate = Estimate.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            if estimate is None or not can_proceed(estimate.expire) or estimate.expires_on >= today:
                continue
            estimate.expire()
            estimate.save(update_fields=["state", "updated_at"])
            _record(estimate, "fsm.estimate.expired", None, f"Estimate {estimate.number} expired undecided")
            done += 1
    return done


def estimate_renew(*, estimate: Estimate, actor) -> Estimate:
    """An expired estimate back to draft: editable, and a new expiry when it is sent again."""
    with transaction.atomic():
        estimate = Estimate.objects.select_for_update(of=("self",)).select_related("job").get(pk=estimate.pk)
        require_editor(estimate, actor)
        if estimate.state != Estimate.State.EXPIRED:
            raise ApplicationError(
                "Only an expired estimate can be renewed.", field="state", code="not_expired"
            )
        tax_rate, percent, exempt = tax_for(estimate.customer, estimate.property)
        estimate.tax_rate, estimate.tax_percent, estimate.tax_exempt_reason = tax_rate, percent, exempt
        estimate.expires_on = None
        estimate.renew()
        estimate.save()
        for option in estimate.options.all():
            _refresh(option)  # today's tax rule
        _record(estimate, "fsm.estimate.renewed", actor, f"Estimate {estimate.number} renewed")
    return estimate


def estimate_link_renew(*, estimate: Estimate, actor) -> Estimate:
    """A new public token: the link sent before stops working (404)."""
    with transaction.atomic():
        estimate = Estimate.objects.select_for_update(of=("self",)).select_related("job").get(pk=estimate.pk)
        require_editor(estimate, actor)
        estimate.public_token = new_token()
        estimate.save(update_fields=["public_token", "updated_at"])
        _record(estimate, "fsm.estimate.link_renewed", actor, f"Estimate {estimate.number}: old link revoked")
    return estimate


# --- Timelines and milestones --------------------------------------------------------------------------


def _links(estimate: Estimate) -> list:
    return [(Customer, estimate.customer_id), (Property, estimate.property_id), (Job, estimate.job_id)]


def _record(estimate: Estimate, code: str, actor, summary: str):
    return events.record(
        code,
        subject=estimate,
        actor=actor,
        links=_links(estimate),
        summary=summary,
        data={"estimate_id": estimate.pk, "estimate_number": estimate.number},
    )


def _publish(estimate: Estimate, milestone: str, actor, summary: str, **data):
    return events.publish(
        milestone,
        subject=estimate,
        code=f"fsm.{milestone}",
        actor=actor,
        actor_label="" if is_person(actor) else "customer",
        links=_links(estimate),
        summary=summary,
        data={
            "estimate_id": estimate.pk,
            "estimate_number": estimate.number,
            "customer_id": estimate.customer_id,
            "job_id": estimate.job_id,
            "origin_lead_id": estimate.origin_lead_id,
            **data,
        },
    )
