"""Photos and PDFs of a gathering: checked by content, images re-encoded, served by signed URLs.

- **Type by content, not by name**: a PDF starts with ``%PDF-``; anything else must be an image
  Pillow opens and verifies as JPEG, PNG, GIF or WebP. Everything else is refused (400
  ``unsupported_type``), as are empty files and files over ``GATHERINGS_MAX_FILE_BYTES`` (default
  10 MB, ``too_large``) and images over 40 megapixels (``too_large``: a decompression bomb).
- **Images are re-encoded** (JPEG, or PNG when they have transparency), turned upright from
  their EXIF orientation, and written **without any metadata** — so no EXIF location, camera
  or owner — plus a 480-pixel thumbnail. The original bytes are never stored.
- **Storage** is Django's storage API (``default_storage``): local files in the embedded
  default, any S3-compatible store through django-storages when configured by environment.
- **Served only by signed, expiring URLs** (``TimestampSigner``, salt per purpose, default one
  hour): whoever may see the event (members through the API, guests on their page) gets URLs;
  the URL itself is the permission, it names the file and the variant and dies after
  ``GATHERINGS_FILE_URL_SECONDS``.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from PIL import Image, ImageOps, UnidentifiedImageError

from audit.entries import audit_manual_send
from birthdaybuddy.errors import PermissionDeniedError
from events.models import Event
from gatherings.models import EventFile, FileKind
from gatherings.services import require_gathering

MAX_PIXELS = 40_000_000
THUMBNAIL_SIZE = (480, 480)
IMAGE_FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}
SIGNING_SALT = "gatherings.file"
VARIANTS = ("file", "thumbnail")


def max_file_bytes() -> int:
    return int(getattr(settings, "GATHERINGS_MAX_FILE_BYTES", 10 * 1024 * 1024))


def url_seconds() -> int:
    return int(getattr(settings, "GATHERINGS_FILE_URL_SECONDS", 3600))


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError({"file": [ValidationError(message, code=code)]})


@dataclass
class Prepared:
    kind: str
    content_type: str
    extension: str
    data: bytes
    thumbnail: bytes | None = None
    width: int | None = None
    height: int | None = None


def _read(upload: Any) -> bytes:
    limit = max_file_bytes()
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise _refuse(f"The file is too large (at most {limit // (1024 * 1024)} MB).", "too_large")
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise _refuse(f"The file is too large (at most {limit // (1024 * 1024)} MB).", "too_large")
    if not data:
        raise _refuse("The file is empty.", "empty")
    return data


def _encode(image: Image.Image, *, size: tuple[int, int] | None = None) -> tuple[bytes, str, str]:
    if size is not None:
        image = image.copy()
        image.thumbnail(size)
    has_alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
    out = io.BytesIO()
    if has_alpha:
        image.convert("RGBA").save(out, format="PNG", optimize=True)
        return out.getvalue(), "image/png", "png"
    image.convert("RGB").save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue(), "image/jpeg", "jpg"


def prepare(upload: Any) -> Prepared:
    """The bytes to store for an upload, its type decided by its content; refusals name ``file``."""
    data = _read(upload)
    if data.startswith(b"%PDF-"):
        return Prepared(kind=FileKind.PDF, content_type="application/pdf", extension="pdf", data=data)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in IMAGE_FORMATS:
                raise _refuse("Upload a photo (JPEG, PNG, GIF, WebP) or a PDF.", "unsupported_type")
            if probe.width * probe.height > MAX_PIXELS:
                raise _refuse("The image has too many pixels.", "too_large")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
            # Saved without exif=… / info: no metadata (location, camera, owner) survives.
            stored, content_type, extension = _encode(upright)
            thumbnail, _, _ = _encode(upright, size=THUMBNAIL_SIZE)
            width, height = upright.size
    except ValidationError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _refuse("Upload a photo (JPEG, PNG, GIF, WebP) or a PDF.", "unsupported_type") from exc
    except (OSError, ValueError, SyntaxError) as exc:  # Pillow's errors for truncated or broken files
        raise _refuse("This image is damaged.", "damaged") from exc
    return Prepared(
        kind=FileKind.IMAGE,
        content_type=content_type,
        extension=extension,
        data=stored,
        thumbnail=thumbnail,
        width=width,
        height=height,
    )


def _display_name(upload: Any, extension: str) -> str:
    name = str(getattr(upload, "name", "") or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:150]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{stem or 'file'}.{extension}"


def file_upload(*, event: Event, upload: Any, user=None, person=None) -> EventFile:
    """Checks, re-encodes and stores an upload for a gathering (by a member or a guest)."""
    require_gathering(event)
    prepared = prepare(upload)
    key = uuid.uuid4().hex
    record = EventFile(
        workspace_id=event.workspace_id,
        event=event,
        kind=prepared.kind,
        content_type=prepared.content_type,
        name=_display_name(upload, prepared.extension),
        size=len(prepared.data),
        width=prepared.width,
        height=prepared.height,
        uploaded_by_user=user if getattr(user, "is_authenticated", False) else None,
        uploaded_by_person=person,
    )
    # Stored before the row is written: a failed insert leaves an orphan file, never a row without its file.
    record.file.save(f"{event.pk}/{key}.{prepared.extension}", ContentFile(prepared.data), save=False)
    if prepared.thumbnail is not None:
        record.thumbnail.save(f"{event.pk}/{key}.{prepared.extension}", ContentFile(prepared.thumbnail), save=False)
    with transaction.atomic():
        record.save()
        audit_manual_send(
            workspace=event.workspace,
            actor=user,
            action="file.upload",
            target=record,
            details={"event": str(event.pk), "name": record.name, "kind": record.kind, "size": record.size},
        )
    return record


def file_delete(*, record: EventFile, user=None, person=None, moderator: bool = False) -> None:
    """The uploader or an organiser deletes a file (and its stored bytes, after commit)."""
    uploader = (user is not None and record.uploaded_by_user_id == getattr(user, "pk", None)) or (
        person is not None and record.uploaded_by_person_id == person.pk
    )
    if not (moderator or uploader):
        raise PermissionDeniedError("Only its uploader or an organiser can delete a file.", code="not_the_uploader")
    names = [field.name for field in (record.file, record.thumbnail) if field and field.name]
    storage = record.file.storage
    with transaction.atomic():
        audit_manual_send(
            workspace=record.event.workspace,
            actor=user,
            action="file.delete",
            target=record,
            details={"event": str(record.event_id), "name": record.name},
        )
        record.delete()
        transaction.on_commit(lambda: _delete_stored(storage, names))


def _delete_stored(storage, names: list[str]) -> None:
    for name in names:
        storage.delete(name)


def signed_url(record: EventFile, *, variant: str = "file") -> str:
    """A URL that serves ``variant`` of the file for :func:`url_seconds` from now."""
    token = signing.TimestampSigner(salt=SIGNING_SALT).sign(f"{record.pk}:{variant}")
    return reverse("gathering-file", kwargs={"token": token})


def record_for_url(token: str) -> tuple[EventFile, str] | None:
    """The file and variant a signed URL names, or None (bad, tampered or expired)."""
    try:
        value = signing.TimestampSigner(salt=SIGNING_SALT).unsign(token, max_age=url_seconds())
        file_id, variant = value.split(":", 1)
        pk = uuid.UUID(file_id)
    except (signing.BadSignature, ValueError):
        return None
    if variant not in VARIANTS:
        return None
    record = EventFile.objects.select_related("event").filter(pk=pk).first()
    if record is None or record.event.is_cancelled:
        return None
    if variant == "thumbnail" and not record.thumbnail:
        return None
    return record, variant
