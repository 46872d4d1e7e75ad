"""Imports history filters (django-filter)."""

import django_filters
from django import forms
from django.contrib.auth import get_user_model

from intake.models import Import


class ImportFilter(django_filters.FilterSet):
    file_name = django_filters.CharFilter(
        label="File",
        lookup_expr="icontains",
        widget=forms.TextInput(attrs={"placeholder": "File name", "class": "form-control"}),
    )
    created_by = django_filters.ModelChoiceFilter(
        label="Who",
        queryset=get_user_model().objects.order_by("username"),
        empty_label="Anyone",
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    state = django_filters.ChoiceFilter(
        choices=Import.State.choices,
        empty_label="Any",
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    created_at = django_filters.DateFromToRangeFilter(
        label="When",
        widget=django_filters.widgets.DateRangeWidget(
            attrs={"type": "date", "class": "form-control"}
        ),
    )

    class Meta:
        model = Import
        fields = ["file_name", "created_by", "state", "created_at"]
