"""Salesforce custom objects mirrored read-only for the prospects they relate to.

A Sync admin picks a custom object (``…__c``) and its lookup to Lead, Contact or Account
(``CustomObjectDefinition``); the pull (``sync/engine/custom_objects.py``) mirrors the records
whose lookup points at a lead, contact or account a prospect syncs with (``CustomObjectRecord``,
values as JSON), follows their changes on ``SystemModstamp`` and their deletes through
``queryAll``, and drops those a Marketing Data Sharing rule on the object excludes. A record
relates to a prospect through the Salesforce id both hold, so no foreign key crosses the apps.
"""

from django.conf import settings
from django.db import models


class LookupTarget(models.TextChoices):
    LEAD = "Lead", "Lead"
    CONTACT = "Contact", "Contact"
    ACCOUNT = "Account", "Account"


# The prospect column holding the Salesforce id each lookup target points at.
PROSPECT_COLUMN = {
    LookupTarget.LEAD: "crm_lead_id",
    LookupTarget.CONTACT: "crm_contact_id",
    LookupTarget.ACCOUNT: "crm_account_id",
}


class CustomObjectDefinition(models.Model):
    """A custom object the connector mirrors: which lookup relates it to prospects and which of
    its fields to show (and filter on)."""

    api_name = models.CharField("API name", max_length=100, unique=True)
    label = models.CharField(max_length=255)
    lookup_field = models.CharField("lookup field", max_length=100)
    lookup_to = models.CharField("relates to", max_length=10, choices=LookupTarget.choices)
    # [{"name": "Plan__c", "label": "Plan", "type": "picklist"}, ...] in display order.
    fields = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The pull's bookkeeping: its watermark, and the last access problem (cleared when it reads).
    watermark = models.DateTimeField(null=True, blank=True)
    last_pulled_at = models.DateTimeField(null=True, blank=True)
    problem = models.CharField(max_length=500, blank=True)
    # The Marketing Data Sharing rule the mirror was built under ("field=value", "" for none).
    sharing_key = models.CharField(max_length=400, blank=True)

    class Meta:
        ordering = ["label", "pk"]

    def __str__(self) -> str:
        return f"{self.label} ({self.api_name})"

    @property
    def prospect_column(self) -> str:
        return PROSPECT_COLUMN[LookupTarget(self.lookup_to)]

    @property
    def field_names(self) -> list[str]:
        return [f["name"] for f in self.fields]

    def field_label(self, name: str) -> str:
        return next((f["label"] for f in self.fields if f["name"] == name), name)


class CustomObjectRecord(models.Model):
    """One mirrored record: its name, the Salesforce id its lookup holds, its chosen fields."""

    definition = models.ForeignKey(
        CustomObjectDefinition, on_delete=models.CASCADE, related_name="records"
    )
    sf_id = models.CharField("Salesforce id", max_length=18, unique=True)
    name = models.CharField(max_length=255, blank=True)
    parent_sf_id = models.CharField("lookup's Salesforce id", max_length=18, db_index=True)
    values = models.JSONField(default=dict, blank=True)
    sf_modified_at = models.DateTimeField("changed in Salesforce", null=True, blank=True)
    refreshed_at = models.DateTimeField()

    class Meta:
        ordering = ["definition", "name", "pk"]

    def __str__(self) -> str:
        return self.name or self.sf_id

    def shown_values(self) -> list[tuple[str, object]]:
        """(label, value) of the chosen fields; a whole number read as a double shows as one."""
        out = []
        for f in self.definition.fields:
            value = self.values.get(f["name"])
            if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
                value = int(value)
            out.append((f["label"], value))
        return out


class CustomObjectScan(models.Model):
    """A lead, contact or account whose records of one custom object were read once by lookup;
    later changes come through ``SystemModstamp`` (as ``ContactRoleScan`` for opportunities)."""

    definition = models.ForeignKey(
        CustomObjectDefinition, on_delete=models.CASCADE, related_name="scans"
    )
    parent_sf_id = models.CharField(max_length=18)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["definition", "parent_sf_id"], name="one_custom_object_scan"
            )
        ]
