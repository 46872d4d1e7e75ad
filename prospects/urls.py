from django.urls import path

from prospects import views

app_name = "prospects"
urlpatterns = [
    path("", views.ProspectListView.as_view(), name="list"),
    path("new/", views.ProspectCreateView.as_view(), name="create"),
    path("<int:pk>/", views.ProspectDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.ProspectUpdateView.as_view(), name="edit"),
    path("<int:pk>/sync/", views.sync_now, name="sync"),
    path("<int:pk>/sync-status/", views.sync_status, name="sync_status"),
]
