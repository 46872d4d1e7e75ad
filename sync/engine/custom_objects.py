"""Custom objects: records of the Salesforce custom objects a Sync admin picked, mirrored
read-only for the prospects they relate to (``crm.CustomObjectDefinition``,
``crm.CustomObjectRecord``).

For each picked object, at every pull:

1. Rule check: when the object's Marketing Data Sharing rule changed since the last pull, the
   mirror of that object is rebuilt (its records and scans dropped, the watermark cleared), so
   records a new rule excludes go and those a removed rule kept out come.
2. New parents: leads, contacts or accounts (whichever the lookup points at) that prospects sync
   with and that were not read before (``CustomObjectScan``) have their records read by lookup,
   200 ids to a SOQL query and five queries to a Composite call.
3. Changes: records with ``SystemModstamp`` after the watermark (minus an overlap) are refreshed
   when their lookup points at a synced parent or they are mirrored already (a record moved to
   another parent leaves the mirror); deleted ones (``queryAll``, ``IsDeleted``) are removed.
4. Data sharing: a record whose rule field does not equal the rule's value is never mirrored,
   and one that stops matching is removed.

An object or field the connector user can no longer read (``INVALID_TYPE``, ``INVALID_FIELD``,
insufficient access) is noted on the definition (``problem``) and skipped; the connector's
verification reports it as a finding. The other objects and the rest of the pull go on.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from crm.models import CustomObjectDefinition, CustomObjectRecord, CustomObjectScan
from prospects.models import Prospect
from sync.engine.opportunities import OVERLAP, deleted_ids, fetch_in, soql_datetime
from sync.engine.values import parse_sf_datetime
from sync.models import Connector, DataSharingRule
from sync.salesforce import Client, SalesforceError

# Salesforce's answers when the connector user lost an object or one of its fields.
ACCESS_CODES = frozenset(
    {
        "INVALID_TYPE",
        "INVALID_FIELD",
        "INSUFFICIENT_ACCESS",
        "INSUFFICIENT_ACCESS_OR_READONLY",
        "NOT_FOUND",
        "HTTP_403",
        "HTTP_404",
    }
)
NAME_LENGTH = 255


@dataclass
class CustomObjectsReport:
    objects: int = 0  # custom objects pulled
    records: int = 0  # records stored (new or changed)
    removed: int = 0  # records removed (deleted, moved away, excluded by data sharing)
    problems: int = 0  # objects skipped: the connector user cannot read them


def is_access_problem(exc: SalesforceError) -> bool:
    return exc.code in ACCESS_CODES or exc.status in (403, 404)


def pull_custom_objects(
    *, connector: Connector, client: Client | None = None
) -> CustomObjectsReport:
    """Mirror every picked custom object's records for the prospects they relate to."""
    report = CustomObjectsReport()
    definitions = list(CustomObjectDefinition.objects.all())
    if not definitions:
        return report
    client = client or Client.for_connector(connector)
    rules = {r.sobject: r for r in DataSharingRule.objects.filter(connector=connector)}
    for definition in definitions:
        try:
            pull_definition(
                definition, client=client, rule=rules.get(definition.api_name), report=report
            )
        except SalesforceError as exc:
            if not is_access_problem(exc):
                raise
            note_problem(definition, exc)
            report.problems += 1
    return report


def note_problem(definition: CustomObjectDefinition, exc: SalesforceError) -> None:
    # Salesforce echoes the SOQL before its sentence; its last line says what is wrong.
    reason = (exc.message or "").strip().splitlines()[-1:] or [""]
    problem = f"{exc.code}: the connector user cannot read {definition.api_name}. {reason[0]}"
    CustomObjectDefinition.objects.filter(pk=definition.pk).update(problem=problem[:500])


def sharing_key(rule: DataSharingRule | None) -> str:
    return f"{rule.field}={rule.value}" if rule else ""


def pull_definition(
    definition: CustomObjectDefinition,
    *,
    client: Client,
    rule: DataSharingRule | None,
    report: CustomObjectsReport,
) -> None:
    """One object's pull (the module's steps 1–4), committed in one transaction."""
    started = timezone.now()
    if definition.sharing_key != sharing_key(rule):
        with transaction.atomic():
            definition.records.all().delete()
            definition.scans.all().delete()
            definition.watermark = None
            definition.sharing_key = sharing_key(rule)
            definition.save(update_fields=["watermark", "sharing_key"])
    parents = synced_parents(definition)
    scanned = set(definition.scans.values_list("parent_sf_id", flat=True))
    new_parents = sorted(parents - scanned)
    fields = select_fields(definition, rule)
    records = fetch_in(client, definition.api_name, fields, definition.lookup_field, new_parents)
    gone: set[str] = set()
    if definition.watermark is not None:
        since = soql_datetime(definition.watermark - OVERLAP)
        known = set(definition.records.values_list("sf_id", flat=True))
        records += [
            r
            for r in client.query_iter(
                f"SELECT {', '.join(fields)} FROM {definition.api_name} "
                f"WHERE SystemModstamp > {since}"
            )
            if r.get(definition.lookup_field) in parents or r["Id"] in known
        ]
        gone = deleted_ids(client, definition.api_name, since)
    latest = {r["Id"]: r for r in records}
    keep = {
        i: r
        for i, r in latest.items()
        if i not in gone and r.get(definition.lookup_field) in parents and shared(rule, r)
    }
    drop = (set(latest) - set(keep)) | gone
    with transaction.atomic():
        report.records += store_records(definition, keep.values(), lookup=definition.lookup_field)
        report.removed += definition.records.filter(sf_id__in=sorted(drop)).delete()[0]
        CustomObjectScan.objects.bulk_create(
            [CustomObjectScan(definition=definition, parent_sf_id=p) for p in new_parents],
            batch_size=1000,
            ignore_conflicts=True,
        )
        newest = max(
            [parse_sf_datetime(r.get("SystemModstamp")) or started for r in latest.values()]
            + [definition.watermark or started]
        )
        CustomObjectDefinition.objects.filter(pk=definition.pk).update(
            watermark=min(newest, started) if definition.watermark else started,
            last_pulled_at=timezone.now(),
            problem="",
        )
    report.objects += 1


def synced_parents(definition: CustomObjectDefinition) -> set[str]:
    """The Salesforce ids prospects sync with, of the kind the lookup points at."""
    column = definition.prospect_column
    ids = Prospect.objects.exclude(**{column: ""}).values_list(column, flat=True)
    return set(ids.iterator(chunk_size=5000))


def select_fields(definition: CustomObjectDefinition, rule: DataSharingRule | None) -> list[str]:
    names = ["Id", "Name", definition.lookup_field, "SystemModstamp", *definition.field_names]
    if rule is not None:
        names.append(rule.field)
    return list(dict.fromkeys(names))  # in order, once each


def shared(rule: DataSharingRule | None, record: dict) -> bool:
    """Marketing Data Sharing, as for leads and contacts: the field equals the value exactly."""
    if rule is None:
        return True
    value = record.get(rule.field)
    if isinstance(value, bool):
        value = "true" if value else "false"
    return str(value if value is not None else "") == rule.value


def store_records(definition: CustomObjectDefinition, records, *, lookup: str) -> int:
    """Insert or refresh mirror rows, one statement per 500."""
    now = timezone.now()
    rows = [
        CustomObjectRecord(
            definition=definition,
            sf_id=r["Id"],
            name=str(r.get("Name") or "")[:NAME_LENGTH],
            parent_sf_id=str(r.get(lookup) or "")[:18],
            values={name: r.get(name) for name in definition.field_names},
            sf_modified_at=parse_sf_datetime(r.get("SystemModstamp")),
            refreshed_at=now,
        )
        for r in records
    ]
    CustomObjectRecord.objects.bulk_create(
        rows,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["sf_id"],
        update_fields=["name", "parent_sf_id", "values", "sf_modified_at", "refreshed_at"],
    )
    return len(rows)


def refresh_definition_fields(definition: CustomObjectDefinition) -> None:
    """A changed field list needs the records read again: drop scans and clear the watermark."""
    with transaction.atomic():
        definition.scans.all().delete()
        CustomObjectDefinition.objects.filter(pk=definition.pk).update(watermark=None)
