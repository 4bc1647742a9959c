"""What the crew records on site from the phone: notes, photos, the customer's signature, the checklist.

Technicians on the job (any visit not canceled) and the office may record; files go through Django's
storage API (FileField.save), never straight to disk.
"""

import base64
import binascii
import io

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageOps

from common.errors import ApplicationError
from events import services as events
from users.roles import Role

from ..models import DISPATCH_ROLES, ChecklistResult, Job, JobNote, JobPhoto, JobSignature
from ._base import Forbidden, is_person, record

PHOTO_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
PNG_DATA_URL = "data:image/png;base64,"


def require_on_job(job: Job, actor) -> None:
    """The office roles, or a technician on one of the job's (not canceled) visits."""
    if not is_person(actor) or actor.has_role(*DISPATCH_ROLES):
        return
    on_job = job.visits.exclude(state="canceled").filter(technicians=actor).exists()
    if not (actor.has_role(Role.TECHNICIAN) and on_job):
        raise Forbidden("Only the technicians on this job (or the office) can add to it.")


def note_add(*, job: Job, actor, text: str) -> JobNote:
    text = (text or "").strip()
    if not text:
        raise ApplicationError("Write the note first.", field="text", code="required")
    require_on_job(job, actor)
    with transaction.atomic():
        note = JobNote.objects.create(job=job, author=actor if is_person(actor) else None, text=text)
        record(
            job, "fsm.job.note_added", actor=actor, summary=f"Note: {text[:200]}", data={"note_id": note.pk}
        )
    return note


def image_format(file, *, field: str) -> str:
    """Pillow's name for the image's format (JPEG, PNG...) by decoding its header; refuses anything else."""
    try:
        file.seek(0)
        with Image.open(file) as image:
            image.verify()
            found = image.format
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        found = None
    finally:
        file.seek(0)
    if not found:
        raise ApplicationError("This file is not an image.", field=field, code="not_an_image")
    return found


THUMBNAIL_SIZE = (480, 480)


def _thumbnail(file) -> ContentFile:
    """At most 480 x 480, turned the way the camera held it (EXIF), as a JPEG."""
    file.seek(0)
    with Image.open(file) as image:
        small = ImageOps.exif_transpose(image)
        small.thumbnail(THUMBNAIL_SIZE)
        out = io.BytesIO()
        small.convert("RGB").save(out, "JPEG", quality=80, optimize=True)
    file.seek(0)
    return ContentFile(out.getvalue())


def photo_add(*, job: Job, actor, file, caption: str = "") -> JobPhoto:
    """A photo from the phone (an UploadedFile or any file object): JPEG, PNG, WebP or GIF, at most
    FSM_PHOTO_MAX_BYTES. The type is checked by opening it with Pillow, not by its name."""
    require_on_job(job, actor)
    file = file if isinstance(file, File) else File(file)
    if file.size > settings.FSM_PHOTO_MAX_BYTES:
        limit = settings.FSM_PHOTO_MAX_BYTES // (1024 * 1024) or 1
        raise ApplicationError(f"Photos can be at most {limit} MB.", field="image", code="too_large")
    found = image_format(file, field="image")
    if found not in PHOTO_FORMATS:
        raise ApplicationError(
            "Send a JPEG, PNG, WebP or GIF photo.", field="image", code="unsupported_image"
        )
    with transaction.atomic():
        photo = JobPhoto(
            job=job, caption=caption.strip()[:200], uploaded_by=actor if is_person(actor) else None
        )
        photo.image.save(f"photo.{PHOTO_FORMATS[found]}", file, save=False)
        photo.thumbnail.save("thumb.jpg", _thumbnail(file), save=False)
        photo.save()
        events.record(
            "fsm.job.photo_added",
            subject=job,
            actor=actor,
            summary=f"Photo added {photo.caption}".strip(),
            data={"photo_id": photo.pk},
        )
    return photo


def decode_png_data_url(data_url: str) -> bytes:
    data_url = (data_url or "").strip()
    if not data_url.startswith(PNG_DATA_URL):
        raise ApplicationError("The signature must be a PNG data URL.", field="data_url", code="not_png")
    encoded = data_url[len(PNG_DATA_URL) :]
    if len(encoded) * 3 // 4 > settings.FSM_SIGNATURE_MAX_BYTES:
        raise ApplicationError("The signature image is too large.", field="data_url", code="too_large")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ApplicationError(
            "The signature is not valid base64.", field="data_url", code="invalid"
        ) from None


def signature_add(*, job: Job, actor, data_url: str, signer_name: str) -> JobSignature:
    """The customer's signature from the phone's canvas (`canvas.toDataURL("image/png")`)."""
    signer_name = (signer_name or "").strip()
    if not signer_name:
        raise ApplicationError("Who signed?", field="signer_name", code="required")
    require_on_job(job, actor)
    raw = decode_png_data_url(data_url)
    if image_format(io.BytesIO(raw), field="data_url") != "PNG":
        raise ApplicationError("The signature must be a PNG image.", field="data_url", code="not_png")
    with transaction.atomic():
        signature = JobSignature(
            job=job, signer_name=signer_name[:150], collected_by=actor if is_person(actor) else None
        )
        signature.image.save("signature.png", ContentFile(raw), save=False)
        signature.save()
        record(
            job,
            "fsm.job.signed",
            actor=actor,
            summary=f"Signed by {signature.signer_name}",
            data={"signature_id": signature.pk},
        )
    return signature


def checklist_toggle(*, job: Job, actor, item: str, done: bool | None = None) -> ChecklistResult:
    """Tick (or untick) one item of the job type's checklist. `done=None` flips it."""
    require_on_job(job, actor)
    items = list(job.job_type.checklist) if job.job_type_id else []
    if item not in items:
        raise ApplicationError("That item is not on this job's checklist.", field="item", code="unknown_item")
    with transaction.atomic():
        result, _ = ChecklistResult.objects.select_for_update().get_or_create(job=job, item=item)
        result.done = (not result.done) if done is None else bool(done)
        result.done_by = (actor if is_person(actor) else None) if result.done else None
        result.done_at = timezone.now() if result.done else None
        result.save()
        events.record(
            "fsm.job.checklist",
            subject=job,
            actor=actor,
            summary=f"{'Done' if result.done else 'Not done'}: {item}",
            data={"item": item, "done": result.done},
        )
    return result
