"""Roles at a site and what each may do to a patient whose care the site shares.

The role is the only thing that decides what a member may change. Capabilities are the
object permissions on `Patient` (see `Patient.Meta.permissions`); `carecoord.access.grants`
writes them as django-guardian group grants.
"""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    COORDINATOR = "coordinator", "Coordinator"
    PHYSICIAN = "physician", "Physician"
    NURSE = "nurse", "Nurse"
    PHARMACIST = "pharmacist", "Pharmacist"
    READ_ONLY = "read_only", "Read-only"


class Capability(models.TextChoices):
    """Object permission codenames on Patient, granted per role."""

    VIEW = "view_patient", "See the patient and everything attached"
    RECORD_CARE = "record_care", "Record care events (milestones, toxicities, comments)"
    CHANGE = "change_patient", "Change demographics and identifiers"
    MANAGE_CARE_TEAM = "manage_care_team", "Add sites and name point persons"


ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.COORDINATOR: frozenset(
        {Capability.VIEW, Capability.RECORD_CARE, Capability.CHANGE, Capability.MANAGE_CARE_TEAM}
    ),
    Role.PHYSICIAN: frozenset({Capability.VIEW, Capability.RECORD_CARE, Capability.CHANGE}),
    Role.NURSE: frozenset({Capability.VIEW, Capability.RECORD_CARE, Capability.CHANGE}),
    Role.PHARMACIST: frozenset({Capability.VIEW, Capability.RECORD_CARE}),
    Role.READ_ONLY: frozenset({Capability.VIEW}),
}

# Roles that may register a new patient at their site.
ROLES_THAT_REGISTER_PATIENTS = frozenset({Role.COORDINATOR, Role.PHYSICIAN, Role.NURSE})


def capabilities_of(role: str) -> frozenset[str]:
    return ROLE_CAPABILITIES[role]
