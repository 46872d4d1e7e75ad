"""Which prospect field maps to which Salesforce field, and whether that mapping can work.

The engine reads ``FieldRule`` rows; this module creates the defaults (``ensure_default_rules``),
knows the fields Leadbridge never lets an admin change (``FIXED_FIELDS``), validates an admin's
edit (``validate_rule``) and checks a mapping against describe (``check_rule``), counting how
many current prospects Salesforce would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast, Length

from prospects.models import CUSTOM_PREFIX, CustomField, Prospect
from sync import settings_history
from sync.models import Connector, FieldRule

OBJECTS = ("Lead", "Contact", "PersonAccount")
# The managed package's fields (the sandbox's ``pi__`` namespace), on Lead and Contact.
PACKAGE_FIELDS = {"score": "pi__score__c", "grade": "pi__grade__c", "campaign": "pi__campaign__c"}
# On a person account the package's contact fields appear with the ``__pc`` suffix.
PERSON_PACKAGE = {
    name: field.removesuffix("__c") + "__pc" for name, field in PACKAGE_FIELDS.items()
}


@dataclass(frozen=True)
class ProspectField:
    """A prospect field as the mapping pages know it: label, kind and maximum length."""

    name: str
    label: str
    kind: str  # text, textarea, email, url, phone, integer, decimal, boolean, date, ...
    max_length: int | None = None
    choices: tuple[str, ...] = ()


BEHAVIOUR = FieldRule.Behaviour
LB, SF, RECENT, NONE = (
    BEHAVIOUR.LEADBRIDGE,
    BEHAVIOUR.SALESFORCE,
    BEHAVIOUR.MOST_RECENT,
    BEHAVIOUR.DONT_SYNC,
)

# (prospect field, Lead field, Contact field, Person Account field, default behaviour)
DEFAULT_MAP: list[tuple[str, str, str, str, str]] = [
    ("salutation", "Salutation", "Salutation", "Salutation", LB),
    ("first_name", "FirstName", "FirstName", "FirstName", LB),
    ("last_name", "LastName", "LastName", "LastName", LB),
    ("email", "Email", "Email", "PersonEmail", RECENT),
    # Contact's company is Account.Name: not a Contact field, so not mappable there.
    ("company", "Company", "", "", LB),
    ("website", "Website", "", "Website", LB),
    ("job_title", "Title", "Title", "PersonTitle", LB),
    ("department", "", "Department", "PersonDepartment", LB),
    ("industry", "Industry", "", "Industry", LB),
    ("annual_revenue", "AnnualRevenue", "", "AnnualRevenue", LB),
    ("employees", "NumberOfEmployees", "", "NumberOfEmployees", LB),
    ("years_in_business", "", "", "", NONE),
    ("phone", "Phone", "Phone", "Phone", LB),
    ("fax", "Fax", "Fax", "Fax", LB),
    ("address_one", "Street", "MailingStreet", "PersonMailingStreet", LB),
    ("address_two", "", "", "", NONE),
    ("city", "City", "MailingCity", "PersonMailingCity", LB),
    ("state", "State", "MailingState", "PersonMailingState", LB),
    ("zip", "PostalCode", "MailingPostalCode", "PersonMailingPostalCode", LB),
    ("country", "Country", "MailingCountry", "PersonMailingCountry", LB),
    ("territory", "", "", "", NONE),
    ("source", "LeadSource", "LeadSource", "PersonLeadSource", LB),
    ("comments", "Description", "Description", "Description", LB),
    ("notes", "", "", "", NONE),
    ("opted_out", "HasOptedOutOfEmail", "HasOptedOutOfEmail", "PersonHasOptedOutOfEmail", RECENT),
    ("do_not_email", "", "", "", NONE),
    ("do_not_call", "DoNotCall", "DoNotCall", "PersonDoNotCall", LB),
    ("score", PACKAGE_FIELDS["score"], PACKAGE_FIELDS["score"], PERSON_PACKAGE["score"], LB),
    ("grade", PACKAGE_FIELDS["grade"], PACKAGE_FIELDS["grade"], PERSON_PACKAGE["grade"], LB),
    (
        "campaign",
        PACKAGE_FIELDS["campaign"],
        PACKAGE_FIELDS["campaign"],
        PERSON_PACKAGE["campaign"],
        LB,
    ),
    ("assigned_user", "OwnerId", "OwnerId", "OwnerId", SF),
    ("crm_lead_id", "", "", "", NONE),
    ("crm_contact_id", "", "", "", NONE),
    ("crm_account_id", "", "", "", NONE),
    ("crm_owner_id", "", "", "", NONE),
]

_PACKAGE = "Leadbridge's own data: Leadbridge is the master and Salesforce holds a read-only copy."
_CRM_ID = "CRM ids identify the Salesforce record a prospect syncs with; they are never mapped."
FIXED_FIELDS: dict[str, str] = {
    "score": _PACKAGE,
    "grade": _PACKAGE,
    "campaign": _PACKAGE,
    "assigned_user": "Salesforce is always the master for the record owner (assigned user).",
    "email": (
        "Multiple prospects may share an email (AMPSEA): each is matched by CRM id, and an email "
        "is always required to sync, so Email always maps to Email. The newer value wins; "
        "Salesforce's changes apply only with 'Automatically change email' on."
    ),
    "crm_lead_id": _CRM_ID,
    "crm_contact_id": _CRM_ID,
    "crm_account_id": _CRM_ID,
    "crm_owner_id": _CRM_ID,
}

# Salesforce field types a prospect field kind may map to (anything else is a type mismatch).
TEXTUAL = {"string", "textarea", "picklist", "email", "phone", "url", "combobox"}
COMPATIBLE_TYPES: dict[str, set[str]] = {
    "text": TEXTUAL,
    "textarea": {"string", "textarea"},
    "email": {"email", "string", "textarea"},
    "url": {"url", "string", "textarea"},
    "phone": {"phone", "string"},
    "integer": {"int", "double", "currency", "percent", "string"},
    "decimal": {"double", "currency", "percent"},
    "boolean": {"boolean"},
    "date": {"date", "datetime"},
    "dropdown": {"picklist", "string", "combobox"},
    "multi_select": {"multipicklist"},
    "grade": {"string", "picklist"},
    "campaign": {"string", "picklist", "textarea"},
    "owner": {"reference"},
}
# Types that never sync (the guide: lookups and geolocation; we add compound and id types).
REFUSED_TYPES = {
    "reference": "a lookup",
    "location": "a geolocation",
    "address": "a compound address",
    "id": "a record id",
    "base64": "a file",
    "anyType": "an untyped",
}


def _model_kind(name: str) -> tuple[str, int | None, tuple[str, ...]]:
    model_field = Prospect._meta.get_field(name)
    internal = model_field.get_internal_type()
    kind = {
        "EmailField": "email",
        "URLField": "url",
        "TextField": "textarea",
        "BooleanField": "boolean",
        "IntegerField": "integer",
        "PositiveIntegerField": "integer",
        "PositiveSmallIntegerField": "integer",
        "DecimalField": "decimal",
        "DateField": "date",
        "DateTimeField": "date",
    }.get(internal, "text")
    max_length = getattr(model_field, "max_length", None)
    kind = {
        "phone": "phone",
        "fax": "phone",
        "grade": "grade",
        "campaign": "campaign",
        "assigned_user": "owner",
    }.get(name, kind)
    if name == "campaign":
        max_length = 255  # the engine sends the campaign's name
    return kind, max_length, ()


def prospect_fields() -> dict[str, ProspectField]:
    """Every mappable prospect field, standard (in ``DEFAULT_MAP`` order) then custom."""
    out: dict[str, ProspectField] = {}
    for name, *_ in DEFAULT_MAP:
        kind, max_length, choices = _model_kind(name)
        label = str(Prospect._meta.get_field(name).verbose_name)
        out[name] = ProspectField(name, label[:1].upper() + label[1:], kind, max_length, choices)
    for custom in CustomField.objects.all():
        out[custom.prospect_field] = custom_prospect_field(custom)
    return out


def custom_prospect_field(custom: CustomField) -> ProspectField:
    kind = {
        CustomField.Type.NUMBER: "decimal",
        CustomField.Type.CHECKBOX: "boolean",
        CustomField.Type.DATE: "date",
        CustomField.Type.DROPDOWN: "dropdown",
        CustomField.Type.MULTI_SELECT: "multi_select",
        CustomField.Type.TEXTAREA: "textarea",
    }.get(custom.type, "text")
    return ProspectField(
        custom.prospect_field, custom.label, kind, custom.max_length, tuple(custom.choices or ())
    )


def ensure_default_rules(connector: Connector) -> None:
    """Create any missing default rule (one per standard prospect field) and re-assert fixed rows.

    Idempotent: existing editable rules keep the admin's choices; fixed rows are reset to their
    fixed mapping and behaviour.
    """
    existing = {rule.prospect_field: rule for rule in connector.field_rules.all()}
    with transaction.atomic():
        for name, lead, contact, person, behaviour in DEFAULT_MAP:
            values = _default_values(name, lead, contact, person, behaviour)
            rule = existing.get(name)
            if rule is None:
                FieldRule.objects.create(connector=connector, prospect_field=name, **values)
            elif rule.fixed or name in FIXED_FIELDS:
                FieldRule.objects.filter(pk=rule.pk).update(**values)


def _default_values(name: str, lead: str, contact: str, person: str, behaviour: str) -> dict:
    return {
        "lead_field": lead,
        "contact_field": contact,
        "person_account_field": person,
        "behaviour": behaviour,
        "fixed": name in FIXED_FIELDS,
        "fixed_reason": FIXED_FIELDS.get(name, ""),
    }


ORDER = {name: index for index, (name, *_) in enumerate(DEFAULT_MAP)}


def rules_for(connector: Connector) -> list[FieldRule]:
    """The connector's rules in the order the pages show them: standard fields as in
    ``DEFAULT_MAP`` (identity, company, contact details, marketing, fixed), then custom fields."""
    return _in_page_order(connector.field_rules.all())


def _in_page_order(rules) -> list[FieldRule]:
    return sorted(
        rules, key=lambda rule: (ORDER.get(rule.prospect_field, len(ORDER)), rule.prospect_field)
    )


def mapped_fields(connector: Connector, sobject: str) -> set[str]:
    """Salesforce fields of ``sobject`` some rule maps (case-insensitive names, lower-cased)."""
    column = FieldRule.column_for(sobject)
    return {
        name.lower()
        for name in connector.field_rules.exclude(**{column: ""}).values_list(column, flat=True)
    }


# -- compatibility ------------------------------------------------------------------------------


@dataclass
class Problem:
    """One reason a mapping cannot (fully) work: ``error`` blocks saving, ``warning`` does not."""

    sobject: str
    field: str
    message: str
    level: str = "error"
    rejected: int | None = None


@dataclass
class RuleCheck:
    rule_field: str
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def ok(self) -> bool:
        return not self.problems


def _fields_by_lower_name(describe: dict | None) -> dict[str, dict]:
    return {f["name"].lower(): f for f in (describe or {}).get("fields", [])}


def check_target(
    *, pfield: ProspectField, sobject: str, target: str, describe: dict | None
) -> list[Problem]:
    """Problems mapping ``pfield`` to ``sobject.target`` as the connector user sees it.

    Structural checks only (existence, access, type); see ``count_rejections`` for data.
    """
    if not target:
        return []
    where = f"{sobject}.{target}"
    if describe is None:
        return [Problem(sobject, target, f"{sobject} is not visible to the connector user.")]
    sf_field = _fields_by_lower_name(describe).get(target.lower())
    if sf_field is None:
        return [
            Problem(
                sobject, target, f"{where} does not exist or the connector user cannot read it."
            )
        ]
    problems = []
    sf_type = sf_field.get("type", "")
    expected = COMPATIBLE_TYPES.get(pfield.kind, TEXTUAL)
    if sf_type in REFUSED_TYPES and pfield.kind != "owner":
        problems.append(
            Problem(
                sobject, target, f"{where} is {REFUSED_TYPES[sf_type]} field; those never sync."
            )
        )
    elif sf_type not in expected:
        problems.append(
            Problem(
                sobject,
                target,
                f"Type mismatch: {where} is {sf_type}, {pfield.label} holds {pfield.kind} values.",
            )
        )
    if not sf_field.get("createable") and not sf_field.get("updateable"):
        problems.append(Problem(sobject, target, f"{where} is read-only for the connector user."))
    elif not sf_field.get("updateable"):
        problems.append(
            Problem(
                sobject,
                target,
                f"{where} can be set on create but not updated by the connector user.",
                level="warning",
            )
        )
    return problems


def _values_query(pfield: ProspectField) -> tuple[QuerySet, str]:
    prospects = Prospect.objects.active()
    if pfield.name.startswith(CUSTOM_PREFIX):
        key = pfield.name.removeprefix(CUSTOM_PREFIX)
        return prospects, f"custom_fields__{key}"
    if pfield.name == "campaign":
        return prospects, "campaign__name"  # what the engine sends: the campaign's name
    return prospects, pfield.name


def count_rejections(*, pfield: ProspectField, sobject: str, sf_field: dict) -> Problem | None:
    """How many current prospects hold a value Salesforce would refuse for ``sf_field``.

    Lengths: values longer than the field's ``length``. Restricted picklists: values that are not
    exactly (case- and whitespace-sensitive) an active picklist value.
    """
    where = f"{sobject}.{sf_field['name']}"
    sf_type = sf_field.get("type")
    prospects, column = _values_query(pfield)
    if sf_type in ("picklist", "multipicklist") and sf_field.get("restrictedPicklist"):
        allowed = {v["value"] for v in sf_field.get("picklistValues", []) if v.get("active", True)}
        count = _count_outside(prospects, column, allowed, multi=sf_type == "multipicklist")
        if count:
            return Problem(
                sobject,
                sf_field["name"],
                f"{where} is a restricted picklist; {count} prospects hold values it does not "
                "list.",
                level="warning",
                rejected=count,
            )
        return None
    length = sf_field.get("length") or 0
    if sf_type in TEXTUAL | {"textarea"} and length:
        if pfield.max_length is not None and pfield.max_length <= length:
            return None
        count = _count_longer(
            prospects, column, length, custom=pfield.name.startswith(CUSTOM_PREFIX)
        )
        if count:
            return Problem(
                sobject,
                sf_field["name"],
                f"{where} holds {length} characters; {count} prospects hold longer values.",
                level="warning",
                rejected=count,
            )
    return None


def _count_outside(prospects: QuerySet, column: str, allowed: set[str], *, multi: bool) -> int:
    if column.startswith("custom_fields__") or multi or column == "campaign":
        values = prospects.values_list(
            "campaign__name" if column == "campaign" else column, flat=True
        )
        return sum(1 for value in values if _outside(value, allowed))
    return prospects.exclude(**{column: ""}).exclude(**{f"{column}__in": allowed}).count()


def _outside(value: Any, allowed: set[str]) -> bool:
    if value in (None, "", []):
        return False
    items = (
        value
        if isinstance(value, list)
        else str(value).split(";")
        if ";" in str(value)
        else [value]
    )
    return any(str(item) not in allowed for item in items)


def _count_longer(prospects: QuerySet, column: str, length: int, *, custom: bool) -> int:
    if custom:
        values = prospects.values_list(column, flat=True)
        return sum(1 for value in values if value is not None and len(str(value)) > length)
    # Numbers sent to a text field are sent as text: measure them as text (PostgreSQL insists).
    as_text = Cast(column, output_field=TextField())
    return prospects.annotate(_len=Length(as_text)).filter(_len__gt=length).count()


def check_rule(
    *,
    rule: FieldRule,
    describes: dict[str, dict | None],
    pfield: ProspectField | None = None,
    count: bool = True,
) -> RuleCheck:
    """Every problem with one rule's targets: structure from describe, then data counts."""
    pfield = pfield or prospect_fields().get(rule.prospect_field)
    result = RuleCheck(rule.prospect_field)
    if pfield is None:
        result.problems.append(
            Problem(
                "", "", f"{rule.prospect_field} is not a prospect field (deleted custom field?)."
            )
        )
        return result
    if rule.behaviour == BEHAVIOUR.DONT_SYNC and not rule.fixed:
        return result
    for sobject, target in (("Lead", rule.lead_field), ("Contact", rule.contact_field)):
        if not target:
            continue
        describe = describes.get(sobject)
        problems = check_target(pfield=pfield, sobject=sobject, target=target, describe=describe)
        result.problems += problems
        if count and not problems and describe is not None:
            sf_field = _fields_by_lower_name(describe)[target.lower()]
            counted = count_rejections(pfield=pfield, sobject=sobject, sf_field=sf_field)
            if counted:
                result.problems.append(counted)
    return result


def validate_rule(
    *, connector: Connector, rule: FieldRule, describes: dict[str, dict | None]
) -> list[str]:
    """Reasons an edited rule must be refused (the form shows them; DB constraints back them).

    1. Fixed rows never change.  2. A target must exist and be writable for the connector user.
    3. A Salesforce field maps to one prospect field only (case-insensitive).
    """
    reasons = []
    if rule.fixed:
        return [FIXED_FIELDS.get(rule.prospect_field, "This row is fixed.")]
    for sobject in ("Lead", "Contact"):
        target = rule.target_field(sobject)
        if not target:
            continue
        taken = (
            connector.field_rules.exclude(pk=rule.pk)
            .targeting(sobject, target)
            .values_list("prospect_field", flat=True)
            .first()
        )
        if taken:
            reasons.append(f"{sobject}.{target} is already mapped to {taken}.")
    if describes:
        pfield = prospect_fields().get(rule.prospect_field)
        check = check_rule(rule=rule, describes=describes, pfield=pfield, count=False)
        reasons += [p.message for p in check.errors]
    return reasons


def check_all(
    *,
    connector: Connector,
    describes: dict[str, dict | None],
    rules: list[FieldRule] | None = None,
) -> dict[str, RuleCheck]:
    """The compatibility check of every rule (the connector's, or ``rules``), keyed by
    prospect field."""
    pfields = prospect_fields()
    return {
        rule.prospect_field: check_rule(
            rule=rule, describes=describes, pfield=pfields.get(rule.prospect_field)
        )
        for rule in (rules_for(connector) if rules is None else rules)
    }


def suggest_target(*, pfield: ProspectField, describe: dict | None, taken: set[str]) -> str:
    """A Salesforce field for a custom prospect field: same API name (with ``__c``), then label."""
    fields = _fields_by_lower_name(describe)
    api = pfield.name.removeprefix(CUSTOM_PREFIX).lower()
    for candidate in (api, f"{api}__c"):
        if candidate in fields and candidate not in taken:
            return fields[candidate]["name"]
    label = pfield.label.strip().lower()
    for name, sf_field in fields.items():
        if (
            sf_field.get("custom")
            and sf_field.get("label", "").lower() == label
            and name not in taken
        ):
            return sf_field["name"]
    return ""


PREFILLED = tuple((sobject, FieldRule.column_for(sobject)) for sobject in ("Lead", "Contact"))
PREFILL_COLUMNS = ("lead_field", "contact_field", "behaviour")


def suggest_mapping(*, connector: Connector, describes: dict[str, dict | None]) -> list[FieldRule]:
    """The wizard's step 3 pre-fill, computed and not saved (a page view changes nothing).

    Every rule of the connector, plus an unsaved one for each default or custom field that has
    none, in page order, with editable rules pre-filled from describe:

    1. An unmapped custom field is suggested the Lead/Contact field with the same API name (or
       label) that no other rule maps.
    2. A target the org does not have (or hides from the connector user) is cleared; a rule left
       with no target becomes "Don't sync".

    ``apply_describe_defaults`` saves the same suggestions.
    """
    rules = {rule.prospect_field: rule for rule in connector.field_rules.all()}
    for name, *defaults in DEFAULT_MAP:
        if name not in rules:
            values = _default_values(name, *defaults)
            rules[name] = FieldRule(connector=connector, prospect_field=name, **values)
    for api_name in CustomField.objects.values_list("api_name", flat=True):
        name = CUSTOM_PREFIX + api_name
        rules.setdefault(name, FieldRule(connector=connector, prospect_field=name, behaviour=NONE))
    pfields = prospect_fields()
    taken = {sobject: mapped_fields(connector, sobject) for sobject, _ in PREFILLED}
    for rule in rules.values():
        if not rule.fixed:
            _prefill(rule, pfields.get(rule.prospect_field), describes, taken)
    return _in_page_order(rules.values())


def apply_describe_defaults(
    *, connector: Connector, describes: dict[str, dict | None], user: Any = None
) -> int:
    """Save the wizard's pre-fill (``suggest_mapping``) with history; returns rules changed.

    The wizard calls this when the admin saves step 3, never when the page is opened.
    """
    ensure_default_rules(connector)
    stored = {
        rule.prospect_field: settings_history.snapshot(rule, PREFILL_COLUMNS)
        for rule in connector.field_rules.all()
    }
    created = settings_history.snapshot(FieldRule(behaviour=NONE), PREFILL_COLUMNS)
    changed = 0
    with transaction.atomic():
        for rule in suggest_mapping(connector=connector, describes=describes):
            before = stored.get(rule.prospect_field, created)
            after = settings_history.snapshot(rule, PREFILL_COLUMNS)
            if rule.pk and after == before:
                continue
            rule.save()
            if after != before:
                settings_history.record_changes(
                    connector=connector,
                    user=user,
                    subject=rule.prospect_field,
                    before=before,
                    after=after,
                )
                changed += 1
    return changed


def _prefill(
    rule: FieldRule, pfield: ProspectField | None, describes: dict, taken: dict[str, set[str]]
) -> None:
    """Pre-fill one rule in place; a suggested target joins ``taken`` (lower-cased names)."""
    if pfield is None:
        return
    for sobject, column in PREFILLED:
        if sobject not in describes:
            continue
        describe = describes.get(sobject)
        target = getattr(rule, column)
        if target and target.lower() not in _fields_by_lower_name(describe):
            setattr(rule, column, "")
        if not target and rule.prospect_field.startswith(CUSTOM_PREFIX):
            suggestion = suggest_target(pfield=pfield, describe=describe, taken=taken[sobject])
            if suggestion:
                setattr(rule, column, suggestion)
                taken[sobject].add(suggestion.lower())
                if rule.behaviour == NONE:
                    rule.behaviour = LB
    if not (rule.lead_field or rule.contact_field or rule.person_account_field):
        rule.behaviour = NONE
