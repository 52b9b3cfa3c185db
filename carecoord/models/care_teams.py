from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class CareTeamLinkQuerySet(models.QuerySet["CareTeamLink"]):
    def open(self) -> CareTeamLinkQuerySet:
        """Links not ended: the sites sharing the patient's care now."""
        return self.filter(ended_at__isnull=True)


class CareTeamLink(models.Model):
    """A site sharing one patient's care, in a capacity, from `joined_at` until `ended_at`.

    Links are never deleted: ending one keeps the history while withdrawing the site's access.
    At most one open link per patient and site.
    """

    class Capacity(models.TextChoices):
        COMMUNITY_PRACTICE = "community_practice", "Community practice"
        TREATING_CENTER = "treating_center", "Treating center"

    patient = models.ForeignKey("carecoord.Patient", on_delete=models.CASCADE, related_name="care_team")
    site = models.ForeignKey("carecoord.Site", on_delete=models.PROTECT, related_name="care_team_links")
    capacity = models.CharField(max_length=32, choices=Capacity.choices)
    joined_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = CareTeamLinkQuerySet.as_manager()

    class Meta:
        ordering = ["capacity", "site__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "site"], condition=Q(ended_at__isnull=True), name="one_open_link_per_site"
            ),
        ]
        indexes = [
            # The work queue's links naming no primary point person, oldest first: walked in this
            # order until the few are found, instead of every link of the sites checked against
            # every primary point person (12-15 ms at 5,000 patients, now under 1 ms). The walk
            # reads the index alone (`include`): for someone who sees eight practices it passed
            # 678 links to find eleven, each read from the table too (0.4 ms of the statement).
            models.Index(
                fields=["joined_at"],
                include=["id", "site", "patient"],
                condition=Q(ended_at__isnull=True),
                name="careteamlink_open_oldest_first",
            ),
            # The same walk for a person of one site reads only that site's links (a center holds
            # half the network's: 438 links read instead of 1,824 to find the first eleven).
            models.Index(
                fields=["site", "joined_at"], condition=Q(ended_at__isnull=True), name="careteamlink_open_by_site"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site} ({self.get_capacity_display()})"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class PointPersonQuerySet(models.QuerySet["PointPerson"]):
    def open(self) -> PointPersonQuerySet:
        """Point persons of sites still on the care team."""
        return self.filter(link__ended_at__isnull=True)


class PointPerson(models.Model):
    """The named person at a care-team site to call about this patient: primary or backup."""

    class Rank(models.TextChoices):
        PRIMARY = "primary", "Primary"
        BACKUP = "backup", "Backup"

    link = models.ForeignKey(CareTeamLink, on_delete=models.CASCADE, related_name="point_persons")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="point_person_for")
    rank = models.CharField(max_length=16, choices=Rank.choices)

    objects = PointPersonQuerySet.as_manager()

    class Meta:
        ordering = ["link", "rank"]
        # Which links name a primary (the work queue's "alerts reach nobody" check), read from
        # the index alone.
        indexes = [
            models.Index(fields=["link"], include=["user"], condition=Q(rank="primary"), name="pointperson_primary")
        ]
        constraints = [
            models.UniqueConstraint(fields=["link", "rank"], name="one_person_per_rank"),
            models.UniqueConstraint(fields=["link", "user"], name="one_rank_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.get_rank_display()}: {self.user}"
