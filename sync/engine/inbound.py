"""Inbound: pull Salesforce's changes to Leads and Contacts back into prospects.

1. For each object, read records whose ``SystemModstamp`` is after the watermark, minus an
   overlap window (clock skew, long transactions); records already applied are skipped because
   applying them again changes nothing.
2. A record linked to a prospect (by CRM id) gets Salesforce's values per the field rules; a
   converted lead moves its prospect to the contact; the owner sets the assigned user.
3. An unlinked record creates a prospect when auto-create is on and its email is new.
4. Records a Marketing Data Sharing rule excludes are not synced; a linked record that stops
   matching sends its prospect to the recycle bin (archived).
5. Deleted records archive their prospects (and merged ones move them to the survivor) when the
   delete/merge setting is on; undeleted records restore them.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from prospects.models import Prospect, SyncStatus
from sync.engine.rules import reconcile
from sync.engine.values import parse_sf_datetime, write_prospect
from sync.models import (
    Connector,
    DataSharingRule,
    Direction,
    FieldRule,
    SyncCursor,
    SyncHistory,
    SyncReason,
)
from sync.salesforce import Client
from sync.triggers import request_sync

log = logging.getLogger(__name__)

OVERLAP = dt.timedelta(seconds=60)
PAGE = 2000  # records applied per prospect lookup
OBJECTS = ("Lead", "Contact")


@dataclass
class PullReport:
    seen: int = 0
    updated: int = 0
    created: int = 0
    archived: int = 0
    restored: int = 0
    moved: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    api_calls: int = 0


def soql_datetime(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Puller:
    def __init__(self, connector: Connector, client: Client) -> None:
        self.connector = connector
        self.client = client
        self.rules = list(FieldRule.objects.filter(connector=connector))
        self.sharing = {r.sobject: r for r in DataSharingRule.objects.filter(connector=connector)}
        self.report = PullReport()
        self._users_by_sf_id: dict[str, int | None] = {}
        self._linked: dict[str, list[Prospect]] | None = None

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
        cursor, _ = SyncCursor.objects.get_or_create(connector=self.connector, sobject=sobject)
        if cursor.watermark is None:
            cursor.watermark = timezone.now() - dt.timedelta(days=1)
        since = cursor.watermark - OVERLAP
        soql = (
            f"SELECT {', '.join(self.select(sobject))} FROM {sobject} "
            f"WHERE SystemModstamp > {soql_datetime(since)} ORDER BY SystemModstamp ASC"
        )
        newest = cursor.watermark
        page: list[dict] = []
        for record in self.client.query_iter(soql):
            page.append(record)
            if len(page) == PAGE:
                newest = self.apply_page(sobject, page, newest)
                page = []
        newest = self.apply_page(sobject, page, newest)
        SyncCursor.objects.filter(pk=cursor.pk).update(watermark=newest, last_run_at=timezone.now())

    def apply_page(self, sobject: str, records: list[dict], newest: dt.datetime) -> dt.datetime:
        """Apply a page of records with one query for their prospects; return the watermark."""
        self._linked = self.prefetch_linked(sobject, [r["Id"] for r in records])
        for record in records:
            self.report.seen += 1
            self.apply(sobject, record)
            stamp = parse_sf_datetime(record.get("SystemModstamp"))
            if stamp and stamp > newest:
                newest = stamp
        self._linked = None
        return newest

    def prefetch_linked(self, sobject: str, record_ids: list[str]) -> dict[str, list[Prospect]]:
        id_field = "crm_contact_id" if sobject == "Contact" else "crm_lead_id"
        query = Prospect.objects.filter(**{f"{id_field}__in": record_ids})
        if sobject == "Lead":
            query = query.filter(crm_contact_id="")
        linked: dict[str, list[Prospect]] = {}
        for prospect in query.select_related("campaign"):
            linked.setdefault(getattr(prospect, id_field), []).append(prospect)
        return linked

    def linked_prospects(self, sobject: str, record: dict) -> list[Prospect]:
        if self._linked is not None:
            return self._linked.get(record["Id"], [])
        return self.prefetch_linked(sobject, [record["Id"]]).get(record["Id"], [])

    def apply(self, sobject: str, record: dict) -> None:
        prospects = self.linked_prospects(sobject, record)
        if sobject == "Lead" and record.get("IsConverted") and record.get("ConvertedContactId"):
            for prospect in prospects:
                self.follow_conversion(prospect, record)
            return
        if not self.shared(sobject, record):
            for prospect in prospects:
                self.archive(prospect, "no longer matches the Marketing Data Sharing rule")
            self.report.skipped += 1
            return
        if not prospects:
            self.maybe_create(sobject, record)
            return
        for prospect in prospects:
            if prospect.archived_at and prospect.sync_status != SyncStatus.DO_NOT_SYNC:
                self.restore(prospect)
            self.update_from(prospect, sobject, record)

    def update_from(self, prospect: Prospect, sobject: str, record: dict) -> None:
        modified = parse_sf_datetime(record.get("LastModifiedDate"))
        decided = reconcile(
            prospect, record, self.rules, sobject=sobject, record_modified_at=modified
        )
        # Each field moves one way only, so taking Salesforce's values leaves the rest as decided.
        changes = [c for c in decided if not c.to_salesforce]
        send_back = any(c.to_salesforce for c in decided)
        if not self.connector.auto_change_email:
            changes = [c for c in changes if c.prospect_field != "email"]
        owner_changed = self.apply_owner(prospect, record)
        with transaction.atomic():
            for change in changes:
                write_prospect(prospect, change.prospect_field, change.new)
            if changes:
                prospect.stamp_changes([c.prospect_field for c in changes], modified)
            prospect.crm_values = {
                k: v if v is None or isinstance(v, str | bool | int | float) else str(v)
                for k, v in record.items()
            }
            prospect.crm_modified_at = modified
            prospect.save()
            if changes or owner_changed:
                SyncHistory.objects.create(
                    prospect=prospect,
                    at=timezone.now(),
                    direction=Direction.INBOUND,
                    operation="pull",
                    sobject=sobject,
                    record_id=record["Id"],
                    changes=[c.as_history() for c in changes]
                    + (
                        [
                            {
                                "field": "assigned_user",
                                "new": record.get("OwnerId"),
                                "rule": "salesforce",
                            }
                        ]
                        if owner_changed
                        else []
                    ),
                    result=SyncHistory.Result.OK,
                )
                self.report.updated += 1
        # Values Leadbridge must send back (ours win) go out with the next push — unless the
        # prospect is in error: Salesforce refused those values, and retrying them every tick
        # would only spend API calls until someone fixes the cause and resyncs.
        if send_back and prospect.sync_status != SyncStatus.ERROR:
            request_sync(prospect, SyncReason.FIELD_UPDATE)

    def apply_owner(self, prospect: Prospect, record: dict) -> bool:
        """Salesforce is the master of the owner: it sets the assigned user (when mapped)."""
        owner = record.get("OwnerId") or ""
        if not owner or owner == prospect.crm_owner_id:
            return False
        prospect.crm_owner_id = owner
        user_id = self.user_for(owner)
        if user_id is not None:
            prospect.assigned_user_id = user_id
        return True

    def user_for(self, sf_user_id: str) -> int | None:
        if sf_user_id not in self._users_by_sf_id:
            user_id = None
            if sf_user_id.startswith("005"):
                rows = self.client.query_all(
                    f"SELECT Id, Email FROM User WHERE Id = '{sf_user_id}'"
                )
                email = (rows[0].get("Email") or "") if rows else ""
                if email:
                    user = (
                        get_user_model().objects.filter(email__iexact=email, is_active=True).first()
                    )
                    user_id = user.pk if user else None
            self._users_by_sf_id[sf_user_id] = user_id
        return self._users_by_sf_id[sf_user_id]

    def follow_conversion(self, prospect: Prospect, lead: dict) -> None:
        """A converted lead: the prospect now syncs with the contact (history kept)."""
        contact_id = lead["ConvertedContactId"]
        if prospect.crm_contact_id == contact_id:
            return
        prospect.crm_contact_id = contact_id
        prospect.crm_account_id = lead.get("ConvertedAccountId") or prospect.crm_account_id
        prospect.save(update_fields=["crm_contact_id", "crm_account_id", "updated_at"])
        SyncHistory.objects.create(
            prospect=prospect,
            at=timezone.now(),
            direction=Direction.INBOUND,
            operation="convert",
            sobject="Lead",
            record_id=lead["Id"],
            result=SyncHistory.Result.OK,
            message=f"Lead converted: now syncing with Contact {contact_id}",
        )
        self.report.moved += 1

    def maybe_create(self, sobject: str, record: dict) -> None:
        email = (record.get("Email") or "").strip()
        if not self.connector.auto_create_prospects or not email:
            return
        if sobject == "Lead" and record.get("IsConverted"):
            return
        if Prospect.objects.filter(email__iexact=email).exists():
            return  # auto-create only for emails not already on a prospect
        prospect = Prospect(email=email, campaign=self.connector.auto_create_campaign)
        if sobject == "Contact":
            prospect.crm_contact_id = record["Id"]
            prospect.crm_account_id = record.get("AccountId") or ""
        else:
            prospect.crm_lead_id = record["Id"]
        modified = parse_sf_datetime(record.get("LastModifiedDate"))
        changes = [
            c
            for c in reconcile(
                prospect, record, self.rules, sobject=sobject, record_modified_at=modified
            )
            if not c.to_salesforce
        ]
        for change in changes:
            write_prospect(prospect, change.prospect_field, change.new)
        self.apply_owner(prospect, record)  # may ask Salesforce: before the transaction
        prospect.crm_values = {k: v for k, v in record.items() if not isinstance(v, dict)}
        prospect.crm_modified_at = modified
        prospect.last_synced_at = timezone.now()
        prospect.sync_status = SyncStatus.SYNCED
        prospect.stamp_changes([c.prospect_field for c in changes], modified)
        with transaction.atomic():
            prospect.save()
            SyncHistory.objects.create(
                prospect=prospect,
                at=timezone.now(),
                direction=Direction.INBOUND,
                operation="create",
                sobject=sobject,
                record_id=record["Id"],
                changes=[c.as_history() for c in changes],
                result=SyncHistory.Result.OK,
                message=f"Created from Salesforce {sobject}",
            )
        self.report.created += 1

    def archive(self, prospect: Prospect, why: str) -> None:
        if prospect.archived_at:
            return
        prospect.archived_at = timezone.now()
        prospect.save(update_fields=["archived_at", "updated_at"])
        SyncHistory.objects.create(
            prospect=prospect,
            at=timezone.now(),
            direction=Direction.INBOUND,
            operation="archive",
            result=SyncHistory.Result.OK,
            message=f"Sent to the recycle bin: {why}",
        )
        self.report.archived += 1

    def restore(self, prospect: Prospect) -> None:
        prospect.archived_at = None
        prospect.save(update_fields=["archived_at", "updated_at"])
        SyncHistory.objects.create(
            prospect=prospect,
            at=timezone.now(),
            direction=Direction.INBOUND,
            operation="restore",
            result=SyncHistory.Result.OK,
            message="Restored: the record was undeleted in Salesforce",
        )
        self.report.restored += 1

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
        for record in self.client.query_iter(soql, include_deleted=True):
            for prospect in self.linked_prospects(sobject, record):
                survivor = record.get("MasterRecordId")
                if survivor:
                    self.follow_merge(prospect, sobject, record["Id"], survivor)
                else:
                    self.archive(prospect, f"the {sobject} was deleted in Salesforce")
            stamp = parse_sf_datetime(record.get("SystemModstamp"))
            if stamp and stamp > newest:
                newest = stamp
        SyncCursor.objects.filter(pk=cursor.pk).update(deleted_watermark=newest)

    def follow_merge(self, prospect: Prospect, sobject: str, loser: str, survivor: str) -> None:
        id_field = "crm_contact_id" if sobject == "Contact" else "crm_lead_id"
        other = Prospect.objects.filter(**{id_field: survivor}).exclude(pk=prospect.pk).first()
        if other is not None:
            self.archive(prospect, f"merged into {survivor}, which has its own prospect")
            return
        setattr(prospect, id_field, survivor)
        prospect.save(update_fields=[id_field, "updated_at"])
        SyncHistory.objects.create(
            prospect=prospect,
            at=timezone.now(),
            direction=Direction.INBOUND,
            operation="merge",
            sobject=sobject,
            record_id=survivor,
            result=SyncHistory.Result.OK,
            message=f"{sobject} {loser} merged into {survivor}",
        )
        self.report.moved += 1


def pull_changes(*, connector: Connector, client: Client | None = None) -> PullReport:
    """Apply Salesforce's changes since the last pull; advance the watermarks."""
    client = client or Client.for_connector(connector)
    puller = Puller(connector, client)
    for sobject in OBJECTS:
        puller.pull_object(sobject)
        puller.pull_deleted(sobject)
    puller.report.api_calls = client.api_calls
    Connector.objects.filter(pk=connector.pk).update(last_pull_at=timezone.now())
    return puller.report
