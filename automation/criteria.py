"""Criteria: which prospects a dynamic list or an automation rule is about.

A criteria document is JSON, stored on ``ProspectList.criteria`` and ``Rule.criteria``::

    {"match": "all", "conditions": [
        {"field": "score", "op": "gte", "value": 50},
        {"field": "country", "op": "eq", "value": "Germany"},
        {"match": "any", "conditions": [...]}            # a nested group
    ]}

Each condition names a field (see ``FIELDS``; ``custom:<api name>`` for a custom field,
``account:<field>`` / ``opportunity:<field>`` for the mirrored CRM objects), an operator
allowed for its kind (``OPERATORS``) and a value. An empty document matches every prospect.
Archived prospects never match.

Two evaluations of the same document, kept in step by a property test:
1. ``compile_q``: a Django ``Q`` over ``Prospect`` — one SQL statement whatever the size,
   related objects as semi-joins (``EXISTS``/``IN``), never per-prospect Python.
2. ``evaluate``: plain Python over prospects and a ``Related`` snapshot of what they link to.

``validate`` refuses, with messages a marketer can act on, a document naming a field, list,
campaign, queue or user that does not exist; compiling a document whose reference has vanished
since it was saved raises ``CriteriaError`` with the same message (a rule pauses on it, a
dynamic list keeps its members and shows the problem).
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    DecimalField,
    Exists,
    F,
    Func,
    OuterRef,
    Q,
    TextField,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, Collate, Substr
from django.db.models.lookups import (
    Contains,
    EndsWith,
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    IContains,
    IEndsWith,
    IExact,
    In,
    IsNull,
    IStartsWith,
    LessThan,
    LessThanOrEqual,
    StartsWith,
)
from django.utils import timezone

from core.sqlite import UPPER
from crm.models import (
    Account,
    CampaignMembership,
    Opportunity,
    OpportunityContactRole,
    SalesforceCampaign,
)
from prospects.models import (
    CUSTOM_PREFIX,
    Activity,
    ActivityType,
    Campaign,
    CrmQueue,
    CrmStatus,
    CustomField,
    Grade,
    Prospect,
    SyncStatus,
)

MAX_DEPTH = 4  # nested groups
MAX_CONDITIONS = 60  # in the whole document
ACCOUNT_PREFIX = "account:"
OPPORTUNITY_PREFIX = "opportunity:"

# Grades best first: "grade at least B" is A+ … B.
GRADE_ORDER = [g.value for g in Grade]


class CriteriaError(ValueError):
    """A criteria document that cannot be used; ``messages`` says why, one line each."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__("; ".join(messages))


# --- operators per kind --------------------------------------------------------------------

TEXT_OPS = {
    "eq": "is",
    "ne": "is not",
    "contains": "contains",
    "not_contains": "does not contain",
    "starts_with": "starts with",
    "ends_with": "ends with",
    "in": "is one of",
    "is_empty": "is empty",
    "is_not_empty": "is not empty",
}
NUMBER_OPS = {
    "eq": "=",
    "ne": "≠",
    "gt": ">",
    "gte": "≥",
    "lt": "<",
    "lte": "≤",
    "between": "between",
    "is_empty": "is empty",
    "is_not_empty": "is not empty",
}
DATE_OPS = {
    "on_or_after": "on or after",
    "before": "before",
    "within_days": "within the last N days",
    "not_within_days": "not within the last N days",
    "is_empty": "is empty",
    "is_not_empty": "is not empty",
}
BOOL_OPS = {"is_true": "is checked", "is_false": "is not checked"}
CHOICE_OPS = {"eq": "is", "ne": "is not", "in": "is one of"}
GRADE_OPS = {
    "eq": "is",
    "ne": "is not",
    "gte": "at least",
    "lte": "at most",
    "is_empty": "is empty",
    "is_not_empty": "is not empty",
}
REF_OPS = {"eq": "is", "ne": "is not", "is_empty": "is nobody", "is_not_empty": "is someone"}
MULTI_OPS = {
    "includes": "includes",
    "excludes": "does not include",
    "is_empty": "is empty",
    "is_not_empty": "is not empty",
}
MEMBER_OPS = {"member": "is a member of", "not_member": "is not a member of"}
ACTIVITY_OPS = {"has": "has", "has_not": "has no"}

OPERATORS: dict[str, dict[str, str]] = {
    "text": TEXT_OPS,
    "number": NUMBER_OPS,
    "date": DATE_OPS,
    "bool": BOOL_OPS,
    "choice": CHOICE_OPS,
    "grade": GRADE_OPS,
    "user": REF_OPS,
    "queue": REF_OPS,
    "campaign": REF_OPS,
    "multi": MULTI_OPS,
    "sf_campaign": MEMBER_OPS,
    "list": MEMBER_OPS,
    "activity": ACTIVITY_OPS,
}
NO_VALUE_OPS = {"is_empty", "is_not_empty", "is_true", "is_false"}


@dataclass(frozen=True)
class FieldSpec:
    label: str
    kind: str
    group: str = "Prospect"
    choices: tuple[tuple[str, str], ...] = ()


TEXT_FIELDS = [
    "salutation",
    "first_name",
    "last_name",
    "email",
    "company",
    "website",
    "job_title",
    "department",
    "industry",
    "phone",
    "address_one",
    "address_two",
    "city",
    "state",
    "zip",
    "country",
    "territory",
    "source",
]
NUMBER_FIELDS = ["score", "annual_revenue", "employees", "years_in_business"]
DATE_FIELDS = ["created_at", "updated_at", "last_activity_at", "last_synced_at"]
BOOL_FIELDS = ["opted_out", "do_not_email", "do_not_call", "do_not_sync"]


def _label(name: str) -> str:
    return str(Prospect._meta.get_field(name).verbose_name).capitalize()


FIELDS: dict[str, FieldSpec] = {
    **{n: FieldSpec(_label(n), "text") for n in TEXT_FIELDS},
    **{n: FieldSpec(_label(n), "number") for n in NUMBER_FIELDS},
    "grade": FieldSpec("Grade", "grade", choices=tuple(Grade.choices)),
    **{n: FieldSpec(_label(n), "date") for n in DATE_FIELDS},
    **{n: FieldSpec(_label(n), "bool") for n in BOOL_FIELDS},
    "crm_status": FieldSpec("CRM status", "choice", choices=tuple(CrmStatus.choices)),
    "sync_status": FieldSpec("Sync status", "choice", choices=tuple(SyncStatus.choices)),
    "assigned_user": FieldSpec("Assigned user", "user"),
    "assigned_queue": FieldSpec("Assigned queue", "queue"),
    "campaign": FieldSpec("Leadbridge campaign", "campaign"),
    "sf_campaign": FieldSpec("Salesforce campaign", "sf_campaign", "Membership"),
    "list": FieldSpec("List", "list", "Membership"),
    "activity": FieldSpec("Activity", "activity", "Activity", choices=tuple(ActivityType.choices)),
}

# Account and opportunity columns a condition may read (column -> (label, kind)).
ACCOUNT_FIELDS = {
    "name": ("Account name", "text"),
    "industry": ("Account industry", "text"),
    "website": ("Account website", "text"),
    "billing_city": ("Account billing city", "text"),
    "billing_state": ("Account billing state", "text"),
    "billing_country": ("Account billing country", "text"),
    "employees": ("Account employees", "number"),
    "annual_revenue": ("Account annual revenue", "number"),
}
OPPORTUNITY_FIELDS = {
    "name": ("Opportunity name", "text"),
    "stage": ("Opportunity stage", "text"),
    "type": ("Opportunity type", "text"),
    "amount": ("Opportunity amount", "number"),
    "probability": ("Opportunity probability (%)", "number"),
    "close_date": ("Opportunity close date", "date"),
    "is_won": ("Opportunity won", "bool"),
    "is_closed": ("Opportunity closed", "bool"),
}
for _name, (_lab, _kind) in ACCOUNT_FIELDS.items():
    FIELDS[ACCOUNT_PREFIX + _name] = FieldSpec(_lab, _kind, "Account")
for _name, (_lab, _kind) in OPPORTUNITY_FIELDS.items():
    FIELDS[OPPORTUNITY_PREFIX + _name] = FieldSpec(_lab, _kind, "Opportunity (any of theirs)")

CUSTOM_KINDS = {
    CustomField.Type.TEXT: "text",
    CustomField.Type.TEXTAREA: "text",
    CustomField.Type.DROPDOWN: "text",
    CustomField.Type.NUMBER: "number",
    CustomField.Type.DATE: "date",
    CustomField.Type.CHECKBOX: "bool",
    CustomField.Type.MULTI_SELECT: "multi",
}


def field_catalogue(custom_fields: Iterable[CustomField] | None = None) -> dict[str, FieldSpec]:
    """Every field a condition may name, custom fields included (the editor's choices)."""
    customs = CustomField.objects.all() if custom_fields is None else custom_fields
    catalogue = dict(FIELDS)
    for custom in customs:
        catalogue[custom.prospect_field] = FieldSpec(
            custom.label, CUSTOM_KINDS[custom.type], "Custom field"
        )
    return catalogue


# --- validation ----------------------------------------------------------------------------


def iter_conditions(criteria: dict) -> Iterable[dict]:
    """Every condition of a document, nested groups flattened (no validation)."""
    for item in (criteria or {}).get("conditions", []) or []:
        if isinstance(item, dict) and "conditions" in item:
            yield from iter_conditions(item)
        elif isinstance(item, dict):
            yield item


def is_empty(criteria: dict | None) -> bool:
    return not any(True for _ in iter_conditions(criteria or {}))


@dataclass
class References:
    """What the conditions' values may refer to, loaded once per validation or compilation."""

    customs: dict[str, CustomField]
    lists: set[int] | None = None
    sf_campaigns: set[int] | None = None
    queues: set[int] | None = None
    users: set[int] | None = None
    campaigns: set[int] | None = None

    @classmethod
    def load(cls, criteria: dict) -> References:
        from automation.models import ProspectList  # the models import nothing of ours

        wanted: dict[str, set[int]] = defaultdict(set)
        for condition in iter_conditions(criteria):
            kind = FIELDS.get(condition.get("field", ""), FieldSpec("", "")).kind
            if kind in ("list", "sf_campaign", "queue", "user", "campaign"):
                wanted[kind].update(_ints(condition.get("value")))
        return cls(
            customs={c.api_name: c for c in CustomField.objects.all()},
            lists=set(
                ProspectList.objects.filter(pk__in=wanted["list"]).values_list("pk", flat=True)
            ),
            sf_campaigns=set(
                SalesforceCampaign.objects.live()
                .filter(pk__in=wanted["sf_campaign"])
                .values_list("pk", flat=True)
            ),
            queues=set(
                CrmQueue.objects.filter(pk__in=wanted["queue"]).values_list("pk", flat=True)
            ),
            users=set(
                get_user_model().objects.filter(pk__in=wanted["user"]).values_list("pk", flat=True)
            ),
            campaigns=set(
                Campaign.objects.filter(pk__in=wanted["campaign"]).values_list("pk", flat=True)
            ),
        )


def _ints(value: Any) -> list[int]:
    values = value if isinstance(value, list) else [value]
    out = []
    for v in values:
        try:
            out.append(int(v))
        except (TypeError, ValueError):
            continue
    return out


def validate(criteria: Any, *, own_list_id: int | None = None) -> list[str]:
    """Messages for everything wrong with a document; empty when it can be saved."""
    if criteria in (None, {}):
        return []
    if not isinstance(criteria, dict):
        return ["Criteria must be a group of conditions."]
    errors: list[str] = []
    refs = References.load(criteria)
    count = sum(1 for _ in iter_conditions(criteria))
    if count > MAX_CONDITIONS:
        errors.append(f"At most {MAX_CONDITIONS} conditions ({count} given).")
    _check_group(criteria, refs, errors, depth=0, own_list_id=own_list_id)
    return errors


def _check_group(group: dict, refs: References, errors: list[str], *, depth: int, own_list_id):
    if depth > MAX_DEPTH:
        errors.append(f"Groups nest at most {MAX_DEPTH} deep.")
        return
    if group.get("match", "all") not in ("all", "any"):
        errors.append('A group matches "all" or "any" of its conditions.')
    conditions = group.get("conditions", [])
    if not isinstance(conditions, list):
        errors.append("A group's conditions must be a list.")
        return
    for item in conditions:
        if not isinstance(item, dict):
            errors.append("Each condition must be an object.")
        elif "conditions" in item:
            if not item.get("conditions"):
                errors.append("A group needs at least one condition.")
                continue
            _check_group(item, refs, errors, depth=depth + 1, own_list_id=own_list_id)
        else:
            message = _check_condition(item, refs, own_list_id)
            if message:
                errors.append(message)


def spec_for(name: str, refs: References) -> FieldSpec | None:
    if name.startswith(CUSTOM_PREFIX):
        custom = refs.customs.get(name.removeprefix(CUSTOM_PREFIX))
        return (
            FieldSpec(custom.label, CUSTOM_KINDS[custom.type], "Custom field") if custom else None
        )
    return FIELDS.get(name)


def _check_condition(condition: dict, refs: References, own_list_id) -> str | None:
    name = str(condition.get("field", ""))
    spec = spec_for(name, refs)
    if spec is None:
        if name.startswith(CUSTOM_PREFIX):
            return f'The custom field "{name.removeprefix(CUSTOM_PREFIX)}" no longer exists.'
        return f'Unknown field "{name}".'
    op = condition.get("op")
    if op not in OPERATORS[spec.kind]:
        return f'{spec.label}: "{op}" is not an operator for this field.'
    if op in NO_VALUE_OPS:
        return None
    value = condition.get("value")
    try:
        _check_value(spec, op, value, condition, refs, own_list_id)
    except (ValueError, TypeError, InvalidOperation, ArithmeticError) as error:
        return f"{spec.label}: {error}"
    return None


def _check_value(spec: FieldSpec, op, value, condition, refs: References, own_list_id) -> None:
    kind = spec.kind
    if kind == "text":
        values = value if op == "in" else [value]
        if not isinstance(values, list) or not values:
            raise ValueError("give at least one value.")
        if any(not isinstance(v, str | int | float) or str(v) == "" for v in values):
            raise ValueError("give a value (use “is empty” for blanks).")
    elif kind == "number":
        if op == "between":
            low, high = _number(value[0]), _number(value[1])
            if low > high:
                raise ValueError("the lower bound is above the upper bound.")
        else:
            _number(value)
    elif kind == "date":
        if op in ("within_days", "not_within_days"):
            days = int(value)
            if not 0 <= days <= 36500:
                raise ValueError("days must be between 0 and 36,500.")
        else:
            datetime.date.fromisoformat(str(value))
    elif kind in ("choice", "grade"):
        allowed = {c for c, _ in spec.choices}
        values = value if op == "in" else [value]
        if not isinstance(values, list) or not values or any(v not in allowed for v in values):
            raise ValueError(f"choose among {', '.join(sorted(allowed))}.")
    elif kind == "multi":
        if not isinstance(value, str) or not value.strip() or ";" in value:
            raise ValueError("give one item (without “;”).")
    elif kind in ("user", "queue", "campaign", "sf_campaign", "list"):
        _check_reference(kind, value, refs, own_list_id)
        status = condition.get("status")
        if kind == "sf_campaign" and status not in (None, "") and not isinstance(status, str):
            raise ValueError("the member status must be text.")
    elif kind == "activity":
        if value not in ("", "any", None) and value not in ActivityType.values:
            raise ValueError(f'unknown activity type "{value}".')
        days = condition.get("days")
        if days is not None and not 0 <= int(days) <= 36500:
            raise ValueError("days must be between 0 and 36,500.")


REFERENCE_WORDS = {
    "user": ("users", "The user"),
    "queue": ("queues", "The queue"),
    "campaign": ("campaigns", "The Leadbridge campaign"),
    "sf_campaign": ("sf_campaigns", "The Salesforce campaign"),
    "list": ("lists", "The list"),
}


def _check_reference(kind: str, value: Any, refs: References, own_list_id) -> None:
    attr, noun = REFERENCE_WORDS[kind]
    ids = _ints(value)
    if len(ids) != 1:
        raise ValueError("choose one.")
    if kind == "list" and own_list_id is not None and ids[0] == own_list_id:
        raise ValueError("a list cannot be defined by its own membership.")
    if ids[0] not in getattr(refs, attr):
        raise ValueError(f"{noun.lower()} #{ids[0]} no longer exists.")


def _number(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None or str(value).strip() == "":
        raise ValueError("give a number.")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError("give a number.") from None
    if not number.is_finite() or abs(number) >= Decimal(10) ** 17:
        raise ValueError("give a number.")
    return number


def _bounds(value: Any) -> tuple[Decimal, Decimal]:
    return _number(value[0]), _number(value[1])


# --- SQL -----------------------------------------------------------------------------------

NUMERIC_TEXT = r"^\s*[-+]?[0-9]+(\.[0-9]+)?\s*$"
ISO_DATE_TEXT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"


def compile_q(criteria: dict | None, *, now: datetime.datetime | None = None) -> Q:
    """The document as a ``Q`` over ``Prospect`` (archived prospects excluded).

    Raises ``CriteriaError`` naming what is wrong (a field or object deleted since saving)."""
    criteria = criteria or {}
    errors = validate(criteria)
    if errors:
        raise CriteriaError(errors)
    refs = References(customs={c.api_name: c for c in CustomField.objects.all()})
    now = now or timezone.now()
    return Q(archived_at__isnull=True) & _group_q(criteria, refs, now)


def matching(criteria: dict | None, *, now: datetime.datetime | None = None):
    """The prospects a document matches, as a queryset (one SQL statement)."""
    return Prospect.objects.filter(compile_q(criteria, now=now))


def _group_q(group: dict, refs: References, now) -> Q:
    parts = []
    for item in group.get("conditions", []) or []:
        if "conditions" in item:
            parts.append(_group_q(item, refs, now))
        else:
            parts.append(_condition_q(item, refs, now))
    if not parts:
        return Q()
    combined = parts[0]
    for part in parts[1:]:
        combined = combined | part if group.get("match", "all") == "any" else combined & part
    # An empty "any" group inside is Q() (everything) — the same as Python's all([]).
    return combined


def _condition_q(condition: dict, refs: References, now) -> Q:
    name, op, value = condition["field"], condition["op"], condition.get("value")
    spec = spec_for(name, refs)
    assert spec is not None  # validated
    if name.startswith(CUSTOM_PREFIX):
        return _custom_q(name.removeprefix(CUSTOM_PREFIX), spec.kind, op, value, now)
    if name.startswith(ACCOUNT_PREFIX):
        column = name.removeprefix(ACCOUNT_PREFIX)
        inner = _scalar_q(F(column), spec.kind, op, value, now, nullable=True)
        accounts = Account.objects.live().filter(inner).values("sf_id")
        return Q(crm_account_id__in=accounts) & ~Q(crm_account_id="")
    if name.startswith(OPPORTUNITY_PREFIX):
        column = "opportunity__" + name.removeprefix(OPPORTUNITY_PREFIX)
        if spec.kind == "date":  # close_date: a day
            inner = _day_q(_typed(F(column), Opportunity, "close_date"), op, value, now)
        else:
            inner = _scalar_q(F(column), spec.kind, op, value, now, nullable=True)
        roles = OpportunityContactRole.objects.filter(
            inner, prospect=OuterRef("pk"), deleted=False, opportunity__deleted_at__isnull=True
        )
        return Q(Exists(roles))
    kind = spec.kind
    if kind == "choice" and name == "crm_status":
        return _crm_status_q(op, value)
    if kind == "choice":
        return _choice_q(name, op, value)
    if kind in ("user", "queue", "campaign"):
        return _reference_q(name, op, value)
    if kind == "sf_campaign":
        members = CampaignMembership.objects.filter(prospect=OuterRef("pk"), campaign_id=value)
        if condition.get("status"):
            members = members.filter(status=condition["status"])
        return Q(Exists(members)) if op == "member" else ~Q(Exists(members))
    if kind == "list":
        from automation.models import ListMembership

        members = ListMembership.objects.filter(prospect=OuterRef("pk"), list_id=value)
        return Q(Exists(members)) if op == "member" else ~Q(Exists(members))
    if kind == "activity":
        activities = Activity.objects.filter(prospect=OuterRef("pk"))
        if value not in (None, "", "any"):
            activities = activities.filter(type=value)
        if condition.get("days") is not None:
            since = now - datetime.timedelta(days=int(condition["days"]))
            activities = activities.filter(occurred_at__gte=since)
        return Q(Exists(activities)) if op == "has" else ~Q(Exists(activities))
    if kind == "grade":
        return _grade_q(op, value)
    nullable = Prospect._meta.get_field(name).null
    return _scalar_q(F(name), kind, op, value, now, nullable=nullable)


def _crm_status_q(op: str, value: Any) -> Q:
    def one(status: str) -> Q:
        if status == CrmStatus.CONTACT:
            return ~Q(crm_contact_id="")
        if status == CrmStatus.LEAD:
            return Q(crm_contact_id="") & ~Q(crm_lead_id="")
        return Q(crm_contact_id="", crm_lead_id="")

    if op == "in":
        q = Q(pk__in=[])
        for status in value:
            q |= one(status)
        return q
    return one(value) if op == "eq" else ~one(value)


def _choice_q(name: str, op: str, value: Any) -> Q:
    """A stored choice (the sync status): is, is not, is one of."""
    if op == "in":
        return Q(**{f"{name}__in": list(value)})
    q = Q(**{name: value})
    return q if op == "eq" else ~q


def _reference_q(name: str, op: str, value: Any) -> Q:
    column = f"{name}_id"
    if op == "is_empty":
        return Q(**{f"{column}__isnull": True})
    if op == "is_not_empty":
        return Q(**{f"{column}__isnull": False})
    q = Q(**{column: int(value)})
    # "is not X" includes prospects assigned to nobody (as Python's None != X).
    return q if op == "eq" else ~q


def _grade_q(op: str, value: Any) -> Q:
    if op == "is_empty":
        return Q(grade="")
    if op == "is_not_empty":
        return ~Q(grade="")
    if op == "eq":
        return Q(grade=value)
    if op == "ne":
        return ~Q(grade=value)
    index = GRADE_ORDER.index(value)
    better = GRADE_ORDER[: index + 1] if op == "gte" else GRADE_ORDER[index:]
    return Q(grade__in=better)


def _text_lookup(lhs, op: str, value: Any) -> Q:
    if connection.vendor == "sqlite" and op not in ("is_empty", "is_not_empty"):
        return _folded_lookup(lhs, op, value)
    if op == "eq":
        return Q(IExact(lhs, str(value)))
    if op == "ne":
        return ~Q(IExact(lhs, str(value)))
    if op == "contains":
        return Q(IContains(lhs, str(value)))
    if op == "not_contains":
        return ~Q(IContains(lhs, str(value)))
    if op == "starts_with":
        return Q(IStartsWith(lhs, str(value)))
    if op == "ends_with":
        return Q(IEndsWith(lhs, str(value)))
    if op == "in":
        q = Q(pk__in=[])
        for item in value:
            q |= Q(IExact(lhs, str(item)))
        return q
    if op == "is_empty":
        return Q(Exact(lhs, ""))
    return ~Q(Exact(lhs, ""))


def _folded_lookup(lhs, op: str, value: Any) -> Q:
    """``_text_lookup`` on SQLite: both sides in Unicode upper case (``core.sqlite``'s
    ``LB_UPPER``, the Python evaluator's ``_fold``), compared exactly; SQLite's own case-blind
    ``LIKE`` knows ASCII letters only."""
    folded = Func(lhs, function=UPPER, output_field=TextField())
    if op == "in":
        return (
            Q(In(folded, sorted({_fold(str(item)) for item in value}))) if value else Q(pk__in=[])
        )
    lookup = {
        "eq": Exact,
        "ne": Exact,
        "contains": Contains,
        "not_contains": Contains,
        "starts_with": StartsWith,
        "ends_with": EndsWith,
    }[op]
    q = Q(lookup(folded, _fold(str(value))))
    return ~q if op in ("ne", "not_contains") else q


def _scalar_q(lhs, kind: str, op: str, value: Any, now, *, nullable: bool) -> Q:
    """A condition on one column (or expression) of the queried model."""
    if kind == "text":
        return _text_lookup(
            Coalesce(lhs, Value(""), output_field=TextField()) if nullable else lhs, op, value
        )
    if kind == "bool":
        return Q(Exact(lhs, True)) if op == "is_true" else ~Q(Exact(Coalesce(lhs, False), True))
    if op == "is_empty":
        return Q(IsNull(lhs, True))
    if op == "is_not_empty":
        return Q(IsNull(lhs, False))
    if kind == "number":
        return _number_q(lhs, op, value)
    return _date_q(lhs, op, value, now)


def _numeric(number: Decimal) -> Value:
    # A Value, not a bare Decimal: the lookup would prepare a bare one for the column's type
    # (an integer column would compare with 50 for 50.5).
    return Value(number, output_field=DecimalField())


class Numeric(Func):
    template = "CAST(%(expressions)s AS NUMERIC)"
    output_field = DecimalField()


def _number_q(lhs, op: str, value: Any) -> Q:
    if op == "between":
        low, high = _bounds(value)
        return Q(GreaterThanOrEqual(lhs, _numeric(low))) & Q(LessThanOrEqual(lhs, _numeric(high)))
    number = _numeric(_number(value))
    lookups = {
        "gt": GreaterThan,
        "gte": GreaterThanOrEqual,
        "lt": LessThan,
        "lte": LessThanOrEqual,
    }
    if op in lookups:
        return Q(lookups[op](lhs, number))
    equal = Q(Exact(lhs, number))
    # "≠ 5" includes empty values, as Python's None != 5.
    return equal if op == "eq" else ~(equal & Q(IsNull(lhs, False)))


def _date_q(lhs, op: str, value: Any, now) -> Q:
    if op in ("within_days", "not_within_days"):
        since = now - datetime.timedelta(days=int(value))
        within = Q(GreaterThanOrEqual(lhs, since)) & Q(LessThanOrEqual(lhs, now))
        return within if op == "within_days" else ~(within & Q(IsNull(lhs, False)))
    instant = day_start(value)
    if op == "on_or_after":
        return Q(GreaterThanOrEqual(lhs, instant))
    return Q(LessThan(lhs, instant))


def _typed(expression: F, model, column: str):
    """An F with its output field known (``_day_q`` asks whether it compares text)."""
    from django.db.models import ExpressionWrapper

    return ExpressionWrapper(expression, output_field=model._meta.get_field(column))


def day_start(value: Any) -> datetime.datetime:
    """The first instant of an ISO date in the portal's time zone."""
    day = datetime.date.fromisoformat(str(value)[:10])
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _custom_q(key: str, kind: str, op: str, value: Any, now) -> Q:
    text = KT(f"custom_fields__{key}")
    if kind == "bool":
        checked = Q(**{f"custom_fields__{key}": True})
        return (
            checked if op == "is_true" else ~checked | Q(**{f"custom_fields__{key}__isnull": True})
        )
    if kind == "multi":
        if op in ("is_empty", "is_not_empty"):
            empty = Q(Exact(Coalesce(text, Value(""), output_field=TextField()), ""))
            return empty if op == "is_empty" else ~empty
        pattern = r"(^|;)\s*" + re.escape(value.strip()) + r"\s*(;|$)"
        found = Q(**{f"custom_fields__{key}__regex": pattern})
        return found if op == "includes" else ~found | Q(**{f"custom_fields__{key}__isnull": True})
    if kind == "text":
        return _text_lookup(Coalesce(text, Value(""), output_field=TextField()), op, value)
    if kind == "number":
        # A value that is not a number (kept from before the field's type changed) is empty.
        lhs = Case(
            When(Q(**{f"custom_fields__{key}__regex": NUMERIC_TEXT}), then=Numeric(text)),
            default=None,
            output_field=DecimalField(),
        )
        return _scalar_q(lhs, "number", op, value, now, nullable=True)
    # Dates are ISO text ("2026-11-30"), compared as text in the "C" collation: ordered as
    # days, and a malformed day (from before the field's type changed) cannot break a cast.
    lhs = Case(
        When(
            Q(**{f"custom_fields__{key}__regex": ISO_DATE_TEXT}),
            then=Bytewise(Substr(text, 1, 10)),
        ),
        default=None,
        output_field=CharField(),
    )
    return _day_q(lhs, op, value, now)


class Bytewise(Collate):
    """Text compared byte by byte: PostgreSQL's "C" collation, SQLite's (default) BINARY."""

    def __init__(self, expression) -> None:
        super().__init__(expression, "C")

    def as_sqlite(self, compiler, connection, **extra_context):
        return Collate(self.get_source_expressions()[0], "BINARY").as_sql(
            compiler, connection, **extra_context
        )


def _day_q(lhs, op: str, value: Any, now) -> Q:
    """A condition on a day (a custom date as ISO text, an opportunity's close date): compared
    as days, today in the portal's time zone."""
    if op == "is_empty":
        return Q(IsNull(lhs, True))
    if op == "is_not_empty":
        return Q(IsNull(lhs, False))
    text = isinstance(lhs.output_field, CharField)

    def as_rhs(day: datetime.date) -> Value | datetime.date:
        return Value(day.isoformat(), output_field=CharField()) if text else day

    today = timezone.localdate(now)
    if op in ("within_days", "not_within_days"):
        since = today - datetime.timedelta(days=int(value))
        within = Q(GreaterThanOrEqual(lhs, as_rhs(since))) & Q(LessThanOrEqual(lhs, as_rhs(today)))
        return within if op == "within_days" else ~(within & Q(IsNull(lhs, False)))
    day = as_rhs(datetime.date.fromisoformat(str(value)[:10]))
    return Q(GreaterThanOrEqual(lhs, day)) if op == "on_or_after" else Q(LessThan(lhs, day))


# --- Python --------------------------------------------------------------------------------


@dataclass
class Related:
    """What prospects link to, for ``evaluate``: loaded by plain queries, one per kind."""

    accounts: dict[str, Account] = field(default_factory=dict)  # live, by sf_id
    memberships: dict[int, list[CampaignMembership]] = field(default_factory=dict)
    opportunities: dict[int, list] = field(default_factory=dict)  # prospect -> live opps
    activities: dict[int, list[Activity]] = field(default_factory=dict)
    lists: dict[int, set[int]] = field(default_factory=dict)  # prospect -> list ids
    customs: dict[str, CustomField] = field(default_factory=dict)

    @classmethod
    def load(cls, prospect_ids: Iterable[int]) -> Related:
        from automation.models import ListMembership

        ids = list(prospect_ids)
        related = cls(
            accounts={a.sf_id: a for a in Account.objects.live()},
            customs={c.api_name: c for c in CustomField.objects.all()},
        )
        for m in CampaignMembership.objects.filter(prospect_id__in=ids):
            related.memberships.setdefault(m.prospect_id, []).append(m)
        roles = OpportunityContactRole.objects.filter(
            prospect_id__in=ids, deleted=False, opportunity__deleted_at__isnull=True
        ).select_related("opportunity")
        for role in roles:
            related.opportunities.setdefault(role.prospect_id, []).append(role.opportunity)
        for a in Activity.objects.filter(prospect_id__in=ids):
            related.activities.setdefault(a.prospect_id, []).append(a)
        for prospect_id, list_id in ListMembership.objects.filter(prospect_id__in=ids).values_list(
            "prospect_id", "list_id"
        ):
            related.lists.setdefault(prospect_id, set()).add(list_id)
        return related


def evaluate(
    criteria: dict | None, prospect: Prospect, related: Related, *, now: datetime.datetime
) -> bool:
    """The same document as ``compile_q``, decided in Python for one prospect."""
    if prospect.archived_at is not None:
        return False
    return _group_py(criteria or {}, prospect, related, now)


def _group_py(group: dict, prospect: Prospect, related: Related, now) -> bool:
    results = (
        _group_py(item, prospect, related, now)
        if "conditions" in item
        else _condition_py(item, prospect, related, now)
        for item in group.get("conditions", []) or []
    )
    if not group.get("conditions"):
        return True  # an empty document matches every prospect (as compile_q's Q())
    return any(results) if group.get("match", "all") == "any" else all(results)


def _condition_py(condition: dict, prospect: Prospect, related: Related, now) -> bool:
    name, op, value = condition["field"], condition["op"], condition.get("value")
    refs = References(customs=related.customs)
    kind = spec_for(name, refs).kind
    if name.startswith(CUSTOM_PREFIX):
        return _custom_py(prospect.get_field(name), kind, op, value, now)
    if name.startswith(ACCOUNT_PREFIX):
        account = related.accounts.get(prospect.crm_account_id) if prospect.crm_account_id else None
        column = name.removeprefix(ACCOUNT_PREFIX)
        return account is not None and _scalar_py(getattr(account, column), kind, op, value, now)
    if name.startswith(OPPORTUNITY_PREFIX):
        column = name.removeprefix(OPPORTUNITY_PREFIX)
        return any(
            _scalar_py(getattr(o, column), kind, op, value, now)
            for o in related.opportunities.get(prospect.pk, [])
        )
    if name == "crm_status":
        return _choice_py(prospect.crm_status, op, value)
    if kind in ("user", "queue", "campaign"):
        current = getattr(prospect, f"{name}_id")
        return {
            "is_empty": current is None,
            "is_not_empty": current is not None,
            "eq": current == int(value) if op == "eq" else None,
            "ne": current != int(value) if op == "ne" else None,
        }[op]
    if kind == "sf_campaign":
        found = any(
            m.campaign_id == int(value)
            and (not condition.get("status") or m.status == condition["status"])
            for m in related.memberships.get(prospect.pk, [])
        )
        return found if op == "member" else not found
    if kind == "list":
        found = int(value) in related.lists.get(prospect.pk, set())
        return found if op == "member" else not found
    if kind == "activity":
        since = (
            now - datetime.timedelta(days=int(condition["days"]))
            if condition.get("days") is not None
            else None
        )
        found = any(
            (value in (None, "", "any") or a.type == value)
            and (since is None or a.occurred_at >= since)
            for a in related.activities.get(prospect.pk, [])
        )
        return found if op == "has" else not found
    if kind == "grade":
        return _grade_py(prospect.grade, op, value)
    if kind == "choice":
        return _choice_py(getattr(prospect, name), op, value)
    return _scalar_py(getattr(prospect, name), kind, op, value, now)


def _choice_py(current: str, op: str, value: Any) -> bool:
    if op == "in":
        return current in value
    return current == value if op == "eq" else current != value


def _grade_py(grade: str, op: str, value: Any) -> bool:
    if op == "is_empty":
        return grade == ""
    if op == "is_not_empty":
        return grade != ""
    if op in ("eq", "ne"):
        return (grade == value) == (op == "eq")
    if grade not in GRADE_ORDER:
        return False
    if op == "gte":
        return GRADE_ORDER.index(grade) <= GRADE_ORDER.index(value)
    return GRADE_ORDER.index(grade) >= GRADE_ORDER.index(value)


def _fold(text: str) -> str:
    # PostgreSQL's UPPER (Django's i-lookups) on the texts marketers type.
    return text.upper()


TEXT_PY: dict[str, Callable[[str, Any], bool]] = {
    "eq": lambda s, v: _fold(s) == _fold(str(v)),
    "ne": lambda s, v: _fold(s) != _fold(str(v)),
    "contains": lambda s, v: _fold(str(v)) in _fold(s),
    "not_contains": lambda s, v: _fold(str(v)) not in _fold(s),
    "starts_with": lambda s, v: _fold(s).startswith(_fold(str(v))),
    "ends_with": lambda s, v: _fold(s).endswith(_fold(str(v))),
    "in": lambda s, v: any(_fold(s) == _fold(str(item)) for item in v),
    "is_empty": lambda s, v: s == "",
    "is_not_empty": lambda s, v: s != "",
}


def _scalar_py(current: Any, kind: str, op: str, value: Any, now) -> bool:
    if kind == "text":
        return TEXT_PY[op]("" if current is None else str(current), value)
    if kind == "bool":
        return (current is True) == (op == "is_true")
    if op == "is_empty":
        return current is None
    if op == "is_not_empty":
        return current is not None
    if kind == "number":
        return _number_py(None if current is None else Decimal(current), op, value)
    if isinstance(current, datetime.date) and not isinstance(current, datetime.datetime):
        return _day_py(current, op, value, now)
    if current is None and op in ("within_days", "not_within_days"):
        return op == "not_within_days"
    if op in ("within_days", "not_within_days"):
        since = now - datetime.timedelta(days=int(value))
        within = current is not None and since <= current <= now
        return within if op == "within_days" else not within
    if current is None:
        return False
    instant = day_start(value)
    return current >= instant if op == "on_or_after" else current < instant


def _number_py(current: Decimal | None, op: str, value: Any) -> bool:
    if op == "between":
        low, high = _bounds(value)
        return current is not None and low <= current <= high
    number = _number(value)
    if op == "ne":
        return current is None or current != number
    if current is None:
        return False
    return {
        "eq": current == number,
        "gt": current > number,
        "gte": current >= number,
        "lt": current < number,
        "lte": current <= number,
    }[op]


def _day_py(current: datetime.date | str | None, op: str, value: Any, now) -> bool:
    """A day (or a custom date's ISO text, compared as text as the SQL does)."""
    if op == "is_empty":
        return current is None
    if op == "is_not_empty":
        return current is not None

    def as_rhs(day: datetime.date) -> datetime.date | str:
        return day.isoformat() if isinstance(current, str) else day

    if op in ("within_days", "not_within_days"):
        today = timezone.localdate(now)
        since = today - datetime.timedelta(days=int(value))
        within = current is not None and as_rhs(since) <= current <= as_rhs(today)
        return within if op == "within_days" else not within
    if current is None:
        return False
    day = as_rhs(datetime.date.fromisoformat(str(value)[:10]))
    return current >= day if op == "on_or_after" else current < day


def _json_text(stored: Any) -> str:
    """A JSON value as PostgreSQL's ``->>`` gives it."""
    if stored is None:
        return ""
    if isinstance(stored, bool):
        return "true" if stored else "false"
    return str(stored)


def _custom_py(stored: Any, kind: str, op: str, value: Any, now) -> bool:
    if kind == "bool":
        return (stored is True) == (op == "is_true")
    if kind == "multi":
        items = [i.strip() for i in _json_text(stored).split(";")]
        if op in ("is_empty", "is_not_empty"):
            return (stored in (None, "")) == (op == "is_empty")
        found = value.strip() in items
        return found if op == "includes" else not found
    if kind == "text":
        return TEXT_PY[op](_json_text(stored), value)
    if kind == "number":
        text = None if stored is None else _json_text(stored)
        number = Decimal(text.strip()) if text and re.match(NUMERIC_TEXT, text) else None
        if op in ("is_empty", "is_not_empty"):
            return (number is None) == (op == "is_empty")
        return _number_py(number, op, value)
    day = stored[:10] if isinstance(stored, str) and re.match(ISO_DATE_TEXT, stored) else None
    return _day_py(day, op, value, now)


def describe(criteria: dict | None, catalogue: dict[str, FieldSpec] | None = None) -> str:
    """A document as one readable line: ``Score ≥ 50 and Country is "Germany"``."""
    if is_empty(criteria):
        return "Every prospect"
    catalogue = catalogue or field_catalogue()
    return _describe_group(criteria, catalogue, top=True)


def _describe_group(group: dict, catalogue, *, top: bool = False) -> str:
    joiner = " or " if group.get("match", "all") == "any" else " and "
    parts = []
    for item in group.get("conditions", []) or []:
        if "conditions" in item:
            parts.append(_describe_group(item, catalogue))
        else:
            parts.append(_describe_condition(item, catalogue))
    text = joiner.join(parts)
    return text if top or len(parts) < 2 else f"({text})"


def _describe_condition(condition: dict, catalogue) -> str:
    name, op = condition.get("field", ""), condition.get("op", "")
    spec = catalogue.get(name)
    if spec is None:
        return f"{name} (deleted field)"
    words = OPERATORS.get(spec.kind, {}).get(op, op)
    if op in NO_VALUE_OPS:
        return f"{spec.label} {words}"
    value = condition.get("value")
    if spec.choices and spec.kind != "activity":  # the label picked, not the stored code
        labels = dict(spec.choices)
        value = (
            [labels.get(v, v) for v in value]
            if isinstance(value, list)
            else labels.get(value, value)
        )
    if spec.kind == "number":  # numbers read as numbers: Score ≥ 50, Score between 10 and 50
        if isinstance(value, list):
            return f"{spec.label} {words} " + " and ".join(str(v) for v in value)
        return f"{spec.label} {words} {value}"
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    extra = ""
    if spec.kind == "activity":
        value = dict(ActivityType.choices).get(value, "any activity")
        if condition.get("days") is not None:
            extra = f" in the last {condition['days']} days"
    if spec.kind == "sf_campaign" and condition.get("status"):
        extra = f" with status “{condition['status']}”"
    if spec.kind in ("sf_campaign", "list", "user", "queue", "campaign"):
        value = _reference_name(spec.kind, value)
    if spec.kind == "date" and op in ("within_days", "not_within_days"):
        words = "within the last" if op == "within_days" else "not within the last"
        return f"{spec.label} {words} {value} days"
    return f"{spec.label} {words} “{value}”{extra}"


def _reference_name(kind: str, value: Any) -> str:
    """The name of the object a condition names, or "#id (deleted)"."""
    from automation.models import ProspectList

    models = {
        "sf_campaign": SalesforceCampaign,
        "list": ProspectList,
        "user": get_user_model(),
        "queue": CrmQueue,
        "campaign": Campaign,
    }
    ids = _ints(value)
    found = models[kind].objects.filter(pk__in=ids).first() if ids else None
    return str(found) if found is not None else f"#{value} (deleted)"


__all__ = [
    "FIELDS",
    "OPERATORS",
    "CriteriaError",
    "Related",
    "compile_q",
    "describe",
    "evaluate",
    "field_catalogue",
    "matching",
    "validate",
]
