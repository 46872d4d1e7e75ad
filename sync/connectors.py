"""Saving the connector, its settings, field rules and data sharing rules — with history.

Views bind a form and call one of these. Each save is one transaction that also writes the
``ConnectorChange`` rows; a Salesforce call (testing credentials, counting records) always
happens before the transaction opens, so nothing is saved half-way and no transaction is held
across HTTP.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.utils import timezone

from prospects.models import CustomField
from sync import settings_history
from sync.mapping import CUSTOM_PREFIX, ensure_default_rules
from sync.models import Connector, DataSharingRule, FieldRule
from sync.salesforce import Client, ConnectionCheck, Credentials, SalesforceError
from sync.salesforce import test_connection as check_credentials

CONNECTION_FIELDS = [
    "login_url",
    "grant_type",
    "client_id",
    "client_secret",
    "username",
    "password",
    "api_version",
    "ca_bundle",
]
SETTINGS_FIELDS = [
    "auto_create_prospects",
    "auto_create_campaign",
    "new_record_type",
    "match_by_email",
    "email_precedence",
    "auto_change_email",
    "delete_with_crm",
    "exclude_partner_users",
    "person_accounts",
    "sync_interval",
    "batch_threshold",
    "api_share",
]
RULE_FIELDS = [
    "lead_field",
    "contact_field",
    "person_account_field",
    "behaviour",
    "salesforce_blanks_overwrite",
]


class SettingsLocked(Exception):
    """Raised when a change needs the connector paused (Marketing Data Sharing)."""


def _stored(instance: Any) -> Any:
    return type(instance).objects.filter(pk=instance.pk).first() if instance.pk else None


def save_connection(*, connector: Connector, user: Any) -> ConnectionCheck:
    """Test ``connector``'s (unsaved) credentials, then save them with history.

    1. Authenticate against the login URL and read the connector user (raises SalesforceError:
       nothing is saved).
    2. In one transaction: save, learn ``instance_url``, create default field rules for a new
       connector (it starts paused), and record old → new (secrets only as "changed").
    """
    check = check_credentials(Credentials.from_connector(connector))
    stored = _stored(connector)
    before = settings_history.snapshot(stored, CONNECTION_FIELDS) if stored else {}
    secrets = [
        name
        for name in settings_history.SECRET_FIELDS
        if getattr(connector, name) != (getattr(stored, name) if stored else "")
    ]
    with transaction.atomic():
        connector.instance_url = check.instance_url
        created = connector.pk is None
        if created:
            connector.state = Connector.State.PAUSED
        connector.save()
        if created:
            ensure_default_rules(connector)
        settings_history.record_changes(
            connector=connector,
            user=user,
            subject="connection",
            before=before,
            after=settings_history.snapshot(connector, CONNECTION_FIELDS),
            secrets_changed=secrets,
        )
    return check


def save_settings(*, connector: Connector, user: Any) -> int:
    """Save the behaviour settings with history; returns how many values changed."""
    before = settings_history.snapshot(_stored(connector), SETTINGS_FIELDS)
    with transaction.atomic():
        connector.save()
        rows = settings_history.record_changes(
            connector=connector,
            user=user,
            subject="settings",
            before=before,
            after=settings_history.snapshot(connector, SETTINGS_FIELDS),
        )
    return len(rows)


def set_state(*, connector: Connector, state: str, user: Any) -> None:
    """Pause or unpause. Unpausing needs a verification with nothing missing."""
    if state == Connector.State.ACTIVE and (connector.verified_at is None or connector.problems):
        raise SettingsLocked("Verify the connector (with nothing missing) before unpausing it.")
    before = settings_history.snapshot(connector, ["state"])
    with transaction.atomic():
        Connector.objects.filter(pk=connector.pk).update(state=state, updated_at=timezone.now())
        connector.state = state
        settings_history.record_changes(
            connector=connector,
            user=user,
            subject="connection",
            before=before,
            after=settings_history.snapshot(connector, ["state"]),
        )


def save_rule(*, rule: FieldRule, user: Any) -> int:
    """Save an edited field rule with history (subject: the prospect field)."""
    if rule.fixed:
        raise SettingsLocked(rule.fixed_reason or "This row is fixed.")
    stored = _stored(rule)
    before = settings_history.snapshot(stored, RULE_FIELDS) if stored else {}
    with transaction.atomic():
        rule.save()
        rows = settings_history.record_changes(
            connector=rule.connector,
            user=user,
            subject=rule.prospect_field,
            before=before,
            after=settings_history.snapshot(rule, RULE_FIELDS),
        )
    return len(rows)


def save_custom_field(
    *, connector: Connector | None, custom: CustomField, user: Any, rule_values: dict | None
) -> FieldRule | None:
    """Save a custom field and, when a connector exists, its field rule (``custom:<api name>``)."""
    with transaction.atomic():
        custom.save()
        if connector is None:
            return None
        rule, _ = FieldRule.objects.get_or_create(
            connector=connector,
            prospect_field=CUSTOM_PREFIX + custom.api_name,
            defaults={"behaviour": FieldRule.Behaviour.DONT_SYNC},
        )
        if rule_values:
            for name, value in rule_values.items():
                setattr(rule, name, value)
            save_rule(rule=rule, user=user)
        return rule


def save_sharing_rule(*, rule: DataSharingRule, user: Any) -> None:
    """Save a Marketing Data Sharing rule (only while paused) with history."""
    connector = rule.connector
    if connector.state != Connector.State.PAUSED:
        raise SettingsLocked("Pause the connector before editing Marketing Data Sharing rules.")
    stored = _stored(rule)
    before = {"rule": str(stored)} if stored else {}
    with transaction.atomic():
        rule.save()
        settings_history.record_changes(
            connector=connector,
            user=user,
            subject=f"data sharing: {rule.sobject}",
            before=before,
            after={"rule": str(rule)},
        )


def delete_sharing_rule(*, rule: DataSharingRule, user: Any) -> None:
    connector = rule.connector
    if connector.state != Connector.State.PAUSED:
        raise SettingsLocked("Pause the connector before editing Marketing Data Sharing rules.")
    with transaction.atomic():
        settings_history.record_changes(
            connector=connector,
            user=user,
            subject=f"data sharing: {rule.sobject}",
            before={"rule": str(rule)},
            after={"rule": ""},
        )
        rule.delete()


def soql_literal(value: str) -> str:
    """A SOQL string literal (backslash and quote escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def count_shared_records(
    *, connector: Connector, sobject: str, field: str, value: str, client: Client | None = None
) -> tuple[int, int]:
    """(records whose ``field`` equals ``value``, all records) of ``sobject``, for the data
    sharing page's live count; SalesforceError when the object or field is unknown to the
    connector user.

    Two SOQL ``COUNT()`` queries: no record is fetched, whatever the org's size. SOQL compares
    strings regardless of case while sharing rules do not, so the first number also counts
    values that differ only in case (the page says so).
    """
    if not (API_NAME.match(sobject) and API_NAME.match(field)):
        raise SalesforceError("INVALID_FIELD", "Object and field must be API names.")
    client = client or Client.for_connector(connector)
    shared = client.query_count(
        f"SELECT COUNT() FROM {sobject} WHERE {field} = {soql_literal(value)}"
    )
    return shared, client.query_count(f"SELECT COUNT() FROM {sobject}")


API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def save_behaviours(*, connector: Connector, behaviours: dict[str, str], user: Any) -> int:
    """Save the wizard's behaviour choices, by prospect field (editable rules with a target
    only); returns changes."""
    changed = 0
    for rule in connector.field_rules.filter(prospect_field__in=behaviours, fixed=False):
        wanted = behaviours[rule.prospect_field]
        has_target = rule.lead_field or rule.contact_field or rule.person_account_field
        if wanted == rule.behaviour or (wanted != FieldRule.Behaviour.DONT_SYNC and not has_target):
            continue
        rule.behaviour = wanted
        changed += save_rule(rule=rule, user=user)
    return changed
