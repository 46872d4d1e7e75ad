from django.contrib import admin

from core.admin import ReadOnlyAdmin
from prospects.models import Campaign, CrmQueue, CustomField, Prospect, SyncHistory, SyncQueueItem

# Written by the connector only: the links to Salesforce records and what the last sync saw.
# Editing one by hand would point the prospect at another record or fake a sync.
CRM_BOOKKEEPING = (
    "crm_lead_id",
    "crm_contact_id",
    "crm_account_id",
    "crm_owner_id",
    "crm_person_account",
    "crm_modified_at",
    "sync_key",
    "sync_status",
    "last_synced_at",
    "field_changed_at",
)


@admin.register(Prospect)
class ProspectAdmin(ReadOnlyAdmin):
    """Shown, never edited here: a prospect changes on its own page, whose form saves only what
    the marketer changed (never reverting a pull that landed meanwhile), names who did it in the
    history and asks for the sync. An admin form would do none of that."""

    list_display = ("email", "first_name", "last_name", "company", "score", "grade", "created_at")
    list_filter = ("grade", "opted_out", "do_not_sync")
    search_fields = ("email", "first_name", "last_name", "company")
    raw_id_fields = ("assigned_user",)
    readonly_fields = ("created_at", "updated_at", *CRM_BOOKKEEPING)
    list_select_related = ("assigned_user",)


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "cost", "created_at")
    search_fields = ("name",)


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    list_display = ("label", "api_name", "type", "validate_on_import")
    search_fields = ("label", "api_name")


@admin.register(CrmQueue)
class CrmQueueAdmin(ReadOnlyAdmin):
    """Salesforce's lead queues, mirrored by verification."""

    list_display = ("name", "developer_name", "sf_id", "is_active", "refreshed_at")


# Bookkeeping of the sync engine: the pending-sync queue and what happened to each prospect.
@admin.register(SyncQueueItem)
class SyncQueueItemAdmin(ReadOnlyAdmin):
    list_display = ("prospect", "reason", "requested_at", "attempts", "not_before", "claimed_by")
    list_select_related = ("prospect",)


@admin.register(SyncHistory)
class SyncHistoryAdmin(ReadOnlyAdmin):
    list_display = ("prospect", "at", "direction", "operation", "sobject", "result")
    list_filter = ("direction", "result")
    list_select_related = ("prospect",)
