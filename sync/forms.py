"""Forms for the connector pages. Secrets are write-only: never rendered back."""

from __future__ import annotations

import re

from django import forms

from prospects.models import CustomField
from sync import describe as describes
from sync import login_hosts
from sync.connectors import SETTINGS_FIELDS
from sync.custom_objects import MAX_FIELDS
from sync.mapping import CUSTOM_PREFIX, FIXED_FIELDS, validate_rule
from sync.models import Connector, DataSharingRule, FieldRule

API_VERSION = re.compile(r"^\d{2,3}\.0$")
KEEP = (
    "Leave blank to keep the current value. Changing the login host, grant or client id "
    "needs it again."
)
LOGIN_URL_HELP = (
    "https://login.salesforce.com, https://test.salesforce.com (sandboxes) or your org's "
    "My Domain login URL (https://…my.salesforce.com)."
)
# Secrets are sent to a login host, with a grant, for a client id: change one and the stored
# secrets must be entered again.
SECRET_USE = ("login_url", "grant_type", "client_id")
SECRETS = {
    "client_secret": "The connected app's consumer secret.",
    "password": "The connector user's password (plus security token, if any).",
}
SECRET_NAMES = {"client_secret": "client secret", "password": "password"}
REQUIRED = {
    "client_secret": "The connected app's secret is required.",
    "password": "The password grant needs the user's password.",
}


class BootstrapMixin:
    """Bootstrap classes on every widget (the house style of templates/prospects)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.RadioSelect):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{css} {widget.attrs.get('class', '')}".strip()


class SecretInput(forms.PasswordInput):
    def __init__(self, attrs=None):
        super().__init__(
            attrs={"autocomplete": "new-password", **(attrs or {})}, render_value=False
        )


class ConnectionForm(BootstrapMixin, forms.ModelForm):
    """Login URL, grant, client id/secret, user, API version, CA bundle."""

    client_secret = forms.CharField(required=False, widget=SecretInput(), label="Client secret")
    password = forms.CharField(required=False, widget=SecretInput(), label="Password")

    class Meta:
        model = Connector
        fields = [
            "login_url",
            "grant_type",
            "client_id",
            "client_secret",
            "username",
            "password",
            "api_version",
            "ca_bundle",
        ]
        widgets = {
            "login_url": forms.URLInput(attrs={"placeholder": "https://login.salesforce.com"}),
            "ca_bundle": forms.Textarea(
                attrs={
                    "rows": 4,
                    "class": "font-monospace small",
                    "placeholder": "-----BEGIN CERTIFICATE-----",
                }
            ),
        }
        labels = {
            "login_url": "Login URL",
            "client_id": "Client id (consumer key)",
            "api_version": "API version",
        }
        help_texts = {
            "api_version": "Salesforce REST API version, e.g. 62.0.",
            "username": "The connector user (password grant).",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["login_url"].assume_scheme = "https"
        self.fields["login_url"].help_text = LOGIN_URL_HELP
        # What the secrets were entered for, before the form changes the instance.
        self._stored = {
            name: getattr(self.instance, name) if self.instance.pk else ""
            for name in (*SECRET_USE, *SECRETS)
        }
        for name, purpose in SECRETS.items():
            self.fields[name].help_text = KEEP if self._stored[name] else purpose

    def clean_login_url(self) -> str:
        url = self.cleaned_data["login_url"].rstrip("/")
        if not url.startswith("https://"):
            raise forms.ValidationError("Salesforce login URLs use https://.")
        if not login_hosts.is_allowed_login_url(url):
            raise forms.ValidationError(login_hosts.refusal(url))
        return url

    def clean_api_version(self) -> str:
        version = self.cleaned_data["api_version"].strip().removeprefix("v")
        if not API_VERSION.match(version):
            raise forms.ValidationError("Use a version like 62.0.")
        return version

    def clean_ca_bundle(self) -> str:
        pem = self.cleaned_data["ca_bundle"].strip()
        if pem and "-----BEGIN CERTIFICATE-----" not in pem:
            raise forms.ValidationError("Paste PEM certificates (-----BEGIN CERTIFICATE-----).")
        return pem + "\n" if pem else ""

    def clean(self):
        data = super().clean()
        changed = self._secret_use_changed(data)
        needed = ["client_secret"]
        if data.get("grant_type") == Connector.Grant.PASSWORD:
            needed.append("password")
            if not data.get("username"):
                self.add_error("username", "The password grant needs the connector user.")
        for name in SECRETS:
            if not data.get(name) and not changed:
                data[name] = self._stored[name]  # left blank: keep the stored one
        for name in needed:
            if data.get(name):
                continue
            if changed and self._stored[name]:
                self.add_error(
                    name, f"The {changed} changed: enter the {SECRET_NAMES[name]} again."
                )
            else:
                self.add_error(name, REQUIRED[name])
        return data

    def _secret_use_changed(self, data: dict) -> str:
        """What changed of where and for whom the stored secrets were entered ("" if nothing):
        a stored secret is only ever sent to the login host, grant and client id it came with."""
        if "login_url" in data and login_hosts.login_host(data["login_url"]) != (
            login_hosts.login_host(self._stored["login_url"])
        ):
            return "login host"
        if data.get("grant_type") != self._stored["grant_type"]:
            return "grant"
        if data.get("client_id") != self._stored["client_id"]:
            return "client id"
        return ""


class SettingsForm(BootstrapMixin, forms.ModelForm):
    """The connector's behaviour settings (each with the model's help text)."""

    class Meta:
        model = Connector
        fields = SETTINGS_FIELDS
        labels = {
            "auto_create_prospects": "Automatically create prospects",
            "auto_create_campaign": "Campaign for automatically created prospects",
            "new_record_type": "Create new Salesforce records as",
            "match_by_email": "Match by email when there is no CRM id",
            "email_precedence": "When several records share the email",
            "auto_change_email": "Automatically change email",
            "delete_with_crm": "Automatically delete and merge prospects",
            "exclude_partner_users": "Exclude partner and portal users from assignment",
        }

    def clean(self):
        data = super().clean()
        if data.get("new_record_type") == Connector.RecordType.PERSON_ACCOUNT and not data.get(
            "person_accounts"
        ):
            self.add_error("new_record_type", "Turn on person account syncing first.")
        return data


class FieldRuleForm(BootstrapMixin, forms.ModelForm):
    """One editable rule: targets on Lead/Contact/Person Account and the behaviour."""

    class Meta:
        model = FieldRule
        fields = [
            "lead_field",
            "contact_field",
            "person_account_field",
            "behaviour",
            "salesforce_blanks_overwrite",
        ]
        labels = {
            "lead_field": "Lead field",
            "contact_field": "Contact field",
            "person_account_field": "Person Account field",
            "salesforce_blanks_overwrite": "Salesforce blanks overwrite Leadbridge values",
        }
        widgets = {"behaviour": forms.RadioSelect}

    def __init__(self, *args, describes_by_object: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.describes = describes_by_object or {}
        for name, sobject in (("lead_field", "Lead"), ("contact_field", "Contact")):
            self.fields[name].widget.attrs.update(
                {"list": f"{sobject.lower()}-fields", "autocomplete": "off", "spellcheck": "false"}
            )
        self.fields["salesforce_blanks_overwrite"].help_text = (
            "By default a value beats an empty field. Turn this on to let an empty Salesforce "
            "field clear Leadbridge's value."
        )

    def clean(self):
        data = super().clean()
        if self.instance.fixed:
            raise forms.ValidationError(FIXED_FIELDS.get(self.instance.prospect_field, "Fixed."))
        for name in ("lead_field", "contact_field", "person_account_field"):
            data[name] = (data.get(name) or "").strip()
            setattr(self.instance, name, data[name])
        if data.get("behaviour"):
            self.instance.behaviour = data["behaviour"]
        mapped = data["lead_field"] or data["contact_field"] or data["person_account_field"]
        if data.get("behaviour") != FieldRule.Behaviour.DONT_SYNC and not mapped:
            raise forms.ValidationError("Choose a Salesforce field, or pick “Don't sync”.")
        for reason in validate_rule(
            connector=self.instance.connector, rule=self.instance, describes=self.describes
        ):
            self.add_error(None, reason)
        return data


class CustomFieldForm(BootstrapMixin, forms.ModelForm):
    """A prospect custom field: label, API name, type, predefined values, validate on import."""

    choices_text = forms.CharField(
        label="Predefined values",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line, or pull them from a Salesforce picklist.",
    )
    picklist_source = forms.ChoiceField(
        label="Pull values from Salesforce picklist", required=False, choices=[("", "—")]
    )
    lead_field = forms.CharField(required=False, label="Lead field")
    contact_field = forms.CharField(required=False, label="Contact field")
    behaviour = forms.ChoiceField(
        choices=FieldRule.Behaviour.choices,
        initial=FieldRule.Behaviour.LEADBRIDGE,
        widget=forms.RadioSelect,
    )

    class Meta:
        model = CustomField
        fields = ["label", "api_name", "type", "validate_on_import"]

    def __init__(self, *args, describes_by_object: dict | None = None, connector=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.describes = describes_by_object or {}
        self.connector = connector
        self.fields["choices_text"].initial = "\n".join(self.instance.choices or [])
        pick = []
        for sobject, desc in self.describes.items():
            for item in (desc or {}).get("fields", []):
                if item.get("type") in ("picklist", "multipicklist"):
                    key = f"{sobject}.{item['name']}"
                    pick.append((key, f"{key} ({item.get('label', '')})"))
        self.fields["picklist_source"].choices = [("", "—")] + sorted(pick)
        for name, sobject in (("lead_field", "Lead"), ("contact_field", "Contact")):
            self.fields[name].widget.attrs.update(
                {"list": f"{sobject.lower()}-fields", "autocomplete": "off"}
            )
        if self.instance.pk:
            self.fields["api_name"].disabled = True
            self.fields["api_name"].help_text = "Fixed once created (rules and values use it)."

    def clean_api_name(self) -> str:
        name = self.cleaned_data["api_name"]
        if not self.instance.pk and CustomField.objects.filter(api_name__iexact=name).exists():
            raise forms.ValidationError("A custom field with this API name already exists.")
        return name

    def clean(self):
        data = super().clean()
        values = [v.strip() for v in (data.get("choices_text") or "").splitlines() if v.strip()]
        source = data.get("picklist_source")
        if source:
            sobject, _, name = source.partition(".")
            values = describes.picklist_values(self.describes.get(sobject), name)
        self.instance.choices = list(dict.fromkeys(values))
        if data.get("validate_on_import") and not self.instance.choices:
            self.add_error("validate_on_import", "Validating on import needs predefined values.")
        self._check_mapping(data)
        return data

    def rule_values(self) -> dict:
        data = self.cleaned_data
        return {
            "lead_field": data.get("lead_field", "").strip(),
            "contact_field": data.get("contact_field", "").strip(),
            "behaviour": data.get("behaviour") or FieldRule.Behaviour.DONT_SYNC,
        }

    def _check_mapping(self, data: dict) -> None:
        if self.connector is None or not data.get("api_name"):
            return
        values = {k: (data.get(k) or "").strip() for k in ("lead_field", "contact_field")}
        behaviour = data.get("behaviour") or FieldRule.Behaviour.DONT_SYNC
        if behaviour != FieldRule.Behaviour.DONT_SYNC and not any(values.values()):
            behaviour = FieldRule.Behaviour.DONT_SYNC
            data["behaviour"] = behaviour
        prospect_field = CUSTOM_PREFIX + data["api_name"]
        existing = FieldRule.objects.filter(
            connector=self.connector, prospect_field=prospect_field
        ).first()
        rule = existing or FieldRule(connector=self.connector, prospect_field=prospect_field)
        rule.lead_field, rule.contact_field, rule.behaviour = (
            values["lead_field"],
            values["contact_field"],
            behaviour,
        )
        # The custom field may not exist yet: check the rule against the unsaved definition.
        self.instance.type = data.get("type") or self.instance.type
        for reason in _validate_custom_rule(self.connector, rule, self.instance, self.describes):
            self.add_error(None, reason)


def _validate_custom_rule(connector, rule, custom, describes_by_object) -> list[str]:
    from sync.mapping import check_rule, custom_prospect_field

    reasons = validate_rule(connector=connector, rule=rule, describes={})
    if describes_by_object and rule.behaviour != FieldRule.Behaviour.DONT_SYNC:
        check = check_rule(
            rule=rule,
            describes=describes_by_object,
            pfield=custom_prospect_field(custom),
            count=False,
        )
        reasons += [p.message for p in check.errors]
    return reasons


class DataSharingRuleForm(BootstrapMixin, forms.ModelForm):
    """Marketing Data Sharing: one rule per object, one field equals one value."""

    sobject = forms.CharField(
        label="Object",
        help_text="Lead, Contact, Opportunity or a custom object's API name (…__c).",
        widget=forms.TextInput(attrs={"list": "sharing-objects"}),
    )

    class Meta:
        model = DataSharingRule
        fields = ["sobject", "field", "value"]
        help_texts = {
            "field": "A field of that object that no field rule maps.",
            "value": "Records sync only when the field equals this value exactly (case-sensitive).",
        }

    def __init__(self, *args, describes_by_object: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.describes = describes_by_object or {}

    def clean_sobject(self) -> str:
        sobject = self.cleaned_data["sobject"].strip()
        if sobject not in ("Lead", "Contact", "Opportunity") and not sobject.endswith("__c"):
            raise forms.ValidationError(
                "Choose Lead, Contact, Opportunity or a custom object (…__c)."
            )
        return sobject

    def clean(self):
        data = super().clean()
        connector = self.instance.connector
        sobject, field = data.get("sobject"), (data.get("field") or "").strip()
        if not sobject or not field:
            return data
        data["field"] = field
        if connector.state != Connector.State.PAUSED:
            raise forms.ValidationError(
                "Pause the connector before editing Marketing Data Sharing."
            )
        clash = DataSharingRule.objects.filter(connector=connector, sobject=sobject).exclude(
            pk=self.instance.pk
        )
        if clash.exists():
            self.add_error("sobject", f"{sobject} already has a rule (one rule per object).")
        if connector.field_rules.targeting(sobject, field).exists():
            self.add_error(
                "field",
                f"{sobject}.{field} is mapped to a prospect field; choose an unmapped field.",
            )
        desc = self.describes.get(sobject)
        if desc is not None:
            item = describes.field_describe(desc, field)
            if item is None:
                self.add_error(
                    "field",
                    f"{sobject}.{field} does not exist or the connector user cannot read it.",
                )
            elif not item.get("updateable"):
                self.add_error(
                    "field", f"The connector user needs read and edit on {sobject}.{field}."
                )
        return data


class CustomObjectForm(BootstrapMixin, forms.Form):
    """Which lookup relates a custom object's records to prospects, and which fields to show."""

    lookup = forms.ChoiceField(
        label="Relates to prospects through",
        help_text="A lookup to Lead, Contact or Account: its records show on the prospects "
        "that sync with that lead, contact or account.",
    )
    shown = forms.MultipleChoiceField(
        label="Fields to show",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Shown on the prospect page and usable in the prospect list's filter.",
    )

    def __init__(self, *args, lookups: list, shown: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.lookups = {item.key: item for item in lookups}
        self.shown_fields = {f["name"]: f for f in shown}
        self.fields["lookup"].choices = [
            (item.key, f"{item.label} ({item.name} → {item.target})") for item in lookups
        ]
        self.fields["shown"].choices = [(f["name"], f"{f['label']} ({f['name']})") for f in shown]
        self.fields["shown"].widget.attrs["class"] = "form-check-input"

    def clean_shown(self) -> list[dict]:
        names = self.cleaned_data["shown"]
        if len(names) > MAX_FIELDS:
            raise forms.ValidationError(f"Choose at most {MAX_FIELDS} fields.")
        return [self.shown_fields[name] for name in names]

    def clean_lookup(self):
        return self.lookups[self.cleaned_data["lookup"]]
