"""The change history of connector settings and field rules: who, when, old → new.

Secrets are recorded as "changed", never by value.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models

from sync.models import Connector, ConnectorChange

SECRET_FIELDS = frozenset({"client_secret", "password"})
CHANGED = "(changed)"


def _display(instance: models.Model, name: str) -> str:
    value = getattr(instance, name)
    if value is None or value == "":
        return ""
    model_field = instance._meta.get_field(name)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name == "ca_bundle":
        return f"{value.count('BEGIN CERTIFICATE')} certificate(s)"
    return str(value)


def snapshot(instance: models.Model, names: Iterable[str]) -> dict[str, str]:
    """Displayable values of ``names`` (secrets as a marker that says only whether one is set)."""
    return {
        name: ("set" if getattr(instance, name) else "")
        if name in SECRET_FIELDS
        else _display(instance, name)
        for name in names
    }


def record_changes(
    *,
    connector: Connector,
    user: Any,
    subject: str,
    before: dict[str, str],
    after: dict[str, str],
    secrets_changed: Iterable[str] = (),
) -> list[ConnectorChange]:
    """Store one history row per field whose displayed value changed (and per changed secret)."""
    rows = [
        ConnectorChange(
            connector=connector,
            user=user,
            subject=subject,
            field=name,
            old=before.get(name, ""),
            new=after[name],
        )
        for name in after
        if name not in SECRET_FIELDS and before.get(name, "") != after[name]
    ]
    rows += [
        ConnectorChange(
            connector=connector, user=user, subject=subject, field=name, old="", new=CHANGED
        )
        for name in secrets_changed
    ]
    return ConnectorChange.objects.bulk_create(rows)


def recent_changes(*, connector: Connector, subject: str | None = None, limit: int = 50):
    changes = connector.changes.select_related("user")
    if subject is not None:
        changes = changes.filter(subject=subject)
    return changes[:limit]
