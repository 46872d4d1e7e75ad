from django.urls import path

from sync.views import connector, errors

app_name = "sync"
urlpatterns = [
    # Sync Errors (marketers)
    path("errors/", errors.error_list, name="errors"),
    # Connector, settings, wizard, field rules (Sync admins)
    path("connector/", connector.connector_detail, name="connector"),
    path("field-sync/", connector.field_rules, name="field_rules"),
]
