"""Straight-line travel estimates: haversine distance x road factor / average speed (FSM settings)."""

import math
from dataclasses import dataclass

from customers.geocoding import geocode
from customers.models import Property

EARTH_RADIUS_KM = 6371.0088

Point = tuple[float, float]


def haversine_km(a: Point, b: Point) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def point_of(prop: Property | None) -> Point | None:
    """The property's stored point, else the geocoder's (nothing is saved: a read stays a read)."""
    if prop is None:
        return None
    found = geocode(prop)
    return (float(found[0]), float(found[1])) if found else None


@dataclass(frozen=True)
class Travel:
    road_factor: float
    speed_kmh: float

    @classmethod
    def from_settings(cls) -> "Travel":
        from .models import FieldServiceSettings

        rules = FieldServiceSettings.current()
        return cls(road_factor=float(rules.road_factor), speed_kmh=float(rules.average_speed_kmh))

    def minutes(self, a: Point | None, b: Point | None) -> int:
        """Whole minutes (rounded up) from a to b; 0 when either point is unknown."""
        if a is None or b is None:
            return 0
        return math.ceil(haversine_km(a, b) * self.road_factor / self.speed_kmh * 60)
