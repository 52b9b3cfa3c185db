"""Education material, versioned like hand-off templates, and the record of education given."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from carecoord.models.calendar import calendar_checks
from carecoord.models.patients import Phase


class Audience(models.TextChoices):
    """Who a material is written for, and who was taught."""

    PATIENT = "patient", "Patient"
    CAREGIVER = "caregiver", "Caregiver"
    COMMUNITY_CLINICIAN = "community_clinician", "Community clinician"


class EducationMaterial(models.Model):
    """One piece of education for a phase of the treatment path and an audience.

    Shared by every site and edited by site administrators. Its content lives in versions:
    a version never changes once saved, and editing the material saves the next version, which
    is the one taught from then on; education already given keeps the version it used.
    """

    name = models.CharField(max_length=120, unique=True, help_text="A short name, e.g. 'After discharge: fever'.")
    phase = models.CharField(max_length=32, choices=Phase.choices)
    audience = models.CharField(max_length=32, choices=Audience.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["phase", "audience", "name"]
        constraints = calendar_checks("education_material", moments=["created_at"])

    def __str__(self) -> str:
        return self.name


class EducationMaterialVersion(models.Model):
    """One version of a material's title and text. Versions are never changed nor deleted."""

    material = models.ForeignKey(EducationMaterial, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Plain text; a blank line starts a new paragraph.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["material", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["material", "number"], name="unique_education_material_version"),
            *calendar_checks("education_material_version", moments=["created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.material} v{self.number}"


class EducationGiven(models.Model):
    """That a patient, their caregiver or a community clinician was taught a material version,
    by whom, from which site and when. Written with its timeline entry."""

    patient = models.ForeignKey("carecoord.Patient", on_delete=models.CASCADE, related_name="education_given")
    version = models.ForeignKey(EducationMaterialVersion, on_delete=models.PROTECT, related_name="given")
    recipient = models.CharField("given to", max_length=32, choices=Audience.choices)
    given_at = models.DateTimeField()
    given_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("carecoord.Site", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-given_at", "-pk"]
        constraints = calendar_checks("education_given", moments=["given_at", "created_at"])
        indexes = [models.Index(fields=["patient", "-given_at"], name="education_given_by_patient")]
        verbose_name_plural = "education given"

    def __str__(self) -> str:
        return f"{self.version} to {self.get_recipient_display().lower()}"
