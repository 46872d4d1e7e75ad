from django.contrib import admin

from prospects.models import Campaign, CustomField, Prospect


@admin.register(Prospect)
class ProspectAdmin(admin.ModelAdmin):
    list_display = ("email", "first_name", "last_name", "company", "score", "grade", "created_at")
    list_filter = ("grade", "opted_out", "do_not_sync")
    search_fields = ("email", "first_name", "last_name", "company")
    raw_id_fields = ("assigned_user",)
    readonly_fields = ("created_at", "updated_at", "last_synced_at")
    list_select_related = ("assigned_user",)


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "cost", "created_at")
    search_fields = ("name",)


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    list_display = ("label", "api_name", "type", "validate_on_import")
    search_fields = ("label", "api_name")
