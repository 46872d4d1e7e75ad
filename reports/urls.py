from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("roi/", views.roi, name="roi"),
    path("roi/tab/", views.roi_tab, name="roi_tab"),
    path("roi/export/", views.roi_export, name="roi_export"),
]
