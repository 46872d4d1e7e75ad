"""One form per action type: it validates an action's JSON (or the action builder's POST) into
an :class:`~automation.action_types.Action`, with the edit form's rules for field values."""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from automation import action_types as types
from automation.models import ProspectList
from crm.memberships import CampaignError, check_campaign
from crm.models import SalesforceCampaign
from prospects.forms import ProspectForm, assignable_users
from prospects.models import (
    CUSTOM_PREFIX,
    SCORE_VALIDATORS,
    Campaign,
    CrmQueue,
    CustomField,
    Prospect,
)
from sync.errors.fix import FALSE, TRUE
from sync.errors.fix import _clean_custom as clean_custom

# Fields "set a field" cannot write: identity, and what other actions own.
NOT_SETTABLE = {"email", "campaign", "assigned_user", "assigned_queue", "do_not_sync", "score"}
SETTABLE = [name for name in ProspectForm.Meta.fields if name not in NOT_SETTABLE]
GONE = "%(title)s no longer exists (it was deleted); pick another."


class ActionForm(forms.Form):
    """The base: ``title`` names the action in messages; ``action()`` builds it once valid."""

    action_class: type[types.Action] = types.Action

    @property
    def title(self) -> str:
        return self.action_class.title

    def action(self) -> types.Action:
        raise NotImplementedError

    def error_text(self) -> str:
        return " ".join(message for errors in self.errors.values() for message in errors)


def styled(form: forms.Form) -> forms.Form:
    """Bootstrap classes on every widget of an action form (the bulk page and the editor)."""
    for field in form.fields.values():
        css = {"CheckboxInput": "form-check-input", "Select": "form-select"}.get(
            type(field.widget).__name__, "form-control"
        )
        field.widget.attrs.setdefault("class", css)
    return form


def _gone(what: str) -> dict[str, str]:
    return {"invalid_choice": f"That {what} no longer exists (it was deleted); pick another."}


class AssignUserForm(ActionForm):
    action_class = types.AssignUser
    user = forms.ModelChoiceField(queryset=None, error_messages=_gone("user"))
    only_unassigned = forms.BooleanField(
        required=False, label="Only prospects nobody is assigned to"
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = assignable_users()

    def action(self) -> types.Action:
        return types.AssignUser(
            self.cleaned_data["user"], only_unassigned=self.cleaned_data["only_unassigned"]
        )


class AssignQueueForm(ActionForm):
    action_class = types.AssignQueue
    queue = forms.ModelChoiceField(
        queryset=CrmQueue.objects.filter(is_active=True), error_messages=_gone("Salesforce queue")
    )
    only_unassigned = forms.BooleanField(
        required=False, label="Only prospects nobody is assigned to"
    )

    def action(self) -> types.Action:
        return types.AssignQueue(
            self.cleaned_data["queue"], only_unassigned=self.cleaned_data["only_unassigned"]
        )


class SetCampaignForm(ActionForm):
    action_class = types.SetCampaign
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.all(), error_messages=_gone("campaign")
    )

    def action(self) -> types.Action:
        return types.SetCampaign(self.cleaned_data["campaign"])


class AddToSalesforceCampaignForm(ActionForm):
    action_class = types.AddToSalesforceCampaign
    campaign = forms.ModelChoiceField(
        queryset=SalesforceCampaign.objects.all(),
        label="Salesforce campaign",
        error_messages=_gone("Salesforce campaign"),
    )
    status = forms.CharField(
        required=False, max_length=255, help_text="Blank: the campaign's default status."
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = SalesforceCampaign.objects.live().filter(
            is_active=True
        ) | SalesforceCampaign.objects.filter(pk__in=self._asked())

    def _asked(self) -> list[int]:
        """The campaign asked for, even if deleted in Salesforce: refused with its own message
        below rather than "not a valid choice"."""
        value = (self.data or {}).get("campaign")
        return [int(value)] if str(value or "").isdigit() else []

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        campaign = cleaned.get("campaign")
        if campaign is not None:
            try:
                cleaned["status"] = check_campaign(campaign, cleaned.get("status") or "")
            except CampaignError as exc:
                raise ValidationError(str(exc)) from exc
        return cleaned

    def action(self) -> types.Action:
        return types.AddToSalesforceCampaign(
            self.cleaned_data["campaign"], self.cleaned_data["status"]
        )


def field_choices() -> list[tuple[str, str]]:
    """What "set a field" can write: the edit form's fields (less identity and what other
    actions own), then the custom fields."""
    standard = [(n, str(Prospect._meta.get_field(n).verbose_name).capitalize()) for n in SETTABLE]
    custom = [(c.prospect_field, c.label) for c in CustomField.objects.order_by("label")]
    return standard + custom


class SetFieldForm(ActionForm):
    action_class = types.SetField
    field = forms.ChoiceField(choices=())
    value = forms.Field(required=False, help_text="Blank clears the field.")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = field_choices()
        self.fields["field"].error_messages["invalid_choice"] = (
            "There is no prospect field %(value)s that an action can set (was it deleted?)."
        )
        self.definitions = {c.api_name: c for c in CustomField.objects.all()}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        name = cleaned.get("field")
        if name:
            try:
                cleaned["value"] = clean_value(name, self.data.get("value"), self.definitions)
            except ValidationError as exc:
                self.add_error(
                    "value", f"{dict(field_choices()).get(name, name)}: {' '.join(exc.messages)}"
                )
        return cleaned

    def action(self) -> types.Action:
        name = self.cleaned_data["field"]
        definition = (
            self.definitions.get(name.removeprefix(CUSTOM_PREFIX))
            if name.startswith(CUSTOM_PREFIX)
            else None
        )
        label = dict(field_choices()).get(name, name)
        return types.SetField(name, self.cleaned_data["value"], label=label, definition=definition)


def clean_value(name: str, raw: Any, definitions: dict[str, CustomField]) -> Any:
    """A value for field ``name`` validated as the edit form does; predefined values of
    dropdown and multi-select custom fields are enforced (an action has no "accept anything"
    option)."""
    if name.startswith(CUSTOM_PREFIX):
        definition = definitions.get(name.removeprefix(CUSTOM_PREFIX))
        if definition is None:
            raise ValidationError(f"there is no custom field {name!r}")
        definition = copy.copy(definition)
        definition.validate_on_import = True
        if isinstance(raw, list | tuple):
            raw = ";".join(str(v) for v in raw)
        elif isinstance(raw, bool):
            raw = "true" if raw else "false"
        return clean_custom(definition, "" if raw is None else str(raw).strip())
    model_field = Prospect._meta.get_field(name)
    kind = model_field.get_internal_type()
    if kind == "BooleanField":
        value = _clean_bool(raw)
        if name == "opted_out" and not value:
            raise ValidationError(
                "an opt-out is cleared only by the prospect (the preference centre)"
            )
        return value
    if isinstance(raw, list | tuple | dict):
        raise ValidationError(f"expected a single value, not {type(raw).__name__}")
    text = "" if raw is None else str(raw)
    textual = kind in ("CharField", "TextField", "EmailField", "URLField")
    form_field = ProspectForm.base_fields.get(name) or model_field.formfield()
    value = form_field.clean(text if textual else text.strip())
    if value is None and not model_field.null:
        value = "" if textual else model_field.get_default()
    if value not in (None, ""):
        model_field.run_validators(value)
        for validator in SCORE_VALIDATORS if name == "score" else ():
            validator(value)
    return value


def _clean_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = "" if raw is None else str(raw).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValidationError(f"{raw!r} is not true or false")


class AdjustScoreForm(ActionForm):
    action_class = types.AdjustScore
    points = forms.IntegerField(
        min_value=-100000, max_value=100000, help_text="Negative takes away."
    )

    def clean_points(self) -> int:
        if self.cleaned_data["points"] == 0:
            raise ValidationError("Adjust the score by some points (not 0).")
        return self.cleaned_data["points"]

    def action(self) -> types.Action:
        return types.AdjustScore(self.cleaned_data["points"])


class _ListForm(ActionForm):
    list = forms.ModelChoiceField(queryset=None, error_messages=_gone("list"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["list"].queryset = ProspectList.objects.filter(kind=ProspectList.Kind.STATIC)
        self.fields["list"].error_messages["invalid_choice"] = (
            "That list no longer exists or is a dynamic list (its members follow its criteria)."
        )

    def action(self) -> types.Action:
        return self.action_class(self.cleaned_data["list"])


class AddToListForm(_ListForm):
    action_class = types.AddToList


class RemoveFromListForm(_ListForm):
    action_class = types.RemoveFromList


class DoNotSyncForm(ActionForm):
    action_class = types.DoNotSync
    value = forms.NullBooleanField(required=False, widget=forms.HiddenInput)

    def action(self) -> types.Action:
        return types.DoNotSync(self.cleaned_data.get("value") is not False)


class SyncNowForm(ActionForm):
    action_class = types.SyncNow

    def action(self) -> types.Action:
        return types.SyncNow()


class AllowRecreateForm(ActionForm):
    action_class = types.AllowRecreate

    def action(self) -> types.Action:
        return types.AllowRecreate()


class NotifyUserForm(ActionForm):
    action_class = types.NotifyUser
    user = forms.ModelChoiceField(queryset=None, error_messages=_gone("user"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (
            get_user_model().objects.filter(is_active=True).exclude(email="").order_by("username")
        )

    def action(self) -> types.Action:
        return types.NotifyUser(self.cleaned_data["user"])


ACTION_FORMS: dict[str, type[ActionForm]] = {
    form.action_class.type: form
    for form in (
        AssignUserForm,
        AssignQueueForm,
        SetCampaignForm,
        AddToSalesforceCampaignForm,
        SetFieldForm,
        AdjustScoreForm,
        AddToListForm,
        RemoveFromListForm,
        DoNotSyncForm,
        SyncNowForm,
        NotifyUserForm,
        AllowRecreateForm,
    )
}


class UnknownActionForm(ActionForm):
    """An item that is not an action at all: always invalid, saying why."""

    def __init__(self, item: Any) -> None:
        super().__init__(data={})
        self.item = item

    @property
    def title(self) -> str:
        return "unknown"

    def clean(self) -> dict[str, Any]:
        kind = self.item.get("type") if isinstance(self.item, dict) else None
        if kind is None:
            raise ValidationError('An action must be an object with a "type".')
        raise ValidationError(
            f"There is no action {kind!r} (known: {', '.join(sorted(ACTION_FORMS))})."
        )


def action_form(item: Any) -> ActionForm:
    """The bound form that validates one action's JSON."""
    if isinstance(item, dict) and item.get("type") in ACTION_FORMS:
        return ACTION_FORMS[item["type"]](data=item)
    return UnknownActionForm(item)
