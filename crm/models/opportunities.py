"""Salesforce Opportunities and their contact roles, mirrored read-only (Salesforce is master).

An opportunity reaches Leadbridge only through an ``OpportunityContactRole`` to a contact a
prospect syncs with (``Prospect.crm_contact_id``), as the guide says; one without contact roles
is never mirrored. The pull (``sync/engine/opportunities.py``) keeps both tables fresh.
"""

from django.db import models


class OpportunityQuerySet(models.QuerySet):
    def live(self) -> "OpportunityQuerySet":
        return self.filter(deleted_at__isnull=True)


class Opportunity(models.Model):
    sf_id = models.CharField("Salesforce id", max_length=18, unique=True)
    name = models.CharField(max_length=120, blank=True)
    stage = models.CharField(max_length=255, blank=True, db_index=True)
    # Null when Salesforce has no amount, or one too large for the column (kept out, not cut).
    amount = models.DecimalField(max_digits=20, decimal_places=2, null=True, blank=True)
    close_date = models.DateField(null=True, blank=True)
    probability = models.PositiveSmallIntegerField("probability (%)", null=True, blank=True)
    type = models.CharField(max_length=255, blank=True)
    is_won = models.BooleanField(default=False)
    is_closed = models.BooleanField(default=False)
    # The primary campaign source (Opportunity.CampaignId) and the account, as Salesforce ids.
    campaign_sf_id = models.CharField("primary campaign's Salesforce id", max_length=18, blank=True)
    account_sf_id = models.CharField("account's Salesforce id", max_length=18, blank=True)
    sf_modified_at = models.DateTimeField("changed in Salesforce", null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    # Deleted in Salesforce, or no longer visible to the connector user.
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = OpportunityQuerySet.as_manager()

    class Meta:
        ordering = ["-close_date", "pk"]
        verbose_name_plural = "opportunities"

    def __str__(self) -> str:
        return self.name or self.sf_id

    @property
    def outcome(self) -> str:
        if not self.is_closed:
            return "open"
        return "won" if self.is_won else "lost"


class OpportunityContactRole(models.Model):
    """A contact's role on an opportunity. ``prospect`` is the prospect syncing with the contact;
    a role to a contact no prospect syncs with is kept unlinked (null) and linked once one does."""

    sf_id = models.CharField("Salesforce id", max_length=18, unique=True)
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="contact_roles"
    )
    contact_sf_id = models.CharField("contact's Salesforce id", max_length=18, db_index=True)
    prospect = models.ForeignKey(
        "prospects.Prospect",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="opportunity_roles",
    )
    role = models.CharField(max_length=40, blank=True)
    is_primary = models.BooleanField(default=False)
    deleted = models.BooleanField(default=False)
    sf_modified_at = models.DateTimeField("changed in Salesforce", null=True, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.role or 'Contact role'} on {self.opportunity_id}"


class ContactRoleScan(models.Model):
    """A synced contact whose contact roles the pull has read once by contact id; later changes
    come through ``SystemModstamp``. Keeps a contact without roles from being asked every tick."""

    contact_sf_id = models.CharField("contact's Salesforce id", max_length=18, unique=True)
    scanned_at = models.DateTimeField()


class OpportunityEvent(models.Model):
    """An opportunity event scored for one prospect: created (the prospect linked to it), won or
    lost. One row per (opportunity, prospect, kind) makes scoring idempotent across re-pulls and
    a prospect with two roles on one deal scores once."""

    class Kind(models.TextChoices):
        CREATED = "created", "Opportunity created"
        WON = "won", "Opportunity won"
        LOST = "lost", "Opportunity lost"

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="events")
    prospect = models.ForeignKey(
        "prospects.Prospect", on_delete=models.CASCADE, related_name="opportunity_events"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity", "prospect", "kind"], name="one_opportunity_event"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.opportunity_id} for {self.prospect_id}"
