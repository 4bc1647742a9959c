"""Quiet hours: when an automated or marketing text may reach its recipient.

A held purpose (automated, marketing) goes out only inside the allowed window: the state's rule
(`STATE_RULES`, else `DEFAULT_RULE`, 8:00-21:00) intersected with the business's own window
(`MessagingSettings.quiet_hours_start/_end`), both read on the recipient's local clock. Outside it the
text waits for the next allowed minute. A person's reply (care) and keyword confirmations are never held.

Where the recipient is (`recipient_location`), the first that answers:

1. the customer's primary property: its time zone if set, else its ZIP's (zipcodes); its state;
2. the number's area code (phonenumbers): its state and time zone(s); a number whose area code spans
   two zones must be inside the window in both;
3. a customer whose service address cannot be placed: the business's time zone and state (a property
   is in the business's service area);
4. otherwise the location is unknown: the strictest window (per weekday the latest start and the
   earliest end of every rule: 9:00-20:00 Monday-Saturday, 12:00-20:00 Sunday) must hold in every
   contiguous-US time zone at once, Eastern to Pacific, i.e. 12:00-20:00 Eastern Monday-Saturday and
   15:00-20:00 Eastern on Sunday. Whichever zone the recipient is in, the text lands inside its window.

Exempt: a number that called or texted us within the last 10 minutes gets its answer at once (the
missed-call text-back, the instant reply to a text).

Cost: one query for the property, and only outside the window one for a recent call and one for a
recent text (both ranges on indexed timestamps). ZIP and number lookups are cached per process.
"""

import functools
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import zipcodes
from phonenumbers import timezone as number_zones

from customers.models import Customer, Property
from customers.us_states import US_STATES
from users.models import Business

from .models import Call, Message, MessagingSettings

HELD_PURPOSES = (Message.Purpose.AUTOMATED, Message.Purpose.MARKETING)
EXEMPT_AFTER_CONTACT = timedelta(minutes=10)
DAY_MINUTES = 24 * 60
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SUNDAY = 6
SEARCH_DAYS = 8  # every window repeats weekly: a week and a day always finds the next one
CONTIGUOUS_US_ZONES = tuple(
    ZoneInfo(name)
    for name in (
        "America/New_York",
        "America/Chicago",
        "America/Denver",
        "America/Phoenix",
        "America/Los_Angeles",
    )
)
STATE_CODES = frozenset(US_STATES.values())


def _every_day(start: time, end: time) -> dict[int, tuple[time, time]]:
    return {day: (start, end) for day in range(7)}


# Rules as data: weekday (Monday 0 .. Sunday 6) -> (first allowed minute, end), local time. Every window
# opens at 8:00 or later, never inside a daylight-saving change (1:00-3:00), so a wall-clock start is
# one instant.
DEFAULT_RULE = _every_day(time(8), time(21))
STATE_RULES: dict[str, dict[int, tuple[time, time]]] = {
    "CT": _every_day(time(9), time(20)),
    "FL": _every_day(time(8), time(20)),
    "MD": _every_day(time(8), time(20)),
    "MS": _every_day(time(8), time(20)),
    "NJ": _every_day(time(8), time(20)),
    "OK": _every_day(time(8), time(20)),
    "TX": {**_every_day(time(9), time(21)), SUNDAY: (time(12), time(21))},
}
STRICTEST_RULE = {
    day: (
        max(rule[day][0] for rule in (DEFAULT_RULE, *STATE_RULES.values())),
        min(rule[day][1] for rule in (DEFAULT_RULE, *STATE_RULES.values())),
    )
    for day in range(7)
}

Windows = dict[int, list[tuple[int, int]]]  # weekday -> [(start minute, end minute)], end exclusive


@dataclass(frozen=True)
class Location:
    state: str  # two-letter code, "" when not a US state
    zones: tuple[ZoneInfo, ...]
    source: str  # "property ZIP 78701", "area code 512", "business", "location unknown"

    @property
    def known(self) -> bool:
        return self.source != UNKNOWN.source

    @property
    def label(self) -> str:
        if not self.known:
            return f"{self.source}, every zone {self.zones[0].key} to {self.zones[-1].key}"
        return f"{self.source}, {' / '.join(zone.key for zone in self.zones)}"


UNKNOWN = Location(state="", zones=CONTIGUOUS_US_ZONES, source="location unknown")


# --- Where the recipient is ----------------------------------------------------------------------------


def recipient_location(*, number: str, customer: Customer | None) -> Location:
    """The recipient's state and time zone(s): property, else area code, else business, else unknown."""
    prop = _first_property(customer) if customer is not None else None
    return (
        (_property_location(prop) if prop else None)
        or _number_location(number)
        or (_business_location(prop) if prop else None)
        or UNKNOWN
    )


def _first_property(customer: Customer) -> Property | None:
    """The customer's first property: from a batch's prefetch when there is one (no query)."""
    cached = getattr(customer, "_prefetched_objects_cache", {}).get("properties")
    if cached is not None:
        return min(cached, key=lambda prop: (not prop.is_primary, prop.pk), default=None)
    return customer.properties.first()


def _property_location(prop: Property) -> Location | None:
    place = _zip_place(prop.zip_code)
    zone = _zone(prop.time_zone) or (_zone(place[1]) if place else None)
    if zone is None:
        return None
    state = _state_code(prop.state) or (place[0] if place else "")
    return Location(state=state, zones=(zone,), source=f"property ZIP {prop.zip_code.strip()}")


def _number_location(number: str) -> Location | None:
    found = _number_place(number)
    if found is None:
        return None
    state, zone_names, source = found
    zones = tuple(zone for zone in map(_zone, zone_names) if zone is not None)
    return Location(state=state, zones=zones, source=source) if zones else None


def _business_location(prop: Property) -> Location:
    business = Business.current()
    return Location(
        state=_state_code(prop.state) or _business_state(business),
        zones=(business.tzinfo,),
        source="business",
    )


def _business_state(business: Business) -> str:
    """Business has no state field: its first service-area ZIP's state, else its phone's."""
    zips = business.service_area_zip_codes or []
    place = _zip_place(str(zips[0])) if zips else None
    if place:
        return place[0]
    found = _number_place(business.phone.as_e164) if business.phone else None
    return found[0] if found else ""


@functools.lru_cache(maxsize=4096)
def _zip_place(zip_code: str) -> tuple[str, str] | None:
    """(state, time zone) of a US ZIP. zipcodes loads its dataset on the first call in a process."""
    five = (zip_code or "").strip()[:5]
    if len(five) != 5 or not five.isdigit():
        return None
    found = zipcodes.matching(five)
    return (found[0]["state"], found[0]["timezone"]) if found and found[0]["timezone"] else None


@functools.lru_cache(maxsize=4096)
def _number_place(number: str) -> tuple[str, tuple[str, ...], str] | None:
    """(state, time zones, "area code 512") for a geographic number; None for toll-free or unknown."""
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return None
    zones = tuple(z for z in number_zones.time_zones_for_number(parsed) if z != number_zones.UNKNOWN_TIMEZONE)
    if not zones:
        return None
    if parsed.country_code != 1:
        return "", zones, f"country code +{parsed.country_code}"
    area_code = phonenumbers.national_significant_number(parsed)[:3]
    state = _area_code_states().get(area_code, "")
    if not state and phonenumbers.region_code_for_number(parsed) in ("US", None):
        return None  # toll-free or not in use: no place to read
    return state, zones, f"area code {area_code}"  # a Canadian or Caribbean number: its zones, no state


@functools.cache
def _area_code_states() -> dict[str, str]:
    """Area code -> the state most of its ZIP codes are in, derived once per process from the zipcodes
    dataset (the ZIP lookups load it anyway). phonenumbers' own geocoder would do, but importing its
    19 MB of data costs every web and worker process seconds at start-up."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for place in zipcodes.list_all():
        for area_code in place.get("area_codes") or ():
            counts[area_code][place["state"]] += 1
    return {code: states.most_common(1)[0][0] for code, states in counts.items()}


def _state_code(value: str) -> str:
    code = (value or "").strip().upper()
    return code if code in STATE_CODES else ""


@functools.lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


# --- When it may go -------------------------------------------------------------------------------------


def quiet_hours_release(
    *,
    now: datetime,
    number: str,
    customer: Customer | None,
    purpose: str,
    contacted_at: datetime | None = None,
) -> tuple[datetime, str] | None:
    """None when the text may go now; else (the next allowed minute in UTC, the rule that held it).

    At most three queries: the customer's primary property, then, only outside the window, a call and
    a text from the number in the last 10 minutes. `contacted_at`: when the caller already knows the
    number contacted us (the text-back answers that call): no query at all inside 10 minutes."""
    if purpose not in HELD_PURPOSES:
        return None
    if contacted_at is not None and now - EXEMPT_AFTER_CONTACT <= contacted_at <= now:
        return None
    rules = MessagingSettings.current()
    hold = release_at(
        now=now,
        location=recipient_location(number=number, customer=customer),
        quiet_hours=(rules.quiet_hours_start, rules.quiet_hours_end),
    )
    if hold is None or recently_contacted_by(number=number, now=now):
        return None
    return hold


def quiet_hours_release_many(
    *, now: datetime, recipients: list[tuple[str, Customer | None]], purpose: str
) -> list[tuple[datetime, str] | None]:
    """`quiet_hours_release` for a batch of (number, customer) with no recent contact known: the
    customers' properties come from the batch's prefetch, and only the held numbers are looked up for a
    call or a text in the last 10 minutes (two queries for the lot)."""
    if purpose not in HELD_PURPOSES:
        return [None] * len(recipients)
    rules = MessagingSettings.current()
    holds = [
        release_at(
            now=now,
            location=recipient_location(number=number, customer=customer),
            quiet_hours=(rules.quiet_hours_start, rules.quiet_hours_end),
        )
        for number, customer in recipients
    ]
    held = {number for (number, _), hold in zip(recipients, holds, strict=True) if hold}
    recent = recently_contacted_numbers(numbers=held, now=now) if held else set()
    return [
        None if hold is None or number in recent else hold
        for (number, _), hold in zip(recipients, holds, strict=True)
    ]


def recently_contacted_numbers(*, numbers: set[str], now: datetime) -> set[str]:
    """Which of `numbers` called or texted us within the last 10 minutes."""
    since = now - EXEMPT_AFTER_CONTACT
    called = Call.objects.filter(from_number__in=numbers, started_at__gte=since, started_at__lte=now)
    texted = Message.objects.filter(
        direction=Message.Direction.INBOUND,
        from_number__in=numbers,
        created_at__gte=since,
        created_at__lte=now,
    )
    return set(called.values_list("from_number", flat=True)) | set(
        texted.values_list("from_number", flat=True)
    )


def recently_contacted_by(*, number: str, now: datetime) -> bool:
    """The number called or texted us within the last 10 minutes: our answer is not held."""
    since = now - EXEMPT_AFTER_CONTACT
    called = Call.objects.filter(from_number=number, started_at__gte=since, started_at__lte=now)
    texted = Message.objects.filter(
        direction=Message.Direction.INBOUND, from_number=number, created_at__gte=since, created_at__lte=now
    )
    return called.exists() or texted.exists()


def release_at(
    *, now: datetime, location: Location, quiet_hours: tuple[time | str, time | str]
) -> tuple[datetime, str] | None:
    """None when `now` is inside the allowed window at `location`; else (the next allowed minute, the
    rule text)."""
    name, rule = _rule_for(location)
    business = _business_windows(*quiet_hours)
    narrowed = _intersect(rule, business)
    release, windows = _first_release(now, location.zones, narrowed, rule)
    if release == now:
        return None
    text = f"{name}: {_describe(rule)}"
    if windows is narrowed and narrowed != rule:
        text += f"; business hours {_describe_day(business[0])}"
    return release, f"{text} ({location.label})"[:200]


def _first_release(
    now: datetime, zones: tuple[ZoneInfo, ...], narrowed: Windows, rule: Windows
) -> tuple[datetime, Windows]:
    """The next allowed minute in every zone. When the business's window never meets the state's (an
    owner setting stricter than possible), the state's rule alone decides: the law is the floor; and a
    rule that never holds in every zone at once (not one of ours) is read in the first zone."""
    for zones_, windows in ((zones, narrowed), (zones, rule)):
        release = _next_allowed(now, zones_, windows)
        if release is not None:
            return release, windows
    return _next_allowed(now, zones[:1], rule), rule


def _rule_for(location: Location) -> tuple[str, Windows]:
    if not location.known:
        return "Strictest", _as_windows(STRICTEST_RULE)
    if location.state in STATE_RULES:
        return location.state, _as_windows(STATE_RULES[location.state])
    return f"{location.state} (default)" if location.state else "Default", _as_windows(DEFAULT_RULE)


def _as_windows(rule: dict[int, tuple[time, time]]) -> Windows:
    return {day: [(_minute(start), _minute(end))] for day, (start, end) in rule.items()}


def _business_windows(quiet_start: time | str, quiet_end: time | str) -> Windows:
    """The business's allowed minutes: everything outside quiet hours (start == end: never quiet)."""
    start, end = _minute(quiet_start), _minute(quiet_end)
    if start == end:
        allowed = [(0, DAY_MINUTES)]
    elif start > end:  # quiet over midnight, e.g. 21:00-08:00
        allowed = [(end, start)]
    else:
        allowed = [(0, start), (end, DAY_MINUTES)]
    return {day: allowed for day in range(7)}


def _intersect(a: Windows, b: Windows) -> Windows:
    return {
        day: [
            (max(s1, s2), min(e1, e2)) for s1, e1 in a[day] for s2, e2 in b[day] if max(s1, s2) < min(e1, e2)
        ]
        for day in range(7)
    }


def _minute(value: time | str) -> int:
    value = value if isinstance(value, time) else time.fromisoformat(str(value))
    return value.hour * 60 + value.minute


def _next_allowed(now: datetime, zones: tuple[ZoneInfo, ...], windows: Windows) -> datetime | None:
    """`now` if allowed in every zone, else the first window start (in any zone) that is; None if the
    windows never overlap in all zones within a week."""
    if _allowed(now, zones, windows):
        return now
    starts = sorted(start for zone in zones for start in _window_starts(now, zone, windows) if start > now)
    return next((start for start in starts if _allowed(start, zones, windows)), None)


def _window_starts(now: datetime, zone: ZoneInfo, windows: Windows):
    today = now.astimezone(zone).date()
    for day in (today + timedelta(days=n) for n in range(SEARCH_DAYS)):
        for start, _ in windows[day.weekday()]:
            local = datetime.combine(day, time(start // 60, start % 60), tzinfo=zone)
            yield local.astimezone(UTC)


def _allowed(moment: datetime, zones: tuple[ZoneInfo, ...], windows: Windows) -> bool:
    return all(_inside(moment.astimezone(zone), windows) for zone in zones)


def _inside(local: datetime, windows: Windows) -> bool:
    minute = local.hour * 60 + local.minute
    return any(start <= minute < end for start, end in windows[local.weekday()])


# --- The rule as text (kept on the held message) ------------------------------------------------------


def _describe(windows: Windows) -> str:
    """'9:00-21:00 Mon-Sat, 12:00-21:00 Sun' or '8:00-21:00 daily'."""
    runs: list[list] = []  # [first day, last day, text]
    for day in range(7):
        text = _describe_day(windows[day])
        if runs and runs[-1][2] == text:
            runs[-1][1] = day
        else:
            runs.append([day, day, text])
    if len(runs) == 1:
        return f"{runs[0][2]} daily"
    return ", ".join(f"{text} {_day_range(first, last)}" for first, last, text in runs)


def _day_range(first: int, last: int) -> str:
    return DAY_NAMES[first] if first == last else f"{DAY_NAMES[first]}-{DAY_NAMES[last]}"


def _describe_day(intervals: list[tuple[int, int]]) -> str:
    return " & ".join(f"{_clock(start)}-{_clock(end)}" for start, end in intervals) or "closed"


def _clock(minute: int) -> str:
    return f"{minute // 60}:{minute % 60:02d}"
