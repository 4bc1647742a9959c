"""STOP, START and HELP on the whole message; revocations in a sentence; and what each changes."""

import pytest

from customers.models import ConsentEvent, PhoneNumber
from customers.services import consent_check
from messaging.keywords import Intent, intent_of
from messaging.models import Message
from messaging.services import message_queue

from .helpers import CALLER, sms_params

URL = "/integrations/twilio/sms/"


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop",
        " Stop ",
        "STOP.",
        "stopall",
        "UNSUBSCRIBE",
        "cancel",
        "End",
        "quit",
        "revoke",
        "OPTOUT",
    ],
)
def test_stop_words_opt_out(text):
    assert intent_of(text) == Intent.STOP


@pytest.mark.parametrize("text", ["START", "yes", "Unstop"])
def test_start_words_opt_in(text):
    assert intent_of(text) == Intent.START


def test_help_asks_for_help():
    assert intent_of(" help ") == Intent.HELP


@pytest.mark.parametrize(
    "text",
    [
        "please stop texting me",
        "Stop texting",
        "no more texts",
        "NO MORE MESSAGES please",
        "don't text me",
        "Don\u2019t text me again",
        "do not text me",
        "unsubscribe me",
        "no mas",
        "No más",
        "remove me from your list",
        "please stop",
        "stop sending me texts",
        "opt me out",
    ],
)
def test_a_sentence_asking_to_stop_is_a_revocation(text):
    assert intent_of(text) == Intent.REVOCATION


@pytest.mark.parametrize(
    "text",
    [
        "nonstop",
        "don't stop the repair",
        "stop by tomorrow",
        "the leak won't stop",
        "Can you stop by at 3?",
        "it's been dripping nonstop since Monday",
        "yes please come tomorrow",
        "help me with my sink",
        "the end of the pipe is cracked",
        "no more leaks after your fix, thanks!",
    ],
)
def test_ordinary_sentences_are_not_keywords(text):
    assert intent_of(text) is None


def _outbound():
    return Message.objects.filter(direction=Message.Direction.OUTBOUND)


def _consent(state: str):
    return ConsentEvent.objects.filter(number=CALLER, state=state)


def test_stop_opts_out_and_confirms_once(twilio_post, rules, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        twilio_post(URL, sms_params("Stop", "SM1"))

    event = _consent("opted_out").get()
    assert (event.method, event.evidence) == ("keyword", {"message_sid": "SM1", "text": "Stop"})
    assert not PhoneNumber.objects.filter(number=CALLER).exists(), "a bare STOP is not a lead or a customer"
    reply = _outbound().get()
    assert (reply.purpose, reply.status, reply.to_number) == (
        "keyword",
        "sent",
        CALLER,
    )  # sent at once (console backend)
    assert reply.body.startswith("You're unsubscribed from Test Plumbing Co")
    assert "START" in reply.body


def test_after_stop_even_a_care_text_is_suppressed(twilio_post, rules):
    twilio_post(URL, sms_params("STOP"))

    later = message_queue(to=CALLER, body="Your technician is on the way", purpose="care")

    assert later.status == Message.Status.SUPPRESSED
    assert _outbound().exclude(status="suppressed").count() == 1  # only the confirmation


def test_start_after_stop_allows_texts_again(twilio_post, rules):
    twilio_post(URL, sms_params("STOP", "SM1"))
    twilio_post(URL, sms_params("start", "SM2"))

    assert _consent("opted_in").get().method == "keyword"
    assert consent_check(number=CALLER, purpose="care") == ""
    assert message_queue(to=CALLER, body="Back on!", purpose="care").status == Message.Status.QUEUED
    assert _outbound().filter(template="keyword_start").get().body.startswith("You're resubscribed")


def test_help_replies_with_the_help_template(twilio_post, rules):
    rules.help_template = "{business_name} help: call {business_phone}."
    rules.save()

    twilio_post(URL, sms_params("HELP"))

    reply = _outbound().get()
    assert reply.body == "Test Plumbing Co help: call (512) 555-0100."
    assert reply.purpose == "keyword"
    assert not ConsentEvent.objects.exists()


def test_a_revocation_flags_the_number_and_holds_automated_texts(twilio_post, rules):
    twilio_post(URL, sms_params("please stop texting me", "SM9"))

    event = _consent("revocation_flagged").get()
    assert (event.method, event.evidence["message_sid"]) == ("message", "SM9")
    assert not _outbound().exists()  # no confirmation: a person reads it
    assert consent_check(number=CALLER, purpose="automated") != ""
    assert consent_check(number=CALLER, purpose="care") == ""


def test_an_ordinary_text_changes_no_consent(twilio_post, rules):
    twilio_post(URL, sms_params("Can you stop by tomorrow?"))

    assert not ConsentEvent.objects.exists()
    assert not _outbound().exists()


def test_an_empty_help_template_still_stores_the_text(twilio_post, rules):
    rules.help_template = ""
    rules.save()

    assert twilio_post(URL, sms_params("HELP")).status_code == 200

    assert Message.objects.filter(direction=Message.Direction.INBOUND).count() == 1
    assert not _outbound().exists()
