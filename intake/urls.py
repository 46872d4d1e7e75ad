from django.urls import path

from intake import views

app_name = "intake"
urlpatterns = [
    path("imports/", views.ImportListView.as_view(), name="imports"),
    path("imports/new/", views.import_new, name="import_new"),
    path("imports/<int:pk>/", views.import_detail, name="import"),
    path("imports/<int:pk>/map/", views.import_map, name="import_map"),
    path("imports/<int:pk>/cancel/", views.import_cancel, name="import_cancel"),
    path("imports/<int:pk>/report.csv", views.import_report, name="import_report"),
]
