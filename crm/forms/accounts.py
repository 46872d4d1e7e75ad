from django import forms

from crm.models import AccountSettings, SalesforceProfile

ProfileMappingFormSet = forms.modelformset_factory(
    SalesforceProfile,
    fields=["portal_role"],
    extra=0,
    widgets={"portal_role": forms.Select(attrs={"class": "form-select form-select-sm"})},
)


class AccountSettingsForm(forms.ModelForm):
    extra_fields = forms.CharField(
        label="Extra account fields",
        required=False,
        help_text="Account API names to mirror besides the standard ones, comma-separated "
        "(e.g. Type, Rating, Region__c).",
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )

    class Meta:
        model = AccountSettings
        fields = ["extra_fields"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.initial["extra_fields"] = ", ".join(self.instance.extra_fields or [])

    def clean_extra_fields(self) -> list[str]:
        names = [n.strip() for n in self.cleaned_data["extra_fields"].split(",") if n.strip()]
        bad = [n for n in names if not n.replace("_", "").isalnum()]
        if bad:
            raise forms.ValidationError(f"Not an API name: {', '.join(bad)}")
        if len(names) > 50:
            raise forms.ValidationError("At most 50 extra fields.")
        return list(dict.fromkeys(names))
