"""Opportunities: the deals of the contacts prospects sync with, mirrored read-only
(``crm.Opportunity``, ``crm.OpportunityContactRole``).

An opportunity reaches Leadbridge through a contact role to a synced contact, as the guide says:
one without contact roles is never mirrored.

1. New contacts: synced contacts (``Prospect.crm_contact_id``) not read before
   (``ContactRoleScan``) have their contact roles read by ``ContactId``, 200 ids to a SOQL query
   and five queries to a Composite call — never one call per record. When more than
   ``BULK_IDS`` ids are wanted and the object holds at most ``SCAN_RATIO`` records per id (a
   first pull of a large org), one Bulk API 2.0 query reads the whole object instead
   (``Reader``): fewer API calls, and no thousand IN-lists.
2. Changes: contact roles and opportunities with ``SystemModstamp`` after the watermark (minus an
   overlap) are refreshed when they concern a synced contact or a mirrored opportunity; deleted
   ones (``queryAll``, ``IsDeleted``) are marked deleted.
3. Opportunities met through a role and not mirrored yet are read by id (in bulk, as above),
   with every contact role they have. A role to a contact no prospect syncs with is kept
   unlinked (``prospect`` null) and linked at the pull after a prospect syncs with it. An
   opportunity Salesforce does not return is kept as "not visible" (``deleted_at``).
4. Scoring: each linked prospect earns the "Opportunity created" activity once per opportunity,
   and "Opportunity won" / "Opportunity lost" once when it closes (``crm.OpportunityEvent``
   remembers what was scored, so a re-pull scores nothing twice). On PostgreSQL the events, their
   activities and the scores are written set-based, whatever the count: one statement inserts
   the new events, one more the activities and scores
   (``prospects.activities.record_activities_select``), one queues the syncs; elsewhere
   through ``record_activities``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from crm.models import ContactRoleScan, Opportunity, OpportunityContactRole, OpportunityEvent
from prospects.activities import record_activities, record_activities_select
from prospects.models import ActivityType, Prospect
from sync import bulk_sql
from sync.engine.batching import typed_rows
from sync.engine.values import parse_sf_datetime
from sync.models import Connector, SyncCursor
from sync.salesforce import Client

OVERLAP = dt.timedelta(seconds=60)
IN_LIST = 200
BULK_IDS = 2000  # beyond this many ids, consider one Bulk query of the whole object
SCAN_RATIO = 10  # ...when it holds at most this many records per wanted id
OPPORTUNITY_FIELDS = [
    "Id",
    "Name",
    "StageName",
    "Amount",
    "CloseDate",
    "Probability",
    "Type",
    "IsWon",
    "IsClosed",
    "CampaignId",
    "AccountId",
    "SystemModstamp",
]
ROLE_FIELDS = ["Id", "OpportunityId", "ContactId", "Role", "IsPrimary", "SystemModstamp"]
OPPORTUNITY_COLUMNS = [
    "sf_id",
    "name",
    "stage",
    "amount",
    "close_date",
    "probability",
    "type",
    "is_won",
    "is_closed",
    "campaign_sf_id",
    "account_sf_id",
    "sf_modified_at",
    "refreshed_at",
    "deleted_at",
]
ROLE_COLUMNS = [
    "sf_id",
    "opportunity_id",
    "contact_sf_id",
    "prospect_id",
    "role",
    "is_primary",
    "deleted",
    "sf_modified_at",
]
# The largest amount the column holds (20 digits, 2 decimals); larger ones are kept out, not cut.
AMOUNT_LIMIT = Decimal(10) ** 18


@dataclass
class OpportunitiesReport:
    contacts: int = 0  # new synced contacts whose roles were read
    roles: int = 0  # contact roles stored (new or changed)
    opportunities: int = 0  # opportunities stored (new or changed)
    deleted: int = 0  # opportunities marked deleted or not visible
    scored: int = 0  # opportunity events scored (created, won, lost per linked prospect)

    @property
    def changed(self) -> bool:
        """Anything stored: the ROI report's figures are worth rebuilding."""
        return bool(self.contacts or self.roles or self.opportunities or self.deleted)


def soql_datetime(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pull_opportunities(
    *, connector: Connector, client: Client | None = None
) -> OpportunitiesReport:
    """Mirror the opportunities of synced contacts and follow their changes and deletions."""
    client = client or Client.for_connector(connector)
    report = OpportunitiesReport()
    cursor, _ = SyncCursor.objects.get_or_create(connector=connector, sobject="Opportunity")
    started = timezone.now()
    contacts = synced_contacts()
    scanned = set(ContactRoleScan.objects.values_list("contact_sf_id", flat=True))
    new_contacts = sorted(set(contacts) - scanned)
    report.contacts = len(new_contacts)
    reader = Reader(client)
    roles = reader.by_key("OpportunityContactRole", ROLE_FIELDS, "ContactId", new_contacts)
    known = set(Opportunity.objects.order_by().values_list("sf_id", flat=True))
    changed_opps: list[dict] = []
    gone_roles: set[str] = set()
    gone_opps: set[str] = set()
    if cursor.watermark is not None:
        since = soql_datetime(cursor.watermark - OVERLAP)
        roles += [
            r
            for r in client.query_iter(
                f"SELECT {', '.join(ROLE_FIELDS)} FROM OpportunityContactRole "
                f"WHERE SystemModstamp > {since}"
            )
            if r["ContactId"] in contacts or r["OpportunityId"] in known
        ]
        if known:
            changed_opps = [
                r
                for r in client.query_iter(
                    f"SELECT {', '.join(OPPORTUNITY_FIELDS)} FROM Opportunity "
                    f"WHERE SystemModstamp > {since}"
                )
                if r["Id"] in known
            ]
        gone_roles = deleted_ids(client, "OpportunityContactRole", since)
        gone_opps = deleted_ids(client, "Opportunity", since) & known
    # Opportunities met for the first time, read by id with all their contact roles.
    new_opps = sorted({r["OpportunityId"] for r in roles} - known - gone_opps)
    fetched = reader.by_key("Opportunity", OPPORTUNITY_FIELDS, "Id", new_opps)
    roles += reader.by_key("OpportunityContactRole", ROLE_FIELDS, "OpportunityId", new_opps)
    invisible = set(new_opps) - {r["Id"] for r in fetched}
    with transaction.atomic():
        report.opportunities = store_opportunities(fetched + changed_opps)
        report.deleted = mark_deleted(invisible | gone_opps)
        report.roles = store_roles(roles, contacts, gone_roles)
        OpportunityContactRole.objects.filter(sf_id__in=sorted(gone_roles)).update(deleted=True)
        mark_scanned(new_contacts, started)
        link_roles()
        report.scored = score_events()
        SyncCursor.objects.filter(pk=cursor.pk).update(
            watermark=next_watermark(cursor.watermark, changed_opps + roles, started),
            last_run_at=timezone.now(),
        )
    return report


def next_watermark(
    watermark: dt.datetime | None, records: list[dict], started: dt.datetime
) -> dt.datetime:
    """The first pull starts the cursor at its own start; later ones move it to the newest
    change read, never past the pull's start."""
    if watermark is None:
        return started
    stamps = [parse_sf_datetime(r.get("SystemModstamp")) or started for r in records]
    return min(max([*stamps, watermark]), started)


def synced_contacts() -> dict[str, int]:
    """Contact id -> the prospect syncing with it (the oldest, when several do)."""
    pairs = (
        Prospect.objects.exclude(crm_contact_id="")
        .order_by("-pk")
        .values_list("crm_contact_id", "pk")
    )
    return dict(pairs.iterator(chunk_size=5000))


class Reader:
    """Records by key: IN-lists in Composite calls, or, for many ids in a small enough object,
    one Bulk API 2.0 query of the whole object (read once per pull, kept for the next key)."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.whole: dict[str, list[dict]] = {}

    def by_key(self, sobject: str, fields: list[str], key: str, ids: list[str]) -> list[dict]:
        if sobject in self.whole or (len(ids) > BULK_IDS and self.worth_whole(sobject, ids)):
            wanted = set(ids)
            return [r for r in self.all_rows(sobject, fields) if r.get(key) in wanted]
        return fetch_in(self.client, sobject, fields, key, ids)

    def worth_whole(self, sobject: str, ids: list[str]) -> bool:
        return self.client.query_count(f"SELECT COUNT() FROM {sobject}") <= SCAN_RATIO * len(ids)

    def all_rows(self, sobject: str, fields: list[str]) -> list[dict]:
        if sobject not in self.whole:
            described = self.client.fields_by_name(sobject)
            soql = f"SELECT {', '.join(fields)} FROM {sobject}"
            # A page lost midway is asked for again by the client (pages have locators).
            self.whole[sobject] = list(typed_rows(self.client.bulk_query(soql), described))
        return self.whole[sobject]


def fetch_in(
    client: Client, sobject: str, fields: list[str], key: str, ids: list[str]
) -> list[dict]:
    """Records whose ``key`` is among ``ids``, 200 to a query, five queries to a Composite call."""
    select = ", ".join(fields)
    queries = [
        f"SELECT {select} FROM {sobject} WHERE {key} IN ("
        + ", ".join(f"'{i}'" for i in ids[start : start + IN_LIST])
        + ")"
        for start in range(0, len(ids), IN_LIST)
    ]
    return [row for rows in client.query_many(queries) for row in rows] if queries else []


def deleted_ids(client: Client, sobject: str, since: str) -> set[str]:
    rows = client.query_all(
        f"SELECT Id FROM {sobject} WHERE IsDeleted = true AND SystemModstamp > {since}",
        include_deleted=True,
    )
    return {r["Id"] for r in rows}


def amount(value: object) -> Decimal | None:
    """A currency value as the column holds it: None for no value, a non-number, or one too
    large to hold (rather than a wrong, cut figure)."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    if not number.is_finite() or abs(number) >= AMOUNT_LIMIT:
        return None
    return number.quantize(Decimal("0.01"))


def probability(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return round(value) if 0 <= value <= 100 else None


def close_date(value: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def opportunity_row(record: dict, now: dt.datetime) -> tuple:
    """An Opportunity record as the mirror row's values, in ``OPPORTUNITY_COLUMNS`` order."""

    def text(name: str, length: int) -> str:
        return str(record.get(name) or "")[:length]

    return (
        record["Id"],
        text("Name", 120),
        text("StageName", 255),
        amount(record.get("Amount")),
        close_date(record.get("CloseDate")),
        probability(record.get("Probability")),
        text("Type", 255),
        bool(record.get("IsWon")),
        bool(record.get("IsClosed")),
        text("CampaignId", 18),
        text("AccountId", 18),
        parse_sf_datetime(record.get("SystemModstamp")),
        now,
        None,
    )


def store_opportunities(records: list[dict]) -> int:
    """Insert or refresh mirror rows: one ``COPY`` and one upsert on PostgreSQL."""
    now = timezone.now()
    latest = {r["Id"]: r for r in records}  # a record read twice: the later read wins
    bulk_sql.upsert_rows(
        Opportunity,
        OPPORTUNITY_COLUMNS,
        [opportunity_row(r, now) for r in latest.values()],
        unique="sf_id",
    )
    return len(latest)


def mark_deleted(sf_ids: set[str]) -> int:
    """Opportunities gone from Salesforce or hidden from the connector user (kept, marked)."""
    if not sf_ids:
        return 0
    now = timezone.now()
    marked = Opportunity.objects.filter(sf_id__in=sorted(sf_ids), deleted_at__isnull=True).update(
        deleted_at=now
    )
    before = Opportunity.objects.count()
    Opportunity.objects.bulk_create(
        [Opportunity(sf_id=i, deleted_at=now, refreshed_at=now) for i in sorted(sf_ids)],
        batch_size=500,
        ignore_conflicts=True,
    )
    return marked + Opportunity.objects.count() - before


def store_roles(records: Iterable[dict], contacts: dict[str, int], gone: set[str]) -> int:
    """Insert or refresh contact roles whose opportunity is mirrored, linked to the prospect
    syncing with their contact (none: kept unlinked)."""
    latest = {r["Id"]: r for r in records if r["Id"] not in gone}
    wanted = {r["OpportunityId"] for r in latest.values()}
    opp_ids = dict(
        Opportunity.objects.filter(bulk_sql.any_of("sf_id", wanted))
        .order_by()
        .values_list("sf_id", "pk")
    )
    rows = [
        (
            r["Id"],
            opp_ids[r["OpportunityId"]],
            str(r.get("ContactId") or "")[:18],
            contacts.get(r.get("ContactId") or ""),
            str(r.get("Role") or "")[:40],
            bool(r.get("IsPrimary")),
            False,
            parse_sf_datetime(r.get("SystemModstamp")),
        )
        for r in latest.values()
        if r["OpportunityId"] in opp_ids
    ]
    bulk_sql.upsert_rows(OpportunityContactRole, ROLE_COLUMNS, rows, unique="sf_id")
    return len(rows)


def mark_scanned(contacts: list[str], when: dt.datetime) -> None:
    """Remember the contacts whose roles were read (one read by a concurrent pull too: the
    later time)."""
    bulk_sql.upsert_rows(
        ContactRoleScan,
        ["contact_sf_id", "scanned_at"],
        [(c, when) for c in contacts],
        unique="contact_sf_id",
    )


def link_roles() -> None:
    """Unlinked roles whose contact a prospect now syncs with are linked, in one statement."""
    OpportunityContactRole.objects.filter(prospect__isnull=True).update(
        prospect=Subquery(
            Prospect.objects.filter(crm_contact_id=OuterRef("contact_sf_id"))
            .order_by("pk")
            .values("pk")[:1]
        )
    )


EVENT_TYPES = {
    OpportunityEvent.Kind.CREATED: ActivityType.OPPORTUNITY_CREATED,
    OpportunityEvent.Kind.WON: ActivityType.OPPORTUNITY_WON,
    OpportunityEvent.Kind.LOST: ActivityType.OPPORTUNITY_LOST,
}
SCORE_BATCH = 10000  # record_activities per call (SQLite): fewer statements, same rows
# Every event due and not scored yet: created for each live role's prospect, won or lost once
# the opportunity closes; inserted in one statement, returning only the rows it added (a
# concurrent pull that got there first adds nothing: ON CONFLICT).
NEW_EVENTS_SQL = """
INSERT INTO crm_opportunityevent (opportunity_id, prospect_id, kind, recorded_at)
SELECT DISTINCT r.opportunity_id, r.prospect_id, k.kind, %(now)s
FROM crm_opportunitycontactrole r
JOIN crm_opportunity o ON o.id = r.opportunity_id
CROSS JOIN (SELECT 'created' AS kind UNION ALL SELECT 'won' UNION ALL SELECT 'lost') AS k
WHERE r.prospect_id IS NOT NULL AND NOT r.deleted AND o.deleted_at IS NULL
  AND (k.kind = 'created' OR (k.kind = 'won' AND o.is_closed AND o.is_won)
       OR (k.kind = 'lost' AND o.is_closed AND NOT o.is_won))
  AND NOT EXISTS (
    SELECT 1 FROM crm_opportunityevent e
    WHERE e.opportunity_id = r.opportunity_id AND e.prospect_id = r.prospect_id
      AND e.kind = k.kind)
ON CONFLICT (opportunity_id, prospect_id, kind) DO NOTHING
RETURNING id, opportunity_id, prospect_id, kind
"""
# The activities of those events (PostgreSQL): the details as the Python path writes them
# (the amount with thousands separators and cents, as f"{amount:,.2f}").
EVENT_ACTIVITIES_SQL = """
SELECT e.prospect_id,
       CASE e.kind WHEN 'created' THEN %s WHEN 'won' THEN %s ELSE %s END AS type,
       CASE e.kind WHEN 'created' THEN %s WHEN 'won' THEN %s ELSE %s END AS title,
       jsonb_build_object(
           'Opportunity', coalesce(nullif(o.name, ''), o.sf_id),
           'Stage', o.stage,
           'Amount', coalesce(
               to_char(o.amount, 'FM999,999,999,999,999,999,990.00'), ''),
           'Salesforce id', o.sf_id) AS details
FROM crm_opportunityevent e
JOIN crm_opportunity o ON o.id = e.opportunity_id
WHERE e.id = ANY(%s)
"""
KINDS = list(OpportunityEvent.Kind)  # created, won, lost: EVENT_ACTIVITIES_SQL's order


def score_events() -> int:
    """Record (and so score) every opportunity event not scored yet; returns how many.

    Runs inside the pull's transaction: the events and their activities commit together. On
    PostgreSQL the activities are inserted and scored from the new events in one statement
    (``record_activities_select``); elsewhere through ``record_activities``.
    """
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(NEW_EVENTS_SQL, {"now": now})
        new = cursor.fetchall()
    if not new:
        return 0
    if connection.vendor == "postgresql":
        record_activities_select(
            EVENT_ACTIVITIES_SQL,
            [
                *(str(EVENT_TYPES[k]) for k in KINDS),
                *(str(k.label) for k in KINDS),
                [event_id for event_id, _, _, _ in new],
            ],
            types=[EVENT_TYPES[k] for k in KINDS],
            occurred_at=now,
        )
    else:
        record_each(new, now)
    return len(new)


def record_each(new: list[tuple], now: dt.datetime) -> None:
    """The events' activities through ``record_activities``, a batch per kind (SQLite)."""
    opportunities = {
        o.pk: o
        for o in Opportunity.objects.filter(pk__in={opp for _, opp, _, _ in new}).only(
            "sf_id", "name", "stage", "amount"
        )
    }
    by_kind: dict[str, list[tuple[int, dict]]] = {}
    for _, opp_id, prospect_id, kind in new:
        opportunity = opportunities[opp_id]
        details = {
            "Opportunity": opportunity.name or opportunity.sf_id,
            "Stage": opportunity.stage,
            "Amount": "" if opportunity.amount is None else f"{opportunity.amount:,.2f}",
            "Salesforce id": opportunity.sf_id,
        }
        by_kind.setdefault(kind, []).append((prospect_id, details))
    for kind, items in by_kind.items():
        for start in range(0, len(items), SCORE_BATCH):
            record_activities(
                items[start : start + SCORE_BATCH],
                EVENT_TYPES[kind],
                title=str(OpportunityEvent.Kind(kind).label),
                occurred_at=now,
                insert=bulk_sql.insert,
            )
