"""Where a property is on the map: `geocode(property) -> (lat, lon) | None`.

The backend is chosen by the GEOCODER_BACKEND setting (a dotted path to a class with
`locate(property) -> Location | None`). The default, `ZipCentroidGeocoder`, works offline from the
`zipcodes` package: the centre of the property's ZIP code, good to a few kilometres, which is what
travel estimates and slot ranking need. A street-level backend (a paid API) can replace it without
touching callers.
"""

from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache

from django.conf import settings
from django.utils.module_loading import import_string

from .models import Property

SIX_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class Location:
    latitude: Decimal
    longitude: Decimal
    time_zone: str = ""


class ZipCentroidGeocoder:
    """The centre of the property's 5-digit ZIP code (offline, from the `zipcodes` data set)."""

    def locate(self, prop: Property) -> Location | None:
        return _zip_centroid((prop.zip_code or "").strip()[:5])


@lru_cache(maxsize=4096)
def _zip_centroid(zip5: str) -> Location | None:
    import zipcodes  # loads its data set on first use; the results are cached for the process

    if len(zip5) != 5 or not zip5.isdigit():
        return None
    found = zipcodes.matching(zip5)
    if not found or not found[0].get("lat"):
        return None
    row = found[0]
    return Location(
        latitude=Decimal(row["lat"]).quantize(SIX_PLACES),
        longitude=Decimal(row["long"]).quantize(SIX_PLACES),
        time_zone=row.get("timezone") or "",
    )


@cache
def _backend(path: str):
    return import_string(path)()


def locate(prop: Property) -> Location | None:
    """The backend's answer for this property: coordinates and, when it knows it, the time zone."""
    return _backend(settings.GEOCODER_BACKEND).locate(prop)


def geocode(prop: Property) -> tuple[Decimal, Decimal] | None:
    """(latitude, longitude) of the property: the stored point if it has one, else the backend's."""
    if prop.latitude is not None and prop.longitude is not None:
        return prop.latitude, prop.longitude
    found = locate(prop)
    return (found.latitude, found.longitude) if found else None


def property_fill_coordinates(*, prop: Property) -> bool:
    """Store the backend's point on a property that has none (and its time zone when blank).

    Derived data, so no activity row is written. Returns True when something was stored.
    """
    if prop.latitude is not None and prop.longitude is not None and prop.time_zone:
        return False
    found = locate(prop)
    if found is None:
        return False
    changes = {}
    if prop.latitude is None or prop.longitude is None:
        changes.update(latitude=found.latitude, longitude=found.longitude)
    if not prop.time_zone and found.time_zone:
        changes["time_zone"] = found.time_zone
    if not changes:
        return False
    Property.objects.filter(pk=prop.pk).update(**changes)
    for name, value in changes.items():
        setattr(prop, name, value)
    return True
