"""Accounts: the Salesforce Accounts linked to prospects, mirrored read-only (``crm.Account``).

1. New links: account ids on prospects (a contact's account, a person account) that the mirror
   does not hold are read by id, 200 to a SOQL query and five queries to a Composite call —
   never one call per record. An id Salesforce does not return is kept as "not visible".
2. Changes: accounts with ``SystemModstamp`` after the watermark (minus an overlap) that the
   mirror holds are refreshed; deleted ones (``queryAll``, ``IsDeleted``) are marked deleted.
3. A contact's company is its account's name (Salesforce is its master, as the guide says):
   prospects syncing with a contact of a changed business account take the name, under a row
   lock, with a history entry. It goes nowhere: Contact has no company field to write.
The standard fields, plus the ones a Sync admin picks (``AccountSettings.extra_fields``; those
the connector user cannot read are listed on the accounts page), make up the query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from crm.models import Account, AccountSettings
from crm.models.accounts import STANDARD_FIELDS
from prospects.models import Direction, Prospect, SyncHistory
from sync.engine.values import parse_sf_datetime
from sync.models import Connector, SyncCursor
from sync.salesforce import Client

OVERLAP = dt.timedelta(seconds=60)
IN_LIST = 200
COLUMNS = [*STANDARD_FIELDS.values(), "extra", "modified_at", "refreshed_at", "deleted_at"]


@dataclass
class AccountsReport:
    fetched: int = 0  # new links read by id
    refreshed: int = 0  # changed accounts applied
    deleted: int = 0
    companies: int = 0  # contact prospects whose company changed


def soql_datetime(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def account_select(client: Client) -> tuple[list[str], list[str]]:
    """The Account fields to read, and the admin's extra fields Salesforce does not show."""
    available = client.fields_by_name("Account")
    extra = AccountSettings.load().extra_fields
    wanted = ["Id", "SystemModstamp", *STANDARD_FIELDS, *extra]
    names = list(dict.fromkeys(n for n in wanted if n in available))
    return names, [n for n in extra if n not in available]


def pull_accounts(*, connector: Connector, client: Client | None = None) -> AccountsReport:
    """Mirror new links and changed accounts; move account names to contacts' company."""
    client = client or Client.for_connector(connector)
    report = AccountsReport()
    names, missing = account_select(client)
    AccountSettings.objects.update_or_create(pk=1, defaults={"missing_fields": missing})
    select = ", ".join(names)
    cursor, _ = SyncCursor.objects.get_or_create(connector=connector, sobject="Account")
    started = timezone.now()
    known = set(Account.objects.values_list("sf_id", flat=True))
    linked = set(
        Prospect.objects.exclude(crm_account_id="")
        .values_list("crm_account_id", flat=True)
        .distinct()
    )
    new = sorted(linked - known)
    rows = fetch_by_id(client, select, new)
    report.fetched = len(rows)
    changed: list[dict] = []
    deleted: list[str] = []
    if cursor.watermark is not None and known:
        since = soql_datetime(cursor.watermark - OVERLAP)
        changed = [
            r
            for r in client.query_iter(
                f"SELECT {select} FROM Account WHERE SystemModstamp > {since}"
            )
            if r["Id"] in known
        ]
        gone = client.query_all(
            f"SELECT Id FROM Account WHERE IsDeleted = true AND SystemModstamp > {since}",
            include_deleted=True,
        )
        deleted = [r["Id"] for r in gone if r["Id"] in known]
    report.refreshed = len(changed)
    with transaction.atomic():
        extra = [n for n in names if n not in STANDARD_FIELDS and n not in ("Id", "SystemModstamp")]
        store(rows + changed, extra=extra)
        missing_ids = set(new) - {r["Id"] for r in rows}
        mark_deleted(missing_ids | set(deleted))
        report.deleted = len(deleted)
        report.companies = take_company(rows + changed)
        newest = max(
            [parse_sf_datetime(r.get("SystemModstamp")) or started for r in changed]
            + [cursor.watermark or started],
        )
        SyncCursor.objects.filter(pk=cursor.pk).update(
            watermark=newest if cursor.watermark else started, last_run_at=timezone.now()
        )
    return report


def fetch_by_id(client: Client, select: str, ids: list[str]) -> list[dict]:
    """Accounts by id, 200 to a query, five queries to a Composite call."""
    queries = [
        f"SELECT {select} FROM Account WHERE Id IN ("
        + ", ".join(f"'{i}'" for i in ids[start : start + IN_LIST])
        + ")"
        for start in range(0, len(ids), IN_LIST)
    ]
    return [row for rows in client.query_many(queries) for row in rows] if queries else []


def mirror_row(record: dict, extra: list[str], now: dt.datetime) -> Account:
    values = {column: record.get(name) for name, column in STANDARD_FIELDS.items()}
    account = Account(
        sf_id=record["Id"],
        extra={name: record.get(name) for name in extra},
        modified_at=parse_sf_datetime(record.get("SystemModstamp")),
        refreshed_at=now,
        deleted_at=None,
    )
    for column, value in values.items():
        field = Account._meta.get_field(column)
        if column == "employees":
            value = value if isinstance(value, int) and value >= 0 else None
        elif column == "annual_revenue":
            value = _decimal(value)
        elif column == "is_person_account":
            value = bool(value)
        else:
            value = str(value or "")[: field.max_length]
        setattr(account, column, value)
    return account


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None
    return number if abs(number) < Decimal(10) ** 18 else None


def store(records: list[dict], *, extra: list[str]) -> None:
    """Insert or refresh mirror rows in one statement per 500."""
    now = timezone.now()
    latest = {r["Id"]: r for r in records}  # a record read twice: the later read wins
    Account.objects.bulk_create(
        [mirror_row(r, extra, now) for r in latest.values()],
        batch_size=500,
        update_conflicts=True,
        unique_fields=["sf_id"],
        update_fields=COLUMNS,
    )


def mark_deleted(sf_ids: set[str]) -> None:
    """Accounts gone from Salesforce or hidden from the connector user (kept, marked)."""
    if not sf_ids:
        return
    now = timezone.now()
    Account.objects.filter(sf_id__in=sf_ids, deleted_at__isnull=True).update(deleted_at=now)
    Account.objects.bulk_create(
        [Account(sf_id=i, deleted_at=now, refreshed_at=now) for i in sorted(sf_ids)],
        ignore_conflicts=True,
    )


def take_company(records: list[dict]) -> int:
    """Contacts' company from their business account's name; returns prospects changed.

    The prospects are read under a row lock (pk order, as every locker does) and only the
    company column is written, with one history entry each.
    """
    names = {
        r["Id"]: str(r.get("Name") or "")[:255]
        for r in records
        if not r.get("IsPersonAccount") and r.get("Name")
    }
    if not names:
        return 0
    prospects = list(
        Prospect.objects.filter(crm_account_id__in=list(names), crm_person_account=False)
        .exclude(crm_contact_id="")
        .order_by("pk")
        .select_for_update(of=("self",))
        .only("pk", "company", "crm_account_id", "crm_contact_id")
    )
    now = timezone.now()
    changed, history = [], []
    for prospect in prospects:
        name = names[prospect.crm_account_id]
        if prospect.company == name:
            continue
        history.append(
            SyncHistory(
                prospect_id=prospect.pk,
                at=now,
                direction=Direction.INBOUND,
                operation="pull",
                sobject="Account",
                record_id=prospect.crm_account_id,
                changes=[
                    {
                        "field": "company",
                        "sf_field": "Account.Name",
                        "old": prospect.company,
                        "new": name,
                        "direction": "inbound",
                        "rule": "salesforce",
                    }
                ],
                result=SyncHistory.Result.OK,
                message="A contact's company is its account's name.",
            )
        )
        prospect.company, prospect.updated_at = name, now
        changed.append(prospect)
    Prospect.objects.bulk_update(changed, ["company", "updated_at"], batch_size=500)
    SyncHistory.objects.bulk_create(history, batch_size=500)
    return len(changed)
