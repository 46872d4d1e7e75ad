"""Picking the Salesforce custom objects the connector mirrors (the Custom objects page).

What the org offers comes from describe, as the connector user sees it: describeGlobal's
queryable objects ending ``__c``, and of one object its lookups to Lead, Contact or Account and
the fields worth showing. Saving a choice (``save_definition``) records it in the connector's
history; the pull (``sync/engine/custom_objects.py``) does the mirroring.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from crm.models import CustomObjectDefinition, LookupTarget
from sync import settings_history
from sync.models import Connector
from sync.salesforce import Client

TARGETS = [t.value for t in LookupTarget]
# Field types shown on the prospect page (values a marketer reads; no ids, blobs or locations).
SHOWN_TYPES = frozenset(
    {
        "string",
        "picklist",
        "multipicklist",
        "boolean",
        "currency",
        "double",
        "int",
        "percent",
        "date",
        "datetime",
        "email",
        "phone",
        "url",
        "textarea",
    }
)
MAX_FIELDS = 20


@dataclass(frozen=True)
class Lookup:
    name: str
    label: str
    target: str

    @property
    def key(self) -> str:
        return f"{self.name}:{self.target}"


def available_objects(client: Client) -> list[dict]:
    """The custom objects the connector user can query: [{"name", "label"}], by label."""
    sobjects = client.describe_global().get("sobjects") or []
    found = [
        {"name": o["name"], "label": o.get("label") or o["name"]}
        for o in sobjects
        if o.get("custom") and o["name"].endswith("__c") and o.get("queryable")
    ]
    return sorted(found, key=lambda o: (o["label"].lower(), o["name"]))


def lookups(describe: dict) -> list[Lookup]:
    """The object's lookups to Lead, Contact or Account (one per target of a polymorphic one)."""
    return [
        Lookup(f["name"], f.get("label") or f["name"], target)
        for f in describe.get("fields") or []
        if f.get("type") == "reference"
        for target in f.get("referenceTo") or []
        if target in TARGETS
    ]


def shown_fields(describe: dict) -> list[dict]:
    """Fields a marketer may want on the prospect page: custom fields of readable types."""
    return [
        {"name": f["name"], "label": f.get("label") or f["name"], "type": f["type"]}
        for f in describe.get("fields") or []
        if f.get("custom") and f.get("type") in SHOWN_TYPES
    ]


def save_definition(
    *,
    connector: Connector,
    describe: dict,
    lookup: Lookup,
    fields: list[dict],
    user,
) -> CustomObjectDefinition:
    """Create or change the mirror of one custom object, with history.

    A changed lookup drops the mirrored records (they related through the old one); a changed
    lookup or field list makes the next pull read every record again.
    """
    api_name = describe["name"]
    with transaction.atomic():
        definition = (
            CustomObjectDefinition.objects.select_for_update().filter(api_name=api_name).first()
        )
        before = _summary(definition) if definition else {}
        if definition is None:
            definition = CustomObjectDefinition(api_name=api_name, created_by=user)
        relinked = definition.pk and (
            definition.lookup_field != lookup.name or definition.lookup_to != lookup.target
        )
        refetch = relinked or (definition.pk and definition.fields != fields)
        definition.label = (describe.get("label") or api_name)[:255]
        definition.lookup_field = lookup.name
        definition.lookup_to = lookup.target
        definition.fields = fields
        definition.save()
        if relinked:
            definition.records.all().delete()
        if refetch:
            definition.scans.all().delete()
            CustomObjectDefinition.objects.filter(pk=definition.pk).update(watermark=None)
        settings_history.record_changes(
            connector=connector,
            user=user,
            subject=f"custom object: {api_name}"[:100],
            before=before,
            after=_summary(definition),
        )
    return definition


def remove_definition(*, connector: Connector, definition: CustomObjectDefinition, user) -> None:
    """Stop mirroring an object: its definition and records go, the history says who did it."""
    with transaction.atomic():
        settings_history.record_changes(
            connector=connector,
            user=user,
            subject=f"custom object: {definition.api_name}"[:100],
            before=_summary(definition),
            after={"relates through": "(not mirrored)", "fields": ""},
        )
        definition.delete()


def _summary(definition: CustomObjectDefinition) -> dict[str, str]:
    return {
        "relates through": f"{definition.lookup_field} → {definition.lookup_to}",
        "fields": ", ".join(definition.field_names),
    }
