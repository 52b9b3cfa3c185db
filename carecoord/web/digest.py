"""The person's own latest weekly digest, as it was sent."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from carecoord.models import DigestDelivery


@require_safe
@login_required
def my_digest(request: HttpRequest) -> HttpResponse:
    # Only ever the requester's own rows: nobody else's digest is reachable from here.
    delivery = DigestDelivery.objects.filter(recipient_id=request.user.pk).order_by("-week_start").first()
    return render(request, "carecoord/digest.html", {"delivery": delivery})
