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
    path("users/", views.SalesforceUserListView.as_view(), name="users"),
    path("users/sync/", views.users_sync_now, name="users_sync"),
    path("users/profiles/", views.profile_mapping, name="profiles"),
    path("accounts/", views.AccountListView.as_view(), name="accounts"),
    path("accounts/settings/", views.account_settings, name="account_settings"),
    path("accounts/<int:pk>/", views.account_detail, name="account"),
    # Public: the invitation link's signed token is the credential (see WelcomeView).
    path("welcome/<uidb64>/<token>/", views.WelcomeView.as_view(), name="welcome"),
]
