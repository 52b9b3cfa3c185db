from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from carecoord.models.calendar import calendar_checks


class HandoffTemplate(models.Model):
    """A named standardized hand-off, shared by all sites or owned by one; its content is versioned."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner_site = models.ForeignKey(
        "carecoord.Site",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="handoff_templates",
        help_text="Empty: shared by every site.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["name", "owner_site"], name="unique_template_name_per_owner"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(owner_site__isnull=True), name="unique_shared_template_name"
            ),
            *calendar_checks("handoff_template", moments=["created_at"]),
        ]

    def __str__(self) -> str:
        return self.name


class HandoffTemplateVersion(models.Model):
    """One version of a template's sections and fields. A published version never changes:
    editing makes a new draft version, and publishing it makes it the one new hand-offs use."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    template = models.ForeignKey(HandoffTemplate, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    schema = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["template", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="unique_template_version"),
            *calendar_checks("handoff_template_version", moments=["created_at", "published_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.template} v{self.number}"


# The states in which a question waits for its answer.
OPEN_THREAD_STATES = ["sent", "acknowledged"]


def thread_sites(handoff: Handoff) -> list[int]:
    """The sites that write in a hand-off's thread, in the order one acting for both writes for
    (the receiving site first): the service and the page choose the writer's site alike."""
    return [handoff.to_site_id, handoff.from_site_id]


class HandoffQuerySet(models.QuerySet["Handoff"]):
    def acknowledgement_overdue(self, now: dt.datetime | None = None) -> HandoffQuerySet:
        """Sent and not acknowledged by the receiving site's deadline (as of `now`)."""
        return self.filter(state=Handoff.State.SENT, acknowledge_by__lt=now or timezone.now())

    def awaiting(self, site_ids: list[int]) -> HandoffQuerySet:
        """Hand-offs waiting on one of `site_ids`: sent to it and not acknowledged, or with a
        question from the other site not answered yet (`with_to_answer` tells which).

        The open question's site is kept on the hand-off (`last_word_site`), so this is a filter on
        the hand-off's own columns, each branch served by a partial index holding only the
        hand-offs it can find (`handoff_sent_to`, `handoff_answer_due_at_to/from`): what it reads
        grows with the work waiting on the viewer's sites, not with every thread of the network
        (the threads' last words were found with a DISTINCT ON over every question)."""
        sent_to = Q(state=Handoff.State.SENT, to_site_id__in=site_ids)
        return self.filter(sent_to | _to_answer(site_ids))

    def with_to_answer(self, site_ids: list[int]) -> HandoffQuerySet:
        """Each hand-off with `to_answer`: whether a question from the other site waits for the
        answer of one of `site_ids`."""
        return self.annotate(
            to_answer=models.ExpressionWrapper(_to_answer(site_ids), output_field=models.BooleanField())
        )


# The work queue's order, longest waiting first: a question by when it was asked, an
# acknowledgement by its deadline (`Handoff.waiting_since`, which the index
# `handoff_awaiting_by_wait` walks in this order). The hand-off list sorts so too.
QUEUE_ORDER = ("waiting_since", "sent_at", "pk")


def _to_answer(site_ids: list[int]) -> Q:
    # (A hand-off without an open question has no `last_word_site`: false, not null, for `to_answer`.)
    return Q(state__in=OPEN_THREAD_STATES, last_word_site__isnull=False) & (
        (Q(to_site_id__in=site_ids, last_word_site=F("from_site")) & ~Q(from_site_id__in=site_ids))
        | (Q(from_site_id__in=site_ids, last_word_site=F("to_site")) & ~Q(to_site_id__in=site_ids))
    )


class Handoff(models.Model):
    """A filled template for one patient, from one care-team site to another.

    draft → sent → acknowledged by the receiving point person (who may send questions back)
    → superseded by a newer hand-off of the same template between the same sites.
    """

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        SENT = "sent", "Sent"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        SUPERSEDED = "superseded", "Superseded"

    patient = models.ForeignKey("carecoord.Patient", on_delete=models.CASCADE, related_name="handoffs")
    version = models.ForeignKey(HandoffTemplateVersion, on_delete=models.PROTECT, related_name="handoffs")
    from_site = models.ForeignKey("carecoord.Site", on_delete=models.PROTECT, related_name="+")
    to_site = models.ForeignKey("carecoord.Site", on_delete=models.PROTECT, related_name="+")
    values = models.JSONField(default=dict)
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    acknowledge_by = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="supersedes"
    )
    # The site of the thread's open question, kept by `handoff_ask` in the transaction that
    # records each message: set by a question, emptied by its answer, left as it is by a note
    # (empty while no question waits). The other site's turn to answer
    # (`HandoffQuerySet.awaiting`). No index of its own: the partial indexes below read it.
    last_word_site = models.ForeignKey(
        "carecoord.Site",
        null=True,
        blank=True,
        editable=False,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Since when that question waits: the `created_at` of the first of the site's questions not
    # answered yet, kept with it by `handoff_ask` (a follow-up does not restart the wait).
    last_word_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The work queue's order (`QUEUE_ORDER`): since when a question waits for its answer, else
    # the acknowledgement's deadline, so the longest-waiting question and the most overdue
    # acknowledgement come first. Computed by PostgreSQL, so that an index walks it.
    waiting_since = models.GeneratedField(
        expression=Coalesce("last_word_at", "acknowledge_by"),
        output_field=models.DateTimeField(null=True, blank=True),
        db_persist=True,
    )

    objects = HandoffQuerySet.as_manager()
    # Set on the hand-offs `awaiting` finds: whether a question from the other site is the last
    # word of its thread (else it waits to be acknowledged). Not a column.
    to_answer: bool

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = calendar_checks(
            "handoff",
            moments=[
                "created_at",
                "updated_at",
                "sent_at",
                "acknowledge_by",
                "reminder_sent_at",
                "acknowledged_at",
                "last_word_at",
            ],
        )
        indexes = [
            models.Index(fields=["state", "acknowledge_by"]),
            # The lists read newest first, a page at a time: walked in this order, not sorted whole.
            models.Index(fields=["-created_at", "-id"], name="handoff_newest_first"),
            # `awaiting`: each holds only the hand-offs one of its branches finds.
            models.Index(fields=["to_site"], condition=Q(state="sent"), name="handoff_sent_to"),
            models.Index(
                fields=["to_site"],
                condition=Q(state__in=OPEN_THREAD_STATES, last_word_site=F("from_site")),
                name="handoff_answer_due_at_to",
            ),
            models.Index(
                fields=["from_site"],
                condition=Q(state__in=OPEN_THREAD_STATES, last_word_site=F("to_site")),
                name="handoff_answer_due_at_from",
            ),
            # The work queue's hand-offs waiting, in the queue's order (`QUEUE_ORDER`), holding
            # every column its rule reads: walked until eleven the viewer sees are found, instead
            # of every hand-off waiting at the viewer's sites read and sorted (1,131 at eight
            # practices: the statement took 3.6 ms, now 2.2; as many for someone of one).
            models.Index(
                fields=["waiting_since", "sent_at", "id"],
                include=["patient", "state", "from_site", "to_site", "last_word_site"],
                condition=Q(state="sent") | Q(state__in=OPEN_THREAD_STATES, last_word_site__isnull=False),
                name="handoff_awaiting_by_wait",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} for patient {self.patient_id}"

    def is_acknowledgement_overdue(self, now: dt.datetime | None = None) -> bool:
        """`HandoffQuerySet.acknowledgement_overdue` of one hand-off: sent and past its deadline."""
        return bool(
            self.state == Handoff.State.SENT and self.acknowledge_by and self.acknowledge_by < (now or timezone.now())
        )

    def awaited_site_id(self) -> int | None:
        """The site whose answer the thread waits for (the other site of the open question's),
        or None: no question open, or the hand-off no longer open (`OPEN_THREAD_STATES`), as
        `HandoffQuerySet.awaiting` reads it."""
        if self.last_word_site_id is None or self.state not in OPEN_THREAD_STATES:
            return None
        return self.to_site_id if self.last_word_site_id == self.from_site_id else self.from_site_id


class HandoffQuestion(models.Model):
    """A message of the short thread between the sites about a hand-off: a question (it waits
    for the other site's answer), an answer (it closes the other site's open question) or a
    note (it needs no answer)."""

    class Kind(models.TextChoices):
        QUESTION = "question", "Question"
        ANSWER = "answer", "Answer"
        NOTE = "note", "Note"

    handoff = models.ForeignKey(Handoff, on_delete=models.CASCADE, related_name="questions")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("carecoord.Site", on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.QUESTION)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = calendar_checks("handoff_question", moments=["created_at"])

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on hand-off {self.handoff_id}"

    @classmethod
    def kind_for(cls, *, answering: bool, needs_answer: bool | None) -> HandoffQuestion.Kind:
        """What a message is. `answering`: the other site's question waits for the author's
        site. `needs_answer` is the author's choice, None when not made: a reply to an open
        question answers it unless it needs an answer back; otherwise a message is a question
        unless the author says it needs none (a note)."""
        if needs_answer is None:
            needs_answer = not answering
        if needs_answer:
            return cls.Kind.QUESTION
        return cls.Kind.ANSWER if answering else cls.Kind.NOTE
