import io

import pytest
from PIL import Image


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (120, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (15, 98, 174)).save(out, fmt)
    return out.getvalue()
