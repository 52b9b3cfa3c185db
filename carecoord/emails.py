"""Every outgoing email: built from three templates, queued as a row, sent exactly once.

Templates live in `templates/emails/<name>-subject.txt`, `-body.txt` and `-body.html`; the
text ones are rendered without HTML escaping, and every email's times are in its recipient's
time zone (`carecoord.zones`).
Emails carry the minimum needed to act (docs/clinical-rules.md#minimum-phi): initials or a
site-local identifier, the kind of event and a link into carecoord; never a diagnosis, a full
name or a free-text note, and never a tracking pixel.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import smtplib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import transaction
from django.db.models import F, Q
from django.template import Context, engines
from django.template.loader import render_to_string
from django.utils import timezone

from carecoord.models import OutgoingEmail, User
from carecoord.zones import UTC, zone_of, zones_of

if TYPE_CHECKING:
    from celery import Task
    from django.core.mail.backends.base import BaseEmailBackend

logger = logging.getLogger(__name__)

RETRYABLE_ERRORS = (smtplib.SMTPException, OSError)


def retry_delay(attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones: by default 5, 10, 20... then
    every 5 minutes (EMAIL_RETRY_FIRST_SECONDS, EMAIL_RETRY_LONGEST_SECONDS)."""
    first, longest = settings.EMAIL_RETRY_FIRST_SECONDS, settings.EMAIL_RETRY_LONGEST_SECONDS
    return float(min(first * 2 ** min(max(attempts - 1, 0), 30), longest))


def _render_text(name: str, context: dict[str, Any]) -> str:
    """A plain-text template, never HTML-escaped: "A & B Oncology" stays "A & B Oncology"."""
    template = engines["django"].engine.get_template(name)  # type: ignore[attr-defined]
    return str(template.render(Context(context, autoescape=False)))


def render_email(template: str, context: dict[str, Any], zone: dt.tzinfo | None = None) -> tuple[str, str, str]:
    """Subject, text and HTML of the email; times in `zone`, the recipient's (`zone_of`), named
    where they are shown ("14:05 CST"); UTC without one."""
    context = {"site_url": settings.SITE_URL, **context}
    with timezone.override(zone or UTC):
        subject = " ".join(_render_text(f"emails/{template}-subject.txt", context).split())
        text = _render_text(f"emails/{template}-body.txt", context)
        html = render_to_string(f"emails/{template}-body.html", context)
    return subject, text, html


@dataclass(frozen=True)
class Email:
    """One email to write: to whom, from which template and context, under which dedupe key."""

    recipient: User
    template: str
    context: dict[str, Any]
    dedupe_key: str


def _row_values(email: Email, *, urgent: bool, zone: dt.tzinfo) -> dict[str, Any]:
    """The outbox row's fields other than its dedupe key: the email rendered in the recipient's
    `zone`, its delivery window."""
    subject, text, html = render_email(email.template, email.context, zone)
    return {
        "recipient": email.recipient,
        "to_address": email.recipient.email,
        "template": email.template,
        "subject": subject[:200],
        "body_text": text,
        "body_html": html,
        "urgent": urgent,
        "give_up_at": timezone.now() + dt.timedelta(hours=settings.EMAIL_RETRY_HOURS),
    }


def email_queue(
    *,
    recipient: User,
    template: str,
    context: dict[str, Any],
    dedupe_key: str,
    urgent: bool = False,
    enqueue: bool = True,
    zone: dt.tzinfo | None = None,
) -> OutgoingEmail | None:
    """Write the email row in the caller's transaction and queue its sending after commit.

    `urgent` (same-day alerts) goes on the alert queue, which digests and reminders never hold
    up. `enqueue=False`: the caller sends the committed row itself (`email_send_here`); were it
    to die first, the sweep queues the row after EMAIL_PENDING_GRACE_SECONDS. Returns None when
    an email with the same `dedupe_key` already exists. `zone`: the recipient's, when the
    caller has it (else looked up).
    """
    zone = zone or zone_of(recipient)
    values = _row_values(Email(recipient, template, context, dedupe_key), urgent=urgent, zone=zone)
    email, created = OutgoingEmail.objects.get_or_create(dedupe_key=dedupe_key, defaults=values)
    if not created:
        return None
    if enqueue:
        transaction.on_commit(lambda: email_enqueue(email.pk, urgent=urgent))
    return email


def email_queue_new(emails: Sequence[Email], *, urgent: bool = False) -> list[OutgoingEmail]:
    """Write the rows of emails about rows the caller's transaction has just created, in one
    query, and queue their sending after commit in one message (`email_enqueue_all`).

    Their dedupe keys name those new rows, so no other request can hold them: a key already
    taken is an error that rolls the transaction back, not a repeat to skip (`email_queue`
    is for keys that may repeat). Returns the rows in the order of `emails`.
    """
    zones = zones_of({email.recipient.pk for email in emails})
    rows = OutgoingEmail.objects.bulk_create(
        OutgoingEmail(
            dedupe_key=email.dedupe_key,
            **_row_values(email, urgent=urgent, zone=zones.get(email.recipient.pk, UTC)),
        )
        for email in emails
    )
    ids = [row.pk for row in rows]
    if ids:
        transaction.on_commit(lambda: email_enqueue_all(ids, urgent=urgent))
    return rows


def queue_for(*, urgent: bool) -> str:
    return settings.CELERY_ALERT_QUEUE if urgent else settings.CELERY_TASK_DEFAULT_QUEUE


def email_enqueue(email_id: int, *, urgent: bool, countdown: float = 0) -> bool:
    """Hand the row's id to a worker; False (and the row left to the sweeper) if the broker is
    unreachable. One try with short timeouts: a request never waits on a broker that is down."""
    from carecoord.tasks import send_email

    return _publish(send_email, (email_id,), urgent=urgent, countdown=countdown, what=f"email {email_id}")


def email_enqueue_all(email_ids: Sequence[int], *, urgent: bool) -> bool:
    """Hand several rows to a worker in one message, which sends them one after the other,
    each claimed on its own (`carecoord.tasks.send_emails`). False (the rows left to the
    sweeper) if the broker is unreachable."""
    from carecoord.tasks import send_emails

    if len(email_ids) == 1:
        return email_enqueue(email_ids[0], urgent=urgent)
    ids = list(email_ids)
    return _publish(send_emails, (ids, urgent), urgent=urgent, countdown=0, what=f"emails {ids[0]}-{ids[-1]}")


def _publish(task: Task, args: tuple[Any, ...], *, urgent: bool, countdown: float, what: str) -> bool:
    try:
        task.apply_async(args, queue=queue_for(urgent=urgent), countdown=countdown, retry=False)
    except Exception as exc:  # broker down: the rows stay pending and the sweeper queues them again
        # One line, not a traceback: while Redis is down every write would log one.
        logger.warning("could not queue %s (%s: %s); the sweep will", what, type(exc).__name__, exc)
        return False
    return True


@dataclass(frozen=True)
class Claim:
    """A row taken for sending, or how long until it may be (another worker's live lease, a retry
    not yet due); both None when there is nothing left to do (sent, failed, gone)."""

    email: OutgoingEmail | None = None
    retry_in: float | None = None


def email_claim(email_id: int, *, worker: str = "", now: dt.datetime | None = None) -> Claim:
    """Take a row for sending: a pending one that is due, or one whose sender's lease ran out
    (its worker died). Only the caller whose conditional update changed the row goes on."""
    now = now or timezone.now()
    lease = dt.timedelta(seconds=settings.EMAIL_LEASE_SECONDS)
    due = Q(status=OutgoingEmail.Status.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    abandoned = Q(status=OutgoingEmail.Status.SENDING, lease_until__lt=now)
    claimed = OutgoingEmail.objects.filter(due | abandoned, pk=email_id).update(
        status=OutgoingEmail.Status.SENDING,
        claimed_at=now,
        claimed_by=worker[:200],
        lease_until=now + lease,
        attempts=F("attempts") + 1,
    )
    if claimed == 1:
        return Claim(email=OutgoingEmail.objects.get(pk=email_id))
    row = OutgoingEmail.objects.filter(pk=email_id).values("status", "next_attempt_at", "lease_until").first()
    if row is None or row["status"] in (OutgoingEmail.Status.SENT, OutgoingEmail.Status.FAILED):
        return Claim()
    wake = row["lease_until"] if row["status"] == OutgoingEmail.Status.SENDING else row["next_attempt_at"]
    return Claim(retry_in=max((wake - now).total_seconds(), 0) + 1 if wake else 1)


def email_deliver(email: OutgoingEmail, mailer: BaseEmailBackend | None = None) -> float | None:
    """Send a claimed row. On an SMTP error the row goes back to pending with its next attempt,
    whose delay is returned; after `give_up_at` it is failed instead (None is returned).

    With `mailer`, the message goes through its session, opened if need be and left open for
    the next row (`email_send_all`); a session that failed is closed, so the next row opens
    its own."""
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body_text,
        to=[email.to_address],
        # The same Message-ID on every attempt lets mail clients fold a rare resend into one:
        # a worker that dies after the relay accepted the message and before the row says so
        # leaves it to be sent again (the one window SMTP cannot close).
        headers={"Message-ID": f"<carecoord-email-{email.pk}@{urlsplit(settings.SITE_URL).hostname}>"},
    )
    message.attach_alternative(email.body_html, "text/html")
    mine = OutgoingEmail.objects.filter(pk=email.pk, status=OutgoingEmail.Status.SENDING, claimed_by=email.claimed_by)
    try:
        if mailer is None:
            message.send()
        else:
            mailer.open()
            mailer.send_messages([message])
    except RETRYABLE_ERRORS as exc:
        if mailer is not None:
            with contextlib.suppress(*RETRYABLE_ERRORS):
                mailer.close()
        now = timezone.now()
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if email.give_up_at is not None and now >= email.give_up_at:
            mine.update(status=OutgoingEmail.Status.FAILED, lease_until=None, last_error=error)
            logger.error("email %s failed for good after %s attempts: %s", email.pk, email.attempts, error[:200])
            return None
        delay = retry_delay(email.attempts)
        mine.update(
            status=OutgoingEmail.Status.PENDING,
            lease_until=None,
            next_attempt_at=now + dt.timedelta(seconds=delay),
            last_error=error,
        )
        # The relay's own words (a status code and its text), never the message: no patient data.
        logger.warning("email %s attempt %s failed, retry in %ss: %s", email.pk, email.attempts, delay, error[:200])
        return delay
    mine.update(status=OutgoingEmail.Status.SENT, sent_at=timezone.now(), lease_until=None, last_error="")
    if email.attempts > 1:
        email_release_waiting()
    return None


def email_send(email_id: int, *, worker: str, mailer: BaseEmailBackend | None = None) -> float | None:
    """Claim the row and send it: None when done (sent, failed for good, or nothing left to
    do), else the seconds after which to try again (a failed attempt, another worker's lease)."""
    claim = email_claim(email_id, worker=worker)
    return email_deliver(claim.email, mailer) if claim.email is not None else claim.retry_in


def email_send_all(email_ids: Sequence[int], *, worker: str) -> dict[int, float]:
    """`email_send` each row in turn through one SMTP session, opened when the first row is
    claimed; returns the rows to try again, with their delays."""
    mailer = mailers.default
    later = {}
    try:
        for email_id in email_ids:
            retry_in = email_send(email_id, worker=worker, mailer=mailer)
            if retry_in is not None:
                later[email_id] = retry_in
    finally:
        with contextlib.suppress(*RETRYABLE_ERRORS):
            mailer.close()
    return later


def email_send_here(email_ids: Iterable[int], *, worker: str) -> None:
    """Send committed rows from this process through one SMTP session (`email_send_all`),
    instead of a task each (a batch of weekly digests); a row to try again is queued for the
    `send_email` task with its delay, as the task would retry it."""
    later = email_send_all(list(email_ids), worker=worker)
    urgent = dict(OutgoingEmail.objects.filter(pk__in=later).values_list("pk", "urgent"))
    for email_id, retry_in in later.items():
        email_enqueue(email_id, urgent=urgent.get(email_id, False), countdown=retry_in)


def email_release_waiting(now: dt.datetime | None = None) -> int:
    """A retried email just went out: the relay takes mail again, so the emails waiting out
    their backoff (up to five minutes) are queued now, alerts first. Returns how many.

    Their scheduled retries still come; each then finds its row sent and stops."""
    now = now or timezone.now()
    waiting = OutgoingEmail.objects.filter(status=OutgoingEmail.Status.PENDING, next_attempt_at__gt=now)
    picked = list(waiting.order_by("-urgent", "pk").values_list("pk", "urgent")[:1000])
    OutgoingEmail.objects.filter(pk__in=[pk for pk, _ in picked]).update(next_attempt_at=now)
    for pk, urgent in picked:
        email_enqueue(pk, urgent=urgent)
    return len(picked)


def email_sweep(now: dt.datetime | None = None) -> list[OutgoingEmail]:
    """Rows to queue again: pending past the grace period (the broker lost them or their retry
    is overdue), or sending under a lease that ran out (their worker died)."""
    now = now or timezone.now()
    grace = now - dt.timedelta(seconds=settings.EMAIL_PENDING_GRACE_SECONDS)
    pending = Q(status=OutgoingEmail.Status.PENDING) & (
        Q(next_attempt_at__isnull=True, created_at__lt=grace) | Q(next_attempt_at__lt=grace)
    )
    abandoned = Q(status=OutgoingEmail.Status.SENDING, lease_until__lt=now)
    return list(OutgoingEmail.objects.filter(pending | abandoned).only("pk", "urgent").order_by("-urgent", "pk")[:1000])


def email_requeue(email_ids: list[int] | None = None, *, failed: bool = False) -> int:
    """Give rows another delivery window and queue them (the operators' `manage.py outbox`)."""
    rows = OutgoingEmail.objects.exclude(status=OutgoingEmail.Status.SENT)
    if email_ids is not None:
        rows = rows.filter(pk__in=email_ids)
    elif failed:
        rows = rows.filter(status=OutgoingEmail.Status.FAILED)
    else:
        return 0
    now = timezone.now()
    picked = list(rows.values_list("pk", "urgent"))
    OutgoingEmail.objects.filter(pk__in=[pk for pk, _ in picked]).update(
        status=OutgoingEmail.Status.PENDING,
        next_attempt_at=None,
        lease_until=None,
        give_up_at=now + dt.timedelta(hours=settings.EMAIL_RETRY_HOURS),
    )
    for pk, urgent in picked:
        email_enqueue(pk, urgent=urgent)
    return len(picked)
