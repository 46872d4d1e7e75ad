from django.urls import path

from operations import views

app_name = "operations"
urlpatterns = [
    path("health/panels/", views.dashboard_panels, name="dashboard_panels"),
    path("recycle-bin/", views.RecycleBinView.as_view(), name="recycle_bin"),
    path("recycle-bin/<int:pk>/restore/", views.recycle_restore, name="recycle_restore"),
    path("recycle-bin/<int:pk>/purge/", views.recycle_purge, name="recycle_purge"),
    path("prospects/<int:pk>/delete/", views.prospect_delete, name="prospect_delete"),
]
