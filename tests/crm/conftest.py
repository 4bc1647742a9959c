from datetime import date

import pytest

from crm.models import Campaign, Source


@pytest.fixture
def web_source(db):
    return Source.objects.create(name="Website", slug="website", kind=Source.Kind.WEB_FORM)


@pytest.fixture
def zapier(db):
    return Source.objects.create(name="Zapier", slug="zapier", kind=Source.Kind.WEBHOOK)


@pytest.fixture
def manual_source(db):
    return Source.objects.create(name="Phone call (office)", slug="office-phone", kind=Source.Kind.MANUAL)


@pytest.fixture
def spring_campaign(db, web_source):
    return Campaign.objects.create(
        name="Spring AC tune-up",
        source=web_source,
        utm_campaign="spring-ac",
        cost="1500.00",
        starts_on=date(2026, 1, 1),
    )
