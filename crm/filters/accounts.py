"""Filters of the crm pages, and the account filters crm adds to the prospect list."""

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from crm.models import Account, SalesforceProfile, SalesforceUser


def _styled(filterset: django_filters.FilterSet) -> None:
    for field in filterset.form.fields.values():
        css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
        field.widget.attrs.setdefault("class", css)


class SalesforceUserFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="filter_search")
    profile = django_filters.ModelChoiceFilter(
        queryset=SalesforceProfile.objects.all(), empty_label="Any profile"
    )
    is_active = django_filters.BooleanFilter(
        label="Active in Salesforce",
        widget=forms.Select(choices=[("", "Any"), ("true", "Active"), ("false", "Inactive")]),
    )
    has_portal_user = django_filters.BooleanFilter(
        label="Portal user",
        field_name="portal_user",
        lookup_expr="isnull",
        exclude=True,
        widget=forms.Select(choices=[("", "Any"), ("true", "Has one"), ("false", "None")]),
    )

    class Meta:
        model = SalesforceUser
        fields = ["q", "profile", "is_active", "has_portal_user"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _styled(self)

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            Q(name__icontains=value) | Q(username__icontains=value) | Q(email__icontains=value)
        )


def _industries(request) -> list[tuple[str, str]]:
    values = (
        Account.objects.exclude(industry="")
        .order_by("industry")
        .values_list("industry", flat=True)
        .distinct()
    )
    return [(v, v) for v in values]


class AccountFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(label="Name", lookup_expr="icontains")
    industry = django_filters.ChoiceFilter(
        choices=lambda: _industries(None), empty_label="Any industry"
    )
    billing_country = django_filters.CharFilter(label="Country", lookup_expr="iexact")
    employees = django_filters.RangeFilter(label="Employees")

    class Meta:
        model = Account
        fields = ["name", "industry", "billing_country", "employees"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.filters["industry"].extra["choices"] = _industries(None)  # one query, not two
        _styled(self)
        for widget in self.form.fields["employees"].widget.widgets:
            widget.attrs["class"] = "form-control"


# -- the prospect list's account filters ----------------------------------------------------------
# prospects sits below crm and cannot import Account: crm adds these at start-up
# (CrmConfig.ready → prospects.filters.add_filters). Each is a semi-join on the account id the
# prospect already stores (``crm_account_id IN (SELECT sf_id FROM crm_account WHERE …)``), so no
# foreign key from prospects to crm is needed.


def _by_account(queryset: QuerySet, condition: Q) -> QuerySet:
    return queryset.filter(
        crm_account_id__in=Account.objects.live().filter(condition).values("sf_id")
    )


def account_filters() -> dict[str, django_filters.Filter]:
    return {
        "account_name": django_filters.CharFilter(
            label="Account name",
            method=lambda qs, name, value: _by_account(qs, Q(name__icontains=value)),
        ),
        "account_industry": django_filters.CharFilter(
            label="Account industry",
            method=lambda qs, name, value: _by_account(qs, Q(industry__iexact=value)),
        ),
        "account_country": django_filters.CharFilter(
            label="Account country",
            method=lambda qs, name, value: _by_account(qs, Q(billing_country__iexact=value)),
        ),
        "account_employees_min": django_filters.NumberFilter(
            label="Account employees (min)",
            method=lambda qs, name, value: _by_account(qs, Q(employees__gte=value)),
        ),
    }
