"""Web forms: the office sets them up here; what visitors send becomes a lead through `lead_capture`."""

import re
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.text import slugify

from common.errors import ApplicationError
from customers.services import consent_record
from events import services as events

from ..models import Campaign, ServiceType, Source, WebForm
from ..services import Captured, LeadIn, lead_capture

ORIGIN_RE = re.compile(
    r"^(?P<scheme>https?)://"
    r"(?P<host>localhost|[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+)"
    r"(?::(?P<port>\d{1,5}))?/?$",
    re.IGNORECASE,
)
DEFAULT_PORTS = {"http": 80, "https": 443}
NEW_SOURCE_NAME = "Website"
SETTINGS = (
    "name",
    "campaign",
    "ask_address",
    "ask_email",
    "require_email",
    "ask_message",
    "headline",
    "submit_label",
    "thank_you_text",
    "consent_text",
    "allowed_origins",
    "is_active",
)


@dataclass
class WebFormIn:
    """A web form's settings. `source=None` asks for a new "Website" source."""

    name: str
    source: Source | None
    campaign: Campaign | None = None
    services: list[ServiceType] = field(default_factory=list)
    new_services: list[str] = field(default_factory=list)
    ask_address: bool = True
    ask_email: bool = True
    require_email: bool = False
    ask_message: bool = True
    headline: str = "Request service"
    submit_label: str = "Send request"
    thank_you_text: str = "Thanks! We'll text you back within minutes."
    consent_text: str = ""
    allowed_origins: list[str] = field(default_factory=list)
    is_active: bool = True


def origin_normalize(raw: str) -> str:
    """`https://Example.com:443/` -> `https://example.com`, the way browsers send the Origin header.
    The one rule for every way a web form's sites are set (the settings page, the API)."""
    match = ORIGIN_RE.match(raw.strip()) if isinstance(raw, str) else None
    shown = raw.strip() if isinstance(raw, str) else repr(raw)
    if not match:
        raise ApplicationError(
            f"“{shown}” is not a site address such as https://example.com (no path).",
            field="allowed_origins",
            code="invalid_origin",
        )
    scheme, host, port = match["scheme"].lower(), match["host"].lower(), match["port"]
    if port and not 0 < int(port) < 65536:
        raise ApplicationError(
            f"“{shown}” has an impossible port.", field="allowed_origins", code="invalid_origin"
        )
    if port and int(port) != DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}:{int(port)}"
    return f"{scheme}://{host}"


def origins_normalize(raw: list[str]) -> list[str]:
    """Each site normalized once, in the order given; ApplicationError names the first bad one."""
    origins: list[str] = []
    for value in raw:
        origin = origin_normalize(value)
        if origin not in origins:
            origins.append(origin)
    return origins


def web_form_create(*, data: WebFormIn, actor) -> WebForm:
    with transaction.atomic():
        web_form = WebForm()
        _apply(web_form, data, actor)
        events.record(
            "crm.webform.created",
            subject=web_form,
            actor=actor,
            summary=f"Web form “{web_form.name}” created",
            data={"source": web_form.source.slug, "allowed_origins": web_form.allowed_origins},
        )
    return web_form


def web_form_update(*, web_form: WebForm, data: WebFormIn, actor) -> WebForm:
    with transaction.atomic():
        web_form = WebForm.objects.select_for_update().get(pk=web_form.pk)
        before = _snapshot(web_form)
        _apply(web_form, data, actor)
        after = _snapshot(web_form)
        changed = sorted(name for name in after if after[name] != before[name])
        if changed:
            events.record(
                "crm.webform.updated",
                subject=web_form,
                actor=actor,
                summary=f"Web form “{web_form.name}” changed: {', '.join(changed)}",
                data={"changed": changed, "allowed_origins": web_form.allowed_origins},
            )
    return web_form


def _apply(web_form: WebForm, data: WebFormIn, actor) -> None:
    for name in SETTINGS:
        setattr(web_form, name, getattr(data, name))
    web_form.allowed_origins = origins_normalize(data.allowed_origins)
    web_form.source = data.source or _website_source(actor)
    web_form.save()
    new = [_service_type(name, actor) for name in data.new_services]
    web_form.services.set({*data.services, *new})


def _snapshot(web_form: WebForm) -> dict:
    values = {name: getattr(web_form, name) for name in SETTINGS if name != "campaign"}
    values["campaign"] = web_form.campaign_id
    values["source"] = web_form.source_id
    values["services"] = sorted(web_form.services.values_list("pk", flat=True))
    return values


def _website_source(actor) -> Source:
    existing = Source.objects.filter(kind=Source.Kind.WEB_FORM, name__iexact=NEW_SOURCE_NAME).first()
    if existing:
        return existing
    base, slug, n = slugify(NEW_SOURCE_NAME), slugify(NEW_SOURCE_NAME), 1
    while Source.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    source = Source.objects.create(name=NEW_SOURCE_NAME, slug=slug, kind=Source.Kind.WEB_FORM)
    events.record(
        "crm.source.created", subject=source, actor=actor, summary=f"Source “{source.name}” created"
    )
    return source


def _service_type(name: str, actor) -> ServiceType:
    found = ServiceType.objects.filter(name__iexact=name).first()
    if found is None:
        found = ServiceType.objects.create(name=name)
        events.record(
            "crm.service_type.created", subject=found, actor=actor, summary=f"Service type “{name}” added"
        )
    elif not found.is_active:
        found.is_active = True
        found.save(update_fields=["is_active"])
    return found


def web_form_submit(
    *,
    web_form: WebForm,
    contact: LeadIn,
    attribution: dict,
    raw_payload: dict,
    spam: bool = False,
    visitor_ip: str = "",
) -> Captured:
    """One visitor's request, captured onto the customer record (held as spam when `spam`). A real
    request from a form that shows a texting disclosure records the visitor's consent, with the evidence."""
    with transaction.atomic():
        captured = lead_capture(
            source=web_form.source,
            contact=contact,
            web_form=web_form,
            attribution=attribution,
            raw_payload=raw_payload,
            actor_label=f"web form {web_form.name}",
            spam=spam,
        )
        lead = captured.lead
        if captured.created and not spam and lead.phone and web_form.consent_text.strip():
            consent_record(
                number=lead.phone,
                state="opted_in",
                method="web_form",
                purpose="care",
                evidence={
                    "web_form": str(web_form.public_id),
                    "lead_id": lead.pk,
                    "ip": visitor_ip,
                    "disclosure": web_form.consent_text,
                    "landing_page": attribution.get("landing_page", ""),
                },
            )
    return captured
