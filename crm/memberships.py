"""Adding prospects to Salesforce campaigns, and changing their member status.

Every path that adds prospects to a campaign — the prospect page, the prospect list's bulk
action, imports, form handlers, completion actions, the API — calls :func:`add_to_campaign`.
Nothing here calls Salesforce: a membership is saved ``pending`` and the engine's member push
(``sync/engine/campaigns.py``) sends it once the prospect has a lead or contact there. The wake-up
job is enqueued by name, as ``request_sync`` does: the engine sits above this app.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import django_rq
from django.db import connection, transaction
from django.db.models import Count, F
from django.utils import timezone

from crm.models import CampaignMembership, MembershipState, SalesforceCampaign
from prospects.models import Direction, Prospect, SyncHistory, actor_name

log = logging.getLogger(__name__)

SYNC_QUEUE = "sync"
MEMBER_PUSH_JOB = "sync.engine.campaigns.push_memberships_job"
CHUNK = 1000  # prospects per transaction on SQLite (its ORM path binds one parameter per id)
CHUNK_POSTGRESQL = 10000  # one array parameter: the statement's cost, not its size, limits it


class CampaignError(ValueError):
    """A request the campaign cannot take: its message is shown to the user as it is."""


def check_campaign(campaign: SalesforceCampaign, status: str) -> str:
    """The status to use (the campaign's default when blank); refuse what Salesforce would.

    1. A campaign deleted in Salesforce takes no members.
    2. An inactive campaign takes none from the portal either (Pardot lists active ones only).
    3. The status must be one of the campaign's member statuses.
    """
    if campaign.is_deleted:
        raise CampaignError(
            f"The Salesforce campaign “{campaign.name}” was deleted in Salesforce; "
            "prospects cannot be added to it."
        )
    if not campaign.is_active:
        raise CampaignError(
            f"The Salesforce campaign “{campaign.name}” is inactive; activate it in "
            "Salesforce to add prospects."
        )
    labels = campaign.status_labels()
    if not status:
        default = campaign.default_status()
        if default is None:
            raise CampaignError(f"“{campaign.name}” has no member statuses in Salesforce yet.")
        return default.label
    if status not in labels:
        raise CampaignError(
            f"“{status}” is not a member status of “{campaign.name}” "
            f"(its statuses: {', '.join(labels) or 'none'})."
        )
    return status


def add_to_campaign(
    prospect_ids: Iterable[int],
    campaign: SalesforceCampaign,
    status: str = "",
    *,
    actor=None,
    update_existing: bool = True,
    settle: bool = True,
) -> int:
    """Add these prospects to ``campaign`` with ``status``; returns how many were added or
    changed. Raises :class:`CampaignError` for a campaign or status Salesforce would refuse.

    1. New memberships are created ``pending``; existing ones take the new status (unless
       ``update_existing`` is off) and go back to pending with a new generation.
    2. Each prospect's history notes it, with the acting user.
    3. The campaign's counts are refreshed and, after commit, the engine's member push is woken
       (it sends only what can go: members of prospects not yet in Salesforce wait for their
       sync). ``settle=False`` leaves both to a caller adding chunk after chunk, which calls
       :func:`settle_campaign` once at the end (counting a campaign costs its whole size).
    """
    status = check_campaign(campaign, status)
    responded = _responded(campaign, status)
    ids = list(dict.fromkeys(prospect_ids))
    size = CHUNK_POSTGRESQL if connection.vendor == "postgresql" else CHUNK
    touched = 0
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        with transaction.atomic():
            touched += _add_chunk(chunk, campaign, status, responded, actor, update_existing)
    if touched and settle:
        settle_campaign(campaign)
    return touched


def settle_campaign(campaign: SalesforceCampaign) -> None:
    """After memberships changed: the campaign's counts refreshed, the member push woken."""
    refresh_counts([campaign.pk])
    wake_member_push()


def _add_chunk(
    chunk: list[int],
    campaign: SalesforceCampaign,
    status: str,
    responded: bool,
    actor,
    update_existing: bool,
) -> int:
    if connection.vendor == "postgresql":
        return _add_chunk_postgresql(chunk, campaign, status, responded, actor, update_existing)
    return _add_chunk_orm(chunk, campaign, status, responded, actor, update_existing)


def _add_chunk_postgresql(
    chunk: list[int],
    campaign: SalesforceCampaign,
    status: str,
    responded: bool,
    actor,
    update_existing: bool,
) -> int:
    """``_add_chunk_orm`` in one statement: new memberships inserted (a membership added by
    another path a moment ago stands: ``ON CONFLICT DO NOTHING``), differing statuses changed,
    and both noted in history — a rule or bulk action adds tens of thousands at a time."""
    user = actor if actor is not None and actor.is_authenticated else None
    now = timezone.now()
    memberships = CampaignMembership._meta.db_table
    history = SyncHistory._meta.db_table
    note = f"""
        INSERT INTO {history} (prospect_id, at, direction, operation, sobject, record_id,
            reason, changes, result, message, actor_id, actor_label)
        SELECT prospect_id, %(now)s, %(local)s, 'campaign', '', '', '', '[]'::jsonb, %(done)s,
            {{message}}, %(actor)s, %(label)s
    """
    sql = f"""
        WITH wanted AS (
            SELECT id FROM {Prospect._meta.db_table} WHERE id = ANY(%(ids)s::bigint[])
        ), inserted AS (
            INSERT INTO {memberships} (prospect_id, campaign_id, status, has_responded,
                sf_member_id, state, generation, attempts, error_message, added_by_id,
                created_at, updated_at)
            SELECT id, %(campaign)s, %(status)s, %(responded)s, '', %(pending)s, 1, 0, '',
                %(actor)s, %(now)s, %(now)s
            FROM wanted
            ON CONFLICT (campaign_id, prospect_id) DO NOTHING
            RETURNING prospect_id
        ), restatused AS (
            UPDATE {memberships} SET status = %(status)s, has_responded = %(responded)s,
                state = %(pending)s, generation = generation + 1, attempts = 0,
                error_message = '', updated_at = %(now)s
            WHERE campaign_id = %(campaign)s AND prospect_id = ANY(%(ids)s::bigint[])
                AND status IS DISTINCT FROM %(status)s AND %(update_existing)s
            RETURNING prospect_id
        ), noted_new AS (
            {note.format(message="%(added)s")} FROM inserted
        ), noted_changed AS (
            {note.format(message="%(restatused)s")} FROM restatused
        )
        SELECT (SELECT count(*) FROM inserted) + (SELECT count(*) FROM restatused)
    """
    params = {
        "ids": chunk,
        "campaign": campaign.pk,
        "status": status,
        "responded": responded,
        "pending": MembershipState.PENDING.value,
        "actor": user.pk if user else None,
        "label": actor_name(user) if user else "",
        "now": now,
        "update_existing": update_existing,
        "local": Direction.LOCAL.value,
        "done": SyncHistory.Result.DONE.value,
        "added": f"Added to Salesforce campaign “{campaign.name}” as “{status}”.",
        "restatused": f"Status in Salesforce campaign “{campaign.name}” set to “{status}”.",
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _add_chunk_orm(
    chunk: list[int],
    campaign: SalesforceCampaign,
    status: str,
    responded: bool,
    actor,
    update_existing: bool,
) -> int:
    existing = dict(
        CampaignMembership.objects.filter(campaign=campaign, prospect_id__in=chunk).values_list(
            "prospect_id", "status"
        )
    )
    live = set(Prospect.objects.filter(pk__in=chunk).values_list("pk", flat=True))
    new = [pk for pk in chunk if pk in live and pk not in existing]
    CampaignMembership.objects.bulk_create(
        [
            CampaignMembership(
                prospect_id=pk,
                campaign=campaign,
                status=status,
                has_responded=responded,
                added_by=actor if actor is not None and actor.is_authenticated else None,
            )
            for pk in new
        ],
        ignore_conflicts=True,  # added by another path a moment ago: that one stands
    )
    changed = [pk for pk, old in existing.items() if old != status] if update_existing else []
    _set_status(campaign, changed, status, responded)
    _note(new, actor, f"Added to Salesforce campaign “{campaign.name}” as “{status}”.")
    _note(changed, actor, f"Status in Salesforce campaign “{campaign.name}” set to “{status}”.")
    return len(new) + len(changed)


def change_status(membership: CampaignMembership, status: str, *, actor=None) -> bool:
    """Set one membership's status (the prospect page); returns whether it changed."""
    campaign = membership.campaign
    if campaign.is_deleted:
        raise CampaignError(
            f"The Salesforce campaign “{campaign.name}” was deleted in Salesforce; "
            "its statuses cannot change."
        )
    if status not in campaign.status_labels():
        raise CampaignError(
            f"“{status}” is not a member status of “{campaign.name}” "
            f"(its statuses: {', '.join(campaign.status_labels()) or 'none'})."
        )
    if membership.status == status:
        return False
    with transaction.atomic():
        _set_status(campaign, [membership.prospect_id], status, _responded(campaign, status))
        _note(
            [membership.prospect_id],
            actor,
            f"Status in Salesforce campaign “{campaign.name}” set to “{status}”.",
        )
    refresh_counts([campaign.pk])
    wake_member_push()
    return True


def _set_status(
    campaign: SalesforceCampaign, prospect_ids: Sequence[int], status: str, responded: bool
) -> None:
    if not prospect_ids:
        return
    CampaignMembership.objects.filter(campaign=campaign, prospect_id__in=prospect_ids).update(
        status=status,
        has_responded=responded,
        state=MembershipState.PENDING,
        generation=F("generation") + 1,
        attempts=0,
        error_message="",
    )


def _responded(campaign: SalesforceCampaign, status: str) -> bool:
    return any(s.label == status and s.has_responded for s in campaign.member_statuses.all())


def _note(prospect_ids: Sequence[int], actor, message: str) -> None:
    if prospect_ids:
        SyncHistory.objects.record_action(
            prospect_ids, actor=actor, operation="campaign", message=message
        )


def refresh_counts(campaign_ids: Iterable[int]) -> None:
    """Count each campaign's memberships by status once, for the campaign pages."""
    for campaign_id in set(campaign_ids):
        counts = dict(
            CampaignMembership.objects.filter(campaign_id=campaign_id)
            .order_by()
            .values_list("status")
            .annotate(n=Count("pk"))
            .values_list("status", "n")
        )
        SalesforceCampaign.objects.filter(pk=campaign_id).update(
            member_count=sum(counts.values()), status_counts=counts
        )


def wake_member_push() -> None:
    """After commit, enqueue the engine's member push by name (Redis down: the cron sends)."""

    def enqueue() -> None:
        try:
            django_rq.get_queue(SYNC_QUEUE).enqueue(MEMBER_PUSH_JOB, job_timeout=1800)
        except Exception:  # noqa: BLE001 - Redis down: the cron tick pushes memberships
            log.warning("could not wake the member push; the next cron tick sends", exc_info=True)

    transaction.on_commit(enqueue)
