"""Public (no-login) URLs, mounted at the site's root by ``portal/urls.py``: see
``intake.public_views`` for why each is public."""

from django.urls import path

from intake import public_views

app_name = "intake_public"
urlpatterns = [
    path("fh/<slug:slug>/", public_views.form_handler, name="form_handler"),
    path("f/<slug:slug>/", public_views.form_embed, name="form"),
    path("l/<slug:slug>/", public_views.landing_page, name="landing_page"),
    path("l/<slug:slug>/view/", public_views.landing_page_view, name="landing_page_view"),
    path("p/<str:token>/", public_views.preference_centre, name="preferences"),
    path("p/<str:token>/unsubscribe/", public_views.unsubscribe, name="unsubscribe"),
    path("p/<str:token>/resubscribe/", public_views.resubscribe, name="resubscribe"),
]
