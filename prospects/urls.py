from django.urls import path

from prospects import scoring_views, views

app_name = "prospects"
urlpatterns = [
    path("", views.ProspectListView.as_view(), name="list"),
    path("new/", views.ProspectCreateView.as_view(), name="create"),
    path("<int:pk>/", views.ProspectDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.ProspectUpdateView.as_view(), name="edit"),
    path("<int:pk>/sync/", views.sync_now, name="sync"),
    path("<int:pk>/sync-status/", views.sync_status, name="sync_status"),
    path("<int:pk>/activities/", views.activity_timeline, name="timeline"),
    path("scoring/", scoring_views.scoring, name="scoring"),
    path("scoring/edit/", scoring_views.scoring_edit, name="scoring_edit"),
    path("scoring/recompute/", scoring_views.scoring_recompute, name="scoring_recompute"),
    path("scoring/tasks/<int:pk>/", scoring_views.scoring_task, name="scoring_task"),
    path(
        "scoring/profiles/new/",
        scoring_views.grading_profile_edit,
        name="grading_profile_create",
    ),
    path(
        "scoring/profiles/<int:pk>/",
        scoring_views.grading_profile_edit,
        name="grading_profile_edit",
    ),
    path(
        "scoring/profiles/<int:pk>/delete/",
        scoring_views.grading_profile_delete,
        name="grading_profile_delete",
    ),
]
