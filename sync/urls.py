from django.urls import path

from sync.errors import views as errors
from sync.views import connector, custom_fields, custom_objects, data_sharing

app_name = "sync"
urlpatterns = [
    # Sync Errors (marketers)
    path("errors/", errors.error_list, name="errors"),
    path("errors/<int:pk>/", errors.error_detail, name="error_detail"),
    path("errors/<int:pk>/resync/", errors.error_resync, name="error_resync"),
    path("errors/<int:pk>/status/", errors.error_status, name="error_status"),
    path("errors/resync/", errors.errors_bulk_resync, name="errors_bulk_resync"),
    path("errors/tasks/<int:pk>/", errors.errors_task, name="errors_task"),
    path("errors/export.csv", errors.errors_export, name="errors_export"),
    path("errors/import/", errors.errors_import, name="errors_import"),
    path("errors/import/<int:pk>/", errors.errors_import_report, name="errors_import_report"),
    # Connector, settings, wizard, field rules (Sync admins)
    path("connector/", connector.connector_detail, name="connector"),
    path("field-sync/", connector.field_rules, name="field_rules"),
    path("connector/edit/", connector.connector_edit, name="connector_edit"),
    path("connector/settings/", connector.connector_settings, name="connector_settings"),
    path("connector/verify/", connector.connector_verify, name="connector_verify"),
    path("connector/state/", connector.connector_state, name="connector_state"),
    path("connector/setup/", connector.wizard, name="wizard_start"),
    path("connector/setup/<int:step>/", connector.wizard, name="wizard"),
    path("field-sync/<int:pk>/edit/", connector.field_rule_edit, name="field_rule_edit"),
    path("field-sync/<int:pk>/check/", connector.field_rule_check, name="field_rule_check"),
    path("custom-fields/", custom_fields.custom_field_list, name="custom_fields"),
    path("custom-fields/new/", custom_fields.custom_field_edit, name="custom_field_create"),
    path("custom-fields/<int:pk>/", custom_fields.custom_field_edit, name="custom_field_edit"),
    path("custom-objects/", custom_objects.custom_object_list, name="custom_objects"),
    path(
        "custom-objects/<int:pk>/delete/",
        custom_objects.custom_object_delete,
        name="custom_object_delete",
    ),
    path("data-sharing/", data_sharing.sharing_rules, name="data_sharing"),
    path("data-sharing/count/", data_sharing.sharing_count, name="data_sharing_count"),
    path("data-sharing/<int:pk>/delete/", data_sharing.sharing_delete, name="data_sharing_delete"),
]
