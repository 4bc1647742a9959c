from datetime import date

import pytest

from tests.fsm.factories import JobTypeFactory, SkillFactory, at, make_job, make_technician, schedule

MONDAY = date(2030, 6, 3)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def hvac(db):
    return SkillFactory(name="HVAC repair")


@pytest.fixture
def plumbing(db):
    return SkillFactory(name="Plumbing")


@pytest.fixture
def ac_repair(hvac):
    return JobTypeFactory(name="AC repair", default_duration_minutes=90, required_skill=hvac)


@pytest.fixture
def tech(technician, hvac):
    """The `technician` persona with a profile: HVAC repair, 8-5 on weekdays, home downtown."""
    return make_technician(user=technician, skills=[hvac])


@pytest.fixture
def other_tech(other_technician, hvac):
    return make_technician(user=other_technician, skills=[hvac])


@pytest.fixture
def job(office, ac_repair):
    return make_job(actor=office, job_type=ac_repair)


@pytest.fixture
def visit(job, tech, dispatcher):
    """Monday 9:00-10:30 with the technician on it."""
    return schedule(job, start=at(MONDAY, 9), technicians=[tech], actor=dispatcher)
