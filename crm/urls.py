from django.urls import path

from crm import views

app_name = "crm"
urlpatterns = [
    path("campaigns/", views.CampaignListView.as_view(), name="campaigns"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/connect/", views.campaign_connect, name="campaign_connect"),
    path("campaigns/<int:pk>/members.csv", views.campaign_export, name="campaign_export"),
    path("campaigns/add/", views.bulk_add, name="bulk_add"),
    path("campaigns/tasks/<int:pk>/", views.task_status, name="task"),
    path("prospects/<int:pk>/campaigns/", views.prospect_add, name="prospect_add"),
    path("memberships/<int:pk>/status/", views.membership_status, name="membership_status"),
]
