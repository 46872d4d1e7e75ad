"""Salesforce campaigns, their member statuses, and prospects' memberships in them.

Campaigns and statuses are a read-only mirror of the org, refreshed by the pull
(``sync/engine/campaigns.py``). Memberships are co-owned: the portal adds prospects and changes
their status (the push sends them as ``CampaignMember`` records), Salesforce users do the same
and the pull brings it back.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class SalesforceCampaignQuerySet(models.QuerySet):
    def live(self) -> SalesforceCampaignQuerySet:
        """Campaigns that still exist in Salesforce."""
        return self.filter(deleted_at__isnull=True)


class SalesforceCampaign(models.Model):
    """A ``Campaign`` record of the org (prefix 701), as the last pull saw it.

    ``member_count`` and ``status_counts`` are the portal's memberships counted when they last
    changed (push, pull, add): the campaign pages read them instead of counting a million rows.
    """

    sf_id = models.CharField("Salesforce id", max_length=18, unique=True)
    name = models.CharField(max_length=255)
    type = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=255, blank=True)
    is_active = models.BooleanField(default=False)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    budgeted_cost = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    actual_cost = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    parent_sf_id = models.CharField(max_length=18, blank=True)
    leadbridge_campaign = models.OneToOneField(
        "prospects.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="salesforce_campaign",
        help_text="The Leadbridge campaign connected to this Salesforce campaign.",
    )
    sf_modified_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(
        null=True, blank=True, help_text="When the pull saw it deleted in Salesforce."
    )
    refreshed_at = models.DateTimeField(null=True, blank=True)
    member_count = models.PositiveIntegerField(default=0)
    status_counts = models.JSONField(default=dict, blank=True)

    objects = SalesforceCampaignQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = "Salesforce campaign"

    def __str__(self) -> str:
        return self.name

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def status_labels(self) -> list[str]:
        return [s.label for s in self.member_statuses.all()]

    def default_status(self) -> CampaignMemberStatus | None:
        statuses = list(self.member_statuses.all())
        return next((s for s in statuses if s.is_default), statuses[0] if statuses else None)


class CampaignMemberStatus(models.Model):
    """One of a campaign's member statuses (``CampaignMemberStatus``, prefix 01Y)."""

    campaign = models.ForeignKey(
        SalesforceCampaign, on_delete=models.CASCADE, related_name="member_statuses"
    )
    sf_id = models.CharField("Salesforce id", max_length=18, unique=True)
    label = models.CharField(max_length=765)
    is_default = models.BooleanField(default=False)
    has_responded = models.BooleanField(default=False)
    sort_order = models.IntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "label", "pk"]
        verbose_name = "campaign member status"
        verbose_name_plural = "campaign member statuses"

    def __str__(self) -> str:
        return self.label


class MembershipState(models.TextChoices):
    PENDING = "pending", "Pending"
    SYNCED = "synced", "Synced"
    ERROR = "error", "Error"


class CampaignMembership(models.Model):
    """A prospect's membership in a Salesforce campaign (a ``CampaignMember``, prefix 00v).

    1. Added here: ``pending`` until the prospect has a lead or contact in Salesforce and the
       push creates the member; then ``synced`` with ``sf_member_id``.
    2. A status changed here bumps ``generation`` and goes back to ``pending``; a push settles
       only the generation it sent, so a change made meanwhile is sent next.
    3. Refused by Salesforce: ``error``, with the message and a Sync Errors row.
    4. Added or changed in Salesforce: the pull writes it ``synced`` (it never overwrites a
       pending local change).
    """

    prospect = models.ForeignKey(
        "prospects.Prospect", on_delete=models.CASCADE, related_name="campaign_memberships"
    )
    campaign = models.ForeignKey(
        SalesforceCampaign, on_delete=models.CASCADE, related_name="memberships"
    )
    status = models.CharField(max_length=765)
    has_responded = models.BooleanField(default=False)
    first_responded_date = models.DateField(null=True, blank=True)
    sf_member_id = models.CharField("Salesforce member id", max_length=18, blank=True)
    state = models.CharField(
        max_length=10, choices=MembershipState.choices, default=MembershipState.PENDING
    )
    generation = models.PositiveIntegerField(default=1)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error_message = models.TextField(blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "prospect"], name="one_membership_each"),
            models.UniqueConstraint(
                fields=["sf_member_id"],
                condition=~Q(sf_member_id=""),
                name="one_membership_per_member",
            ),
        ]
        indexes = [
            # The members page: newest first, whole or by status / state / responded.
            models.Index(fields=["campaign", "-id"], name="membership_campaign_id"),
            models.Index(fields=["campaign", "status", "-id"], name="membership_campaign_status"),
            models.Index(fields=["campaign", "state", "-id"], name="membership_campaign_state"),
            models.Index(
                fields=["campaign", "has_responded", "-id"], name="membership_campaign_responded"
            ),
            # The members page sorted by when a membership last changed.
            models.Index(
                fields=["campaign", "updated_at", "id"], name="membership_campaign_changed"
            ),
            models.Index(fields=["state", "claimed_at"], name="membership_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.prospect_id} in {self.campaign_id} ({self.status})"
