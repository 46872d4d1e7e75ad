"""Resync of CampaignMember Sync Errors: the membership goes back to pending and the member push
is woken; the row then reads what became of it from the membership (nothing calls Salesforce)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import F

from crm.memberships import wake_member_push
from crm.models import CampaignMembership, MembershipState
from sync.models import MEMBER_SOBJECT, SyncError


def requeue_memberships(*, prospect_ids: Sequence[int]) -> int:
    """Memberships of these prospects with an open CampaignMember error: pending again (a new
    generation), and the member push woken after commit. Returns how many."""
    ids = list(
        SyncError.objects.open()
        .filter(sobject=MEMBER_SOBJECT, prospect_id__in=list(prospect_ids))
        .exclude(campaign_membership=None)
        .values_list("campaign_membership_id", flat=True)
    )
    count = (
        CampaignMembership.objects.filter(pk__in=ids, campaign__deleted_at__isnull=True)
        .exclude(state=MembershipState.SYNCED)
        .update(
            state=MembershipState.PENDING,
            generation=F("generation") + 1,
            claimed_at=None,
            attempts=0,
        )
    )
    if count:
        wake_member_push()  # after commit
    return count


def membership_state(error: SyncError) -> tuple[str, str]:
    """(state, message) of the membership behind a CampaignMember error, for its row."""
    membership = (
        CampaignMembership.objects.select_related("campaign")
        .filter(pk=error.campaign_membership_id)
        .first()
    )
    if membership is None:
        return "deleted", "The campaign membership no longer exists; there is nothing to resync."
    if membership.campaign.is_deleted:
        return "failed", membership.error_message or "The campaign was deleted in Salesforce."
    if membership.state == MembershipState.PENDING:
        if membership.claimed_at:
            return "syncing", "Sending the campaign member to Salesforce…"
        return "queued", "Queued: the member goes out once the prospect is in Salesforce."
    if membership.state == MembershipState.ERROR:
        return "failed", membership.error_message
    return "cleared", f"Cleared: member of “{membership.campaign.name}” as “{membership.status}”."
