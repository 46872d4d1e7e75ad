"""The actions themselves: each knows its JSON, its description, and how to apply itself to a
chunk of prospect ids set-based (see ``automation.actions`` for the flow around them)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from automation.columns import ColumnWrite
from automation.context import Context


class ActionRefused(Exception):
    """An action that cannot run at all (its campaign deleted, its list dynamic): the message
    is shown to the user as it is, and nothing of the action is applied."""


@dataclass
class Outcome:
    changed: set[int] = field(default_factory=set)  # prospects this action changed
    sync: set[int] = field(default_factory=set)  # prospects to queue for a sync


class Action:
    """One action. Subclasses set ``type``, ``title`` and implement ``apply``."""

    type: ClassVar[str] = ""
    title: ClassVar[str] = ""

    def to_json(self) -> dict[str, Any]:
        raise NotImplementedError

    def describe(self) -> str:
        return self.title

    def prepare(self, ctx: Context) -> None:
        """Check, once before anything is written, that the action can run at all."""

    def apply(self, ctx: Context, chunk: list[int]) -> Outcome:
        raise NotImplementedError

    def finish(self, ctx: Context, result) -> None:
        """After every chunk: a summary message, a notification."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Action) and self.to_json() == other.to_json()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {json.dumps(self.to_json())}>"


class ColumnAction(Action):
    """An action that writes prospect columns. ``apply_actions`` gathers a run's column actions
    and writes them per chunk together (``automation.columns.write_columns``: one locked,
    compared, history-keeping statement); the prospects each changed are synced."""

    sync_changed: ClassVar[bool] = True

    def write(self, ctx: Context) -> ColumnWrite:
        raise NotImplementedError

    def after(self, ctx: Context, changed: set[int]) -> Outcome:
        """What follows the write for the prospects it changed (by default: their sync)."""
        return Outcome(changed=changed, sync=changed if self.sync_changed else set())


# -- the actions ---------------------------------------------------------------------------------


def _table(model) -> str:
    return model._meta.db_table


def _owner_label_sql() -> str:
    """The prospect's owner as history shows it: the queue's name, else the user's username."""
    from django.contrib.auth import get_user_model

    from prospects.models import CrmQueue

    user = get_user_model()
    return (
        f"COALESCE((SELECT q.name FROM {_table(CrmQueue)} q WHERE q.id = p.assigned_queue_id), "
        f"(SELECT u.{user.USERNAME_FIELD} FROM {_table(user)} u WHERE u.id = p.assigned_user_id))"
    )


def _owner_label(prospect) -> str | None:
    if prospect.assigned_queue_id:
        return prospect.assigned_queue.name
    if prospect.assigned_user_id:
        return prospect.assigned_user.get_username()
    return None


class _Assign(ColumnAction):
    """Assign to a user or a queue (one excludes the other, as on the edit form)."""

    column: ClassVar[str] = ""
    other: ClassVar[str] = ""

    def __init__(self, target, *, only_unassigned: bool = False) -> None:
        self.target = target
        self.only_unassigned = only_unassigned

    def describe(self) -> str:
        text = f"{self.title}: {self.target}"
        return text + " (unassigned prospects only)" if self.only_unassigned else text

    def write(self, ctx: Context) -> ColumnWrite:
        column, other, pk = self.column, self.other, self.target.pk
        if self.only_unassigned:
            differs = "p.assigned_user_id IS NULL AND p.assigned_queue_id IS NULL"
        else:
            differs = f"p.{column} IS DISTINCT FROM %(pk)s OR p.{other} IS NOT NULL"

        def py_differs(p) -> bool:
            if self.only_unassigned:
                return not p.assigned_user_id and not p.assigned_queue_id
            return getattr(p, column) != pk or getattr(p, other) is not None

        def py_apply(p) -> None:
            setattr(p, column, pk)
            setattr(p, other, None)

        name = column.removesuffix("_id")
        return ColumnWrite(
            field=name,
            new=str(self.target),
            sets=[(column, "%(pk)s"), (other, "NULL")],
            differs=differs,
            old=_owner_label_sql(),
            params={"pk": pk},
            stamps=["assigned_user", "assigned_queue"],
            py_differs=py_differs,
            py_apply=py_apply,
            py_old=_owner_label,
            columns=[column, other],
        )


class AssignUser(_Assign):
    type = "assign_user"
    title = "Assign to a user"
    column, other = "assigned_user_id", "assigned_queue_id"

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "user": self.target.pk, "only_unassigned": self.only_unassigned}

    def prepare(self, ctx: Context) -> None:
        if not type(self.target).objects.filter(pk=self.target.pk, is_active=True).exists():
            raise ActionRefused(
                f"{self.title}: {self.target} is no longer an active user; pick another."
            )


class AssignQueue(_Assign):
    type = "assign_queue"
    title = "Assign to a queue"
    column, other = "assigned_queue_id", "assigned_user_id"

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "queue": self.target.pk,
            "only_unassigned": self.only_unassigned,
        }

    def prepare(self, ctx: Context) -> None:
        queue = type(self.target).objects.filter(pk=self.target.pk).first()
        if queue is None or not queue.is_active:
            raise ActionRefused(
                f"{self.title}: the Salesforce queue “{self.target}” no longer exists or is "
                "inactive in Salesforce; pick another."
            )


class SetCampaign(ColumnAction):
    """The prospect's (Leadbridge) campaign."""

    type = "set_campaign"
    title = "Add to a campaign"

    def __init__(self, campaign) -> None:
        self.campaign = campaign

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "campaign": self.campaign.pk}

    def describe(self) -> str:
        return f"{self.title}: {self.campaign}"

    def prepare(self, ctx: Context) -> None:
        if not type(self.campaign).objects.filter(pk=self.campaign.pk).exists():
            raise ActionRefused(f"{self.title}: the campaign “{self.campaign}” was deleted.")

    def write(self, ctx: Context) -> ColumnWrite:
        from prospects.models import Campaign

        pk = self.campaign.pk
        return ColumnWrite(
            field="campaign",
            new=str(self.campaign),
            sets=[("campaign_id", "%(pk)s")],
            differs="p.campaign_id IS DISTINCT FROM %(pk)s",
            old=f"(SELECT c.name FROM {_table(Campaign)} c WHERE c.id = p.campaign_id)",
            params={"pk": pk},
            stamps=["campaign"],
            py_differs=lambda p: p.campaign_id != pk,
            py_apply=lambda p: setattr(p, "campaign_id", pk),
            py_old=lambda p: p.campaign.name if p.campaign_id else None,
            columns=["campaign_id"],
        )


class SetField(ColumnAction):
    """A standard field (by name) or a custom one (``custom:<api name>``), to a value the
    action's form validated as the edit form would."""

    type = "set_field"
    title = "Set a field"

    def __init__(self, name: str, value: Any, *, label: str = "", definition=None) -> None:
        self.name = name
        self.value = value  # the cleaned Python value
        self.label = label or name
        self.definition = definition  # the CustomField, for custom fields

    def to_json(self) -> dict[str, Any]:
        from prospects.edits import jsonable

        value = self.value
        if isinstance(value, dt.date):
            value = value.isoformat()
        return {"type": self.type, "field": self.name, "value": jsonable(value)}

    def describe(self) -> str:
        shown = "(blank)" if self.value in (None, "") else self.value
        return f"Set {self.label} to {shown}"

    def prepare(self, ctx: Context) -> None:
        from prospects.models import CustomField

        if self.definition is None:
            return
        key = self.definition.api_name
        if not CustomField.objects.filter(api_name=key).exists():
            raise ActionRefused(
                f"{self.describe()}: the custom field “{self.label}” was deleted; remove this "
                "action or pick another field."
            )

    def write(self, ctx: Context) -> ColumnWrite:
        if self.definition is not None:
            return self._custom()
        return self._standard()

    def _standard(self) -> ColumnWrite:
        from django.db import connection

        from prospects.edits import jsonable
        from prospects.models import Prospect

        model_field = Prospect._meta.get_field(self.name)
        column, attname, value = model_field.column, model_field.attname, self.value
        db_value = model_field.get_db_prep_save(value, connection)
        return ColumnWrite(
            field=self.name,
            new=jsonable(value),
            sets=[(column, "%(value)s")],
            differs=f"p.{column} IS DISTINCT FROM %(value)s",
            old=f"p.{column}",
            params={"value": db_value},
            stamps=[self.name],
            py_differs=lambda p: getattr(p, attname) != value,
            py_apply=lambda p: setattr(p, attname, value),
            py_old=lambda p: getattr(p, attname),
            columns=[attname],
        )

    def _custom(self) -> ColumnWrite:
        from prospects.models import custom_value

        key = self.definition.api_name
        stored = custom_value(self.definition, self.value)
        if stored is None:
            sets = [("custom_fields", "COALESCE({current}, '{}'::jsonb) - %(key)s::text")]
            differs = "jsonb_exists(COALESCE(p.custom_fields, '{}'::jsonb), %(key)s)"
        else:
            template = (
                "jsonb_set(COALESCE({current}, '{}'::jsonb), ARRAY[%(key)s], %(stored)s::jsonb)"
            )
            sets = [("custom_fields", template)]
            differs = "(p.custom_fields -> %(key)s) IS DISTINCT FROM %(stored)s::jsonb"

        def py_apply(p) -> None:
            values = {k: v for k, v in (p.custom_fields or {}).items() if k != key}
            p.custom_fields = values if stored is None else {**values, key: stored}

        return ColumnWrite(
            field=self.name,
            new=stored,
            sets=sets,
            differs=differs,
            old="(p.custom_fields -> %(key)s)",
            params={"key": key, "stored": json.dumps(stored)},
            stamps=[self.name],
            py_differs=lambda p: (p.custom_fields or {}).get(key) != stored,
            py_apply=py_apply,
            py_old=lambda p: (p.custom_fields or {}).get(key),
            columns=["custom_fields"],
        )


class DoNotSync(ColumnAction):
    """Mark "do not sync" (or clear the mark: the prospect is then queued for a sync)."""

    type = "do_not_sync"
    title = "Mark “do not sync”"

    def __init__(self, value: bool = True) -> None:
        self.value = value

    @property
    def sync_changed(self) -> bool:  # type: ignore[override]
        return not self.value

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "value": self.value}

    def describe(self) -> str:
        return self.title if self.value else "Clear “do not sync”"

    def write(self, ctx: Context) -> ColumnWrite:
        from prospects.models import SyncStatus

        value = self.value
        sets = [("do_not_sync", "%(value)s")]
        if value:
            sets.append(("sync_status", "%(status)s"))
        return ColumnWrite(
            field="do_not_sync",
            new=value,
            sets=sets,
            differs="p.do_not_sync IS DISTINCT FROM %(value)s",
            old="p.do_not_sync",
            params={"value": value, "status": SyncStatus.DO_NOT_SYNC.value},
            syncs=not value,
            stamps=["do_not_sync"],
            py_differs=lambda p: p.do_not_sync != value,
            py_apply=lambda p: (
                setattr(p, "do_not_sync", value),
                value and setattr(p, "sync_status", SyncStatus.DO_NOT_SYNC),
            ),
            py_old=lambda p: p.do_not_sync,
            columns=["do_not_sync", "sync_status"],
        )

    def after(self, ctx: Context, changed: set[int]) -> Outcome:
        from prospects.models import SyncQueueItem

        if self.value and changed:  # never sent: off the pending queue
            SyncQueueItem.objects.filter(prospect_id__in=changed).delete()
        return super().after(ctx, changed)


class AddToSalesforceCampaign(Action):
    """Add to a Salesforce campaign with a member status, through
    ``crm.memberships.add_to_campaign`` (members go to Salesforce once the prospect is there)."""

    type = "add_to_sf_campaign"
    title = "Add to a Salesforce campaign"

    def __init__(self, campaign, status: str = "") -> None:
        self.campaign = campaign
        self.status = status
        self.added = 0  # memberships added or changed by this run

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "campaign": self.campaign.pk, "status": self.status}

    def describe(self) -> str:
        status = f" as “{self.status}”" if self.status else " (its default status)"
        return f"{self.title}: {self.campaign}{status}"

    def prepare(self, ctx: Context) -> None:
        """The campaign as the database holds it now: gone or deleted in Salesforce since the
        action was saved refuses the whole action, before any prospect is added."""
        from crm.memberships import CampaignError, check_campaign
        from crm.models import SalesforceCampaign

        campaign = SalesforceCampaign.objects.filter(pk=self.campaign.pk).first()
        if campaign is None:
            raise ActionRefused(
                f"{self.title}: the Salesforce campaign “{self.campaign}” no longer exists; "
                "nothing was added. Pick another campaign."
            )
        try:
            self.status = check_campaign(campaign, self.status)
        except CampaignError as exc:
            raise ActionRefused(f"{self.title}: {exc} Nothing was added.") from exc
        self.campaign = campaign
        self.added = 0

    def apply(self, ctx: Context, chunk: list[int]) -> Outcome:
        from crm.memberships import add_to_campaign

        unchanged = _members_with_status(self.campaign.pk, self.status, chunk)
        # The campaign is counted and its member push woken once, in ``finish``: counting
        # after each chunk would read the whole campaign once per chunk.
        self.added += add_to_campaign(
            chunk, self.campaign, self.status, actor=ctx.actor, settle=False
        )
        return Outcome(changed={pk for pk in chunk if pk not in unchanged})

    def finish(self, ctx: Context, result) -> None:
        from crm.memberships import settle_campaign

        if self.added:
            settle_campaign(self.campaign)


def _members_with_status(campaign_id: int, status: str, chunk: list[int]) -> set[int]:
    """The chunk's prospects already in the campaign with this status (adding changes nothing
    for them). ``= ANY`` on PostgreSQL: one parameter, not one per id, typed ``bigint[]`` like
    the column so PostgreSQL hashes it (an ``integer[]`` is searched linearly per row: seconds
    per chunk when the plan filters a large campaign's rows by it)."""
    from django.db import connection

    from crm.models import CampaignMembership

    members = CampaignMembership.objects.filter(campaign_id=campaign_id, status=status)
    if connection.vendor != "postgresql":
        return set(members.filter(prospect_id__in=chunk).values_list("prospect_id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT prospect_id FROM {_table(CampaignMembership)} "
            "WHERE campaign_id = %s AND status = %s AND prospect_id = ANY(%s::bigint[])",
            [campaign_id, status, chunk],
        )
        return {row[0] for row in cursor.fetchall()}


class AdjustScore(Action):
    """Add (or take away) points, on each prospect's timeline (``adjust_scores``)."""

    type = "adjust_score"
    title = "Adjust score"

    def __init__(self, points: int) -> None:
        self.points = points

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "points": self.points}

    def describe(self) -> str:
        return f"{self.title} by {self.points:+d}"

    def apply(self, ctx: Context, chunk: list[int]) -> Outcome:
        from prospects.activities import adjust_scores

        if not self.points:
            return Outcome()
        # Its own sync request (the score moved) would duplicate the chunk's: left to ours.
        adjust_scores(chunk, self.points, title=ctx.label, actor=ctx.actor, reason=None)
        ids = set(chunk)
        return Outcome(changed=ids, sync=ids)


class _ListAction(Action):
    def __init__(self, prospect_list) -> None:
        self.list = prospect_list

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "list": self.list.pk}

    def describe(self) -> str:
        return f"{self.title}: {self.list}"

    def prepare(self, ctx: Context) -> None:
        from automation.models import ProspectList

        found = ProspectList.objects.filter(pk=self.list.pk).first()
        if found is None:
            raise ActionRefused(f"{self.title}: the list “{self.list}” was deleted.")
        if found.kind != ProspectList.Kind.STATIC:
            raise ActionRefused(
                f"{self.title}: “{found}” is a dynamic list; its members follow its criteria."
            )
        self.list = found

    def _note(self, ctx: Context, ids: list[int], message: str) -> None:
        from prospects.models import SyncHistory

        SyncHistory.objects.record_action(
            ids, actor=ctx.actor, operation=ctx.source.operation, reason=ctx.reason,
            message=message,
        )  # fmt: skip


class AddToList(_ListAction):
    type = "add_to_list"
    title = "Add to a list"

    def apply(self, ctx: Context, chunk: list[int]) -> Outcome:
        from automation.lists import add_members

        added = add_members(self.list, chunk, source=ctx.source.list_source)
        self._note(ctx, added, f"Added to the list “{self.list}”.")
        return Outcome(changed=set(added))


class RemoveFromList(_ListAction):
    type = "remove_from_list"
    title = "Remove from a list"

    def apply(self, ctx: Context, chunk: list[int]) -> Outcome:
        from automation.lists import remove_members

        removed = remove_members(self.list, chunk)
        self._note(ctx, removed, f"Removed from the list “{self.list}”.")
        return Outcome(changed=set(removed))


class SyncNow(Action):
    """Ask for a sync of every prospect (queued, in batches; "do not sync" ones skipped)."""

    type = "sync_now"
    title = "Sync with CRM now"

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type}

    def apply(self, ctx: Context, chunk: list[int]) -> Outcome:
        return Outcome(sync=set(chunk))


class NotifyUser(Action):
    """Email a user: the prospect (a completion action) or how many matched, with a sample
    (a rule, a bulk action). Sent by a worker after commit."""

    type = "notify_user"
    title = "Notify a user by email"
    SAMPLE = 20

    def __init__(self, user) -> None:
        self.user = user
        self.sample: list[int] = []
        self.count = 0

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "user": self.user.pk}

    def describe(self) -> str:
        return f"{self.title}: {self.user}"

    def prepare(self, ctx: Context) -> None:
        self.sample, self.count = [], 0

    def apply(self, ctx: Context, chunk: list[int]) -> Outcome:
        self.sample += chunk[: self.SAMPLE - len(self.sample)]
        self.count += len(chunk)
        return Outcome()

    def finish(self, ctx: Context, result) -> None:
        from django.db import transaction

        from automation.notify import enqueue_notification

        if self.count:
            user_id, sample, count, label = self.user.pk, list(self.sample), self.count, ctx.label
            transaction.on_commit(lambda: enqueue_notification(user_id, sample, count, label))


# The link of a prospect whose Salesforce record is gone, cleared so the next push routes it
# afresh (as the recycle bin's restore with recreation does).
CRM_LINK = {
    "crm_lead_id": "",
    "crm_contact_id": "",
    "crm_account_id": "",
    "crm_owner_id": "",
    "crm_person_account": False,
    "crm_modified_at": None,
}


class AllowRecreate(Action):
    """Pardot's "Allow Deleted CRM Lead or Contact to Recreate".

    A prospect whose linked record was deleted in Salesforce is not recreated by default: the
    recycle bin restores it still naming its deleted record, and a push of such a prospect
    records ``ENTITY_IS_DELETED``. This action drops those prospects' CRM link (only theirs:
    prospects whose record exists are left alone) and asks for a sync, so routing matches them
    by email or creates a new record, as the recycle bin's "allow recreation" does.
    """

    type = "allow_recreate"
    title = "Allow a deleted CRM record to be recreated"

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type}

    def apply(self, ctx: Context, chunk: list[int]) -> Outcome:
        from django.db.models import DateTimeField, Exists, OuterRef, Value
        from django.db.models.functions import Coalesce

        from prospects.models import Prospect, SyncHistory
        from sync.models import SyncError

        deleted_error = SyncError.objects.filter(
            prospect=OuterRef("pk"),
            error_code="ENTITY_IS_DELETED",
            resolved_at__isnull=True,
            campaign_membership__isnull=True,
        )
        # The recycle bin restored it without recreation, and no push has linked it since.
        never = Value(dt.datetime(1970, 1, 1, tzinfo=dt.UTC), output_field=DateTimeField())
        restored_unlinked = SyncHistory.objects.filter(
            prospect=OuterRef("pk"),
            operation="restore",
            message__contains="is not recreated",
            at__gt=Coalesce(OuterRef("last_synced_at"), never),
        )
        gone = (
            Prospect.objects.select_for_update()
            .filter(pk__in=chunk, archived_at__isnull=True)
            .exclude(crm_lead_id="", crm_contact_id="")
            .filter(Exists(deleted_error) | Exists(restored_unlinked))
            .order_by("pk")
        )
        ids = list(gone.values_list("pk", flat=True))
        if not ids:
            return Outcome()
        Prospect.objects.filter(pk__in=ids).update(**CRM_LINK, updated_at=ctx.now)
        SyncHistory.objects.record_action(
            ids,
            actor=ctx.actor,
            operation=ctx.source.operation,
            reason=ctx.reason,
            message="Allowed to recreate its deleted Salesforce record: its CRM link was "
            "cleared; the next sync matches it by email or creates a new record.",
        )
        return Outcome(changed=set(ids), sync=set(ids))


ACTION_TYPES: dict[str, type[Action]] = {
    cls.type: cls
    for cls in (
        AssignUser,
        AssignQueue,
        SetCampaign,
        AddToSalesforceCampaign,
        SetField,
        AdjustScore,
        AddToList,
        RemoveFromList,
        DoNotSync,
        SyncNow,
        NotifyUser,
        AllowRecreate,
    )
}
