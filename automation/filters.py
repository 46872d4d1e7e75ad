import django_filters
from django import forms

from automation.models import ListMembership, ProspectList, Rule


class ProspectListFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(
        label="Name",
        lookup_expr="icontains",
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "Name"}),
    )
    kind = django_filters.ChoiceFilter(
        label="Type",
        choices=ProspectList.Kind.choices,
        empty_label="Static and dynamic",
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    class Meta:
        model = ProspectList
        fields = ["name", "kind"]


class MemberFilter(django_filters.FilterSet):
    source = django_filters.ChoiceFilter(
        label="Added by",
        choices=ListMembership.Source.choices,
        empty_label="Anyone",
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    class Meta:
        model = ListMembership
        fields = ["source"]


class RuleFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(
        label="Name",
        lookup_expr="icontains",
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "Name"}),
    )
    state = django_filters.ChoiceFilter(
        label="State",
        choices=Rule.State.choices,
        empty_label="Any state",
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    mode = django_filters.ChoiceFilter(
        label="Mode",
        choices=Rule.Mode.choices,
        empty_label="Any mode",
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    class Meta:
        model = Rule
        fields = ["name", "state", "mode"]
