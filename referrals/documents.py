"""What a referral document may be: a size limit and a few formats, recognised by content."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

# Leading bytes of each accepted format; the declared name or type is not trusted.
SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", "PDF"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "PNG"),
    (b"\xff\xd8\xff", "image/jpeg", "JPEG"),
    (b"II*\x00", "image/tiff", "TIFF"),
    (b"MM\x00*", "image/tiff", "TIFF"),
)
ACCEPTED = ", ".join(sorted({label for _, _, label in SIGNATURES}))


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
    for signature, content_type, _ in SIGNATURES:
        if head.startswith(signature):
            return content_type
    raise ValidationError({"file": f"This type of file is not accepted. Upload {ACCEPTED}."})
