"""The list and rule editors. Criteria come as JSON from the criteria editor
(``static/automation/criteria.js`` fills a hidden field; without JavaScript the JSON is typed)."""

from __future__ import annotations

import json

from django import forms

from automation.criteria import validate
from automation.models import ProspectList, Rule


class CriteriaField(forms.JSONField):
    """A criteria document: an object, validated by ``automation.criteria.validate``."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "widget",
            forms.Textarea(attrs={"rows": 4, "class": "form-control font-monospace criteria-json"}),
        )
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise forms.ValidationError("Criteria must be a group of conditions.")
        return value


class _CriteriaForm(forms.ModelForm):
    own_list_id: int | None = None

    def clean_criteria(self) -> dict:
        criteria = self.cleaned_data.get("criteria") or {}
        errors = validate(criteria, own_list_id=self.own_list_id)
        if errors:
            raise forms.ValidationError(errors)
        return criteria


class ProspectListForm(_CriteriaForm):
    criteria = CriteriaField(label="Criteria")

    class Meta:
        model = ProspectList
        fields = ["name", "kind", "description", "criteria"]
        widgets = {
            "name": forms.TextInput(attrs={"class": "form-control"}),
            "kind": forms.Select(attrs={"class": "form-select"}),
            "description": forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.own_list_id = self.instance.pk
            # A list keeps its kind: a static list's members are people's choices.
            self.fields["kind"].disabled = True

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == ProspectList.Kind.STATIC:
            cleaned["criteria"] = {}
        return cleaned


class RuleForm(_CriteriaForm):
    criteria = CriteriaField(label="Criteria")
    actions = forms.JSONField(
        label="Actions",
        widget=forms.Textarea(attrs={"rows": 4, "class": "form-control font-monospace"}),
        help_text='The action set\'s JSON, e.g. [{"type": "assign_queue", "queue": 3}].',
    )

    class Meta:
        model = Rule
        fields = ["name", "description", "mode", "criteria", "actions"]
        widgets = {
            "name": forms.TextInput(attrs={"class": "form-control"}),
            "mode": forms.Select(attrs={"class": "form-select"}),
            "description": forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        }

    def clean_actions(self) -> list:
        from automation.actions import InvalidActions, parse_actions

        actions = self.cleaned_data.get("actions")
        if not actions:
            raise forms.ValidationError("Give at least one action.")
        try:
            parsed = parse_actions(actions)
        except InvalidActions as error:
            raise forms.ValidationError(error.errors) from error
        return [action.to_json() for action in parsed]


class AddToListForm(forms.Form):
    """The prospect page's "add to a list": a static list."""

    prospect_list = forms.ModelChoiceField(
        label="List",
        queryset=ProspectList.objects.filter(kind=ProspectList.Kind.STATIC),
        empty_label="Choose a static list",
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )


def as_json(value) -> str:
    return json.dumps(value or {}, ensure_ascii=False)
