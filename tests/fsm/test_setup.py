import pytest

from common.errors import ApplicationError
from fsm import services
from fsm.errors import Forbidden
from fsm.models import DEFAULT_WORKING_HOURS
from tests.fsm.conftest import MONDAY

pytestmark = pytest.mark.django_db


def test_the_owner_keeps_the_skill_list(owner, technician):
    skill = services.skill_save(actor=owner, name=" Drain ")
    assert skill.name == "Drain"
    with pytest.raises(ApplicationError) as error:
        services.skill_save(actor=owner, name="Drain")
    assert error.value.code == "duplicate"
    with pytest.raises(Forbidden):
        services.skill_save(actor=technician, name="Roofing")


def test_a_technician_profile_gets_skills_hours_home_and_colour(office, technician, hvac):
    profile = services.technician_profile_save(
        user=technician,
        actor=office,
        skills=[hvac],
        working_hours={"mon": ["07:00", "16:00"]},
        home_latitude="30.2713",
        home_longitude="-97.7426",
        color="#AABBCC",
    )
    assert list(profile.skills.all()) == [hvac] and profile.color == "#aabbcc"
    assert profile.home_point == (30.2713, -97.7426)
    assert [f"{t:%H:%M}" for t in profile.hours_on(MONDAY)] == ["07:00", "16:00"]
    assert profile.hours_on(MONDAY.replace(day=4)) is None, "Tuesday was left out: a day off"


def test_a_new_profile_works_weekdays_eight_to_five(office, technician):
    profile = services.technician_profile_save(user=technician, actor=office)
    assert profile.working_hours == DEFAULT_WORKING_HOURS


@pytest.mark.parametrize(
    "hours",
    [
        {"monday": ["07:00", "16:00"]},
        {"mon": ["16:00", "07:00"]},
        {"mon": ["7am", "4pm"]},
        ["07:00", "16:00"],
    ],
)
def test_malformed_working_hours_are_refused(office, technician, hours):
    with pytest.raises(ApplicationError) as error:
        services.technician_profile_save(user=technician, actor=office, working_hours=hours)
    assert error.value.field == "working_hours"


def test_only_technicians_get_profiles(office, dispatcher):
    with pytest.raises(ApplicationError) as error:
        services.technician_profile_save(user=dispatcher, actor=office)
    assert error.value.code == "not_a_technician"


def test_a_job_type_keeps_a_clean_checklist(owner, hvac):
    job_type = services.job_type_save(
        actor=owner,
        name="AC tune-up",
        default_duration_minutes=60,
        required_skill=hvac,
        checklist=[" Replace filter ", "", "Replace filter", "Check refrigerant"],
    )
    assert job_type.checklist == ["Replace filter", "Check refrigerant"]
    with pytest.raises(ApplicationError) as error:
        services.job_type_save(actor=owner, name="Quick look", default_duration_minutes=2)
    assert error.value.field == "default_duration_minutes"
