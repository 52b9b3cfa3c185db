"""Every outgoing email: built from three templates, queued as a row, sent exactly once.

Templates live in `templates/emails/<name>-subject.txt`, `-body.txt` and `-body.html`.
Emails carry the minimum needed to act (DOMAIN.md section 8): initials or a site-local
identifier, the kind of event and a link into carecoord; never a diagnosis, a full name or a
free-text note, and never a tracking pixel.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from carecoord.models import OutgoingEmail, User

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RETRYABLE_ERRORS = (smtplib.SMTPException, OSError)


def render_email(template: str, context: dict[str, Any]) -> tuple[str, str, str]:
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{template}-subject.txt", context).split())
    text = render_to_string(f"emails/{template}-body.txt", context)
    html = render_to_string(f"emails/{template}-body.html", context)
    return subject, text, html


def email_queue(*, recipient: User, template: str, context: dict[str, Any], dedupe_key: str) -> OutgoingEmail | None:
    """Write the email row in the caller's transaction and queue its sending after commit.

    Returns None when an email with the same `dedupe_key` already exists.
    """
    subject, text, html = render_email(template, context)
    email, created = OutgoingEmail.objects.get_or_create(
        dedupe_key=dedupe_key,
        defaults={
            "recipient": recipient,
            "to_address": recipient.email,
            "template": template,
            "subject": subject[:200],
            "body_text": text,
            "body_html": html,
        },
    )
    if not created:
        return None
    transaction.on_commit(lambda: _enqueue(email.pk))
    return email


def _enqueue(email_id: int) -> None:
    from carecoord.tasks import send_email

    try:
        send_email.delay(email_id)
    except Exception:  # broker down: the row stays pending and the sweeper queues it again
        logger.warning("could not queue email %s; the sweeper will retry", email_id, exc_info=True)


def email_claim(email_id: int) -> OutgoingEmail | None:
    """Take a pending row for sending; None if another worker has it or it is done."""
    now = timezone.now()
    claimed = OutgoingEmail.objects.filter(pk=email_id, status=OutgoingEmail.Status.PENDING).update(
        status=OutgoingEmail.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if claimed != 1:
        return None
    return OutgoingEmail.objects.get(pk=email_id)


def email_deliver(email: OutgoingEmail) -> None:
    """Send a claimed row; raises a retryable error after putting the row back to pending."""
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body_text,
        to=[email.to_address],
        # The same Message-ID on every attempt lets mail clients fold a rare resend into one.
        headers={"Message-ID": f"<carecoord-email-{email.pk}@{urlsplit(settings.SITE_URL).hostname}>"},
    )
    message.attach_alternative(email.body_html, "text/html")
    try:
        message.send()
    except RETRYABLE_ERRORS as exc:
        final = email.attempts >= MAX_ATTEMPTS
        status = OutgoingEmail.Status.FAILED if final else OutgoingEmail.Status.PENDING
        OutgoingEmail.objects.filter(pk=email.pk).update(
            status=status, last_error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        logger.warning("email %s attempt %s failed: %s", email.pk, email.attempts, type(exc).__name__)
        if not final:
            raise
        return
    OutgoingEmail.objects.filter(pk=email.pk).update(
        status=OutgoingEmail.Status.SENT, sent_at=timezone.now(), last_error=""
    )


def email_sweep(now: dt.datetime | None = None) -> list[int]:
    """Ids of rows to queue again: pending past the grace period, or abandoned while sending."""
    now = now or timezone.now()
    sending_timeout = dt.timedelta(seconds=settings.EMAIL_SENDING_TIMEOUT_SECONDS)
    grace = dt.timedelta(seconds=settings.EMAIL_PENDING_GRACE_SECONDS)
    OutgoingEmail.objects.filter(status=OutgoingEmail.Status.SENDING, claimed_at__lt=now - sending_timeout).update(
        status=OutgoingEmail.Status.PENDING
    )
    stale = OutgoingEmail.objects.filter(status=OutgoingEmail.Status.PENDING).filter(
        Q(claimed_at__isnull=True, created_at__lt=now - grace) | Q(claimed_at__lt=now - grace)
    )
    return list(stale.values_list("pk", flat=True)[:1000])
