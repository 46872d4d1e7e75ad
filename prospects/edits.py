"""Saving a marketer's edit without undoing what changed while the form was open.

A form opened at 10:00 and saved at 10:05 must not put back the values it showed at 10:00: a
pull, a Sync Errors fix or a colleague may have changed them meanwhile. So every edit form
carries what it showed (signed, so a page cannot claim to have shown something else), and on
save, under a row lock:

1. A field the marketer did not change is left as it is now, whatever the form still holds.
2. A field the marketer changed is saved, unless it also changed underneath to something else:
   that is a *conflict*, shown with both values, and nothing is saved until the marketer
   chooses which one to keep.

The prospect edit page (``ProspectForm``) and the Sync Errors fix form both work this way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.core.serializers.json import DjangoJSONEncoder

from prospects.models import CUSTOM_PREFIX, Direction, Prospect, SyncHistory

SALT = "prospects.edits.shown"


class StaleForm(Exception):
    """The form's record of what it showed is missing its signature or belongs elsewhere."""


@dataclass(frozen=True)
class Conflict:
    """A field both the marketer and someone else changed since the form was shown."""

    field: str
    label: str
    shown: str  # what the form showed
    yours: str  # what the marketer entered
    theirs: str  # what the prospect holds now
    by: str | None = None  # who changed it meanwhile, when the history says

    @property
    def message(self) -> str:
        who = f" by {self.by}" if self.by else ""
        return (
            f"While you were editing, {self.label} was changed{who} from “{self.shown}” to "
            f"“{self.theirs}”. You entered “{self.yours}”. Nothing was saved."
        )


def sign_shown(
    prospect: Prospect, values: dict[str, Any], *, conflicts: list[str] | None = None
) -> str:
    """A signed token of the values a form shows (field name → value) for this prospect."""
    payload = {
        "pk": prospect.pk,
        "values": json.loads(json.dumps(values, cls=DjangoJSONEncoder)),
        "conflicts": conflicts or [],
    }
    return signing.dumps(payload, salt=SALT, compress=True)


def read_shown(token: str, prospect: Prospect) -> dict:
    """The payload of ``sign_shown`` (``values``, ``conflicts``); raises StaleForm if forged."""
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature as exc:
        raise StaleForm from exc
    if not isinstance(payload, dict) or payload.get("pk") != prospect.pk:
        raise StaleForm
    return payload


def display(value: Any) -> str:
    """A value as the conflict message shows it."""
    if value is None or value == "" or value == []:
        return "(blank)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return str(value)


def jsonable(value: Any) -> Any:
    """A value as a history row keeps it: as is when JSON can hold it, else as text (a related
    row by its name, a number with its decimals)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    return str(value)


def changed_by(prospect: Prospect, field: str) -> str | None:
    """Who last changed ``field``, from the prospect's recent history: a user, or Salesforce."""
    for entry in prospect.sync_history.all()[:25]:
        if any(change.get("field") == field for change in entry.changes or []):
            if entry.direction == Direction.INBOUND:
                return "Salesforce"
            if entry.direction == Direction.LOCAL:
                return entry.who
    return None


def column_of(name: str) -> str:
    """The database column that holds prospect field ``name``."""
    return "custom_fields" if name.startswith(CUSTOM_PREFIX) else name


def save_changes(
    *,
    prospect: Prospect,
    values: dict[str, Any],
    actor,
    operation: str,
    reason: str,
    definitions: dict | None = None,
) -> list[dict]:
    """Write ``values`` (field name → new value) on ``prospect``, which the caller has locked,
    and note who did it; returns the changes as history keeps them (field, old, new).

    Only these fields' columns are written, and each is stamped for "most recent value wins".
    """
    changes = []
    for name, value in values.items():
        old = prospect.get_field(name)
        prospect.set_field(name, value, definitions=definitions)
        changes.append(
            {"field": name, "old": jsonable(old), "new": jsonable(prospect.get_field(name))}
        )
    if not changes:
        return []
    prospect.stamp_changes(values)
    columns = {column_of(name) for name in values}
    prospect.save(update_fields=sorted(columns | {"field_changed_at", "updated_at"}))
    SyncHistory.objects.record_action(
        [prospect.pk], actor=actor, operation=operation, reason=reason, changes=changes
    )
    return changes
