"""The signed, expiring file URLs of gatherings (``/gathering-files/<token>``): no account, no session.

The token is the permission (see ``gatherings.files``): a bad, tampered or expired one is a
404, as is a file of a cancelled event. Bytes come from the storage API.
"""

from django.http import FileResponse, Http404
from django.views.decorators.http import require_http_methods

from gatherings import files
from gatherings.models import FileKind


@require_http_methods(["GET", "HEAD"])
def file_download(request, token: str):
    found = files.record_for_url(token)
    if found is None:
        raise Http404("This file link is not valid or has expired.")
    record, variant = found
    stored = record.thumbnail if variant == "thumbnail" else record.file
    try:
        handle = stored.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404("This file is no longer stored.") from exc
    content_type = record.content_type
    if variant == "thumbnail":
        content_type = "image/png" if (stored.name or "").endswith(".png") else "image/jpeg"
    response = FileResponse(
        handle,
        content_type=content_type,
        as_attachment=record.kind == FileKind.PDF,
        filename=record.name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = f"private, max-age={min(300, files.url_seconds())}"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
