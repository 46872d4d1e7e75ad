"""Say what is true about a connector that needs attention: what exactly is held back, and that
everything else keeps syncing (``Connector.may_sync``) — or that nothing syncs, when the login
failed. The banner on every page and the alert emails read the same sentences."""

from __future__ import annotations

from dataclasses import dataclass

from sync.engine.package import EXTERNAL_ID
from sync.mapping import prospect_fields
from sync.models import Connector, FieldRule


@dataclass(frozen=True)
class Lost:
    """One thing verification (or the engine) found lost, and what it holds back."""

    key: str  # stable across evaluations: the incident key ("Lead.Title", "auth", "Campaign")
    what: str  # what was lost, e.g. "Lead.Title: the connector user cannot edit it."
    held_back: str  # what does not sync because of it


def lost_items(connector: Connector) -> list[Lost]:
    """Each problem on the connector, with what it holds back (empty when there is none)."""
    rules = list(connector.field_rules.all())
    return [_lost(problem, rules) for problem in connector.problems or []]


def headline(connector: Connector) -> str:
    """The banner's first line: whether the rest keeps syncing."""
    if not connector.problems:
        return "The Salesforce connector needs attention."
    if connector.may_sync:
        return (
            "The Salesforce connector needs attention. Everything else keeps syncing; "
            "only what is listed here is held back."
        )
    return "The Salesforce connector needs attention: nothing syncs until it can sign in again."


def _lost(problem: dict, rules: list[FieldRule]) -> Lost:
    kind, label, detail = problem.get("kind"), problem.get("label", ""), problem.get("detail", "")
    sobject, field = problem.get("sobject", ""), problem.get("field", "")
    if kind == "auth":
        return Lost(
            "auth",
            f"Authentication failed: {detail}",
            "Everything: changes wait in the queue and go out once the connector signs in.",
        )
    if kind == "package":
        return _lost_package(label, sobject, field)
    if kind == "object":
        return Lost(
            f"object:{sobject}",
            f"The connector user {detail}.",
            f"What needs {sobject} records fails as access Sync Errors.",
        )
    return _lost_field(label, detail, sobject, field, rules)


def _lost_package(label: str, sobject: str, field: str) -> Lost:
    what = f"{label} is missing or not editable: install the Leadbridge package in the org."
    if field == EXTERNAL_ID.get(sobject):
        held = (
            f"Creating new {sobject}s: no {sobject} is created without its external id, so "
            f"unlinked prospects wait as access Sync Errors. Updates to linked records go on."
        )
    else:
        held = f"Writing {label}."
    return Lost(label, what, held)


def _lost_field(label: str, detail: str, sobject: str, field: str, rules: list[FieldRule]) -> Lost:
    names = _prospect_labels(rules, sobject, field)
    subject = f"{', '.join(names)} ({label})" if names else label
    what = f"{label}: the connector user {detail}." if detail else label
    if "read" in detail:  # hidden: neither pushed nor pulled
        held = (
            f"{subject}, both ways: pushes that carry it are refused as access Sync Errors, "
            "and Salesforce's value is not read."
        )
    else:
        held = (
            f"Leadbridge's changes to {subject}: pushes that carry them are refused as access "
            "Sync Errors. Salesforce's values still come in."
        )
    return Lost(label, what, held)


def _prospect_labels(rules: list[FieldRule], sobject: str, field: str) -> list[str]:
    """The prospect fields mapped to ``sobject.field`` ("Job title"), by their page labels."""
    labels = prospect_fields()
    out = []
    for rule in rules:
        if field and rule.target_field(sobject).lower() == field.lower():
            known = labels.get(rule.prospect_field)
            out.append(known.label if known else rule.prospect_field)
    return out
