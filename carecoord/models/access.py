from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import models
from guardian.models import GroupObjectPermissionBase

from carecoord.roles import Role


class SiteRoleGroup(models.Model):
    """The permission group of everyone actively working at one site in one role.

    Patient grants go to these groups when the site joins a care team; people join and
    leave the groups as their memberships start and end (`carecoord.access.grants`).
    """

    site = models.ForeignKey("carecoord.Site", on_delete=models.CASCADE, related_name="role_groups")
    role = models.CharField(max_length=32, choices=Role.choices)
    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="site_role")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "role"], name="one_group_per_site_role")]

    def __str__(self) -> str:
        return f"{self.site} / {self.get_role_display()}"


class PatientGroupObjectPermission(GroupObjectPermissionBase):
    """django-guardian grant of one capability on one patient to one site-role group.

    A direct foreign-key table (guardian's "Performance" advice) so scoping is a plain join.
    """

    content_object = models.ForeignKey("carecoord.Patient", on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False
        # What a person may do for the patients of a page (`capabilities_by_site`): the patient's
        # grants of the person's groups in one index, where PostgreSQL otherwise intersected the
        # group's index (every patient of the site) with the patient's.
        indexes = [models.Index(fields=["content_object", "group", "permission"], name="grant_by_patient")]
