"""Reading what lead sources post to us: size limits, JSON objects, typed fields, errors as JSON."""

import json
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

from common.errors import ApplicationError
from crm.services import Captured


class PayloadTooLarge(ApplicationError):
    status_code = 413


def json_errors(view: Callable) -> Callable:
    """Answer a refused request with the error's status and JSON body; real bugs still raise."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except ApplicationError as error:
            return JsonResponse(error.as_dict(), status=error.status_code)

    return wrapper


def captured_response(captured: Captured, *, created_status: int = 201) -> JsonResponse:
    lead = captured.lead
    body = {"lead_id": lead.pk, "customer_id": lead.customer_id, "created": captured.created}
    return JsonResponse(body, status=created_status if captured.created else 200)


def accepted_response(accepted) -> JsonResponse:
    """202 for a new delivery (a worker captures it within a second), 200 for a repeat of one."""
    inbound = accepted.inbound
    body = {
        "delivery_id": inbound.pk,
        "created": accepted.created,
        "status": inbound.status,
        "warnings": inbound.contact.get("warnings", []),  # fields ignored, an address not read
    }
    if inbound.lead_id:
        body["lead_id"] = inbound.lead_id
    return JsonResponse(body, status=202 if accepted.created else 200)


def bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def read_body(request: HttpRequest) -> bytes:
    """The raw body, refused with 413 past LEADS_MAX_BODY_BYTES (declared or actual)."""
    limit = settings.LEADS_MAX_BODY_BYTES
    too_large = PayloadTooLarge(f"The body is larger than {limit} bytes.", field="body", code="too_large")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ApplicationError("Content-Length is not a number.", field="body") from None
    if declared > limit:
        raise too_large
    try:
        body = request.body
    except RequestDataTooBig:
        raise too_large from None
    if len(body) > limit:
        raise too_large
    return body


def parse_json_object(body: bytes) -> dict:
    """A JSON object, or a 400 naming `body`. NaN and NUL characters are refused (the database would)."""
    try:
        payload = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise _bad_body("The body is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise _bad_body("The body must be a JSON object.")
    if _has_nul(payload):
        raise _bad_body("The body must not contain NUL characters.")
    return payload


def read_json_object(request: HttpRequest) -> dict:
    return parse_json_object(read_body(request))


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _bad_body(message: str) -> ApplicationError:
    return ApplicationError(message, field="body", code="invalid_body")


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


# --- Typed fields ---------------------------------------------------------------------------------------


def is_text(value) -> bool:
    """Text as senders write it: a string, or a whole number (zip codes, ids), never a bool."""
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def text_fields(payload: dict, keys: tuple[str, ...], *, where: str = "") -> dict[str, str]:
    """The given keys as strings (absent or null -> absent); a 400 naming every key of another type.
    `where` prefixes the names in errors for nested objects ("user_column_data[2].")."""
    wrong = [f"{where}{key}" for key in keys if payload.get(key) is not None and not is_text(payload[key])]
    if wrong:
        raise ApplicationError(
            f"{wrong[0]} must be text.",
            field=wrong[0],
            code="invalid_type",
            extra={"errors": {name: [f"{name} must be text."] for name in wrong}},
        )
    return {key: str(payload[key]).strip() for key in keys if payload.get(key) is not None}


def first_of(values: dict[str, str], *keys: str) -> str:
    return next((values[key] for key in keys if values.get(key)), "")
