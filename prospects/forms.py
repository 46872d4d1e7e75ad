from django import forms

from prospects.models import Prospect


class ProspectForm(forms.ModelForm):
    """Create/edit a prospect. CRM ids and sync bookkeeping are the connector's, not editable."""

    class Meta:
        model = Prospect
        fields = [
            "salutation",
            "first_name",
            "last_name",
            "email",
            "company",
            "website",
            "job_title",
            "department",
            "industry",
            "annual_revenue",
            "employees",
            "years_in_business",
            "phone",
            "fax",
            "address_one",
            "address_two",
            "city",
            "state",
            "zip",
            "country",
            "territory",
            "source",
            "campaign",
            "score",
            "grade",
            "assigned_user",
            "comments",
            "notes",
            "opted_out",
            "do_not_email",
            "do_not_call",
            "do_not_sync",
        ]
        widgets = {
            "comments": forms.Textarea(attrs={"rows": 3}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")
