from django.urls import path

from automation import bulk_views, views

app_name = "automation"
urlpatterns = [
    path("bulk/", bulk_views.bulk_actions, name="bulk"),
    path("bulk/tasks/<int:pk>/", bulk_views.bulk_task, name="bulk_task"),
    path("lists/", views.ListListView.as_view(), name="lists"),
    path("lists/new/", views.list_create, name="list_create"),
    path("lists/from-filter/", views.list_from_filter, name="list_from_filter"),
    path("lists/<int:pk>/", views.list_detail, name="list_detail"),
    path("lists/<int:pk>/edit/", views.list_edit, name="list_edit"),
    path("lists/<int:pk>/recompute/", views.list_recompute, name="list_recompute"),
    path("lists/<int:pk>/remove/", views.list_remove_members, name="list_remove_members"),
    path("lists/<int:pk>/delete/", views.list_delete, name="list_delete"),
    path("prospects/<int:pk>/lists/", views.prospect_lists, name="prospect_lists"),
    path("rules/", views.RuleListView.as_view(), name="rules"),
    path("rules/new/", views.rule_create, name="rule_create"),
    path("rules/<int:pk>/", views.rule_detail, name="rule_detail"),
    path("rules/<int:pk>/edit/", views.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/switch-on/", views.rule_switch_on, name="rule_switch_on"),
    path("rules/<int:pk>/pause/", views.rule_pause, name="rule_pause"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
]
