"""Sync Errors filters (django-filter). Every filter is an indexed equality or range."""

import django_filters
from django import forms
from django.db.models import QuerySet
from django.http import QueryDict

from prospects.models import Prospect
from sync.errors.records import CATEGORY_BY_CODE
from sync.models import ErrorCategory, SyncError

MAX_SEARCH_PROSPECTS = 10_000  # a search matching more is not looking for a prospect


class SyncErrorFilter(django_filters.FilterSet):
    STATUS_CHOICES = (("open", "Open"), ("resolved", "Resolved"), ("all", "All"))

    status = django_filters.ChoiceFilter(
        label="Status", choices=STATUS_CHOICES, method="filter_status", empty_label=None
    )
    q = django_filters.CharFilter(
        label="Prospect",
        method="filter_prospect",
        widget=forms.TextInput(attrs={"placeholder": "Email, name or prospect id"}),
    )
    category = django_filters.ChoiceFilter(choices=ErrorCategory.choices, empty_label="Any")
    error_code = django_filters.CharFilter(
        label="Error code",
        method="filter_code",
        widget=forms.TextInput(attrs={"list": "error-codes", "placeholder": "STRING_TOO_LONG"}),
    )
    field = django_filters.CharFilter(
        label="Field", widget=forms.TextInput(attrs={"placeholder": "Customer_Comment__c"})
    )
    sobject = django_filters.ChoiceFilter(
        label="Object",
        choices=[(o, o) for o in ("Lead", "Contact", "Account")],
        empty_label="Any",
    )
    last_seen_at = django_filters.DateFromToRangeFilter(
        label="Date",
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}),
    )

    class Meta:
        model = SyncError
        fields = ["status", "q", "category", "error_code", "field", "sobject", "last_seen_at"]

    known_codes = sorted(CATEGORY_BY_CODE)

    def __init__(self, data=None, *args, **kwargs):
        data = data.copy() if data is not None else QueryDict(mutable=True)
        if not data.get("status"):
            data["status"] = "open"  # resolved errors are kept, shown only on request
        super().__init__(data, *args, **kwargs)
        for field in self.form.fields.values():
            for widget in getattr(field.widget, "widgets", [field.widget]):
                css = "form-select" if isinstance(widget, forms.Select) else "form-control"
                widget.attrs.setdefault("class", css)

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        if value == "all":
            return queryset
        return queryset.filter(resolved_at__isnull=True)

    def filter_code(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(error_code=value.strip().upper())

    def filter_prospect(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """A prospect id, or a search on prospects' email, name and company."""
        text = value.strip()
        if text.isascii() and text.isdigit():
            # An id beyond a bigint matches nothing (and must not reach the database).
            pk = int(text)
            return queryset.filter(prospect_id=pk) if pk < 2**63 else queryset.none()
        # Evaluated once (not a subquery) so the count and the page both use the prospect index.
        ids = Prospect.objects.search(text).values_list("pk", flat=True)[:MAX_SEARCH_PROSPECTS]
        return queryset.filter(prospect_id__in=list(ids))
