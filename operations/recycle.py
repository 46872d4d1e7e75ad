"""The recycle bin: archived prospects, why they were archived, restoring and purging them.

Why a prospect was archived is read from the ``SyncHistory`` row written when it was, rather
than stored again: the pull writes one for every archive it makes (``sync.engine.inbound``:
"Sent to the recycle bin: the Lead was deleted in Salesforce", "… no longer matches the
Marketing Data Sharing rule", "… merged into X, which has its own prospect"), and a marketer's
delete here writes one too (``archive_prospects``, a ``local`` row naming them). The history is
what the prospect page already shows, it is written in the same transaction as ``archived_at``,
and the sync engine — a layer below this app — needs nothing new to record it.

Restoring follows Pardot's rule for records deleted in Salesforce: the prospect comes back but
its deleted record is not recreated, unless a Sync admin allows it (Pardot's "Allow Deleted CRM
Lead or Contact to Recreate" action); then its CRM link is dropped and the next push routes it
afresh — matching by email or creating a new record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import models, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from prospects.models import Direction, Prospect, SyncHistory, SyncReason
from prospects.sync_requests import request_sync_many
from sync.models import SyncError


class ArchiveReason(models.TextChoices):
    CRM_DELETED = "crm_deleted", "Deleted in Salesforce"
    MERGED = "merged", "Merged in Salesforce"
    SHARING = "sharing", "Excluded by a data sharing rule"
    USER = "user", "Deleted in Leadbridge"
    UNKNOWN = "unknown", "Archived"


ARCHIVE_OPERATION = "archive"
# What each reason's archive history row looks like (direction, a phrase of its message).
REASON_MATCH = {
    ArchiveReason.USER: Q(archive_direction=Direction.LOCAL),
    ArchiveReason.SHARING: Q(archive_direction=Direction.INBOUND)
    & Q(archive_message__contains="Data Sharing"),
    ArchiveReason.MERGED: Q(archive_direction=Direction.INBOUND)
    & Q(archive_message__contains="merged into"),
    ArchiveReason.CRM_DELETED: Q(archive_direction=Direction.INBOUND)
    & Q(archive_message__contains="deleted in Salesforce"),
}
# The reasons whose Salesforce record no longer exists: restoring does not recreate it.
RECORD_GONE = {ArchiveReason.CRM_DELETED, ArchiveReason.MERGED}


def reason_of(direction: str | None, message: str | None) -> ArchiveReason:
    """The reason an archive history row gives (``UNKNOWN`` when there is none)."""
    message = message or ""
    if direction == Direction.LOCAL:
        return ArchiveReason.USER
    if direction == Direction.INBOUND:
        if "Data Sharing" in message:
            return ArchiveReason.SHARING
        if "merged into" in message:
            return ArchiveReason.MERGED
        if "deleted in Salesforce" in message:
            return ArchiveReason.CRM_DELETED
    return ArchiveReason.UNKNOWN


def archived_prospects() -> models.QuerySet:
    """Archived prospects with their latest archive history row's direction, message and actor
    (one correlated subquery each, on the (prospect, -at) index)."""
    latest = SyncHistory.objects.filter(
        prospect=OuterRef("pk"), operation=ARCHIVE_OPERATION
    ).order_by("-at", "-pk")
    return (
        Prospect.objects.filter(archived_at__isnull=False)
        .select_related("assigned_user")
        .annotate(
            archive_direction=Subquery(latest.values("direction")[:1]),
            archive_message=Subquery(latest.values("message")[:1]),
            archived_by=Subquery(latest.values("actor_label")[:1]),
        )
    )


def filter_reason(queryset: models.QuerySet, reason: str) -> models.QuerySet:
    if reason == ArchiveReason.UNKNOWN:
        known = Q()
        for match in REASON_MATCH.values():
            known |= match
        return queryset.exclude(known)
    return queryset.filter(REASON_MATCH[ArchiveReason(reason)])


def archive_prospects(prospect_ids: Sequence[int], *, actor) -> int:
    """A marketer's delete: archive these prospects (their Salesforce records are left alone)
    and note it in their history. Returns how many were archived (already archived: skipped)."""
    with transaction.atomic():
        ids = list(
            Prospect.objects.select_for_update()
            .filter(pk__in=prospect_ids, archived_at__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        Prospect.objects.filter(pk__in=ids).update(
            archived_at=timezone.now(), updated_at=timezone.now()
        )
        SyncHistory.objects.record_action(
            ids,
            actor=actor,
            operation=ARCHIVE_OPERATION,
            message="Sent to the recycle bin: deleted in Leadbridge",
        )
    return len(ids)


@dataclass
class Restored:
    prospect: Prospect | None
    reason: ArchiveReason = ArchiveReason.UNKNOWN
    recreate: bool = False  # its CRM link was dropped so the next push routes it afresh
    synced: bool = False  # a sync was requested
    record_gone: bool = False  # its Salesforce record is deleted and will not be recreated


CRM_LINK = {
    "crm_lead_id": "",
    "crm_contact_id": "",
    "crm_account_id": "",
    "crm_owner_id": "",
    "crm_person_account": False,
    "crm_modified_at": None,
}


def restore_prospect(*, prospect_id: int, actor, allow_recreate: bool = False) -> Restored:
    """Take a prospect out of the recycle bin.

    1. Lock it; one not archived (any more) is left alone (``prospect`` None).
    2. Its archive reason decides: a record deleted or merged away in Salesforce is not
       recreated — the prospect comes back without a sync request, still naming its deleted
       record — unless ``allow_recreate``: then its CRM link is cleared and a sync is requested,
       and routing matches it by email or creates a new record (if it is assigned).
    3. Any other reason: it comes back and a sync is requested.
    4. History notes who restored it and whether recreation was allowed.
    """
    with transaction.atomic():
        prospect = (
            archived_prospects().select_for_update(of=("self",)).filter(pk=prospect_id).first()
        )
        if prospect is None:
            return Restored(None)
        reason = reason_of(prospect.archive_direction, prospect.archive_message)
        gone = reason in RECORD_GONE and bool(prospect.crm_id)
        recreate = gone and allow_recreate
        changes: dict = {"archived_at": None, "updated_at": timezone.now()}
        if recreate:
            changes.update(CRM_LINK)
        Prospect.objects.filter(pk=prospect.pk).update(**changes)
        message = "Restored from the recycle bin"
        if recreate:
            message += "; Salesforce may recreate its deleted record"
        elif gone:
            message += "; its deleted Salesforce record is not recreated"
        SyncHistory.objects.record_action(
            [prospect.pk], actor=actor, operation="restore", reason=SyncReason.MANUAL,
            message=message,
        )  # fmt: skip
        synced = not gone or recreate
        if synced:
            request_sync_many([prospect.pk], SyncReason.MANUAL)
    prospect.refresh_from_db()
    return Restored(prospect, reason, recreate, synced, gone and not recreate)


def purge_prospect(*, prospect_id: int) -> bool:
    """Delete an archived prospect for good (a Sync admin's choice): its history and queue row
    go with it; its open Sync Errors are resolved as "prospect deleted" first."""
    with transaction.atomic():
        prospect = (
            Prospect.objects.select_for_update()
            .filter(pk=prospect_id, archived_at__isnull=False)
            .first()
        )
        if prospect is None:
            return False
        SyncError.objects.open().filter(prospect=prospect).update(
            resolved_at=timezone.now(), resolution=SyncError.Resolution.PROSPECT_DELETED
        )
        prospect.delete()
    return True
