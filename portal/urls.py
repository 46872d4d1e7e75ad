from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal import views

portal_patterns = (
    [
        path("", views.dashboard, name="dashboard"),
        path("sync-errors/", views.sync_errors, name="sync_errors"),
        path("imports/", views.imports, name="imports"),
        path("connector/", views.connector, name="connector"),
        path("field-sync/", views.field_sync, name="field_sync"),
        path("health/", views.health, name="health"),
    ],
    "portal",
)

urlpatterns = [
    path("", include(portal_patterns)),
    path("prospects/", include("prospects.urls")),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/django-rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
]
