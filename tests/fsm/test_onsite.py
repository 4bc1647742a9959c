import base64
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from common.errors import ApplicationError
from events.models import Event
from fsm import services
from fsm.errors import Forbidden
from fsm.models import JobPhoto, TimeEntry
from tests.fsm.conftest import MONDAY
from tests.fsm.factories import at

pytestmark = pytest.mark.django_db


def image_bytes(fmt: str = "PNG", size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 80, 20)).save(out, format=fmt)
    return out.getvalue()


def test_a_photo_is_stored_through_the_storage_api(job, visit, tech):
    upload = SimpleUploadedFile("IMG_0001.HEIC", image_bytes("JPEG"), content_type="image/jpeg")
    photo = services.photo_add(job=job, actor=tech, file=upload, caption="Burnt capacitor")
    assert photo.image.name.endswith(".jpg") and (photo.width, photo.height) == (40, 30)
    assert photo.image.storage.exists(photo.image.name)
    assert Event.objects.filter(code="fsm.job.photo_added").exists()


def test_a_photo_gets_a_small_jpeg_for_the_lists(job, visit, tech):
    upload = SimpleUploadedFile(
        "IMG_0002.png", image_bytes("PNG", size=(2000, 1500)), content_type="image/png"
    )
    photo = services.photo_add(job=job, actor=tech, file=upload)

    with photo.thumbnail.open("rb") as handle, Image.open(handle) as thumb:
        assert (thumb.format, thumb.size) == ("JPEG", (480, 360))
    assert photo.file_for("thumb") == photo.thumbnail and photo.file_for("") == photo.image
    assert (photo.width, photo.height) == (2000, 1500), "the photo itself is kept as taken"


def test_a_file_that_is_not_an_image_is_refused(job, visit, tech):
    upload = SimpleUploadedFile("photo.jpg", b"%PDF-1.7 not a photo", content_type="image/jpeg")
    with pytest.raises(ApplicationError) as error:
        services.photo_add(job=job, actor=tech, file=upload)
    assert (error.value.field, error.value.code) == ("image", "not_an_image")
    assert not JobPhoto.objects.exists()


def test_a_photo_over_the_size_limit_is_refused(job, visit, tech, settings):
    settings.FSM_PHOTO_MAX_BYTES = 100
    upload = SimpleUploadedFile("photo.png", image_bytes(), content_type="image/png")
    with pytest.raises(ApplicationError) as error:
        services.photo_add(job=job, actor=tech, file=upload)
    assert error.value.code == "too_large" and not JobPhoto.objects.exists()


def test_a_technician_not_on_the_job_cannot_add_to_it(job, visit, other_tech):
    with pytest.raises(Forbidden):
        services.note_add(job=job, actor=other_tech, text="Hello")


def test_a_signature_from_the_canvas_is_kept_as_png(job, visit, tech):
    data_url = "data:image/png;base64," + base64.b64encode(image_bytes()).decode()
    signature = services.signature_add(job=job, actor=tech, data_url=data_url, signer_name="Ana Ruiz")
    assert signature.image.name.endswith(".png") and signature.collected_by == tech
    with signature.image.open() as f, Image.open(f) as image:
        assert image.format == "PNG"


@pytest.mark.parametrize(
    ("data_url", "code"),
    [
        ("data:image/jpeg;base64," + base64.b64encode(image_bytes("JPEG")).decode(), "not_png"),
        ("data:image/png;base64," + base64.b64encode(image_bytes("JPEG")).decode(), "not_png"),
        ("data:image/png;base64,@@@not-base64@@@", "invalid"),
        ("data:image/png;base64," + base64.b64encode(b"just text").decode(), "not_an_image"),
    ],
)
def test_a_signature_that_is_not_a_png_is_refused(job, visit, tech, data_url, code):
    with pytest.raises(ApplicationError) as error:
        services.signature_add(job=job, actor=tech, data_url=data_url, signer_name="Ana")
    assert (error.value.field, error.value.code) == ("data_url", code)


def test_a_signature_over_the_limit_is_refused(job, visit, tech, settings):
    settings.FSM_SIGNATURE_MAX_BYTES = 50
    data_url = "data:image/png;base64," + base64.b64encode(image_bytes()).decode()
    with pytest.raises(ApplicationError) as error:
        services.signature_add(job=job, actor=tech, data_url=data_url, signer_name="Ana")
    assert error.value.code == "too_large"


def test_notes_are_on_the_customers_timeline(job, visit, tech):
    note = services.note_add(job=job, actor=tech, text="  Dog in the yard  ")
    assert note.text == "Dog in the yard" and note.author == tech
    from events.selectors import timeline_for

    assert next(e.code for e in timeline_for(job.customer)) == "fsm.job.note_added"


def test_the_checklist_ticks_and_unticks_known_items(job, visit, tech):
    item = job.job_type.checklist[0]
    result = services.checklist_toggle(job=job, actor=tech, item=item)
    assert result.done and result.done_by == tech
    assert not services.checklist_toggle(job=job, actor=tech, item=item).done
    with pytest.raises(ApplicationError) as error:
        services.checklist_toggle(job=job, actor=tech, item="Fly to the moon")
    assert error.value.field == "item"


def test_clocking_in_twice_keeps_one_shift_and_clocking_out_stops_the_job_timer(job, visit, tech):
    first = services.clock_in(technician=tech, actor=tech, at=at(MONDAY, 7, 45))
    assert services.clock_in(technician=tech, actor=tech).pk == first.pk
    services.job_arrive(job=job, actor=tech, at=at(MONDAY, 9))
    shift = services.clock_out(technician=tech, actor=tech, at=at(MONDAY, 12))
    assert shift.minutes == 255
    assert not TimeEntry.objects.filter(ended_at=None).exists()
    with pytest.raises(ApplicationError) as error:
        services.clock_out(technician=tech, actor=tech)
    assert error.value.code == "not_clocked_in"


def test_a_technician_cannot_clock_someone_else_in(tech, other_tech, dispatcher):
    with pytest.raises(Forbidden):
        services.clock_in(technician=tech, actor=other_tech)
    assert services.clock_in(technician=tech, actor=dispatcher).technician == tech


def test_equipment_is_recorded_by_a_technician_with_a_job_there(job, visit, tech, other_tech):
    unit = services.equipment_save(
        property=job.property, actor=tech, kind="Condenser", brand="Trane", serial_number="SN123"
    )
    assert str(unit) == "Trane Condenser"
    with pytest.raises(Forbidden):
        services.equipment_save(property=job.property, actor=other_tech, kind="Furnace")
