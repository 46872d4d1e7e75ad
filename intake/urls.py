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
    path("forms/", views.FormListView.as_view(), name="form_list"),
    path("forms/new/", views.FormCreateView.as_view(), name="form_create"),
    path("forms/<int:pk>/", views.FormUpdateView.as_view(), name="form_edit"),
    path("form-handlers/", views.FormHandlerListView.as_view(), name="handler_list"),
    path("form-handlers/new/", views.FormHandlerCreateView.as_view(), name="handler_create"),
    path("form-handlers/<int:pk>/", views.FormHandlerUpdateView.as_view(), name="handler_edit"),
    path("landing-pages/", views.LandingPageListView.as_view(), name="page_list"),
    path("landing-pages/new/", views.LandingPageCreateView.as_view(), name="page_create"),
    path("landing-pages/<int:pk>/", views.LandingPageUpdateView.as_view(), name="page_edit"),
    path(
        "prospects/<int:pk>/preference-links/",
        views.preference_links,
        name="preference_links",
    ),
]
