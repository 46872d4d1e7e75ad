"""Inbound: pull Salesforce's changes to Leads and Contacts back into prospects.

1. For each object, read records whose ``SystemModstamp`` is after the watermark, minus an
   overlap window (clock skew, long transactions): SOQL paging for a few records, a Bulk API 2.0
   query job when more than ``BULK_ABOVE`` changed. Records already applied change nothing when
   read again, so they are not written again.
2. Records are applied in chunks: the chunk's prospects are read (and row-locked) in one query,
   reconciled in Python, and written in a few statements with their history, in one short
   transaction that holds no Salesforce call. A marketer's edit is never lost: the rows are
   read under the lock, and only columns the pull changed are written.
3. A record linked to a prospect (by CRM id) gets Salesforce's values per the field rules; a
   converted lead moves its prospect to the contact; the owner sets the assigned user or queue.
4. An unlinked record creates a prospect when auto-create is on and its email is new.
5. Records a Marketing Data Sharing rule excludes are not synced; a linked record that stops
   matching sends its prospect to the recycle bin (archived).
6. Deleted records archive their prospects (and merged ones move them to the survivor) when the
   delete/merge setting is on; undeleted records restore them.

The watermark moves only with the chunk that reached it (SOQL pages come oldest first), or once
a whole Bulk job is applied (its rows come in no order): a pull that dies part way re-applies,
and never skips.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from crm.models import SalesforceUser
from prospects.activities import add_activities
from prospects.models import (
    CUSTOM_PREFIX,
    Activity,
    ActivityType,
    CrmQueue,
    CustomField,
    Direction,
    Prospect,
    SyncHistory,
    SyncReason,
    SyncStatus,
)
from prospects.sync_requests import request_sync, request_sync_many
from prospects.validators import web_link
from sync import bulk_sql
from sync.engine import campaigns
from sync.engine.batching import (
    chunked,
    collecting_for_batches,
    in_transaction,
    read_ahead,
    typed_rows,
)
from sync.engine.rules import OWNER_FIELD, Change, plan, reconcile
from sync.engine.users import OwnerMap, owner_query
from sync.engine.values import parse_sf_datetime, write_prospect
from sync.models import Connector, DataSharingRule, FieldRule, SyncCursor
from sync.salesforce import Client

log = logging.getLogger(__name__)

OVERLAP = dt.timedelta(seconds=60)
CHUNK = 2000  # records applied per transaction
BULK_ABOVE = 2000  # more changed records than this are read with a Bulk API 2.0 query
IN_LIST = 200  # ids per "WHERE Id IN (...)" lookup (the query travels in a URL)
OBJECTS = ("Lead", "Contact")
ID_FIELD = {"Lead": "crm_lead_id", "Contact": "crm_contact_id"}
USER_PREFIX, QUEUE_PREFIX = "005", "00G"
# Prospect fields pages show as links (through ``safe_link``): websites.
LINK_FIELDS = {f.name for f in Prospect._meta.fields if isinstance(f, models.URLField)}
# Deadlock / serialization failure: another writer held some of the chunk's rows; try again.


@dataclass
class PullReport:
    """What a pull did: records read, prospects changed, Salesforce calls spent."""

    seen: int = 0
    updated: int = 0
    created: int = 0
    archived: int = 0
    restored: int = 0
    moved: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    api_calls: int = 0
    bulk_jobs: int = 0


@dataclass
class Writes:
    """What one chunk changes, written in a few statements when the chunk is applied."""

    prospects: dict[int, Prospect] = field(default_factory=dict)
    columns: set[str] = field(default_factory=set)
    created: list[tuple[Prospect, SyncHistory]] = field(default_factory=list)
    history: list[SyncHistory] = field(default_factory=list)
    send_back: list[Prospect] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    # Events sales cares about (conversions, owner changes), for the prospects' timelines.
    activities: list[Activity] = field(default_factory=list)

    def touch(self, prospect: Prospect, *names: str) -> None:
        self.prospects[prospect.pk] = prospect
        self.columns.update(names)

    def log(self, prospect: Prospect, operation: str, **values) -> SyncHistory:
        entry = bulk_sql.new(
            SyncHistory,
            prospect_id=prospect.pk,
            at=timezone.now(),
            direction=Direction.INBOUND,
            operation=operation,
            result=SyncHistory.Result.OK,
            **values,
        )
        self.history.append(entry)
        return entry

    def flush(self) -> None:
        """1. Changed columns of every touched prospect, in one statement (rows are locked).
        2. New prospects, then every history row. 3. Prospects whose values must go back."""
        if self.prospects:
            now = timezone.now()
            for prospect in self.prospects.values():
                prospect.updated_at = now
            bulk_sql.update(
                Prospect, list(self.prospects.values()), sorted(self.columns | {"updated_at"})
            )
        if self.created:
            Prospect.objects.bulk_create([prospect for prospect, _ in self.created])
            for prospect, entry in self.created:
                entry.prospect_id = prospect.pk
        bulk_sql.insert(SyncHistory, self.history)
        scored = add_activities(self.activities, insert=bulk_sql.insert, grade=False)
        if scored:  # only when a marketer gave these events points
            request_sync_many(sorted(scored), SyncReason.SCORE_CHANGE)
        # "Do not sync" prospects are rare here: request_sync marks them so and queues nothing.
        for prospect in self.send_back:
            if prospect.do_not_sync:
                request_sync(prospect, SyncReason.FIELD_UPDATE)
        ids = [p.pk for p in self.send_back if not p.do_not_sync]
        if ids:
            request_sync_many(ids, SyncReason.FIELD_UPDATE)


def assigned_activity(prospect: Prospect, owner: dict) -> Activity:
    """An owner change seen in Salesforce, for the timeline: the user or queue it went to."""
    if owner["field"] == "assigned_queue":
        title = "Assigned to a queue in Salesforce"
    else:
        title = "Assigned in Salesforce"
    return Activity(
        prospect_id=prospect.pk,
        type=ActivityType.ASSIGNED,
        title=title,
        details={
            "owner_id": owner["new"],
            "assigned_user_id": prospect.assigned_user_id,
            "assigned_queue_id": prospect.assigned_queue_id,
        },
    )


def soql_datetime(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def soql_ids(ids: Iterable[str]) -> str:
    return ", ".join(f"'{i}'" for i in ids)


def unlinkable_note(changes: Iterable[Change]) -> str:
    """The history's word on a website from Salesforce that is not an http(s) address.

    Salesforce takes any text in a URL field (``javascript:…``, ``data:…``, "n/a"). Such a
    value is stored as Salesforce holds it, and never linked: pages link only http(s) addresses
    (``safe_link``). Refusing it instead would either drop Salesforce's data or send ours over
    it, and a value the two systems disagree on keeps coming back; stored, it changes nothing
    until a marketer edits the prospect, where the form asks for a real web address.
    """
    return " ".join(
        f"{c.prospect_field.replace('_', ' ').capitalize()} {c.new!r} is not a web address: "
        "kept as text, not linked."
        for c in changes
        if c.prospect_field in LINK_FIELDS and c.new is not None and web_link(c.new) is None
    )


def column_of(prospect_field: str) -> str:
    return "custom_fields" if prospect_field.startswith(CUSTOM_PREFIX) else prospect_field


def newest_stamp(records: Iterable[dict], newest: dt.datetime | None) -> dt.datetime | None:
    for record in records:
        stamp = parse_sf_datetime(record.get("SystemModstamp"))
        if stamp and (newest is None or stamp > newest):
            newest = stamp
    return newest


@dataclass
class Owners:
    """The owners a chunk brings, and what Salesforce says about those this pull has not met."""

    user_ids: set[str] = field(default_factory=set)  # every user owning a record of the chunk
    asked: list[str] = field(default_factory=list)  # users the mirror did not hold
    users: list[dict] = field(default_factory=list)  # their User rows
    groups: list[dict] = field(default_factory=list)  # queues not mirrored here yet


class Puller:
    def __init__(self, connector: Connector, client: Client) -> None:
        self.connector = connector
        self.client = client
        self.rules = list(FieldRule.objects.filter(connector=connector))
        self.custom = CustomField.objects.in_bulk(field_name="api_name")
        self.sharing = {r.sobject: r for r in DataSharingRule.objects.filter(connector=connector)}
        self.report = PullReport()
        # Rules that can move a value for each object (reconcile skips the others anyway).
        self.moving = {
            sobject: [
                r
                for r in self.rules
                if r.target_field(sobject)
                and r.behaviour != FieldRule.Behaviour.DONT_SYNC
                and r.prospect_field != OWNER_FIELD
            ]
            for sobject in OBJECTS
        }
        self.plans = {
            sobject: plan(rules, sobject, custom=self.custom)
            for sobject, rules in self.moving.items()
        }
        # Every mapped rule, for a prospect the pull creates (its create fills every field).
        self.creating = {
            sobject: plan(self.rules, sobject, custom=self.custom) for sobject in OBJECTS
        }
        self.owner_map = OwnerMap(connector)
        # Users the mirror holds (read here: ``ask_owners`` runs in a thread without the DB).
        self._mirrored_users = set(SalesforceUser.objects.values_list("sf_id", flat=True))
        self._queues_by_sf_id: dict[str, int | None] = dict(
            CrmQueue.objects.values_list("sf_id", "pk")
        )
        self._owners_asked: set[str] = set()

    def select(self, sobject: str) -> list[str]:
        available = self.client.fields_by_name(sobject)
        names = {rule.target_field(sobject) for rule in self.rules} - {""}
        names |= {"Id", "Email", "OwnerId", "LastModifiedDate", "SystemModstamp", "IsDeleted"}
        if sobject == "Lead":
            names |= {"IsConverted", "ConvertedContactId", "ConvertedAccountId"}
        if sobject == "Contact":
            names |= {"AccountId"}
        rule = self.sharing.get(sobject)
        if rule:
            names.add(rule.field)
        return sorted(n for n in names if n in available)

    def shared(self, sobject: str, record: dict) -> bool:
        rule = self.sharing.get(sobject)
        return rule is None or str(record.get(rule.field) or "") == rule.value

    # -- changed records ----------------------------------------------------------------------
    def pull_object(self, sobject: str) -> None:
        """Apply every record changed since the watermark, chunk by chunk."""
        cursor, _ = SyncCursor.objects.get_or_create(connector=self.connector, sobject=sobject)
        newest = cursor.watermark or timezone.now() - dt.timedelta(days=1)
        where = f"WHERE SystemModstamp > {soql_datetime(newest - OVERLAP)}"
        select = f"SELECT {', '.join(self.select(sobject))} FROM {sobject} {where}"
        bulk = self.client.query_count(f"SELECT COUNT() FROM {sobject} {where}") > BULK_ABOVE
        if bulk:
            self.report.bulk_jobs += 1
            fields = self.client.fields_by_name(sobject)
            records = typed_rows(self.client.bulk_query(select), fields)
        else:
            records = self.client.query_iter(f"{select} ORDER BY SystemModstamp ASC")
        chunks = ((chunk, self.ask_owners(chunk)) for chunk in chunked(records, CHUNK))
        for chunk, owners in read_ahead(chunks):
            newest = newest_stamp(chunk, newest)
            self.learn_owners(owners)
            # Bulk rows come in no order: the watermark moves once the whole job is applied.
            marks = {} if bulk else {"watermark": newest}
            self.commit(lambda chunk=chunk: self.apply_chunk(sobject, chunk), cursor, **marks)
        self.advance(cursor, watermark=newest)

    def commit(
        self, work: Callable[[], Writes], cursor: SyncCursor, **marks: dt.datetime | None
    ) -> None:
        """Apply a chunk and move the watermark in one transaction, then count what it did."""

        def run() -> Writes:
            writes = work()
            if marks:
                self.advance(cursor, **marks)
            return writes

        for name, amount in in_transaction(run).counts.items():
            setattr(self.report, name, getattr(self.report, name) + amount)

    def advance(self, cursor: SyncCursor, **marks: dt.datetime | None) -> None:
        SyncCursor.objects.filter(pk=cursor.pk).update(last_run_at=timezone.now(), **marks)

    def apply_chunk(self, sobject: str, records: list[dict]) -> Writes:
        """Apply changed records, in a transaction with no Salesforce call (owners are known).

        1. The linked prospects are read in one query, their rows locked until the chunk is
           written, so an edit made meanwhile is read here rather than overwritten.
        2. Each record is reconciled with its prospects in Python.
        3. Unlinked records may create prospects; ``Writes.flush`` writes it all.
        """
        # A record changed again while the pages were read comes twice: its latest wins.
        records = list({r["Id"]: r for r in records}.values())
        writes = Writes()
        writes.counts["seen"] += len(records)
        linked = self.prefetch_linked(sobject, [r["Id"] for r in records], lock=True)
        new: list[dict] = []
        for record in records:
            if not self.apply(sobject, record, linked.get(record["Id"], []), writes):
                new.append(record)
        self.create_prospects(sobject, new, writes)
        writes.flush()
        return writes

    def prefetch_linked(
        self, sobject: str, record_ids: list[str], *, lock: bool = False
    ) -> dict[str, list[Prospect]]:
        id_field = ID_FIELD[sobject]
        query = Prospect.objects.filter(bulk_sql.any_of(id_field, record_ids))
        if sobject == "Lead":
            query = query.filter(crm_contact_id="")
        if any(r.prospect_field == "campaign" for r in self.moving[sobject]):
            query = query.prefetch_related("campaign")  # its name is compared
        query = query.order_by("pk")
        if lock:  # in pk order, as every locker should, so two pulls never deadlock
            query = query.select_for_update(of=("self",))
        linked: dict[str, list[Prospect]] = {}
        for prospect in bulk_sql.load(query):
            linked.setdefault(getattr(prospect, id_field), []).append(prospect)
        return linked

    def apply(self, sobject: str, record: dict, prospects: list[Prospect], writes: Writes) -> bool:
        """Apply one record to its linked prospects; ``False`` when it has none (yet)."""
        if sobject == "Lead" and record.get("IsConverted") and record.get("ConvertedContactId"):
            for prospect in prospects:
                self.follow_conversion(prospect, record, writes)
            return True
        if not self.shared(sobject, record):
            for prospect in prospects:
                self.archive(prospect, "no longer matches the Marketing Data Sharing rule", writes)
            writes.counts["skipped"] += 1
            return True
        for prospect in prospects:
            if prospect.archived_at and prospect.sync_status != SyncStatus.DO_NOT_SYNC:
                self.restore(prospect, writes)
            self.update_from(prospect, sobject, record, writes)
        return bool(prospects)

    def update_from(self, prospect: Prospect, sobject: str, record: dict, writes: Writes) -> None:
        modified = parse_sf_datetime(record.get("LastModifiedDate"))
        decided = reconcile(
            prospect, record, self.plans[sobject], sobject=sobject, record_modified_at=modified
        )
        # Each field moves one way only, so taking Salesforce's values leaves the rest as decided.
        changes = [c for c in decided if not c.to_salesforce]
        send_back = len(changes) < len(decided)
        if not self.connector.auto_change_email:
            changes = [c for c in changes if c.prospect_field != "email"]
        owner = self.apply_owner(prospect, record, writes)
        if owner:
            writes.activities.append(assigned_activity(prospect, owner))
        self.follow_account(prospect, sobject, record, writes)
        self.take_changes(prospect, changes, modified, writes)
        if modified != prospect.crm_modified_at:
            prospect.crm_modified_at = modified
            writes.touch(prospect, "crm_modified_at")
        if changes or owner:
            writes.log(
                prospect,
                "pull",
                sobject=sobject,
                record_id=record["Id"],
                changes=[c.as_history() for c in changes] + ([owner] if owner else []),
                message=unlinkable_note(changes),
            )
            writes.counts["updated"] += 1
        # Values Leadbridge must send back (ours win) go out with the next push — unless the
        # prospect is in error: Salesforce refused those values, and retrying them every tick
        # would only spend API calls until someone fixes the cause and resyncs.
        if send_back and prospect.sync_status != SyncStatus.ERROR:
            writes.send_back.append(prospect)

    def follow_account(
        self, prospect: Prospect, sobject: str, record: dict, writes: Writes
    ) -> None:
        """A contact moved to another account: the new link (its account is mirrored, and its
        name becomes the company, by ``sync.engine.accounts`` after the pull)."""
        if sobject != "Contact" or prospect.crm_person_account or "AccountId" not in record:
            return
        account = record.get("AccountId") or ""
        if account != prospect.crm_account_id:
            prospect.crm_account_id = account
            writes.touch(prospect, "crm_account_id")

    def take_changes(
        self,
        prospect: Prospect,
        changes: list[Change],
        modified: dt.datetime | None,
        writes: Writes,
    ) -> None:
        if not changes:
            return
        for change in changes:
            write_prospect(prospect, change.prospect_field, change.new, definitions=self.custom)
        prospect.stamp_changes([c.prospect_field for c in changes], modified)
        writes.touch(prospect, "field_changed_at", *(column_of(c.prospect_field) for c in changes))

    # -- owners -------------------------------------------------------------------------------
    def apply_owner(self, prospect: Prospect, record: dict, writes: Writes | None) -> dict | None:
        """Salesforce is the master of the owner: a queue sets the assigned queue, a user the
        assigned user (when mapped to one here). Returns the history entry when it changed."""
        owner = record.get("OwnerId") or ""
        if not owner or owner == prospect.crm_owner_id:
            return None
        prospect.crm_owner_id = owner
        if writes is not None:
            writes.touch(prospect, "crm_owner_id", "assigned_user", "assigned_queue")
        if owner.startswith(QUEUE_PREFIX):
            queue_id = self._queues_by_sf_id.get(owner)
            if queue_id is not None:
                prospect.assigned_queue_id = queue_id
                prospect.assigned_user_id = None
            return {"field": "assigned_queue", "new": owner, "rule": "salesforce"}
        # Owned by a person now: no longer by a queue, and by that user when we know them.
        prospect.assigned_queue_id = None
        if self.owner_map.is_excluded(owner):
            prospect.assigned_user_id = None
            return {
                "field": "assigned_user",
                "new": owner,
                "rule": "salesforce",
                "note": "a partner or portal user: excluded from assignment",
            }
        user_id = self.owner_map.portal_user_for(owner)
        if user_id is not None:
            prospect.assigned_user_id = user_id
        return {"field": "assigned_user", "new": owner, "rule": "salesforce"}

    def ask_owners(self, records: Iterable[dict]) -> Owners:
        """Ask Salesforce about the users and queues owning these records that neither the
        mirror nor this pull has met: one ``User`` and one ``Group`` query per 200 owners, not
        one per record. Salesforce calls only (it runs in the read-ahead thread, without the
        database); ``learn_owners`` stores."""
        owners = {r.get("OwnerId") or "" for r in records}
        found = Owners(user_ids={o for o in owners if o.startswith(USER_PREFIX)})
        new = owners - self._owners_asked
        self._owners_asked |= new
        found.asked = sorted(
            o for o in new if o.startswith(USER_PREFIX) and o not in self._mirrored_users
        )
        queues = sorted(
            o for o in new if o.startswith(QUEUE_PREFIX) and o not in self._queues_by_sf_id
        )
        for soql in owner_query(found.asked, self.client):
            found.users += self.client.query_all(soql)
        for start in range(0, len(queues), IN_LIST):
            ids = soql_ids(queues[start : start + IN_LIST])
            found.groups += self.client.query_all(
                f"SELECT Id, Name, DeveloperName FROM Group WHERE Id IN ({ids})"
            )
        return found

    def learn_owners(self, owners: Owners) -> None:
        """Map owners to portal users by Salesforce user id (users met for the first time are
        mirrored and linked by email) and to queues (mirrored if new)."""
        self.owner_map.unknown_owners(owners.user_ids)
        if owners.asked:
            self.owner_map.learn_owners(owners.users, owners.asked)
            self._mirrored_users.update(row["Id"] for row in owners.users)
        for row in owners.groups:
            mirrored, _ = CrmQueue.objects.get_or_create(
                sf_id=row["Id"],
                defaults={
                    "name": row.get("Name") or row["Id"],
                    "developer_name": row.get("DeveloperName") or "",
                    "refreshed_at": timezone.now(),
                },
            )
            self._queues_by_sf_id[mirrored.sf_id] = mirrored.pk

    # -- lifecycle ----------------------------------------------------------------------------
    def follow_conversion(self, prospect: Prospect, lead: dict, writes: Writes) -> None:
        """A converted lead: the prospect now syncs with the contact (history kept)."""
        contact_id = lead["ConvertedContactId"]
        if prospect.crm_contact_id == contact_id:
            return
        prospect.crm_contact_id = contact_id
        prospect.crm_account_id = lead.get("ConvertedAccountId") or prospect.crm_account_id
        writes.touch(prospect, "crm_contact_id", "crm_account_id")
        writes.log(
            prospect,
            "convert",
            sobject="Lead",
            record_id=lead["Id"],
            message=f"Lead converted: now syncing with Contact {contact_id}",
        )
        writes.activities.append(
            Activity(
                prospect_id=prospect.pk,
                type=ActivityType.CONVERTED,
                title=f"Lead {lead['Id']} converted to Contact {contact_id}",
                details={"lead_id": lead["Id"], "contact_id": contact_id},
            )
        )
        writes.counts["moved"] += 1

    def create_prospects(self, sobject: str, records: list[dict], writes: Writes) -> None:
        """Auto-create: a prospect for each record whose email is on no prospect yet."""
        if not self.connector.auto_create_prospects:
            return
        candidates: dict[str, dict] = {}
        for record in records:
            email = (record.get("Email") or "").strip()
            if email and not (sobject == "Lead" and record.get("IsConverted")):
                candidates.setdefault(email.lower(), record)  # one prospect per new email
        if not candidates:
            return
        taken = set(
            Prospect.objects.annotate(lower_email=Lower("email"))
            .filter(lower_email__in=list(candidates))
            .values_list("lower_email", flat=True)
        )
        for email, record in candidates.items():
            if email not in taken:
                self.create_prospect(sobject, record, writes)

    def create_prospect(self, sobject: str, record: dict, writes: Writes) -> None:
        prospect = Prospect(
            email=record["Email"].strip(), campaign=self.connector.auto_create_campaign
        )
        if sobject == "Contact":
            prospect.crm_contact_id = record["Id"]
            prospect.crm_account_id = record.get("AccountId") or ""
        else:
            prospect.crm_lead_id = record["Id"]
        modified = parse_sf_datetime(record.get("LastModifiedDate"))
        changes = [
            c
            for c in reconcile(
                prospect,
                record,
                self.creating[sobject],
                sobject=sobject,
                record_modified_at=modified,
            )
            if not c.to_salesforce
        ]
        for change in changes:
            write_prospect(prospect, change.prospect_field, change.new, definitions=self.custom)
        note = unlinkable_note(changes)
        self.apply_owner(prospect, record, None)
        prospect.crm_modified_at = modified
        prospect.last_synced_at = timezone.now()
        prospect.sync_status = SyncStatus.SYNCED
        prospect.stamp_changes([c.prospect_field for c in changes], modified)
        entry = SyncHistory(
            at=timezone.now(),
            direction=Direction.INBOUND,
            operation="create",
            sobject=sobject,
            record_id=record["Id"],
            changes=[c.as_history() for c in changes],
            result=SyncHistory.Result.OK,
            message="; ".join(filter(None, [f"Created from Salesforce {sobject}", note])),
        )
        writes.created.append((prospect, entry))
        writes.history.append(entry)
        writes.counts["created"] += 1

    def archive(self, prospect: Prospect, why: str, writes: Writes) -> None:
        if prospect.archived_at:
            return
        prospect.archived_at = timezone.now()
        writes.touch(prospect, "archived_at")
        writes.log(prospect, "archive", message=f"Sent to the recycle bin: {why}")
        writes.counts["archived"] += 1

    def restore(self, prospect: Prospect, writes: Writes) -> None:
        prospect.archived_at = None
        writes.touch(prospect, "archived_at")
        writes.log(prospect, "restore", message="Restored: the record was undeleted in Salesforce")
        writes.counts["restored"] += 1

    # -- deleted and merged records -----------------------------------------------------------
    def pull_deleted(self, sobject: str) -> None:
        if not self.connector.delete_with_crm:
            return
        cursor, _ = SyncCursor.objects.get_or_create(connector=self.connector, sobject=sobject)
        since = (cursor.deleted_watermark or timezone.now() - dt.timedelta(days=1)) - OVERLAP
        available = self.client.fields_by_name(sobject)
        select = "Id, SystemModstamp" + (
            ", MasterRecordId" if "MasterRecordId" in available else ""
        )
        soql = (
            f"SELECT {select} FROM {sobject} WHERE IsDeleted = true "
            f"AND SystemModstamp > {soql_datetime(since)} ORDER BY SystemModstamp ASC"
        )
        newest = cursor.deleted_watermark or since
        for chunk in chunked(self.client.query_iter(soql, include_deleted=True), CHUNK):
            newest = newest_stamp(chunk, newest)
            self.commit(
                lambda chunk=chunk: self.apply_deleted(sobject, chunk),
                cursor,
                deleted_watermark=newest,
            )

    def apply_deleted(self, sobject: str, records: list[dict]) -> Writes:
        """Archive the prospects of deleted records; move those of merged ones to the survivor
        (unless it has a prospect of its own)."""
        writes = Writes()
        linked = self.prefetch_linked(sobject, [r["Id"] for r in records], lock=True)
        id_field = ID_FIELD[sobject]
        survivors = {r.get("MasterRecordId") for r in records} - {None, ""}
        taken = set(
            Prospect.objects.filter(**{f"{id_field}__in": survivors}).values_list(
                id_field, flat=True
            )
        )
        for record in records:
            survivor = record.get("MasterRecordId")
            for prospect in linked.get(record["Id"], []):
                if not survivor:
                    self.archive(prospect, f"the {sobject} was deleted in Salesforce", writes)
                elif survivor in taken:
                    self.archive(
                        prospect, f"merged into {survivor}, which has its own prospect", writes
                    )
                else:
                    self.follow_merge(prospect, sobject, record["Id"], survivor, writes)
                    taken.add(survivor)
        writes.flush()
        return writes

    def follow_merge(
        self, prospect: Prospect, sobject: str, loser: str, survivor: str, writes: Writes
    ) -> None:
        id_field = ID_FIELD[sobject]
        setattr(prospect, id_field, survivor)
        writes.touch(prospect, id_field)
        writes.log(
            prospect,
            "merge",
            sobject=sobject,
            record_id=survivor,
            message=f"{sobject} {loser} merged into {survivor}",
        )
        writes.counts["moved"] += 1


def pull_changes(*, connector: Connector, client: Client | None = None) -> PullReport:
    """Apply Salesforce's changes since the last pull; advance the watermarks."""
    with collecting_for_batches():
        return _pull_changes(connector, client or Client.for_connector(connector))


def _pull_changes(connector: Connector, client: Client) -> PullReport:
    puller = Puller(connector, client)
    for sobject in OBJECTS:
        puller.pull_object(sobject)
        puller.pull_deleted(sobject)
    campaigns.sync_campaigns(connector=connector, client=client)  # sync/engine/campaigns.py
    puller.report.api_calls = client.api_calls
    Connector.objects.filter(pk=connector.pk).update(last_pull_at=timezone.now())
    return puller.report
