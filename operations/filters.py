import django_filters
from django import forms

from operations.recycle import ArchiveReason, filter_reason
from prospects.models import Prospect


class RecycleBinFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search",
        method="filter_search",
        widget=forms.TextInput(attrs={"placeholder": "Name, email or company"}),
    )
    reason = django_filters.ChoiceFilter(
        label="Why", choices=ArchiveReason.choices, method="filter_reason", empty_label="Any"
    )
    archived_at = django_filters.DateFromToRangeFilter(
        label="Archived",
        widget=django_filters.widgets.RangeWidget(attrs={"type": "date"}),
    )

    class Meta:
        model = Prospect
        fields = ["q", "reason", "archived_at"]

    def filter_search(self, queryset, name, value):
        return queryset.search(value)

    def filter_reason(self, queryset, name, value):
        return filter_reason(queryset, value)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            for widget in getattr(field.widget, "widgets", [field.widget]):
                css = "form-select" if isinstance(widget, forms.Select) else "form-control"
                widget.attrs.setdefault("class", css)
