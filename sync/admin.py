"""The connector's rows, read-only: settings change on the connector pages (which check the
login host, ask for the secrets again and record who changed what), everything else is
bookkeeping the engine writes."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from sync.models import (
    Connector,
    ConnectorChange,
    DataSharingRule,
    FieldRule,
    SObjectDescribe,
    SyncCursor,
    SyncError,
)


@admin.register(Connector)
class ConnectorAdmin(ReadOnlyAdmin):
    list_display = ("name", "login_url", "state", "verified_at", "last_push_at", "last_pull_at")
    # Secrets are write-only: never shown back, not even to admins. Where they are sent is changed
    # on the connector page only, which asks for them again (sync/forms.py).
    exclude = ("client_secret", "password")
    readonly_fields = ("login_url", "grant_type", "client_id", "instance_url")


@admin.register(FieldRule)
class FieldRuleAdmin(ReadOnlyAdmin):
    list_display = ("prospect_field", "lead_field", "contact_field", "behaviour", "fixed")
    list_filter = ("behaviour", "fixed")


@admin.register(SyncError)
class SyncErrorAdmin(ReadOnlyAdmin):
    list_display = ("error_code", "category", "prospect_email", "field", "attempts", "last_seen_at")
    list_filter = ("category", "direction", "resolution")
    search_fields = ("prospect_email", "error_code", "message")
    raw_id_fields = ("prospect",)


@admin.register(ConnectorChange)
class ConnectorChangeAdmin(ReadOnlyAdmin):
    list_display = ("connector", "at", "user", "subject", "field")


admin.site.register([DataSharingRule, SObjectDescribe, SyncCursor], ReadOnlyAdmin)
