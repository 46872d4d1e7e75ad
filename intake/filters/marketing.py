import django_filters
from django import forms
from django.db.models import Q

from intake.form_models import Form, FormHandler, LandingPage


class _ByName(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search",
        method="filter_search",
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "Name or slug"}),
    )
    is_active = django_filters.BooleanFilter(
        label="State",
        widget=forms.Select(
            attrs={"class": "form-select"},
            choices=[("", "Any"), ("true", "Active"), ("false", "Off")],
        ),
    )

    def filter_search(self, queryset, name, value):
        value = value.strip()
        return (
            queryset.filter(Q(name__icontains=value) | Q(slug__icontains=value))
            if value
            else queryset
        )


class FormHandlerFilter(_ByName):
    class Meta:
        model = FormHandler
        fields = ["q", "is_active"]


class FormFilter(_ByName):
    class Meta:
        model = Form
        fields = ["q", "is_active"]


class LandingPageFilter(_ByName):
    class Meta:
        model = LandingPage
        fields = ["q", "is_active"]
