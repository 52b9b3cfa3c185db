from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F
from django.db.models.functions import Upper


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete an audit entry."""


class AuditEntry(models.Model):
    """One change to patient data, or one read of it: who, when, from which site, what.

    Append-only. `save()` and `delete()` refuse to change an existing row, and a PostgreSQL
    trigger (migration 0002) refuses UPDATE and DELETE of the table whatever the code path
    (queryset updates, raw SQL, the admin). TRUNCATE is not blocked, because the test runner
    empties tables with it: in production the application's database role must not own the
    table nor hold the TRUNCATE privilege on it (docs/SECURITY.md).

    The foreign keys carry no database constraint and do nothing on delete, so deleting a
    user, site or patient never touches the log; `actor_email` keeps who it was.
    """

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Updated"
        DELETE = "delete", "Deleted"
        VIEW = "view", "Viewed"
        DOWNLOAD = "download", "Downloaded"
        EXPORT = "export", "Exported"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        # Nothing looks entries up by the actor's id (the audit search asks for the email,
        # `audit_actor_email_at`): its index was one more entry written for every read.
        db_index=False,
        related_name="+",
        help_text="Empty when the system acted (a background task, a management command).",
    )
    actor_email = models.EmailField(blank=True, help_text="The actor's email when the entry was written.")
    site = models.ForeignKey(
        "carecoord.Site",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        help_text="The actor's site on the patient's care team; empty when there was none.",
    )
    patient = models.ForeignKey(
        "carecoord.Patient",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        # `audit_patient_at` (patient, at) serves every lookup by patient: an index of its own
        # was one more entry written for every read of every patient (fifty a list page).
        db_index=False,
        related_name="+",
    )
    object_type = models.CharField(max_length=100, help_text='"app_label.model"')
    object_id = models.CharField(max_length=64, blank=True)
    what = models.CharField(max_length=200, help_text="A short description without patient data.")
    changes = models.JSONField(default=dict, blank=True, help_text="{field: [old, new]}")
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["patient", "at"], name="audit_patient_at"),
            # The search by person matches the email whatever its case (`iexact`, which
            # PostgreSQL writes as UPPER(actor_email) = UPPER(...)): an index of the column as
            # written served none of it, and the search read the whole table.
            models.Index(Upper("actor_email"), F("at"), name="audit_actor_email_upper_at"),
        ]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_email or 'system'} {self.what}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding or kwargs.get("force_update") or kwargs.get("update_fields"):
            raise AppendOnlyError("Audit entries are append-only: an entry cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit entries are append-only: an entry cannot be deleted.")
