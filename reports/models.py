"""The closed-loop ROI report's pre-aggregated figures, rebuilt from the prospects and the
opportunity mirror by ``reports.roi.refresh_figures`` (after each opportunities pull that changed
something, and by the cron every few minutes for prospects' campaign changes).

The report reads these small tables, never the million prospects: ``CampaignDay`` holds one row per
first-touch campaign and day of prospect creation; ``OpportunityCredit`` one row per live mirrored
opportunity with the campaign it is credited to under each model.
"""

from django.db import models


class CampaignDay(models.Model):
    """Prospects created on ``day`` (portal time zone) whose first-touch campaign is ``campaign``
    (none: prospects without a campaign), and how many of them reached Salesforce."""

    campaign = models.ForeignKey(
        "prospects.Campaign", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField()
    prospects = models.PositiveIntegerField(default=0)
    synced = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day"], name="roi_campaign_day_idx")]


class OpportunityCredit(models.Model):
    """A live mirrored opportunity and who gets its credit.

    First touch (Leadbridge's model): the campaign of the earliest-created prospect linked to the
    opportunity through a live contact role (``prospect``; ties by id). Salesforce's model: the
    opportunity's primary campaign source (``sf_campaign_sf_id``, Opportunity.CampaignId; the
    campaign's name and cost come from ``crm.SalesforceCampaign`` when it is mirrored).
    """

    # A derived table, rebuilt whole by each refresh (one transaction) from rows that exist: no
    # foreign key constraints for PostgreSQL to check on its 100,000 rows at commit, and only
    # the indexes a deletion's lookups need (the page sums CreditDay, never these rows).
    opportunity = models.OneToOneField(
        "crm.Opportunity", on_delete=models.CASCADE, related_name="roi_credit", db_constraint=False
    )
    prospect = models.ForeignKey(
        "prospects.Prospect",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    campaign = models.ForeignKey(
        "prospects.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    sf_campaign_sf_id = models.CharField(
        "primary campaign's Salesforce id", max_length=18, blank=True
    )
    # The credited prospect's creation day (portal time zone): the "created" date basis.
    prospect_created_on = models.DateField(null=True, blank=True)
    close_date = models.DateField(null=True, blank=True)
    amount = models.DecimalField(max_digits=20, decimal_places=2, null=True, blank=True)
    is_won = models.BooleanField(default=False)
    is_closed = models.BooleanField(default=False)


class Refresh(models.Model):
    """When the figures were last rebuilt, and how long it took (one row)."""

    refreshed_at = models.DateTimeField()
    took_ms = models.PositiveIntegerField(default=0)


class CreditDay(models.Model):
    """The opportunity figures of one campaign and day, for one attribution model and one date
    basis: what the report sums, a few thousand rows instead of every opportunity.

    ``key``: the Leadbridge campaign's id (first touch) or the Salesforce campaign's id (primary
    campaign source); empty for none. ``day``: the credited prospect's creation day (basis
    "created") or the opportunity's close date (basis "closed"); null when there is none.
    """

    model = models.CharField(max_length=12)
    basis = models.CharField(max_length=8)
    key = models.CharField(max_length=18, blank=True)
    day = models.DateField(null=True, blank=True)
    opportunities = models.PositiveIntegerField(default=0)
    won = models.PositiveIntegerField(default=0)
    won_revenue = models.DecimalField(max_digits=26, decimal_places=2, default=0)
    pipeline = models.DecimalField(max_digits=26, decimal_places=2, default=0)
    no_amount = models.PositiveIntegerField(default=0)
    negative = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["model", "basis", "day"], name="roi_credit_day_idx")]
