from __future__ import annotations

import uuid

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Upper

from carecoord.models.calendar import calendar_checks
from carecoord.roles import Capability


class DiseaseArea(models.TextChoices):
    LBCL = "lbcl", "Large B-cell lymphoma"
    FL = "fl", "Follicular lymphoma"
    MCL = "mcl", "Mantle cell lymphoma"
    MZL = "mzl", "Marginal zone lymphoma"
    CLL_SLL = "cll_sll", "CLL / SLL"
    B_ALL = "b_all", "B-cell acute lymphoblastic leukemia"
    MULTIPLE_MYELOMA = "multiple_myeloma", "Multiple myeloma"
    OTHER = "other", "Other"


class Phase(models.TextChoices):
    """Where the patient stands on the treatment path (docs/clinical-rules.md#phase), in order."""

    REFERRAL = "referral", "Referral"
    INTAKE_REVIEW = "intake_review", "Intake review"
    CONSULT = "consult", "Consult"
    ELIGIBILITY = "eligibility", "Eligibility decision"
    INSURANCE = "insurance", "Insurance authorization"
    APHERESIS = "apheresis", "Apheresis"
    MANUFACTURING = "manufacturing", "Manufacturing"
    BRIDGING = "bridging", "Bridging therapy"
    LYMPHODEPLETION = "lymphodepletion", "Lymphodepletion"
    INFUSION = "infusion", "Infusion (day 0)"
    MONITORING = "monitoring", "Intensive monitoring"
    HAND_BACK = "hand_back", "Hand-back to community"
    FOLLOW_UP = "follow_up", "Follow-up"
    LONG_TERM = "long_term", "Long-term follow-up"


class Patient(models.Model):
    """A person whose CAR-T care carecoord coordinates. Everything about them is PHI.

    The primary key is a random UUID so that URLs reveal nothing and cannot be enumerated.
    Who may see the patient is decided by the care team (`CareTeamLink`), never by a field here.
    """

    class Sex(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        OTHER = "other", "Other"
        UNKNOWN = "unknown", "Unknown"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=16, choices=Sex.choices)
    disease_area = models.CharField(max_length=32, choices=DiseaseArea.choices)
    phase = models.CharField(max_length=32, choices=Phase.choices, default=Phase.REFERRAL)
    caregiver_name = models.CharField(max_length=200, blank=True)
    caregiver_relationship = models.CharField(max_length=100, blank=True)
    caregiver_phone = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        # Lists read by name, a page at a time: walked in this order, not sorted whole.
        indexes = [
            models.Index(fields=["family_name", "given_name", "id"], name="patient_by_name"),
            # The patient search (`patients_matching`): any part of a name, case-insensitive.
            GinIndex(OpClass(Upper("family_name"), name="gin_trgm_ops"), name="patient_family_name_trgm"),
            GinIndex(OpClass(Upper("given_name"), name="gin_trgm_ops"), name="patient_given_name_trgm"),
        ]
        constraints = calendar_checks("patient", dates=["date_of_birth"], moments=["created_at", "updated_at"])
        permissions = [
            (Capability.RECORD_CARE.value, "Can record care events for the patient"),
            (Capability.MANAGE_CARE_TEAM.value, "Can add sites and point persons to the care team"),
        ]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name}"

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def initials(self) -> str:
        """The minimum that identifies a patient in emails and notifications (docs/clinical-rules.md#minimum-phi)."""
        return initials_of(self.given_name, self.family_name)


def initials_of(given_name: str, family_name: str) -> str:
    """`Patient.initials` from the two names, or from only their first letters (a digest reads
    those in SQL, never the names)."""
    return f"{given_name[:1]}{family_name[:1]}".upper()


class PatientIdentifier(models.Model):
    """A patient's identifier at one site (that site's MRN); unique within the site."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="identifiers")
    site = models.ForeignKey("carecoord.Site", on_delete=models.PROTECT, related_name="patient_identifiers")
    mrn = models.CharField("MRN", max_length=64)

    class Meta:
        ordering = ["site__name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "mrn"], name="unique_mrn_per_site"),
            models.UniqueConstraint(fields=["patient", "site"], name="one_mrn_per_patient_per_site"),
        ]
        indexes = [GinIndex(OpClass(Upper("mrn"), name="gin_trgm_ops"), name="identifier_mrn_trgm")]

    def __str__(self) -> str:
        return f"{self.site}: {self.mrn}"
