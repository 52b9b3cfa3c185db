"""The person's own weekly digest: this week's, built now as a preview, and the latest one sent,
as it was sent, less what they may no longer see."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from carecoord.models import DigestDelivery
from carecoord.reads import shown_patient
from carecoord.web.shortcuts import actor
from carecoord.zones import zone_of
from workspace.digests.services import digest_preview
from workspace.digests.stored import visible_digest


@require_safe
@login_required
def my_digest(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    # Built for the requester only, from the patients they see now (`build_digest`); read-only.
    zone = zone_of(user)
    preview = digest_preview(user, zone)
    previewed = [uuid.UUID(section["patient_id"]) for section in preview["patients"]]
    # Only ever the requester's own rows: nobody else's digest is reachable from here.
    delivery = DigestDelivery.objects.filter(recipient_id=user.pk).order_by("-week_start").first()
    digest = None
    if delivery is not None:
        digest = visible_digest(user, delivery, shown_with=previewed)
        for visible in digest.sections:
            shown_patient(visible.patient_id, delivery, what="viewed weekly digest")
    # A patient on both is recorded once, as read through the stored digest.
    for patient_id in previewed:
        shown_patient(patient_id, user, what="viewed weekly digest preview")
    context = {"preview": preview, "digest": digest, "zone": zone}
    return render(request, "carecoord/digest.html", context)
