"""What a referral document may be: a size limit and a few formats, recognised by content."""

from __future__ import annotations

import uuid
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from carecoord.downloads import without_control_characters


class Format(NamedTuple):
    signature: bytes  # the leading bytes that identify it
    content_type: str
    label: str  # as named to the user
    extension: str  # of the stored file and of the name it is downloaded under


# The declared name or type of an upload is not trusted: its leading bytes say what it is.
SIGNATURES: tuple[Format, ...] = (
    Format(b"%PDF-", "application/pdf", "PDF", "pdf"),
    Format(b"\x89PNG\r\n\x1a\n", "image/png", "PNG", "png"),
    Format(b"\xff\xd8\xff", "image/jpeg", "JPEG", "jpg"),
    Format(b"II*\x00", "image/tiff", "TIFF", "tif"),
    Format(b"MM\x00*", "image/tiff", "TIFF", "tif"),
)
ACCEPTED = ", ".join(sorted({f.label for f in SIGNATURES}))
EXTENSIONS: dict[str, str] = {f.content_type: f.extension for f in SIGNATURES}
NAME_MAX_LENGTH = 255  # ReferralDocument.original_name


def max_upload_bytes() -> int:
    return int(settings.REFERRAL_DOCUMENT_MAX_MB) * 1024 * 1024


def validate_upload(upload: UploadedFile) -> str:
    """The content type of an acceptable upload, or a ValidationError on `file` saying why not."""
    size = upload.size or 0
    if size == 0:
        raise ValidationError({"file": "The file is empty."})
    if size > max_upload_bytes():
        raise ValidationError(
            {"file": f"The file is {size / 1048576:.1f} MB; the limit is {settings.REFERRAL_DOCUMENT_MAX_MB} MB."}
        )
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    for accepted in SIGNATURES:
        if head.startswith(accepted.signature):
            return accepted.content_type
    raise ValidationError({"file": f"This type of file is not accepted. Upload {ACCEPTED}."})


def stored_name(content_type: str) -> str:
    """A name for the stored file that nobody typed: random, with the extension of the detected type.

    The uploader's file name never reaches the storage path; it is kept as data (`original_name`).
    """
    return f"{uuid.uuid4().hex}.{EXTENSIONS[content_type]}"


def original_name(upload: UploadedFile) -> str:
    """The uploader's file name, to show and to offer on download: trimmed, without control characters."""
    return without_control_characters(upload.name or "").strip()[:NAME_MAX_LENGTH].strip() or "document"
