"""One-line US addresses ("4512 Oak Hollow Dr Apt 4, Round Rock, TX 78665") split into the parts a
Property keeps, by usaddress (a trained parser: it copes with missing commas, spelled-out states and
units)."""

import re
from dataclasses import dataclass

import usaddress

from .services import state_normalize

STREET_TAGS = {
    "AddressNumberPrefix", "AddressNumber", "AddressNumberSuffix", "StreetNamePreModifier",
    "StreetNamePreDirectional", "StreetNamePreType", "StreetName", "StreetNamePostType",
    "StreetNamePostDirectional", "StreetNamePostModifier",
}  # fmt: skip
UNIT_TAGS = {"OccupancyType", "OccupancyIdentifier", "SubaddressType", "SubaddressIdentifier"}
ZIP = re.compile(r"\d{5}(-\d{4})?")


@dataclass(frozen=True)
class AddressParts:
    street: str = ""
    unit: str = ""
    city: str = ""
    state: str = ""
    zip_code: str = ""


def address_parts(line: str) -> AddressParts:
    """The parts of a one-line address that could be read; a part not found (or a ZIP that is not one)
    is empty, and a line that reads as two addresses gives nothing."""
    try:
        tagged, _ = usaddress.tag(line.strip())
    except usaddress.RepeatedLabelError:
        return AddressParts()
    zip_code = tagged.get("ZipCode", "")
    return AddressParts(
        street=" ".join(value for tag, value in tagged.items() if tag in STREET_TAGS).strip(" ,"),
        unit=" ".join(value for tag, value in tagged.items() if tag in UNIT_TAGS).strip(" ,#")[:40],
        city=tagged.get("PlaceName", "").strip(" ,"),
        state=state_normalize(tagged.get("StateName", "").strip(" ,")),
        zip_code=zip_code if ZIP.fullmatch(zip_code) else "",
    )
