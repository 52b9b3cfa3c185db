"""Handing a referral document to the person who asked for it, with the download on record."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest
from rest_framework.request import Request

from audit.models import AuditEntry
from carecoord.downloads import attachment_disposition
from carecoord.reads import shown
from referrals.documents import EXTENSIONS
from referrals.models import ReferralDocument


def document_download(request: HttpRequest | Request, document: ReferralDocument) -> FileResponse:
    """The document as an attachment, its download recorded in the audit trail.

    `document` must have come through the access path. Raises FileNotFoundError when the
    stored file is gone; nothing is recorded then.
    """
    handle = document.file.open("rb")
    shown(document, what="downloaded referral document", action=AuditEntry.Action.DOWNLOAD)
    response = FileResponse(handle, content_type=document.content_type)
    # Offered under the name it was uploaded with, made safe, ending as what its content is.
    response["Content-Disposition"] = attachment_disposition(document.original_name, EXTENSIONS[document.content_type])
    return response
