"""``/api/``: the REST API (``v1/``, keys), its schema and docs, and the My API keys page."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from api import keys, views
from core.roles import marketer_required

router = SimpleRouter()
router.register("prospects", views.ProspectViewSet, basename="prospect")
router.register("sync-errors", views.SyncErrorViewSet, basename="sync-error")
router.register("campaigns", views.CampaignViewSet, basename="campaign")
router.register(
    "salesforce-campaigns", views.SalesforceCampaignViewSet, basename="salesforce-campaign"
)
router.register("imports", views.ImportViewSet, basename="import")

app_name = "api"
urlpatterns = [
    path(
        "v1/",
        include(
            (
                [
                    *router.urls,
                    re_path(r"^(?P<path>.*)$", views.NotFoundView.as_view(), name="none"),
                ],
                "v1",
            )
        ),
    ),
    # The schema answers keys (code generators, schemathesis) and the docs page's session.
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The docs are a page of the portal: signed-in marketers only.
    path(
        "docs/",
        marketer_required(SpectacularSwaggerView.as_view(url_name="api:schema")),
        name="docs",
    ),
    path("keys/", keys.key_list, name="keys"),
    path("keys/<int:pk>/revoke/", keys.key_revoke, name="key_revoke"),
]
