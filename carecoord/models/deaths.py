from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from carecoord.models.calendar import calendar_checks

DEATH_DETAIL_MAX_LENGTH = 500


class DeathCause(models.TextChoices):
    """The primary cause of a patient's death, in the categories cellular-therapy registries
    report (relapse against non-relapse causes, the latter by kind; docs/clinical-rules.md#death)."""

    RELAPSE = "relapse", "Relapse or progression of the disease"
    CRS = "crs", "Cytokine release syndrome"
    ICANS = "icans", "ICANS (neurotoxicity)"
    IEC_HS = "iec_hs", "IEC-HS (HLH-like syndrome)"
    INFECTION = "infection", "Infection"
    OTHER_TOXICITY = "other_toxicity", "Other toxicity of treatment"
    SECOND_MALIGNANCY = "second_malignancy", "Second primary malignancy"
    OTHER = "other", "Other cause"
    UNKNOWN = "unknown", "Unknown"


# Deaths not due to the disease: non-relapse mortality, the safety figure programs track.
NON_RELAPSE_CAUSES = frozenset(DeathCause) - {DeathCause.RELAPSE, DeathCause.UNKNOWN}


class PatientDeath(models.Model):
    """That a patient died: the day, the primary cause, and who recorded it for which site.

    One per patient. Recording it cancels the patient's planned steps (kept in `cancelled_steps`,
    so that a death recorded in error, once withdrawn, plans them again) and takes the patient
    out of the lists of work to do; the history stays, both sites see it.
    """

    patient = models.OneToOneField(
        "carecoord.Patient", primary_key=True, on_delete=models.CASCADE, related_name="death"
    )
    died_on = models.DateField("Date of death")
    cause = models.CharField(max_length=32, choices=DeathCause.choices)
    detail = models.CharField(max_length=DEATH_DETAIL_MAX_LENGTH, blank=True)
    site = models.ForeignKey("carecoord.Site", on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The milestones (`referrals.Milestone` ids) the death cancelled: not a relation, the steps
    # live in an app above the core.
    cancelled_steps = ArrayField(models.BigIntegerField(), default=list, blank=True, editable=False)

    class Meta:
        constraints = calendar_checks("patient_death", dates=["died_on"], moments=["recorded_at", "updated_at"])

    def __str__(self) -> str:
        return f"died on {self.died_on:%Y-%m-%d}"

    @property
    def non_relapse(self) -> bool:
        return self.cause in NON_RELAPSE_CAUSES


def alive(patient: str = "patient") -> models.Q:
    """Rows whose patient (`patient`: the lookup to it) has no recorded death: what lists of
    work still to do filter on."""
    return models.Q(**{f"{patient}__death__isnull": True})


def alive_by_key(patient_id: str = "patient_id") -> models.Q:
    """`alive`, read from the patient's key (`patient_id`: the column holding it) with no join
    with the patients: for a walk whose join with them cost PostgreSQL more to plan than the
    walk took to run."""
    return models.Q(~models.Exists(PatientDeath.objects.filter(patient_id=models.OuterRef(patient_id))))
