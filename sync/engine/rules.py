"""Field sync behaviour: for each mapped field, which value wins and where it must go.

``reconcile`` is the single place the four behaviours live; outbound pushes and inbound pulls
both call it, so the two directions can never disagree about a field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.utils.dateparse import parse_datetime

from prospects.models import CUSTOM_PREFIX, CustomField, Prospect
from sync.engine.values import normal, plain_attribute, read_prospect
from sync.models import RULE_COLUMNS, FieldRule

Behaviour = FieldRule.Behaviour

# Fields Leadbridge handles itself rather than through a FieldRule's behaviour.
OWNER_FIELD = "assigned_user"


@dataclass(frozen=True)
class Change:
    """One field's decision: send ``value`` to Salesforce (``to_salesforce``) or apply it here."""

    prospect_field: str
    sf_field: str
    old: Any
    new: Any
    to_salesforce: bool
    rule: str

    def as_history(self) -> dict:
        return {
            "field": self.prospect_field,
            "sf_field": self.sf_field,
            "old": _jsonable(self.old),
            "new": _jsonable(self.new),
            "direction": "outbound" if self.to_salesforce else "inbound",
            "rule": self.rule,
        }


def _jsonable(value: Any) -> Any:
    return value if value is None or isinstance(value, str | bool | int | float) else str(value)


def _changed_at(prospect: Prospect, field: str) -> dt.datetime | None:
    stamp = (prospect.field_changed_at or {}).get(field)
    return parse_datetime(stamp) if stamp else prospect.created_at


def decide(
    rule: FieldRule,
    *,
    ours: Any,
    theirs: Any,
    ours_changed_at: dt.datetime | None,
    theirs_changed_at: dt.datetime | None,
) -> tuple[str, Any] | None:
    """Which side gets which value for one field; ``None`` when nothing should move.

    Returns ``("salesforce", value)`` to send ours, or ``("leadbridge", value)`` to take theirs.
    1. Equal values, or *Don't sync*: nothing moves.
    2. *Use Leadbridge's value*: ours wins; if ours is blank, theirs fills it (a value beats an
       empty field).
    3. *Use Salesforce's value*: theirs wins; a Salesforce blank fills ours only when the rule
       lets Salesforce blanks overwrite, otherwise our value fills Salesforce's blank.
    4. *Most recently updated*: the newer side wins; a newer blank is filled by the older value.
    """
    if rule.behaviour == Behaviour.DONT_SYNC or ours == theirs:
        return None
    if rule.behaviour == Behaviour.LEADBRIDGE:
        return ("salesforce", ours) if ours is not None else ("leadbridge", theirs)
    if rule.behaviour == Behaviour.SALESFORCE:
        if theirs is not None or rule.salesforce_blanks_overwrite:
            return ("leadbridge", theirs)
        return ("salesforce", ours)
    # Most recently updated value.
    ours_newer = (ours_changed_at or dt.datetime.min.replace(tzinfo=dt.UTC)) >= (
        theirs_changed_at or dt.datetime.min.replace(tzinfo=dt.UTC)
    )
    if ours_newer:
        return ("salesforce", ours) if ours is not None else ("leadbridge", theirs)
    return ("leadbridge", theirs) if theirs is not None else ("salesforce", ours)


@dataclass(frozen=True)
class Step:
    """One rule as a batch applies it to an object: looked up once, not once per record."""

    rule: FieldRule
    sf_field: str
    prospect_field: str
    attribute: str | None  # read as it is (plain_attribute), else through read_prospect
    most_recent: bool
    dont_sync: bool
    limit: int | None = None  # the longest text the prospect field holds

    def ours(self, prospect: Prospect) -> Any:
        if self.attribute:
            return normal(getattr(prospect, self.attribute))
        return read_prospect(prospect, self.prospect_field)


class Plan(list):
    """The rules that map a field of one object, compiled (:func:`plan`)."""

    def __init__(self, steps: Iterable[Step], sobject: str) -> None:
        super().__init__(steps)
        self.sobject = sobject


def plan(
    rules: Iterable[FieldRule],
    sobject: str,
    *,
    custom: dict[str, CustomField] | None = None,
) -> Plan:
    """The rules mapping a field of ``sobject``, but the owner (Leadbridge handles it), compiled
    for :func:`reconcile` and :func:`create_payload` over a whole batch. ``custom`` (api name →
    definition) spares the query for the custom fields' lengths."""
    column = RULE_COLUMNS.get(sobject)
    mapped = []
    for rule in rules:
        sf_field = getattr(rule, column) if column else ""  # rule.target_field, inlined
        if sf_field and rule.prospect_field != OWNER_FIELD:
            mapped.append((rule, sf_field))
    limits = _limits([rule.prospect_field for rule, _ in mapped], custom)
    steps = [
        Step(
            rule,
            sf_field,
            rule.prospect_field,
            plain_attribute(rule.prospect_field),
            rule.behaviour == Behaviour.MOST_RECENT,
            rule.behaviour == Behaviour.DONT_SYNC,
            limits.get(rule.prospect_field),
        )
        for rule, sf_field in mapped
    ]
    return Plan(steps, sobject)


def _limits(fields: list[str], custom: dict[str, CustomField] | None) -> dict[str, int]:
    """The longest text each of these prospect fields holds (text fields only)."""
    keys = [f.removeprefix(CUSTOM_PREFIX) for f in fields if f.startswith(CUSTOM_PREFIX)]
    if keys and custom is None:
        custom = CustomField.objects.in_bulk(keys, field_name="api_name")
    limits = {}
    for field in fields:
        if field.startswith(CUSTOM_PREFIX):
            definition = custom.get(field.removeprefix(CUSTOM_PREFIX))
            limit = definition.max_length if definition else None
        else:
            try:
                model_field = Prospect._meta.get_field(field)
            except FieldDoesNotExist:
                continue
            text = model_field.get_internal_type() in ("CharField", "TextField")
            limit = model_field.max_length if text else None
        if limit:
            limits[field] = limit
    return limits


def _cut_to_fit(ours: Any, theirs: Any, limit: int) -> bool:
    """Ours is Salesforce's text cut to the longest the prospect field holds (as a pull stores
    it): not a change. Sending it back would cut the text in Salesforce too; taking theirs
    again would store the same cut value."""
    return (
        isinstance(ours, str)
        and isinstance(theirs, str)
        and len(theirs) > limit
        and normal(theirs[:limit]) == ours
    )


def _plan_of(rules: Iterable[FieldRule] | Plan, sobject: str) -> Plan:
    if isinstance(rules, Plan):
        if rules.sobject != sobject:
            raise ValueError(f"a plan for {rules.sobject} applied to {sobject}")
        return rules
    return plan(rules, sobject)


def reconcile(
    prospect: Prospect,
    record: dict,
    rules: Iterable[FieldRule] | Plan,
    *,
    sobject: str,
    record_modified_at: dt.datetime | None,
) -> list[Change]:
    """Every field that must move between ``prospect`` and Salesforce ``record``.

    ``rules`` may be a :func:`plan` of them for ``sobject``, made once for a batch."""
    changes = []
    for step in _plan_of(rules, sobject):
        sf_field = step.sf_field
        if sf_field not in record:
            continue
        value = record[sf_field]
        attribute = step.attribute  # step.ours(prospect), inlined: hot
        if attribute:
            mine = getattr(prospect, attribute)
            # The same value on both sides, or our blank against their null, has one normal
            # form: nothing moves (most fields, most of the time), and nothing is normalised.
            if (mine == value and type(mine) is type(value)) or (mine == "" and value is None):
                continue
            ours = normal(mine)
        else:
            ours = read_prospect(prospect, step.prospect_field)
        theirs = normal(value)
        if ours == theirs:  # decide's first rule: nothing moves
            continue
        if step.limit and _cut_to_fit(ours, theirs, step.limit):
            continue
        rule = step.rule
        decision = decide(
            rule,
            ours=ours,
            theirs=theirs,
            # Only "most recently updated" compares the times; parsing a stamp costs more than
            # the rest of the decision.
            ours_changed_at=_changed_at(prospect, rule.prospect_field)
            if step.most_recent
            else None,
            theirs_changed_at=record_modified_at,
        )
        if decision is None:
            continue
        side, value = decision
        changes.append(
            Change(
                prospect_field=rule.prospect_field,
                sf_field=sf_field,
                old=theirs if side == "salesforce" else ours,
                new=value,
                to_salesforce=side == "salesforce",
                rule=rule.behaviour,
            )
        )
    return changes


def create_payload(prospect: Prospect, rules: Iterable[FieldRule] | Plan, *, sobject: str) -> dict:
    """Every mapped, non-blank prospect value for a record Salesforce does not have yet."""
    payload = {}
    values = prospect.__dict__  # plain attributes read at once: this runs for every field
    for step in _plan_of(rules, sobject):
        if step.dont_sync:
            continue
        attribute = step.attribute
        value = (
            normal(values[attribute] if attribute in values else getattr(prospect, attribute))
            if attribute
            else read_prospect(prospect, step.prospect_field)
        )
        if value is not None:
            payload[step.sf_field] = value
    return payload
