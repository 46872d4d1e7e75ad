from django.urls import path

from crm import views

app_name = "crm"
urlpatterns = [
    path("welcome/<uidb64>/<token>/", views.WelcomeView.as_view(), name="welcome"),
]
