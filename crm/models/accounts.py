"""Salesforce Accounts, mirrored read-only (Salesforce is their master)."""

from django.db import models
from django.urls import reverse

# Account fields every mirror row holds in a column of its own (API name -> column).
STANDARD_FIELDS = {
    "Name": "name",
    "Website": "website",
    "Industry": "industry",
    "NumberOfEmployees": "employees",
    "AnnualRevenue": "annual_revenue",
    "BillingStreet": "billing_street",
    "BillingCity": "billing_city",
    "BillingState": "billing_state",
    "BillingPostalCode": "billing_postal_code",
    "BillingCountry": "billing_country",
    "OwnerId": "owner_sf_id",
    "IsPersonAccount": "is_person_account",
}


class AccountQuerySet(models.QuerySet):
    def live(self) -> "AccountQuerySet":
        return self.filter(deleted_at__isnull=True)


class Account(models.Model):
    """A Salesforce Account linked to at least one prospect (``Prospect.crm_account_id``): the
    account of a syncing contact, or a person account.

    Read-only here: the pull refreshes it when Salesforce changes it (``SystemModstamp``), and
    nothing in Leadbridge writes it back. The fields a Sync admin adds
    (``AccountSettings.extra_fields``) are kept as Salesforce sent them in ``extra``.
    """

    sf_id = models.CharField("Salesforce id", max_length=18, unique=True)
    name = models.CharField(max_length=255, blank=True)
    # Salesforce takes any text in a URL field: kept as sent, linked only when http(s).
    website = models.CharField(max_length=255, blank=True)
    industry = models.CharField(max_length=255, blank=True, db_index=True)
    employees = models.PositiveIntegerField(null=True, blank=True)
    annual_revenue = models.DecimalField(max_digits=20, decimal_places=2, null=True, blank=True)
    billing_street = models.CharField(max_length=255, blank=True)
    billing_city = models.CharField(max_length=40, blank=True)
    billing_state = models.CharField(max_length=80, blank=True)
    billing_postal_code = models.CharField(max_length=20, blank=True)
    billing_country = models.CharField(max_length=80, blank=True, db_index=True)
    owner_sf_id = models.CharField("owner's Salesforce id", max_length=18, blank=True)
    is_person_account = models.BooleanField(default=False)
    extra = models.JSONField(default=dict, blank=True)
    modified_at = models.DateTimeField("changed in Salesforce", null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    # Deleted in Salesforce, or no longer visible to the connector user.
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["name"], name="crm_account_name_idx")]

    def __str__(self) -> str:
        return self.name or self.sf_id

    def get_absolute_url(self) -> str:
        return reverse("crm:account", args=[self.pk])

    @property
    def billing_address(self) -> str:
        parts = [
            self.billing_street,
            " ".join(p for p in (self.billing_postal_code, self.billing_city) if p),
            self.billing_state,
            self.billing_country,
        ]
        return ", ".join(p for p in parts if p)


class AccountSettings(models.Model):
    """The account fields a Sync admin adds to the mirror (one row: ``AccountSettings.load()``)."""

    extra_fields = models.JSONField(
        default=list,
        blank=True,
        help_text="Account API names pulled besides the standard ones, e.g. Type, Rating.",
    )
    # Names the last pull could not read (not on Account, or hidden from the connector user).
    missing_fields = models.JSONField(default=list, blank=True, editable=False)

    class Meta:
        verbose_name = "account settings"
        verbose_name_plural = "account settings"

    def __str__(self) -> str:
        return "Account settings"

    @classmethod
    def load(cls) -> "AccountSettings":
        """The settings row, unsaved with defaults when none was saved (reads write nothing)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)
