import django_filters
from django import forms

from reports.models import OpportunityCredit
from reports.roi import CLOSED, CREATED, RoiQuery, campaign_types

BASIS_CHOICES = [
    (CREATED, "Prospect created"),
    (CLOSED, "Opportunity closed"),
]


class RoiFilter(django_filters.FilterSet):
    """The ROI report's filters. The report is aggregated, not a list of rows: ``roi_query``
    hands the validated values to ``reports.roi``."""

    basis = django_filters.ChoiceFilter(
        label="Date applies to",
        choices=BASIS_CHOICES,
        empty_label=None,
        method="no_op",
    )
    start = django_filters.DateFilter(
        label="From", method="no_op", widget=forms.DateInput(attrs={"type": "date"})
    )
    end = django_filters.DateFilter(
        label="To", method="no_op", widget=forms.DateInput(attrs={"type": "date"})
    )
    campaign_type = django_filters.ChoiceFilter(
        label="Campaign type", choices=[], empty_label="Any type", method="no_op"
    )

    class Meta:
        model = OpportunityCredit
        fields = ["basis", "start", "end", "campaign_type"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["campaign_type"].extra["choices"] = [(t, t) for t in campaign_types()]
        for field in self.form.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def no_op(self, queryset, name, value):
        return queryset

    def roi_query(self) -> RoiQuery:
        """The validated filters; an invalid value is left out (the form shows why)."""
        self.is_valid()
        data = getattr(self.form, "cleaned_data", {})
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            start, end = end, start
        return RoiQuery(
            start=start,
            end=end,
            basis=data.get("basis") or CREATED,
            campaign_type=data.get("campaign_type") or "",
        )
