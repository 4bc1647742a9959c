"""A customer's drawn signature (the canvas's PNG data URL): decoded, checked to be a PNG with ink."""

import io

from PIL import Image, UnidentifiedImageError

from common.errors import ApplicationError
from fsm.services.onsite import decode_png_data_url, image_format

MIN_INK_PIXELS = 30  # a dot or an accidental tap is not a signature


def signature_png(data_url: str, *, field: str = "signature") -> bytes:
    """The PNG bytes; ApplicationError naming `field` when it is missing, not a PNG, or blank."""
    if not (data_url or "").strip():
        raise ApplicationError("Sign in the box.", field=field, code="required")
    try:
        raw = decode_png_data_url(data_url)
    except ApplicationError as error:
        raise ApplicationError(error.message, field=field, code=error.code) from None
    if image_format(io.BytesIO(raw), field=field) != "PNG":
        raise ApplicationError("The signature must be a PNG image.", field=field, code="not_png")
    if _ink(raw) < MIN_INK_PIXELS:
        raise ApplicationError("The signature is empty: sign in the box.", field=field, code="blank")
    return raw


def _ink(raw: bytes) -> int:
    """How many pixels are drawn: visible and darker than light grey, on white."""
    try:
        with Image.open(io.BytesIO(raw)) as image:
            image = image.convert("RGBA")
            flat = Image.new("RGBA", image.size, "white")
            flat.alpha_composite(image)
            histogram = flat.convert("L").histogram()
    except (UnidentifiedImageError, OSError):
        return 0
    return sum(histogram[:200])
