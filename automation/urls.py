from django.urls import path

from automation import views

app_name = "automation"
urlpatterns = [
    path("bulk/", views.bulk_actions, name="bulk"),
    path("bulk/tasks/<int:pk>/", views.bulk_task, name="bulk_task"),
]
