from decimal import Decimal

import pytest

from customers.geocoding import Location, geocode, property_fill_coordinates
from customers.models import Property
from tests.factories import make_customer
from tests.fsm.factories import services_property

pytestmark = pytest.mark.django_db


def test_a_zip_code_gives_its_centre():
    assert geocode(Property(zip_code="78701")) == (Decimal("30.271300"), Decimal("-97.742600"))


def test_an_unknown_zip_gives_nothing():
    assert geocode(Property(zip_code="00000")) is None
    assert geocode(Property(zip_code="abc")) is None


def test_stored_coordinates_win():
    prop = Property(zip_code="78701", latitude=Decimal("30.1"), longitude=Decimal("-97.1"))
    assert geocode(prop) == (Decimal("30.1"), Decimal("-97.1"))


def test_filling_a_property_stores_the_point_and_a_blank_time_zone():
    prop = make_customer(properties=[services_property(zip_code="78665")]).properties.get()
    assert property_fill_coordinates(prop=prop)
    prop.refresh_from_db()
    assert prop.latitude is not None and prop.time_zone == "America/Chicago"
    assert not property_fill_coordinates(prop=prop), "nothing left to fill"


class PinGeocoder:
    def locate(self, prop):
        return Location(latitude=Decimal("1.5"), longitude=Decimal("2.5"))


def test_the_backend_comes_from_the_setting(settings):
    settings.GEOCODER_BACKEND = "tests.fsm.test_geocoding.PinGeocoder"
    assert geocode(Property(zip_code="78701")) == (Decimal("1.5"), Decimal("2.5"))
