"""Fixing sync errors: edit the values a prospect sends, and explain each error's root cause.

The Sync Errors detail page (inline edit) and the CSV re-import call these functions, so a value
is validated the same way wherever it is corrected.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import transaction

from prospects import edits
from prospects.forms import ProspectForm, TextAreaField
from prospects.models import CUSTOM_PREFIX, SCORE_VALIDATORS, CustomField, Prospect, SyncReason
from prospects.sync_requests import request_sync
from sync.describe import cached_describe, field_describe
from sync.errors.records import describe_constraint, fix_in_salesforce
from sync.models import Connector, FieldRule, SyncError

# Relations and bookkeeping are not edited from a spreadsheet cell.
NOT_EDITABLE = {"campaign", "assigned_user"}
EDITABLE_FIELDS = [name for name in ProspectForm.Meta.fields if name not in NOT_EDITABLE]
# When no field rule maps anything yet, the export still carries the fields people fix most.
STANDARD_COLUMNS = [
    "first_name",
    "last_name",
    "email",
    "company",
    "job_title",
    "phone",
    "city",
    "state",
    "country",
    "comments",
]
TRUE = {"true", "1", "yes", "y", "on", "x"}
FALSE = {"false", "0", "no", "n", "off", ""}


# -- which prospect field feeds a Salesforce field ----------------------------------------------


def prospect_field_for(*, connector: Connector | None, sobject: str, sf_field: str) -> str | None:
    """The editable prospect field whose rule maps to ``sobject.sf_field``, if any."""
    rules = FieldRule.objects.targeting(sobject, sf_field)
    if connector is not None:
        rules = rules.filter(connector=connector)
    name = rules.values_list("prospect_field", flat=True).first()
    return name if name and is_editable(name) else None


def is_editable(name: str) -> bool:
    if name.startswith(CUSTOM_PREFIX):
        return CustomField.objects.filter(api_name=name.removeprefix(CUSTOM_PREFIX)).exists()
    return name in EDITABLE_FIELDS


def mapped_columns(connector: Connector | None) -> list[str]:
    """The prospect fields the export carries: those field rules map, else a standard set."""
    if connector is None:
        return list(STANDARD_COLUMNS)
    rules = (
        FieldRule.objects.filter(connector=connector)
        .exclude(behaviour=FieldRule.Behaviour.DONT_SYNC)
        .exclude(lead_field="", contact_field="", person_account_field="")
        .values_list("prospect_field", flat=True)
    )
    custom = set(CustomField.objects.values_list("api_name", flat=True))
    names = [
        name
        for name in rules
        if name in EDITABLE_FIELDS
        or (name.startswith(CUSTOM_PREFIX) and name.removeprefix(CUSTOM_PREFIX) in custom)
    ]
    order = {name: i for i, name in enumerate(EDITABLE_FIELDS)}
    names.sort(key=lambda n: (order.get(n, len(order)), n))
    return names or list(STANDARD_COLUMNS)


# -- validating and applying values -------------------------------------------------------------


def clean_value(name: str, raw: str, *, custom: Mapping[str, CustomField] | None = None):
    """The stored value of ``raw`` (text from a form or a CSV cell) for prospect field ``name``.

    Raises ValidationError with a message a marketer can act on.
    """
    raw = "" if raw is None else str(raw)
    if name.startswith(CUSTOM_PREFIX):
        api_name = name.removeprefix(CUSTOM_PREFIX)
        definition = (custom or {}).get(api_name) or CustomField.objects.filter(
            api_name=api_name
        ).first()
        if definition is None:
            raise ValidationError(f"there is no custom field {api_name!r}")
        return _clean_custom(definition, raw.strip())
    if name not in EDITABLE_FIELDS:
        raise ValidationError(f"{name!r} is not a prospect field that can be edited here")
    try:
        model_field = Prospect._meta.get_field(name)
    except FieldDoesNotExist as exc:  # pragma: no cover - EDITABLE_FIELDS are model fields
        raise ValidationError(f"{name!r} is not a prospect field") from exc
    if model_field.get_internal_type() == "BooleanField":
        return _clean_bool(raw)
    text_field = model_field.get_internal_type() in (
        "CharField",
        "TextField",
        "EmailField",
        "URLField",
    )
    value = model_field.formfield().clean(raw if text_field else raw.strip())
    if value is None and not model_field.null:
        if not text_field:
            raise ValidationError("a value is required")
        value = ""
    if value not in (None, ""):
        model_field.run_validators(value)
        for validator in SCORE_VALIDATORS if name == "score" else ():
            validator(value)
    return value


def _clean_bool(raw: str) -> bool:
    text = raw.strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValidationError(f"{raw!r} is not true or false")


def _clean_custom(definition: CustomField, text: str):
    kind = definition.type
    if text == "":
        return None
    if kind == CustomField.Type.NUMBER:
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise ValidationError(f"{text!r} is not a number") from exc
        if not number.is_finite():
            raise ValidationError(f"{text!r} is not a number")
        return str(number)
    if kind == CustomField.Type.DATE:
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError as exc:
            raise ValidationError(f"{text!r} is not a date (YYYY-MM-DD)") from exc
    if kind == CustomField.Type.CHECKBOX:
        return _clean_bool(text)
    if kind in (CustomField.Type.DROPDOWN, CustomField.Type.MULTI_SELECT):
        chosen = [v.strip() for v in text.split(";")] if kind == "multi_select" else [text]
        allowed = list(definition.choices or [])
        wrong = [v for v in chosen if allowed and v not in allowed]
        if wrong and definition.validate_on_import:
            raise ValidationError(
                f"{', '.join(map(repr, wrong))} is not one of: {', '.join(allowed)}"
            )
        return ";".join(chosen) if kind == "multi_select" else text
    limit = definition.max_length
    if limit and len(text) > limit:
        raise ValidationError(
            f"{definition.label} holds at most {limit} characters; this has {len(text)}"
        )
    return text


def apply_values(
    *,
    prospect: Prospect,
    values: Mapping[str, str],
    custom: Mapping | None = None,
    actor=None,
    operation: str = "fix",
    reason: str = SyncReason.ERROR_RESYNC,
) -> list[str]:
    """Validate and save ``values`` (field name → text) on ``prospect``; return what changed.

    All or nothing: the first invalid value raises ValidationError (message names the field)
    and nothing is saved. The caller holds the prospect's row lock; the change is noted in its
    history as ``operation`` by ``actor`` (``None``: the system).
    """
    cleaned = {}
    problems = []
    for name, raw in values.items():
        try:
            cleaned[name] = clean_value(name, raw, custom=custom)
        except ValidationError as exc:
            problems.append(f"{name}: {' '.join(exc.messages)}")
    if problems:
        raise ValidationError(problems)
    changed = {
        name: value for name, value in cleaned.items() if _differs(prospect.get_field(name), value)
    }
    edits.save_changes(
        prospect=prospect,
        values=changed,
        actor=actor,
        operation=operation,
        reason=reason,
        definitions=custom,
    )
    return list(changed)


def _differs(old: object, new: object) -> bool:
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        try:
            return Decimal(str(old)) != Decimal(str(new))
        except (InvalidOperation, ValueError):
            return True
    return (old if old is not None else "") != (new if new is not None else "")


def fix_value(
    *, prospect: Prospect, name: str, raw: str, shown: str | None = None, actor=None
) -> list[str]:
    """The guide's option 1: edit one value here, then ask for a sync (resync follows).

    Under the prospect's row lock, and checked against what the form showed (``shown``, the
    token ``FixForm`` carries): a value that changed since the page opened is never put back
    silently. If the marketer left the text as shown, nothing is saved; if both changed it,
    ValueConflict says so with both values and nothing is saved.
    """
    with transaction.atomic():
        locked = Prospect.objects.select_for_update().get(pk=prospect.pk)
        changed = []
        if not shown or _edited(locked, name, raw, shown):
            changed = apply_values(prospect=locked, values={name: raw}, actor=actor)
        request_sync(locked, SyncReason.ERROR_RESYNC)
    return changed


def label_of(name: str) -> str:
    """A prospect field's name as a marketer reads it."""
    if name.startswith(CUSTOM_PREFIX):
        custom = CustomField.objects.filter(api_name=name.removeprefix(CUSTOM_PREFIX)).first()
        return custom.label if custom else name.removeprefix(CUSTOM_PREFIX)
    return str(Prospect._meta.get_field(name).verbose_name)


def as_text(value: object) -> str:
    """A stored value as the fix form's text box shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class ValueConflict(ValidationError):
    """The value changed since the fix form was shown, and the marketer entered another one."""

    def __init__(self, conflict: edits.Conflict, token: str) -> None:
        instruction = f" Save again to keep yours, or enter “{conflict.theirs}” to keep it."
        super().__init__(conflict.message + instruction)
        self.conflict = conflict
        self.token = token


def _edited(prospect: Prospect, name: str, raw: str, shown: str) -> bool:
    """Whether ``raw`` is an edit to apply; raises ValueConflict when the value moved too."""
    try:
        seen = edits.read_shown(shown, prospect)["values"].get(name)
    except edits.StaleForm as exc:
        raise ValidationError(
            "This form could not be checked against what it showed; reload the page."
        ) from exc
    if seen is None:
        return True  # a token for another field: compare with the value now, as the CSV does
    if raw == seen.replace("\r\n", "\n"):
        return False  # left as shown: nothing to save, whatever the value is now
    now = as_text(prospect.get_field(name))
    if now != seen and _differs(prospect.get_field(name), clean_value(name, raw)):
        conflict = edits.Conflict(
            field=name,
            label=label_of(name),
            shown=edits.display(seen),
            yours=edits.display(raw),
            theirs=edits.display(now),
            by=edits.changed_by(prospect, name),
        )
        raise ValueConflict(conflict, edits.sign_shown(prospect, {name: now}))
    return True


class FixForm(forms.Form):
    """The detail page's inline edit of the value behind an error. It carries the value it
    showed (``shown``, signed) so ``fix_value`` saves only a real edit (see above)."""

    value = TextAreaField(required=False, strip=False, widget=forms.Textarea(attrs={"rows": 3}))
    shown = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, data=None, *, prospect: Prospect | None = None, name: str | None = None):
        current = as_text(prospect.get_field(name)) if prospect and name else ""
        token = edits.sign_shown(prospect, {name: current}) if prospect and name else ""
        super().__init__(data, initial={"value": current, "shown": token})

    def add_error(self, field, error) -> None:
        """A conflict is shown with the new value as the form's new starting point, so saving
        again keeps what the box holds."""
        if isinstance(error, ValueConflict):
            self.data = self.data.copy()
            self.data["shown"] = error.token
        super().add_error(field, error)


# -- root cause ---------------------------------------------------------------------------------


@dataclass
class RootCause:
    """Everything the detail page shows to explain an error and offer the guide's two fixes."""

    constraint: str
    salesforce_fix: str
    field_describe: dict | None
    prospect_field: str | None  # the prospect field to edit here (None: nothing maps to it)
    current_value: object
    max_length: int | None
    same_code_and_field: int  # open errors sharing this code and field (one decision fixes all)


def root_cause(*, error: SyncError) -> RootCause:
    """Explain ``error`` from the cached describe (never calls Salesforce from a page view)."""
    connector = error.connector or Connector.objects.current()
    describe = (
        cached_describe(connector=connector, sobject=error.sobject)
        if connector and error.sobject
        else None
    )
    described = field_describe(describe, error.field) if error.field else None
    constraint = error.constraint or describe_constraint(described, error.value_sent)
    name = prospect_field_for(connector=connector, sobject=error.sobject, sf_field=error.field)
    prospect = error.prospect
    shared = SyncError.objects.open().filter(error_code=error.error_code, field=error.field).count()
    return RootCause(
        constraint=constraint,
        salesforce_fix=fix_in_salesforce(
            described or _minimal_describe(error), error.value_sent, error.error_code
        ),
        field_describe=described,
        prospect_field=name,
        current_value=prospect.get_field(name) if prospect and name else None,
        max_length=(described or {}).get("length") or _length_from_message(error.message),
        same_code_and_field=shared,
    )


def _length_from_message(message: str) -> int | None:
    match = re.search(r"max length(?: is|=| =)\s*(\d+)", message or "")
    return int(match.group(1)) if match else None


def _minimal_describe(error: SyncError) -> dict | None:
    """Enough of a describe, from Salesforce's message, to advise when describe is not cached."""
    length = _length_from_message(error.message)
    if error.error_code == "STRING_TOO_LONG" and length and error.field:
        return {"name": error.field, "type": "string", "length": length}
    return None
