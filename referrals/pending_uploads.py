"""Files chosen on a referral form that came back with errors: kept, then attached or cleaned up.

A browser forgets a chosen file when the page comes back with errors. So a valid file is
stored as a `PendingUpload` of its uploader, listed on the re-shown form by id, and turned
back into an upload when the referral saves. Nobody else may use it: the ids are only
looked up among the poster's own (`PendingUpload.objects.usable_by`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import partial

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from carecoord.models import User
from referrals.documents import original_name, stored_name, validate_upload
from referrals.models import PendingUpload


def pending_upload_keep(*, owner: User, upload: UploadedFile) -> PendingUpload:
    """Store an upload that passed `validate_upload` until its form saves."""
    content_type = validate_upload(upload)
    pending = PendingUpload(
        owner=owner, original_name=original_name(upload), content_type=content_type, size=upload.size or 0
    )
    pending.file.save(stored_name(content_type), upload, save=False)
    try:
        pending.save()
    except Exception:
        pending.file.delete(save=False)
        raise
    return pending


def as_upload(pending: PendingUpload) -> UploadedFile:
    """The stored file as an upload of its original name, for the services that attach documents."""
    return UploadedFile(
        file=pending.file.open("rb"),
        name=pending.original_name,
        content_type=pending.content_type,
        size=pending.size,
    )


def pending_uploads_discard(pendings: Iterable[PendingUpload]) -> None:
    """Delete the rows, and their files once the deletion is committed."""
    for pending in pendings:
        if pending.pk is None:
            continue
        pending.delete()
        transaction.on_commit(partial(pending.file.delete, save=False))


def delete_stale_pending_uploads(now: dt.datetime | None = None) -> int:
    """Delete the pending uploads older than their lifetime (beat); how many went."""
    stale = list(PendingUpload.objects.stale(now))
    pending_uploads_discard(stale)
    return len(stale)
