"""Bulk actions on the prospect list: the selected rows, or everything the list's filter
matches (the filter is re-run here from the submitted querystring), through the action set.

Up to ``INLINE_LIMIT`` prospects are acted on in the request; more go to an RQ task with a
progress bar and a result report. Either way the syncs they cause are queued a chunk at a
time (``apply_actions``), never sent one call per prospect.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from django.http import QueryDict

from automation.action_types import Action
from automation.actions import ActionResult, Source, apply_actions, parse_actions
from core.models import Task
from core.roles import is_sync_admin
from prospects.filters import ProspectFilter
from prospects.models import Prospect

INLINE_LIMIT = 1000
QUEUE = "imports"  # long jobs' queue: never stalls syncing
TASK_KIND = "bulk_action"
MAX_SELECTED = 1000  # rows a page can select (the list shows at most a page at a time)
# Only a Sync admin may let Salesforce recreate a deleted record (as in the recycle bin).
ADMIN_ONLY = {"allow_recreate"}


def allowed_types(user) -> list[str]:
    from automation.action_forms import ACTION_FORMS

    admin = is_sync_admin(user)
    return [kind for kind in ACTION_FORMS if admin or kind not in ADMIN_ONLY]


def matching_ids(querystring: str) -> list[int]:
    """The prospects the list's filter matches (the "everything matching" scope)."""
    found = ProspectFilter(QueryDict(querystring), queryset=Prospect.objects.active())
    return list(found.qs.order_by("pk").values_list("pk", flat=True))


@dataclass
class Scope:
    """What a bulk action acts on: the selected ids, or the filter's querystring."""

    selected: list[int]
    querystring: str

    @classmethod
    def from_data(cls, data) -> Scope:
        selected = [int(i) for i in data.getlist("select") if i.isdigit()][:MAX_SELECTED]
        if not selected and data.get("scope") == "selection":
            return cls([], data.get("querystring", ""))
        return cls(selected, data.get("querystring", ""))

    @property
    def is_selection(self) -> bool:
        return bool(self.selected)

    def ids(self) -> list[int]:
        return list(self.selected) if self.selected else matching_ids(self.querystring)


def run_bulk(
    actions: Sequence[Action], scope: Scope, *, user
) -> tuple[ActionResult | None, Task | None]:
    """Apply inline (returns the result) or start a task (returns it) by the scope's size.
    Raises ``Task.Unavailable`` when a large one cannot be queued."""
    ids = scope.ids()
    if len(ids) <= INLINE_LIMIT:
        return apply_actions(actions, ids, actor=user, source=Source.BULK), None
    task = Task.enqueue(
        "automation.jobs.bulk_actions_job",
        [a.to_json() for a in actions],
        kind=TASK_KIND,
        user=user,
        queue_name=QUEUE,
        prospect_ids=scope.selected or None,
        querystring="" if scope.selected else scope.querystring,
    )
    return None, task


def summary(result: ActionResult) -> str:
    """The result report's sentence."""
    text = (
        f"{result.matched:,} prospect{'s'[: result.matched != 1]} matched, "
        f"{result.changed:,} changed"
    )
    if result.failed:
        text += f", {result.failed:,} failed"
    return text + "."


def actions_json(actions: Sequence[Action]) -> str:
    return json.dumps([a.to_json() for a in actions])


__all__ = ["INLINE_LIMIT", "Scope", "actions_json", "parse_actions", "run_bulk", "summary"]
