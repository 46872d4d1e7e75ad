from django import forms

from prospects.models import CrmQueue, CustomField, Prospect

CUSTOM_PREFIX = "custom:"


def custom_form_field(custom: CustomField) -> forms.Field:
    """A form field for an admin-defined custom field."""
    choices = [(c, c) for c in custom.choices or []]
    common = {"label": custom.label, "required": False}
    match custom.type:
        case CustomField.Type.NUMBER:
            return forms.DecimalField(**common)
        case CustomField.Type.DATE:
            return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
        case CustomField.Type.CHECKBOX:
            return forms.BooleanField(**common)
        case CustomField.Type.DROPDOWN:
            return forms.ChoiceField(choices=[("", "—"), *choices], **common)
        case CustomField.Type.MULTI_SELECT:
            return forms.MultipleChoiceField(choices=choices, **common)
        case CustomField.Type.TEXTAREA:
            return forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), **common)
        case _:
            return forms.CharField(max_length=255, **common)


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
            "assigned_queue",
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
        queue = self.fields["assigned_queue"]
        queue.queryset = CrmQueue.objects.filter(is_active=True) | CrmQueue.objects.filter(
            pk=self.instance.assigned_queue_id or 0
        )
        queue.label = "Assigned queue"
        queue.help_text = "A Salesforce lead queue; the record is created owned by the queue."
        self.custom_fields = list(CustomField.objects.all())
        values = self.instance.custom_fields or {}
        for custom in self.custom_fields:
            name = CUSTOM_PREFIX + custom.api_name
            self.fields[name] = custom_form_field(custom)
            self.initial[name] = values.get(custom.api_name)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("assigned_user") and cleaned.get("assigned_queue"):
            self.add_error("assigned_queue", "Assign the prospect to a user or a queue, not both.")
        values = dict(self.instance.custom_fields or {})
        for custom in self.custom_fields:
            value = cleaned.get(CUSTOM_PREFIX + custom.api_name)
            if value in (None, "", [], False) and custom.type != CustomField.Type.CHECKBOX:
                values.pop(custom.api_name, None)
            else:
                values[custom.api_name] = (
                    str(value) if not isinstance(value, bool | list) else value
                )
        self.instance.custom_fields = values
        return cleaned
