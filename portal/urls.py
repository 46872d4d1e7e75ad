from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, include, path
from django_rq.urls import urlpatterns as django_rq_patterns

from operations import views as operations_views
from portal import lockouts, views

portal_patterns = (
    [
        path("", operations_views.dashboard, name="dashboard"),  # the Sync health dashboard
        path("health/", views.health, name="health"),
        path("lockouts/", lockouts.lockout_list, name="lockouts"),
        path("lockouts/unlock/", lockouts.unlock, name="unlock"),
    ],
    "portal",
)


def _behind_admin_check(patterns: list) -> list:
    """django-rq's views ask only for ``is_staff`` (its JSON stats: staff or an API token); put
    every one of them behind the admin site's check, the Sync admin role. Its page for the
    rq-scheduler package is left out: we schedule with RQ's own scheduler, and it would crash."""
    return [
        URLPattern(p.pattern, admin.site.admin_view(p.callback), p.default_args, p.name)
        for p in patterns
        if p.name != "scheduler_jobs"
    ]


rq_patterns = (_behind_admin_check(django_rq_patterns), "django_rq")

urlpatterns = [
    path("", include(portal_patterns)),
    path("prospects/", include("prospects.urls")),
    path("sync/", include("sync.urls")),
    path("crm/", include("crm.urls")),
    path("intake/", include("intake.urls")),
    path("api/", include("api.urls")),
    path("operations/", include("operations.urls")),
    path("automation/", include("automation.urls")),
    path("reports/", include("reports.urls")),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/django-rq/", include(rq_patterns)),
    path("admin/", admin.site.urls),
    # Public, no login: form handlers, forms, landing pages, the preference centre (intake).
    path("", include("intake.public_urls")),
]
