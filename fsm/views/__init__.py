"""Field service pages, one module per audience: the dispatch board (board), the office's job pages
(jobs) and the technician's phone (tech). Each module lists its own `urlpatterns`; fsm/urls.py joins them."""

import mimetypes

from django.http import FileResponse, Http404


def stored_file_response(field) -> FileResponse:
    """A photo or signature from the storage API, to someone the view already let see its job."""
    try:
        handle = field.storage.open(field.name, "rb")
    except (FileNotFoundError, OSError):
        raise Http404("The file is missing.") from None
    content_type = mimetypes.guess_type(field.name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, max-age=86400"
    return response
