import django_filters
from django import forms
from django.db.models import QuerySet
from django.db.models.functions import Lower

from crm.models import CampaignMembership, MembershipState, SalesforceCampaign


def _styled(filterset: django_filters.FilterSet) -> None:
    for field in filterset.form.fields.values():
        css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
        field.widget.attrs.setdefault("class", css)


class CampaignFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(label="Name", lookup_expr="icontains")
    is_active = django_filters.BooleanFilter(
        label="Active",
        widget=forms.Select(choices=[("", "Any"), ("true", "Active"), ("false", "Inactive")]),
    )
    deleted = django_filters.BooleanFilter(
        label="Deleted in Salesforce",
        field_name="deleted_at",
        lookup_expr="isnull",
        exclude=True,
        widget=forms.Select(choices=[("", "Any"), ("false", "Live"), ("true", "Deleted")]),
    )

    class Meta:
        model = SalesforceCampaign
        fields = ["name", "is_active", "deleted"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)


class MemberFilter(django_filters.FilterSet):
    """Filters the indexes answer: status, sync state, responded; email by its start."""

    email = django_filters.CharFilter(label="Email starts with", method="filter_email")
    status = django_filters.ChoiceFilter(label="Status", empty_label="Any")
    state = django_filters.ChoiceFilter(
        label="Sync", choices=MembershipState.choices, empty_label="Any"
    )
    has_responded = django_filters.BooleanFilter(
        label="Responded",
        widget=forms.Select(choices=[("", "Any"), ("true", "Responded"), ("false", "Not yet")]),
    )

    class Meta:
        model = CampaignMembership
        fields = ["email", "status", "state", "has_responded"]

    def __init__(self, *args, campaign: SalesforceCampaign, **kwargs):
        super().__init__(*args, **kwargs)
        labels = campaign.status_labels() + sorted(
            set(campaign.status_counts or {}) - set(campaign.status_labels())
        )
        self.filters["status"].extra["choices"] = [(label, label) for label in labels]
        self.form.fields["status"].choices = [("", "Any")] + [(x, x) for x in labels]
        _styled(self)

    def filter_email(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # lower(email) LIKE 'value%': the prospects' prefix index on lower(email) answers it.
        return queryset.alias(email_ci=Lower("prospect__email")).filter(
            email_ci__startswith=value.strip().lower()
        )
