"""Assigning one prospect to a user or a Salesforce queue (or neither), as a script or a page
asks: under the prospect's row lock, saved only when it changes, noted in history with its
actor and on the timeline, and synced with the "assigned user changed" reason.

An assigned prospect without a Salesforce record gets one at its next push (Pardot's rule:
assignment is what creates the Lead). A prospect already in Salesforce keeps the record's
owner: Salesforce is master for owners, as the connector's field rules say, so the next pull
may put the Salesforce owner back.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from prospects.activities import record_activities
from prospects.edits import save_changes
from prospects.models import ActivityType, CrmQueue, Prospect, SyncReason
from prospects.sync_requests import request_sync


@dataclass(frozen=True)
class Assigned:
    prospect: Prospect
    changed: bool


def note_assignment(prospect_id: int, owner, *, actor) -> None:
    """The timeline's "Assigned to …" (or "Unassigned") activity; the caller's own sync
    request carries the reason."""
    record_activities(
        [prospect_id],
        ActivityType.ASSIGNED,
        title=f"Assigned to {owner}" if owner else "Unassigned",
        actor=actor,
        reason=None,
    )


def assign(prospect_id: int, *, user=None, queue: CrmQueue | None = None, actor, operation: str):
    """Assign the prospect to ``user`` or ``queue`` (at most one; neither unassigns it)."""
    if user is not None and queue is not None:
        raise ValueError("A prospect is assigned to a user or to a queue, not both.")
    with transaction.atomic():
        prospect = Prospect.objects.select_for_update().get(pk=prospect_id)
        wanted = {
            "assigned_user": user.pk if user is not None else None,
            "assigned_queue": queue.pk if queue is not None else None,
        }
        now = {
            "assigned_user": prospect.assigned_user_id,
            "assigned_queue": prospect.assigned_queue_id,
        }
        if wanted == now:
            return Assigned(prospect, changed=False)
        values = {"assigned_user": user, "assigned_queue": queue}
        save_changes(
            prospect=prospect,
            values={name: values[name] for name in wanted if wanted[name] != now[name]},
            actor=actor,
            operation=operation,
            reason=SyncReason.ASSIGNMENT_CHANGE,
        )
        note_assignment(prospect.pk, user or queue, actor=actor)
        request_sync(prospect, SyncReason.ASSIGNMENT_CHANGE)
    return Assigned(prospect, changed=True)
