"""Salesforce campaigns and campaign members: the pull that mirrors them, the push that writes
the portal's memberships.

Pull (:func:`pull_campaigns`, run by every pull after Leads and Contacts):

1. ``Campaign`` and ``CampaignMemberStatus`` records changed since their watermarks are saved
   to the mirror; deleted campaigns are marked so, and their memberships say why they stop.
2. ``CampaignMember`` records changed since the watermark (a Bulk API 2.0 query above
   ``BULK_ABOVE``) are applied 2,000 at a time: linked to prospects by their lead or contact
   id, created, re-statused or adopted (a pending membership of the same prospect and
   campaign). A membership with a local change not yet sent keeps it: the push sends it next.
3. Deleted members remove their memberships (noted in the prospect's history).

Push (:func:`push_memberships`): pending memberships whose prospect has a lead or contact are
claimed (skip-locked), written as sObject Collections (five to a Composite call), or as one Bulk
API 2.0 insert job per campaign above ``BULK_MIN`` new members, and settled: only the generation
sent is marked synced. A create refused with DUPLICATE_VALUE ("Already a campaign member.") is
the member someone else created (or a lost answer's): it is found and adopted. Other refusals
are Sync Errors rows of object ``CampaignMember``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from crm.memberships import refresh_counts
from crm.models import (
    CampaignMembership,
    CampaignMemberStatus,
    MembershipState,
    SalesforceCampaign,
)
from prospects.models import Direction, Prospect, SyncHistory
from sync import bulk_sql
from sync import describe as describes
from sync.engine.batching import chunked, in_transaction, typed_rows
from sync.engine.values import parse_sf_datetime
from sync.errors.records import record_sync_error, resolve_membership_errors
from sync.models import MEMBER_SOBJECT, Connector, SyncCursor
from sync.salesforce import COLLECTION_SIZE, Client, SalesforceError

log = logging.getLogger(__name__)

CHUNK = 2000
BULK_ABOVE = 2000  # changed members read with a Bulk API 2.0 query above this
BULK_MIN = 2000  # new members of one campaign written with a Bulk API 2.0 insert above this
CLAIM = 10_000  # memberships claimed per push round
CLAIM_TIMEOUT = dt.timedelta(minutes=10)  # a claim older than this was a dead worker's
MAX_ATTEMPTS = 5  # transient failures before a membership is an error
IN_LIST = 150  # ids per "IN (...)" lookup
CAMPAIGN_FIELDS = (
    "Id",
    "Name",
    "Type",
    "Status",
    "IsActive",
    "StartDate",
    "EndDate",
    "BudgetedCost",
    "ActualCost",
    "ParentId",
    "SystemModstamp",
)
STATUS_FIELDS = (
    "Id",
    "CampaignId",
    "Label",
    "IsDefault",
    "HasResponded",
    "SortOrder",
    "SystemModstamp",
)
MEMBER_FIELDS = (
    "Id",
    "CampaignId",
    "LeadId",
    "ContactId",
    "Status",
    "HasResponded",
    "FirstRespondedDate",
    "SystemModstamp",
)


PULLED = {
    "Campaign": CAMPAIGN_FIELDS,
    "CampaignMemberStatus": STATUS_FIELDS,
    "CampaignMember": MEMBER_FIELDS,
}


@dataclass
class CampaignReport:
    """What a campaign pull or member push did (counts only)."""

    counts: Counter = field(default_factory=Counter)
    api_calls: int = 0

    def __str__(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items())) or "nothing"


def soql_datetime(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _in(ids: Iterable[str]) -> str:
    return ", ".join(f"'{i}'" for i in ids)


# -- pull -----------------------------------------------------------------------------------------


class CampaignPuller:
    def __init__(self, connector: Connector, client: Client) -> None:
        self.connector = connector
        self.client = client
        self.report = CampaignReport()
        self.touched: set[int] = set()
        self.cursors: dict[str, SyncCursor] = {}
        self.bulk_soql: dict[str, str] = {}
        self.first: dict[str, list[dict]] = {}
        self.gone: dict[str, list[dict]] = {}

    def cursor(self, sobject: str) -> SyncCursor:
        return SyncCursor.objects.get_or_create(connector=self.connector, sobject=sobject)[0]

    def survey(self) -> None:
        """Two Composite calls for the three objects: what changed since each watermark (the
        oldest ``BULK_ABOVE`` + 1, everything on the first pull) and what was deleted. An idle
        pull costs just these two calls."""
        self.cursors = {sobject: self.cursor(sobject) for sobject in PULLED}
        changed, deleted = [], []
        for sobject, fields in PULLED.items():
            cursor = self.cursors[sobject]
            available = self.client.fields_by_name(sobject)
            select = ", ".join(f for f in fields if f in available)
            mark = cursor.watermark
            where = f" WHERE SystemModstamp > {soql_datetime(mark - OVERLAP)}" if mark else ""
            self.bulk_soql[sobject] = f"SELECT {select} FROM {sobject}{where}"
            changed.append(
                f"{self.bulk_soql[sobject]} ORDER BY SystemModstamp LIMIT {BULK_ABOVE + 1}"
            )
            gone = cursor.deleted_watermark
            where = f" AND SystemModstamp > {soql_datetime(gone - OVERLAP)}" if gone else ""
            deleted.append(
                f"SELECT Id, SystemModstamp FROM {sobject} WHERE IsDeleted = true{where}"
            )
        self.first = dict(zip(PULLED, self.client.query_many(changed), strict=True))
        self.gone = dict(
            zip(PULLED, self.client.query_many(deleted, include_deleted=True), strict=True)
        )

    def changed(self, sobject: str) -> tuple[Iterable[dict], bool]:
        """The changed records, and whether they come oldest first (a Bulk API 2.0 query
        above ``BULK_ABOVE`` returns them in no order)."""
        records = self.first[sobject]
        if len(records) <= BULK_ABOVE:
            return records, True
        self.report.counts["bulk_jobs"] += 1
        available = self.client.fields_by_name(sobject)
        rows = self.client.bulk_query(self.bulk_soql[sobject])
        return typed_rows(rows, available), False

    def advance(self, cursor: SyncCursor, records: list[dict], mark: str = "watermark") -> None:
        stamps = [
            parse_sf_datetime(r["SystemModstamp"]) for r in records if r.get("SystemModstamp")
        ]
        newest = max([s for s in stamps if s] + [getattr(cursor, mark) or _EPOCH])
        if newest != _EPOCH:
            setattr(cursor, mark, newest)
            SyncCursor.objects.filter(pk=cursor.pk).update(
                **{mark: newest}, last_run_at=timezone.now()
            )

    # -- campaigns and statuses ---------------------------------------------------------------
    def pull_campaigns(self) -> None:
        cursor = self.cursors["Campaign"]
        records = list(self.changed("Campaign")[0])
        with transaction.atomic():
            self.save_campaigns(records)
            self.advance(cursor, records)
        gone = self.gone["Campaign"]
        with transaction.atomic():
            self.mark_deleted([r["Id"] for r in gone])
            self.advance(cursor, gone, "deleted_watermark")

    def save_campaigns(self, records: list[dict]) -> None:
        now = timezone.now()
        known = SalesforceCampaign.objects.in_bulk([r["Id"] for r in records], field_name="sf_id")
        for record in records:
            campaign = known.get(record["Id"]) or SalesforceCampaign(sf_id=record["Id"])
            campaign.name = (record.get("Name") or record["Id"])[:255]
            campaign.type = record.get("Type") or ""
            campaign.status = record.get("Status") or ""
            campaign.is_active = bool(record.get("IsActive"))
            campaign.start_date = _date(record.get("StartDate"))
            campaign.end_date = _date(record.get("EndDate"))
            campaign.budgeted_cost = _money(record.get("BudgetedCost"))
            campaign.actual_cost = _money(record.get("ActualCost"))
            campaign.parent_sf_id = record.get("ParentId") or ""
            campaign.sf_modified_at = parse_sf_datetime(record.get("SystemModstamp"))
            campaign.deleted_at = None  # changed, so alive (an undelete comes back this way)
            campaign.refreshed_at = now
            campaign.save()
            self.report.counts["campaigns"] += 1
        parents = dict(SalesforceCampaign.objects.values_list("sf_id", "pk"))
        for campaign in SalesforceCampaign.objects.exclude(parent_sf_id=""):
            parent_id = parents.get(campaign.parent_sf_id)
            if campaign.parent_id != parent_id:
                SalesforceCampaign.objects.filter(pk=campaign.pk).update(parent_id=parent_id)

    def mark_deleted(self, sf_ids: list[str]) -> None:
        """Deleted campaigns stay listed as such; their memberships say why they stop."""
        campaigns = list(
            SalesforceCampaign.objects.filter(sf_id__in=sf_ids, deleted_at__isnull=True)
        )
        now = timezone.now()
        for campaign in campaigns:
            SalesforceCampaign.objects.filter(pk=campaign.pk).update(deleted_at=now)
            CampaignMembership.objects.filter(campaign=campaign).update(
                state=MembershipState.ERROR,
                claimed_at=None,
                error_message=deleted_campaign_message(campaign),
            )
            self.report.counts["campaigns_deleted"] += 1

    def pull_statuses(self) -> None:
        cursor = self.cursors["CampaignMemberStatus"]
        records = list(self.changed("CampaignMemberStatus")[0])
        campaigns = dict(SalesforceCampaign.objects.values_list("sf_id", "pk"))
        with transaction.atomic():
            for record in records:
                campaign_id = campaigns.get(record.get("CampaignId"))
                if campaign_id is None:
                    continue
                CampaignMemberStatus.objects.update_or_create(
                    sf_id=record["Id"],
                    defaults={
                        "campaign_id": campaign_id,
                        "label": record.get("Label") or "",
                        "is_default": bool(record.get("IsDefault")),
                        "has_responded": bool(record.get("HasResponded")),
                        "sort_order": record.get("SortOrder") or 0,
                    },
                )
                self.report.counts["statuses"] += 1
            self.advance(cursor, records)
        gone = self.gone["CampaignMemberStatus"]
        with transaction.atomic():
            CampaignMemberStatus.objects.filter(sf_id__in=[r["Id"] for r in gone]).delete()
            self.advance(cursor, gone, "deleted_watermark")

    # -- members ------------------------------------------------------------------------------
    def pull_members(self) -> None:
        cursor = self.cursors["CampaignMember"]
        campaigns = dict(SalesforceCampaign.objects.values_list("sf_id", "pk"))
        records, ordered = self.changed("CampaignMember")
        newest: list[dict] = []
        for chunk in chunked(records, CHUNK):

            def apply(chunk=chunk) -> None:
                self.apply_members(chunk, campaigns)
                if ordered:  # a Bulk job's rows come in no order: the watermark waits
                    self.advance(cursor, chunk)

            in_transaction(apply)
            newest = [max(chunk + newest, key=lambda r: r.get("SystemModstamp") or "")]
        self.advance(cursor, newest)
        gone = self.gone["CampaignMember"]
        for chunk in chunked(gone, CHUNK):

            def remove(chunk=chunk) -> None:
                self.remove_members([r["Id"] for r in chunk])
                self.advance(cursor, chunk, "deleted_watermark")

            in_transaction(remove)

    def apply_members(self, records: list[dict], campaigns: dict[str, int]) -> None:
        """Apply a chunk of changed members: link, create, re-status or adopt."""
        records = list({r["Id"]: r for r in records}.values())
        self.report.counts["members_seen"] += len(records)
        people = _prospects_of(records)
        by_sf_id = {
            m.sf_member_id: m
            for m in CampaignMembership.objects.select_for_update().filter(
                sf_member_id__in=[r["Id"] for r in records]
            )
        }
        wanted = []
        for record in records:
            prospect_id = people.get(record.get("ContactId") or "") or people.get(
                record.get("LeadId") or ""
            )
            campaign_id = campaigns.get(record.get("CampaignId"))
            if record["Id"] not in by_sf_id and prospect_id and campaign_id:
                wanted.append((campaign_id, prospect_id))
        by_pair = {}
        campaign_ids = {c for c, _ in wanted}
        for chunk in chunked(sorted({p for _, p in wanted}), 500):
            for m in CampaignMembership.objects.select_for_update().filter(
                campaign_id__in=campaign_ids, prospect_id__in=chunk
            ):
                by_pair[(m.campaign_id, m.prospect_id)] = m
        new, changed, history = [], [], []
        now = timezone.now()
        for record in records:
            membership = by_sf_id.get(record["Id"])
            prospect_id = people.get(record.get("ContactId") or "") or people.get(
                record.get("LeadId") or ""
            )
            campaign_id = campaigns.get(record.get("CampaignId"))
            if membership is None and (prospect_id is None or campaign_id is None):
                self.report.counts["members_not_linked"] += 1  # not a prospect of ours
                continue
            if membership is None:
                membership = by_pair.get((campaign_id, prospect_id))
            values = {
                "status": record.get("Status") or "",
                "has_responded": bool(record.get("HasResponded")),
                "first_responded_date": _date(record.get("FirstRespondedDate")),
            }
            if membership is None:
                new.append(
                    {
                        "prospect_id": prospect_id,
                        "campaign_id": campaign_id,
                        "sf_member_id": record["Id"],
                        "state": MembershipState.SYNCED.value,
                        "synced_at": now,
                        **values,
                    }
                )
                history.append(
                    _inbound(
                        prospect_id,
                        campaign_id,
                        record["Id"],
                        f"Added to Salesforce campaign {{}} as “{values['status']}” in Salesforce.",
                    )
                )
                self.touched.add(campaign_id)
                continue
            if membership.sf_member_id != record["Id"]:
                # Ours but not yet linked (added here, created there), or re-created there.
                membership.sf_member_id = record["Id"]
                self.report.counts["members_adopted"] += 1
            if (
                membership.state == MembershipState.PENDING
                and membership.status != values["status"]
            ):
                changed.append(membership)  # a local status waits for the push: it wins
                continue
            if membership.status != values["status"]:
                history.append(
                    _inbound(
                        membership.prospect_id,
                        membership.campaign_id,
                        record["Id"],
                        f"Status in Salesforce campaign {{}} set to “{values['status']}” in Salesforce.",
                    )
                )
            for name, value in values.items():
                setattr(membership, name, value)
            membership.state = MembershipState.SYNCED
            membership.error_message = ""
            membership.synced_at = now
            changed.append(membership)
            self.touched.add(membership.campaign_id)
        _insert_memberships(new, now)
        if changed:
            bulk_sql.update(
                CampaignMembership,
                changed,
                [
                    "sf_member_id",
                    "status",
                    "has_responded",
                    "first_responded_date",
                    "state",
                    "error_message",
                    "synced_at",
                ],
            )
        self.report.counts["members_added"] += len(new)
        self.report.counts["members_updated"] += len(changed)
        _name_campaigns(history)
        copy_rows(SyncHistory, history)

    def remove_members(self, sf_ids: list[str]) -> None:
        """Members deleted in Salesforce leave the portal too, noted in the prospect's history;
        those of a deleted campaign stay (in error, saying so)."""
        gone = list(
            CampaignMembership.objects.select_for_update()
            .filter(sf_member_id__in=sf_ids, campaign__deleted_at__isnull=True)
            .select_related("campaign")
        )
        history = [
            _inbound(
                m.prospect_id,
                m.campaign_id,
                m.sf_member_id,
                "Removed from Salesforce campaign {} in Salesforce.",
            )
            for m in gone
        ]
        _name_campaigns(history)
        copy_rows(SyncHistory, history)
        CampaignMembership.objects.filter(pk__in=[m.pk for m in gone]).delete()
        self.touched.update(m.campaign_id for m in gone)
        self.report.counts["members_removed"] += len(gone)


NEW_MEMBERSHIP = {
    "generation": 1,
    "claimed_at": None,
    "attempts": 0,
    "error_message": "",
    "added_by_id": None,
}


def _insert_memberships(new: list[dict], now: dt.datetime) -> None:
    """COPY the new memberships; one a portal user added for the same prospect and campaign
    meanwhile makes it fall back to an INSERT that keeps theirs."""
    rows = [{**NEW_MEMBERSHIP, **row, "created_at": now, "updated_at": now} for row in new]
    try:
        with transaction.atomic():  # a savepoint: the fallback runs in the chunk's transaction
            copy_rows(CampaignMembership, rows)
    except IntegrityError:
        CampaignMembership.objects.bulk_create(
            [CampaignMembership(**row) for row in rows], batch_size=1000, ignore_conflicts=True
        )


def copy_rows(model: type[models.Model], rows: list[dict]) -> None:
    """INSERT plain rows (values by field name, every row with the same keys): PostgreSQL
    ``COPY`` without a model instance per row, which cost more than the pull's reading at
    100,000 members; elsewhere ``bulk_create``."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows], batch_size=500)
        return
    names = list(rows[0])
    columns = ", ".join(
        connection.ops.quote_name(model._meta.get_field(name).column) for name in names
    )
    table = connection.ops.quote_name(model._meta.db_table)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row([_copy_value(value) for value in row.values()])


def _copy_value(value):
    if isinstance(value, list | dict):
        return json.dumps(value)
    return value


OVERLAP = dt.timedelta(seconds=60)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def deleted_campaign_message(campaign: SalesforceCampaign) -> str:
    return (
        f"The Salesforce campaign “{campaign.name}” was deleted in Salesforce: "
        "this membership is no longer synced."
    )


def _date(value) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _money(value) -> Decimal | None:
    if value in (None, ""):
        return None
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _prospects_of(records: list[dict]) -> dict[str, int]:
    """Lead/contact id → prospect id for the records' people (a live prospect over an archived
    one, then the newest)."""
    contact_ids = {r["ContactId"] for r in records if r.get("ContactId")}
    lead_ids = {r["LeadId"] for r in records if r.get("LeadId") and not r.get("ContactId")}
    out: dict[str, int] = {}
    for ids, column in ((lead_ids, "crm_lead_id"), (contact_ids, "crm_contact_id")):
        for chunk in chunked(sorted(ids), 1000):
            rows = Prospect.objects.filter(**{f"{column}__in": chunk}).values_list(
                column, "pk", "archived_at"
            )
            for crm_id, pk, _archived in sorted(rows, key=lambda r: (r[2] is None, r[1])):
                out[crm_id] = pk  # sorted so the preferred one is written last
    return out


def _inbound(prospect_id: int, campaign_id: int, member_id: str, message: str) -> dict:
    """A history row of the pull's (``message`` names the campaign with ``{}``)."""
    return {
        "prospect_id": prospect_id,
        "at": timezone.now(),
        "direction": Direction.INBOUND.value,
        "operation": "campaign",
        "sobject": MEMBER_SOBJECT,
        "record_id": member_id,
        "reason": "",
        "changes": [],
        "result": SyncHistory.Result.OK.value,
        "message": message,
        "actor_id": None,
        "actor_label": "",
        "_campaign_id": campaign_id,  # named once per chunk (_name_campaigns), then dropped
    }


def _name_campaigns(history: list[dict]) -> None:
    ids = {entry["_campaign_id"] for entry in history}
    names = dict(SalesforceCampaign.objects.filter(pk__in=ids).values_list("pk", "name"))
    for entry in history:
        entry["message"] = entry["message"].format(f"“{names.get(entry.pop('_campaign_id'), '')}”")


def pull_campaigns(*, connector: Connector, client: Client) -> CampaignReport:
    """Mirror campaigns, member statuses and members changed since the last pull."""
    puller = CampaignPuller(connector, client)
    calls = client.api_calls
    describes.prime_client(client, connector)
    puller.survey()
    describes.store_client_describes(client, connector)
    puller.pull_campaigns()
    puller.pull_statuses()
    puller.pull_members()
    refresh_counts(puller.touched)
    puller.report.api_calls = client.api_calls - calls
    return puller.report


# -- push -----------------------------------------------------------------------------------------


@dataclass
class Sent:
    membership_id: int
    generation: int
    prospect_id: int
    campaign_id: int
    campaign_sf_id: str
    person_id: str
    person_field: str
    status: str
    member_id: str


def claimable():
    """Pending memberships that can go: their prospect has a lead or contact, their campaign
    exists, and no live push holds them."""
    stale = timezone.now() - CLAIM_TIMEOUT
    return (
        CampaignMembership.objects.filter(
            state=MembershipState.PENDING, campaign__deleted_at__isnull=True
        )
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
        .filter(~Q(prospect__crm_contact_id="") | ~Q(prospect__crm_lead_id=""))
    )


def claim(limit: int = CLAIM) -> list[Sent]:
    """Take up to ``limit`` memberships to send, committing the claim (skip-locked rows)."""
    now = timezone.now()
    with transaction.atomic():
        rows = claimable().order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        taken = list(
            rows.values(
                "pk",
                "generation",
                "prospect_id",
                "campaign_id",
                "campaign__sf_id",
                "prospect__crm_contact_id",
                "prospect__crm_lead_id",
                "status",
                "sf_member_id",
            )[:limit]
        )
        for chunk in chunked([r["pk"] for r in taken], 1000):
            CampaignMembership.objects.filter(pk__in=chunk).update(claimed_at=now)
    return [
        Sent(
            membership_id=r["pk"],
            generation=r["generation"],
            prospect_id=r["prospect_id"],
            campaign_id=r["campaign_id"],
            campaign_sf_id=r["campaign__sf_id"],
            person_id=r["prospect__crm_contact_id"] or r["prospect__crm_lead_id"],
            person_field="ContactId" if r["prospect__crm_contact_id"] else "LeadId",
            status=r["status"],
            member_id=r["sf_member_id"],
        )
        for r in taken
    ]


class MemberPusher:
    def __init__(self, connector: Connector, client: Client) -> None:
        self.connector = connector
        self.client = client
        self.report = CampaignReport()
        self.done: list[tuple[Sent, str]] = []  # (sent, member id)
        self.refused: list[tuple[Sent, SalesforceError, str]] = []  # (sent, error, operation)
        self.retry: list[Sent] = []
        self.duplicates: list[Sent] = []
        self.requeued = 0  # adopted members whose status still has to be sent

    def push(self, batch: list[Sent]) -> None:
        creates = [s for s in batch if not s.member_id]
        updates = [s for s in batch if s.member_id]
        by_campaign: dict[str, list[Sent]] = defaultdict(list)
        for sent in creates:
            by_campaign[sent.campaign_sf_id].append(sent)
        small: list[Sent] = []
        for items in by_campaign.values():
            if len(items) > BULK_MIN:
                self.bulk_create(items)
            else:
                small += items
        writes = [("create", s) for s in small] + [("update", s) for s in updates]
        self.write_collections(writes)
        if self.duplicates:
            self.adopt(self.duplicates)

    def write_collections(self, writes: list[tuple[str, Sent]]) -> None:
        groups: list[tuple[str, list[Sent]]] = []
        for method in ("create", "update"):
            items = [s for m, s in writes if m == method]
            groups += [(method, chunk) for chunk in chunked(items, COLLECTION_SIZE)]
        if not groups:
            return
        calls = [
            (method, MEMBER_SOBJECT, [_payload(method, s) for s in chunk], "")
            for method, chunk in groups
        ]
        try:
            results = self.client.collections(calls)
        except SalesforceError as exc:
            self.whole_call_failed([s for _, chunk in groups for s in chunk], exc)
            return
        for (method, chunk), answers in zip(groups, results, strict=True):
            for sent, answer in zip(chunk, answers, strict=True):
                self.take(sent, method, answer)

    def take(self, sent: Sent, method: str, answer: dict) -> None:
        if answer.get("success"):
            self.done.append((sent, answer.get("id") or sent.member_id))
            return
        error = (answer.get("errors") or [{}])[0]
        exc = SalesforceError(
            error.get("statusCode") or "UNKNOWN_EXCEPTION",
            error.get("message") or "",
            fields=error.get("fields") or [],
            transient=answer.get("_transient"),
        )
        self.refuse(sent, exc, method)

    def refuse(self, sent: Sent, exc: SalesforceError, method: str) -> None:
        if method == "create" and exc.code == "DUPLICATE_VALUE":
            self.duplicates.append(sent)
        elif exc.transient:
            self.retry.append(sent)
        else:
            self.refused.append((sent, exc, method))

    def whole_call_failed(self, items: list[Sent], exc: SalesforceError) -> None:
        if exc.transient:
            self.retry += items
        else:
            self.refused += [(s, exc, "update" if s.member_id else "create") for s in items]

    def bulk_create(self, items: list[Sent]) -> None:
        """One insert job for a campaign's many new members, keyed on their lead/contact."""
        self.report.counts["bulk_jobs"] += 1
        try:
            job = self.client.bulk_insert_start(
                MEMBER_SOBJECT,
                [_payload("create", s, both=True) for s in items],
                key_fields=("ContactId", "LeadId"),
            )
            ids, errors = self.client.bulk_upsert_finish(job)
        except SalesforceError as exc:
            self.whole_call_failed(items, exc)
            return
        for sent in items:
            if sent.person_id in ids:
                self.done.append((sent, ids[sent.person_id]))
            elif sent.person_id in errors:
                self.refuse(sent, errors[sent.person_id], "create")
            else:
                self.retry.append(sent)  # unprocessed: sent again next round

    def adopt(self, items: list[Sent]) -> None:
        """Members Salesforce already has ("Already a campaign member."): link them; a status
        that differs from the portal's goes out as an update next round."""
        found: dict[tuple[str, str], dict] = {}
        by_campaign: dict[str, list[Sent]] = defaultdict(list)
        for sent in items:
            by_campaign[sent.campaign_sf_id].append(sent)
        for campaign_sf_id, sents in by_campaign.items():
            for chunk in chunked(sents, IN_LIST):
                people = _in(s.person_id for s in chunk)
                soql = (
                    "SELECT Id, Status, LeadId, ContactId FROM CampaignMember "
                    f"WHERE CampaignId = '{campaign_sf_id}' "
                    f"AND (LeadId IN ({people}) OR ContactId IN ({people}))"
                )
                for record in self.client.query_all(soql):
                    for person in (record.get("ContactId"), record.get("LeadId")):
                        if person:
                            found[(campaign_sf_id, person)] = record
        for sent in items:
            record = found.get((sent.campaign_sf_id, sent.person_id))
            if record is None:
                self.retry.append(sent)
                continue
            self.report.counts["adopted"] += 1
            if record.get("Status") == sent.status:
                self.done.append((sent, record["Id"]))
            else:  # keep it pending with its id: the next round updates the status
                CampaignMembership.objects.filter(pk=sent.membership_id).update(
                    sf_member_id=record["Id"], claimed_at=None
                )
                self.requeued += 1

    def settle(self) -> None:
        """Write the outcomes: synced (the generation sent only), retried, or refused."""
        now = timezone.now()
        with transaction.atomic():
            bulk_sql.update(
                CampaignMembership,
                [
                    CampaignMembership(pk=sent.membership_id, sf_member_id=member_id)
                    for sent, member_id in self.done
                ],
                ["sf_member_id", "claimed_at"],
            )
            done_ids = [s.membership_id for s, _ in self.done]
            by_generation: dict[int, list[int]] = defaultdict(list)
            for sent, _ in self.done:
                by_generation[sent.generation].append(sent.membership_id)
            for generation, ids in by_generation.items():
                for chunk in chunked(ids, 1000):  # a newer generation waits for the next push
                    CampaignMembership.objects.filter(pk__in=chunk, generation=generation).update(
                        state=MembershipState.SYNCED, synced_at=now, attempts=0, error_message=""
                    )
            resolve_membership_errors(membership_ids=done_ids, at=now)
            self.history(now)
            for sent in self.retry:
                row = CampaignMembership.objects.filter(pk=sent.membership_id)
                row.update(claimed_at=None)
                attempts = (row.values_list("attempts", flat=True).first() or 0) + 1
                if attempts >= MAX_ATTEMPTS:
                    self.refused.append(
                        (
                            sent,
                            SalesforceError(
                                "SERVER_UNAVAILABLE",
                                f"Salesforce did not take the member after {attempts} attempts.",
                            ),
                            "create" if not sent.member_id else "update",
                        )
                    )
                else:
                    row.update(attempts=attempts)
            for sent, exc, method in self.refused:
                self.record_refusal(sent, exc, method)
        self.report.counts["synced"] += len(self.done)
        self.report.counts["refused"] += len(self.refused)
        self.report.counts["retry"] += len(self.retry)

    def history(self, now: dt.datetime) -> None:
        names = dict(
            SalesforceCampaign.objects.filter(
                pk__in={s.campaign_id for s, _ in self.done}
            ).values_list("pk", "name")
        )
        copy_rows(
            SyncHistory,
            [
                {
                    "prospect_id": sent.prospect_id,
                    "at": now,
                    "direction": Direction.OUTBOUND.value,
                    "operation": "campaign",
                    "sobject": MEMBER_SOBJECT,
                    "record_id": member_id,
                    "reason": "",
                    "changes": [],
                    "result": SyncHistory.Result.OK.value,
                    "message": f"{'Updated' if sent.member_id else 'Created'} the member of "
                    f"“{names.get(sent.campaign_id, '')}” as “{sent.status}”.",
                    "actor_id": None,
                    "actor_label": "",
                }
                for sent, member_id in self.done
            ],
        )

    def record_refusal(self, sent: Sent, exc: SalesforceError, method: str) -> None:
        message = f"{exc.code}: {exc.message}"
        if exc.code == "ENTITY_IS_DELETED" and "CampaignId" in (exc.fields or []):
            message = (
                "The Salesforce campaign was deleted in Salesforce: the member was not created "
                f"({message})."
            )
        CampaignMembership.objects.filter(pk=sent.membership_id).update(
            state=MembershipState.ERROR, claimed_at=None, error_message=message
        )
        membership = CampaignMembership.objects.filter(pk=sent.membership_id).first()
        prospect = Prospect.objects.filter(pk=sent.prospect_id).first()
        record_sync_error(
            connector=self.connector,
            prospect=prospect,
            direction=Direction.OUTBOUND,
            operation=method,
            sobject=MEMBER_SOBJECT,
            record_id=sent.member_id,
            error_code=exc.code,
            message=exc.message,
            fields=exc.fields or [],
            value_sent=f"CampaignId={sent.campaign_sf_id}; {sent.person_field}={sent.person_id}; "
            f"Status={sent.status}",
            membership=membership,
        )


def _payload(method: str, sent: Sent, *, both: bool = False) -> dict:
    if method == "update":
        return {"Id": sent.member_id, "Status": sent.status}
    payload = {"CampaignId": sent.campaign_sf_id, "Status": sent.status}
    if both:  # a Bulk CSV has one header for every row: both columns, one of them empty
        payload |= {"ContactId": "", "LeadId": ""}
    payload[sent.person_field] = sent.person_id
    return payload


def push_memberships(
    *, connector: Connector, client: Client, max_rounds: int | None = None
) -> CampaignReport:
    """Send every pending membership that can go, ``CLAIM`` at a time."""
    total = CampaignReport()
    calls = client.api_calls
    rounds = 0
    while max_rounds is None or rounds < max_rounds:
        batch = claim()
        if not batch:
            break
        rounds += 1
        pusher = MemberPusher(connector, client)
        try:
            pusher.push(batch)
        finally:
            pusher.settle()
        total.counts.update(pusher.report.counts)
        refresh_counts({s.campaign_id for s in batch})
        if not pusher.done and not pusher.refused and not pusher.requeued:
            break  # all transient: the next tick tries again
    total.api_calls = client.api_calls - calls
    return total


def sync_campaigns(*, connector: Connector, client: Client) -> CampaignReport | None:
    """The pull's campaign step: mirror what changed, then send the memberships the pull made
    sendable (prospects it just linked). An org that refuses campaigns (no marketing user, no
    access) does not stop the prospects' pull: it is logged, and the next pull tries again."""
    try:
        report = pull_campaigns(connector=connector, client=client)
        report.counts.update(push_memberships(connector=connector, client=client).counts)
    except SalesforceError as exc:
        log.warning("campaign sync skipped: %s %s", exc.code, exc.message)
        return None
    log.info("campaigns: %s", report)
    return report


def push_memberships_job(connector_id: int | None = None) -> None:
    """The RQ wake-up job ``crm.memberships`` enqueues by name after adding members."""
    connector = Connector.objects.syncing(connector_id)
    if connector is None:
        return
    report = push_memberships(connector=connector, client=Client.for_connector(connector))
    log.info("campaign members pushed: %s", report)
