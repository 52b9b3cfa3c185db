"""The person's own latest weekly digest, as it was sent, less what they may no longer see."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from carecoord.models import DigestDelivery
from carecoord.reads import shown_patient
from workspace.digests.stored import visible_digest


@require_safe
@login_required
def my_digest(request: HttpRequest) -> HttpResponse:
    # Only ever the requester's own rows: nobody else's digest is reachable from here.
    delivery = DigestDelivery.objects.filter(recipient_id=request.user.pk).order_by("-week_start").first()
    if delivery is None:
        return render(request, "carecoord/digest.html", {"digest": None})
    digest = visible_digest(request.user, delivery)
    for section in digest.sections:
        shown_patient(section.patient_id, delivery, what="viewed weekly digest")
    return render(request, "carecoord/digest.html", {"digest": digest})
