import copy

import django_filters
from django import forms
from django.contrib.auth import get_user_model

from prospects.models import Activity, ActivityType, CrmStatus, GradingProfile, Prospect

SCORE_RANGE = (-100000, 1000000)  # the check constraint on Prospect.score

# Filters on objects of apps above this one (crm's account fields). prospects cannot import
# them, so such an app adds its filters at start-up (its AppConfig.ready) with ``add_filters``;
# the list shows them after its own, and they filter like any other.
EXTRA_FILTERS: dict[str, django_filters.Filter] = {}


def add_filters(filters: dict[str, django_filters.Filter]) -> None:
    EXTRA_FILTERS.update(filters)


def _users(request):
    return get_user_model().objects.filter(is_active=True).order_by("username")


class ProspectFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search",
        method="filter_search",
        widget=forms.TextInput(attrs={"placeholder": "Name, email or company"}),
    )
    assigned_user = django_filters.ModelChoiceFilter(
        label="Assigned to", queryset=_users, empty_label="Anyone"
    )
    crm_status = django_filters.ChoiceFilter(
        label="CRM status", choices=CrmStatus.choices, method="filter_crm_status", empty_label="Any"
    )
    score = django_filters.RangeFilter(label="Score", method="filter_score")
    created_at = django_filters.DateFromToRangeFilter(
        label="Created",
        widget=django_filters.widgets.RangeWidget(attrs={"type": "date"}),
    )

    class Meta:
        model = Prospect
        fields = ["q", "assigned_user", "crm_status", "score", "created_at"]

    def filter_search(self, queryset, name, value):
        return queryset.search(value)

    def filter_crm_status(self, queryset, name, value):
        return queryset.with_crm_status(value)

    def filter_score(self, queryset, name, value):
        """A score range, its ends held within the scores a prospect can have: a bound of
        twenty digits means "no bound", not an integer the database cannot compare."""
        low, high = SCORE_RANGE
        if value.start is not None:
            queryset = queryset.filter(score__gte=max(low, min(high + 1, value.start)))
        if value.stop is not None:
            queryset = queryset.filter(score__lte=min(high, max(low - 1, value.stop)))
        return queryset

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, extra in EXTRA_FILTERS.items():
            self.filters[name] = copy.deepcopy(extra)
            self.filters[name].parent = self
        self.extra_names = list(EXTRA_FILTERS)
        for field in self.form.fields.values():
            widgets = getattr(field.widget, "widgets", [field.widget])
            for widget in widgets:
                css = "form-select" if isinstance(widget, forms.Select) else "form-control"
                widget.attrs.setdefault("class", css)
        self.form.fields["score"].widget.widgets[0].attrs["placeholder"] = "min"
        self.form.fields["score"].widget.widgets[1].attrs["placeholder"] = "max"


class ActivityFilter(django_filters.FilterSet):
    """The timeline's filter: one activity type, or all."""

    type = django_filters.ChoiceFilter(
        label="Type", choices=ActivityType.choices, empty_label="All activities"
    )

    class Meta:
        model = Activity
        fields = ["type"]


class GradingProfileFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(
        label="Profile",
        lookup_expr="icontains",
        widget=forms.TextInput(attrs={"placeholder": "Name"}),
    )

    class Meta:
        model = GradingProfile
        fields = ["name"]
