from django.urls import path

from crm import views

app_name = "crm"
urlpatterns = [
    path("users/", views.SalesforceUserListView.as_view(), name="users"),
    path("users/sync/", views.users_sync_now, name="users_sync"),
    path("users/profiles/", views.profile_mapping, name="profiles"),
    path("accounts/", views.AccountListView.as_view(), name="accounts"),
    path("accounts/settings/", views.account_settings, name="account_settings"),
    path("accounts/<int:pk>/", views.account_detail, name="account"),
    # Public: the invitation link's signed token is the credential (see WelcomeView).
    path("welcome/<uidb64>/<token>/", views.WelcomeView.as_view(), name="welcome"),
]
