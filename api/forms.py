from django import forms


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="What will use it, so you know which key to revoke: “CRM enrichment script”.",
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "Nightly export"}),
    )
