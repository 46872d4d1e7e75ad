from django.urls import path

from operations import views

app_name = "operations"
urlpatterns = [
    path("health/panels/", views.dashboard_panels, name="dashboard_panels"),
]
