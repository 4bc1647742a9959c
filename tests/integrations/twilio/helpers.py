"""Signing and payloads shared by the Twilio webhook tests."""

from twilio.request_validator import RequestValidator

TOKEN = "test-auth-token"
BASE_URL = "https://app.example.com"
CALLER = "+15125550142"
BUSINESS_NUMBER = "+15125550100"


def sign(path: str, params: dict, *, token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(BASE_URL + path, params)


def call_params(sid: str = "CA001", **extra) -> dict:
    return {"CallSid": sid, "From": CALLER, "To": BUSINESS_NUMBER, "CallStatus": "ringing", **extra}


def sms_params(body: str, sid: str = "SM001", **extra) -> dict:
    return {"MessageSid": sid, "From": CALLER, "To": BUSINESS_NUMBER, "Body": body, "NumMedia": "0", **extra}
