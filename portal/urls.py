from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal import views

portal_patterns = (
    [
        path("", views.dashboard, name="dashboard"),
        path("imports/", views.imports, name="imports"),
        path("health/", views.health, name="health"),
    ],
    "portal",
)

urlpatterns = [
    path("", include(portal_patterns)),
    path("prospects/", include("prospects.urls")),
    path("sync/", include("sync.urls")),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/django-rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
]
