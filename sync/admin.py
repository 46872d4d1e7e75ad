from django.contrib import admin

from sync.models import (
    Connector,
    ConnectorChange,
    DataSharingRule,
    FieldRule,
    SObjectDescribe,
    SyncCursor,
    SyncError,
    SyncHistory,
    SyncQueueItem,
)


@admin.register(Connector)
class ConnectorAdmin(admin.ModelAdmin):
    list_display = ("name", "login_url", "state", "verified_at", "last_push_at", "last_pull_at")
    # Secrets are write-only: never shown back, not even to admins. Where they are sent is changed
    # on the connector page only, which asks for them again (sync/forms.py).
    exclude = ("client_secret", "password")
    readonly_fields = ("login_url", "grant_type", "client_id", "instance_url")


@admin.register(FieldRule)
class FieldRuleAdmin(admin.ModelAdmin):
    list_display = ("prospect_field", "lead_field", "contact_field", "behaviour", "fixed")
    list_filter = ("behaviour", "fixed")


@admin.register(SyncError)
class SyncErrorAdmin(admin.ModelAdmin):
    list_display = ("error_code", "category", "prospect_email", "field", "attempts", "last_seen_at")
    list_filter = ("category", "direction", "resolution")
    search_fields = ("prospect_email", "error_code", "message")
    raw_id_fields = ("prospect",)


admin.site.register(
    [ConnectorChange, DataSharingRule, SObjectDescribe, SyncCursor, SyncHistory, SyncQueueItem]
)
