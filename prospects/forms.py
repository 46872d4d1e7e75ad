import copy
import datetime as dt
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Q, QuerySet

from core.roles import MARKETER, SYNC_ADMIN
from prospects import edits
from prospects.models import CrmQueue, CustomField, Prospect

RESOLVE_PREFIX = "resolve:"
MINE, THEIRS = "mine", "theirs"


# Users an app above this one keeps out of assignment (sync: partner and portal users while the
# connector excludes them), registered at start-up: callables returning the users' Q.
ASSIGNMENT_EXCLUSIONS: list[Callable[[], Q]] = []


def assignable_users(current: int | None = None) -> QuerySet:
    """Who a prospect can be assigned to: active users with a role (Marketer or Sync admin),
    but none an exclusion names, and whoever it is assigned to now, so an edit never fails on
    an old assignment."""
    role = Q(is_active=True, groups__name__in=[MARKETER, SYNC_ADMIN])
    for exclusion in ASSIGNMENT_EXCLUSIONS:
        role &= ~exclusion()
    users = get_user_model().objects.filter(role | Q(pk=current or 0))
    return users.distinct().order_by("username")


class TextAreaField(forms.CharField):
    """Text from a text area: browsers send its line breaks as CRLF, stored ones are "\n"; one
    form for both, so an untouched multi-line value never looks changed."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n") if isinstance(value, str) else value


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
            return TextAreaField(
                widget=forms.Textarea(attrs={"rows": 2}), max_length=custom.max_length, **common
            )
        case _:
            return forms.CharField(max_length=custom.max_length, **common)


def custom_initial(custom: CustomField, stored: Any) -> Any:
    """A stored custom value as its form field holds it (a list for a multi-select, a date, a
    number), so an untouched field never looks changed."""
    if custom.type == CustomField.Type.MULTI_SELECT:
        return custom.split(stored)
    if stored in (None, ""):
        return None
    try:
        if custom.type == CustomField.Type.NUMBER:
            return Decimal(str(stored))
        if custom.type == CustomField.Type.DATE:
            return dt.date.fromisoformat(str(stored))
    except (InvalidOperation, ValueError):
        return stored
    return stored


class ProspectForm(forms.ModelForm):
    """Create/edit a prospect. CRM ids and sync bookkeeping are the connector's, not editable.

    Editing, the form carries what it showed (``shown``, signed) and saves only what the
    marketer changed relative to it (see ``prospects.edits``): ``edits()`` after validation.
    A field that changed underneath too is a conflict (``conflicts``): the form is re-shown
    with both values and a choice (``resolve:<field>``), current values in the other fields.
    """

    shown = forms.CharField(widget=forms.HiddenInput, required=False)

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
        field_classes = {"comments": TextAreaField, "notes": TextAreaField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.prospect = self.instance  # validation runs on a copy (see _post_clean)
        self._limit_choices()
        self.definitions = {custom.api_name: custom for custom in CustomField.objects.all()}
        for custom in self.definitions.values():
            name = custom.prospect_field
            self.fields[name] = custom_form_field(custom)
            self.initial[name] = custom_initial(custom, self.instance.get_field(name))
        self._style()
        self.conflicts: dict[str, edits.Conflict] = {}
        self.pending: list[str] = []  # conflicts shown last time, awaiting a choice
        self.stale = False
        if self.instance.pk:
            self._track_shown()

    # -- set-up -------------------------------------------------------------------------------
    def _limit_choices(self) -> None:
        queue = self.fields["assigned_queue"]
        queue.queryset = CrmQueue.objects.filter(
            Q(is_active=True) | Q(pk=self.instance.assigned_queue_id or 0)
        )
        queue.label = "Assigned queue"
        queue.help_text = "A Salesforce lead queue; the record is created owned by the queue."
        self.fields["assigned_user"].queryset = assignable_users(self.instance.assigned_user_id)

    def _style(self) -> None:
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")

    @property
    def value_fields(self) -> list[str]:
        """The prospect's fields on this form (not the bookkeeping ``shown``/``resolve:``)."""
        return [n for n in self.fields if n != "shown" and not n.startswith(RESOLVE_PREFIX)]

    def _track_shown(self) -> None:
        """Remember the prospect as it is now; once bound, compare with what the form showed."""
        self.current = {name: self.initial.get(name) for name in self.value_fields}
        if not self.is_bound:
            self.initial["shown"] = edits.sign_shown(self.prospect, self._raw(self.current))
            return
        token = self.data.get("shown")
        if not token:  # a client that never showed the form (an API-style post): compare with now
            self.shown_raw = self._raw(self.current)
            return
        try:
            payload = edits.read_shown(token, self.prospect)
        except edits.StaleForm:
            self.stale = True
            self.shown_raw = self._raw(self.current)
            return
        self.shown_raw = {**self._raw(self.current), **payload["values"]}
        self.pending = [n for n in payload["conflicts"] if n in self.fields]
        # Django's changed_data now means "changed relative to what the form showed".
        for name in self.value_fields:
            self.initial[name] = self._python(name, self.shown_raw.get(name))
        for name in self.pending:
            self._add_resolve_field(name)

    def _raw(self, values: dict[str, Any]) -> dict[str, Any]:
        return {name: self.fields[name].prepare_value(value) for name, value in values.items()}

    def _python(self, name: str, raw: Any) -> Any:
        """A value carried by ``shown`` as the field's Python value (related rows by pk)."""
        field = self.fields[name]
        if isinstance(field, forms.ModelChoiceField):
            return raw
        try:
            return field.to_python(raw)
        except forms.ValidationError:
            return raw

    def _add_resolve_field(self, name: str, conflict: edits.Conflict | None = None) -> None:
        theirs = f"Keep the new value ({conflict.theirs})" if conflict else "Keep the new value"
        yours = f"Keep yours ({conflict.yours})" if conflict else "Keep yours"
        self.fields[RESOLVE_PREFIX + name] = forms.ChoiceField(
            label=f"Which {self.fields[name].label or name} to keep",
            choices=[(MINE, yours), (THEIRS, theirs)],
            widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
            required=False,
        )

    # -- validation ---------------------------------------------------------------------------
    def clean(self):
        cleaned = super().clean()
        if cleaned.get("assigned_user") and cleaned.get("assigned_queue"):
            self.add_error("assigned_queue", "Assign the prospect to a user or a queue, not both.")
        if self.stale:
            raise forms.ValidationError(
                "This form could not be checked against what it showed; reload the page and "
                "make your changes again."
            )
        if self.prospect.pk:
            self._find_conflicts()
        return cleaned

    def _find_conflicts(self) -> None:
        """Fields the marketer changed that also changed underneath to something else (or that
        were in conflict last time and still await a choice)."""
        for name in self.changed_data:
            if name not in self.value_fields or self._resolution(name) == THEIRS:
                continue
            field, now = self.fields[name], self._now(name)
            if not field.has_changed(now, self[name].data):
                continue  # the marketer entered what the prospect holds now: nothing to decide
            moved = field.has_changed(now, self.shown_raw.get(name))
            if moved or (name in self.pending and self._resolution(name) is None):
                self.conflicts[name] = self._conflict(name)
        if self.conflicts:
            self._show_again()

    def _now(self, name: str) -> Any:
        return self._python(name, self._raw({name: self.current[name]})[name])

    def _resolution(self, name: str) -> str | None:
        if name not in self.pending:
            return None
        return self.data.get(RESOLVE_PREFIX + name) or None

    def _conflict(self, name: str) -> edits.Conflict:
        field = self.fields[name]
        return edits.Conflict(
            field=name,
            label=str(field.label or name),
            shown=self._display(name, self.initial.get(name)),
            yours=self._display(name, self.cleaned_data.get(name)),
            theirs=self._display(name, self.current[name]),
            by=edits.changed_by(self.prospect, name),
        )

    def _display(self, name: str, value: Any) -> str:
        field = self.fields[name]
        if value in (None, "", []):
            return edits.display(value)
        if isinstance(field, forms.ModelChoiceField):
            if not isinstance(value, models.Model):
                value = field.queryset.model._default_manager.filter(pk=value).first() or value
        elif isinstance(field, forms.ChoiceField):
            labels = {str(key): label for key, label in field.choices}
            if isinstance(value, list):
                value = [labels.get(str(v), v) for v in value]
            else:
                value = labels.get(str(value), value)
        return edits.display(value)

    def _show_again(self) -> None:
        """Prepare the page that shows the conflicts: the marketer's changes kept, every other
        field at its current value, and ``shown`` now the current values (so saving again is
        checked against what this page shows)."""
        data = self.data.copy()
        changed = set(self.changed_data)
        for name in self.value_fields:
            if name not in changed or self._resolution(name) == THEIRS:
                self._put(data, name, self.current[name])
        for name, conflict in self.conflicts.items():
            self._add_resolve_field(name, conflict)
            data.pop(RESOLVE_PREFIX + name, None)
            self.add_error(name, f"{conflict.message} Choose which value to keep.")
        data["shown"] = edits.sign_shown(
            self.prospect, self._raw(self.current), conflicts=list(self.conflicts)
        )
        self.data = data

    def _put(self, data, name: str, value: Any) -> None:
        field = self.fields[name]
        if isinstance(field.widget, forms.CheckboxInput):
            data.setlist(name, ["on"] if value else [])
            return
        formatted = field.widget.format_value(field.prepare_value(value))
        values = formatted if isinstance(formatted, list) else [formatted or ""]
        data.setlist(name, [str(v) for v in values])

    def _post_clean(self):
        """Validate a copy: a rejected or partly applied form never touches the prospect."""
        self.instance = copy.deepcopy(self.prospect)
        super()._post_clean()
        for custom in self.definitions.values():
            name = custom.prospect_field
            if name in self.cleaned_data:
                self.instance.set_field(name, self.cleaned_data[name], definitions=self.definitions)

    # -- result -------------------------------------------------------------------------------
    def edits(self) -> dict[str, Any]:
        """What to save (field name → value): what the marketer changed relative to what the
        form showed, minus conflicts resolved for the new value, minus no-ops."""
        out = {}
        for name in self.changed_data:
            if name not in self.value_fields or self._resolution(name) == THEIRS:
                continue
            if self.fields[name].has_changed(self._now(name), self[name].data):
                out[name] = self.cleaned_data[name]
        return out

    def rows(self) -> list[dict]:
        """The fields in page order, each with its conflict choice when it has one."""
        return [
            {
                "field": self[name],
                "resolve": self[RESOLVE_PREFIX + name]
                if RESOLVE_PREFIX + name in self.fields
                else None,
                "conflict": name in self.conflicts,
            }
            for name in self.value_fields
        ]
