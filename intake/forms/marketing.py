"""Forms: the marketer's editors for form handlers, forms and landing pages, and the public
form a visitor fills in (built from a ``Form``'s fields)."""

from __future__ import annotations

from django import forms
from django.forms import inlineformset_factory

from automation.action_forms import ACTION_FORMS
from automation.actions import InvalidActions, parse_actions
from intake.form_models import (
    Form,
    FormField,
    FormHandler,
    FormHandlerField,
    LandingPage,
    public_field_choices,
)
from prospects.models import CUSTOM_PREFIX, CustomField, Prospect

COMPLETION_FIELDS = [
    "action_assign_user",
    "action_assign_queue",
    "action_campaign",
    "action_score",
    "action_notify_user",
    "completion_actions",
]
ENTRY_FIELDS = ["name", "slug", "campaign", "is_active", "honeypot_field", "allowed_origins"]


def style(form: forms.BaseForm) -> None:
    """Bootstrap's classes on every widget."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.CheckboxSelectMultiple):
            continue
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


class Styled(forms.ModelForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        style(self)
        if "completion_actions" in self.fields:
            _actions_widget(self)


class CompletionActionsMixin:
    """The further completion actions: JSON of the action set, each checked by its own form
    (a deleted campaign, a refused status, a value the field cannot hold named per action)."""

    def clean_completion_actions(self) -> list:
        data = self.cleaned_data.get("completion_actions") or []
        try:
            return [action.to_json() for action in parse_actions(data)]
        except InvalidActions as exc:
            raise forms.ValidationError(exc.errors) from exc


ACTIONS_HELP = (
    "Further actions, as a JSON list, for example "
    '[{"type": "add_to_sf_campaign", "campaign": 7, "status": "Responded"}, '
    '{"type": "set_field", "field": "country", "value": "Germany"}]. Types: '
)


def _actions_widget(form: forms.BaseForm) -> None:
    field = form.fields["completion_actions"]
    field.widget = forms.Textarea(attrs={"rows": 3, "class": "form-control font-monospace"})
    field.help_text = ACTIONS_HELP + ", ".join(sorted(ACTION_FORMS)) + "."


class FormHandlerForm(CompletionActionsMixin, Styled):
    class Meta:
        model = FormHandler
        fields = [*ENTRY_FIELDS, "success_url", "error_url", *COMPLETION_FIELDS]
        widgets = {"allowed_origins": forms.Textarea(attrs={"rows": 2})}


class FormForm(CompletionActionsMixin, Styled):
    class Meta:
        model = Form
        fields = [
            *ENTRY_FIELDS,
            "submit_label",
            "thank_you_message",
            "thank_you_url",
            *COMPLETION_FIELDS,
        ]
        widgets = {
            "allowed_origins": forms.Textarea(attrs={"rows": 2}),
            "thank_you_message": forms.Textarea(attrs={"rows": 2}),
        }


class LandingPageForm(Styled):
    class Meta:
        model = LandingPage
        fields = ["name", "slug", "title", "text", "form", "is_active"]
        widgets = {"text": forms.Textarea(attrs={"rows": 6})}


class _ProspectFieldChoice(forms.ModelForm):
    """A row choosing a prospect field: the choices are read when the form is built, so a new
    custom field is offered at once."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["prospect_field"] = forms.ChoiceField(
            choices=[("", "---------"), *public_field_choices()], label="Prospect field"
        )
        style(self)


class HandlerFieldForm(_ProspectFieldChoice):
    class Meta:
        model = FormHandlerField
        fields = ["external_name", "prospect_field", "required"]


class FormFieldForm(_ProspectFieldChoice):
    class Meta:
        model = FormField
        fields = ["prospect_field", "label", "order", "required"]


class _NeedsEmail(forms.BaseInlineFormSet):
    """A form must ask for the email address: without it no prospect can be found or made."""

    email_key = "prospect_field"

    def clean(self) -> None:
        super().clean()
        kept = [
            f.cleaned_data
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        if not any(row.get("prospect_field") == "email" for row in kept):
            raise forms.ValidationError("Map one field to the prospect's email address.")


HandlerFieldFormSet = inlineformset_factory(
    FormHandler, FormHandlerField, form=HandlerFieldForm, formset=_NeedsEmail, extra=3
)
FormFieldFormSet = inlineformset_factory(
    Form, FormField, form=FormFieldForm, formset=_NeedsEmail, extra=3
)


# -- the public form --------------------------------------------------------------------------


class PublicForm(forms.Form):
    """What a visitor sees: one field per ``FormField`` (named after its prospect field), and the
    honeypot. Validation is ``intake.submissions.submit``'s; this form only renders, and shows
    the problems the submission reported."""

    def __init__(self, form: Form, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        customs = {c.prospect_field: c for c in CustomField.objects.all()}
        for item in form.fields.all():
            field = _field_for(item.prospect_field, customs)
            if field is None:
                continue
            field.required = item.required
            field.label = item.label or field.label
            self.fields[item.prospect_field] = field
        self.honeypot_name = form.honeypot_field
        self.fields[form.honeypot_field] = forms.CharField(
            required=False,
            label="Leave this field blank",
            widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
        )
        style(self)

    def honeypot(self):
        return self[self.honeypot_name]

    def visible(self):
        return [self[name] for name in self.fields if name != self.honeypot_name]


def _field_for(name: str, customs: dict[str, CustomField]) -> forms.Field | None:
    if name.startswith(CUSTOM_PREFIX):
        custom = customs.get(name)
        return _custom_field(custom) if custom else None
    try:
        model_field = Prospect._meta.get_field(name)
    except Exception:  # noqa: BLE001 - a field removed since the form was made
        return None
    field = model_field.formfield()
    field.label = str(model_field.verbose_name).capitalize()
    return field


def _custom_field(custom: CustomField) -> forms.Field:
    kind = CustomField.Type
    choices = [(c, c) for c in custom.choices or []]
    if custom.type == kind.DROPDOWN and choices:
        field: forms.Field = forms.ChoiceField(choices=[("", "---------"), *choices])
    elif custom.type == kind.MULTI_SELECT and choices:
        field = forms.MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple)
    elif custom.type == kind.CHECKBOX:
        field = forms.BooleanField()
    elif custom.type == kind.DATE:
        field = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    elif custom.type == kind.NUMBER:
        field = forms.DecimalField()
    elif custom.type == kind.TEXTAREA:
        field = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    else:
        field = forms.CharField(max_length=custom.max_length)
    field.label = custom.label
    return field
