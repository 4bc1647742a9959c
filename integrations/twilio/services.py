"""Twilio's words, translated into ours: a delivery receipt's MessageStatus and ErrorCode become a status
and a consent fact for messaging.calls.message_receipt. Calls and texts go straight to their services
(crm.phone, messaging.calls); nothing here writes a row itself."""

from customers.models import ConsentEvent
from messaging import calls
from messaging.models import Message

# Twilio's MessageStatus -> ours.
MESSAGE_STATUSES = {
    "accepted": Message.Status.QUEUED,
    "scheduled": Message.Status.QUEUED,
    "queued": Message.Status.QUEUED,
    "sending": Message.Status.SENDING,
    "sent": Message.Status.SENT,
    "delivered": Message.Status.DELIVERED,
    "read": Message.Status.DELIVERED,
    "undelivered": Message.Status.UNDELIVERED,
    "failed": Message.Status.FAILED,
    "canceled": Message.Status.FAILED,
}
# Twilio error codes that change what a number may receive.
CONSENT_ERRORS = {
    "21610": ConsentEvent.State.OPTED_OUT,
    "21614": ConsentEvent.State.NOT_TEXTABLE,
    "30006": ConsentEvent.State.NOT_TEXTABLE,
}


def message_status_update(*, message_sid: str, status: str, error_code: str = "") -> Message | None:
    """Apply Twilio's delivery receipt to the message with this sid (unknown sid: None)."""
    return calls.message_receipt(
        provider_sid=message_sid,
        status=MESSAGE_STATUSES.get(status.lower(), ""),
        error_code=error_code,
        error_message=f"Twilio error {error_code}" if error_code else "",
        consent=CONSENT_ERRORS.get(error_code, ""),
    )
