"""The action set: what bulk actions, automation rules and completion actions do to prospects.

An action is JSON (``{"type": "assign_queue", "queue": 3}``), validated by its form
(``ACTION_FORMS[type]``) into an :class:`Action`; :func:`apply_actions` applies a list of them
to a set of prospects, chunk by chunk:

1. Each action is checked once before anything is written (:meth:`Action.prepare`): an action
   on a Salesforce campaign deleted since it was saved is refused whole, with its message, and
   the others still run — nothing of a refused action is half applied.
2. Per chunk of at most ``CHUNK`` prospects, in one transaction: the field actions together
   are one statement (PostgreSQL; ``automation.columns``) that locks the chunk's rows whose values
   differ, writes the new values, stamps ``field_changed_at`` and inserts one history row per
   changed prospect naming the actor — the comparison is made in SQL under the statement's row
   locks, so a value changed meanwhile by someone else is compared as it is now, never
   reverted to an older read. Unchanged rows are not touched. The other actions (Salesforce
   campaign, score, lists, sync now, notify, allow recreate) follow, in their order.
3. The chunk's changed prospects are queued with one ``request_sync_many`` call and the
   source's ``SyncReason`` (bulk action, automation rule, completion action); syncs are queued,
   never waited for.

A run of several chunks whose actions are all column actions is applied on ``WORKERS``
database connections at once (PostgreSQL, outside an outer transaction): nearly all its time is
the database writing row versions and index entries, one core per connection. The chunks are
disjoint and each locks its rows in id order, so they never wait on each other; each still
commits alone. A chunk that fails stops the run as it would one at a time: chunks not yet begun
are not started, the error propagates (one begun on the other connection finishes).

Archived prospects (the recycle bin) are never acted on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from automation.action_forms import ACTION_FORMS, action_form  # noqa: F401 - re-exported
from automation.action_types import Action, ActionRefused, ColumnAction, Outcome
from automation.columns import write_columns
from automation.context import Context, Source
from prospects.models import Prospect, SyncReason
from prospects.sync_requests import request_sync_many

CHUNK = 10000  # prospects per transaction: a crash loses at most one chunk, applied again
WORKERS = 2  # connections a large run of column actions is applied on (the machine's cores)

__all__ = [
    "ACTION_FORMS",
    "Action",
    "ActionRefused",
    "ActionResult",
    "Source",
    "apply_actions",
    "describe_actions",
    "parse_actions",
]


@dataclass
class ActionResult:
    """What applying actions did: prospects matched, changed (by any action), failed (an action
    refused for them), and messages for the user."""

    matched: int = 0
    changed: int = 0
    failed: int = 0
    messages: list[str] = field(default_factory=list)
    queued: int = 0  # sync requests made

    def as_dict(self) -> dict[str, Any]:
        return {
            "matched": self.matched,
            "changed": self.changed,
            "failed": self.failed,
            "messages": self.messages,
            "queued": self.queued,
        }


class InvalidActions(ValueError):
    """Actions whose JSON does not validate; ``errors`` lists one message per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def parse_actions(data: Sequence[dict] | str) -> list[Action]:
    """Validate JSON actions into :class:`Action` objects; raises :class:`InvalidActions`
    naming each action's problems ("Action 2 (Set a field): …")."""
    if isinstance(data, str):
        try:
            data = json.loads(data or "[]")
        except ValueError as exc:
            raise InvalidActions([f"The actions are not valid JSON ({exc})."]) from exc
    if not isinstance(data, list):
        raise InvalidActions(["The actions must be a list."])
    actions: list[Action] = []
    errors: list[str] = []
    for number, item in enumerate(data, start=1):
        form = action_form(item)
        if form.is_valid():
            actions.append(form.action())
        else:
            errors.append(f"Action {number} ({form.title}): {form.error_text()}")
    if errors:
        raise InvalidActions(errors)
    return actions


def describe_actions(actions: Sequence[Action]) -> list[str]:
    return [action.describe() for action in actions]


def apply_actions(
    actions: Sequence[Action | dict],
    prospects: QuerySet | Iterable[int],
    *,
    actor=None,
    source: Source | str = Source.BULK,
    reason: SyncReason | str | None = None,
    label: str = "",
    progress=None,
) -> ActionResult:
    """Apply ``actions`` to ``prospects`` (a queryset or ids); see the module's docstring.

    ``source`` says who acts (bulk action, rule, completion action, import) and gives the sync
    reason unless ``reason`` is given; ``label`` names it in history and notifications (the
    rule's or form's name). ``progress(done)`` is called after each chunk (a task's bar).
    """
    source = Source(source)
    if any(isinstance(a, dict) for a in actions):
        actions = parse_actions([a.to_json() if isinstance(a, Action) else a for a in actions])
    ids = _ids(prospects)
    ctx = Context(
        actor=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
        source=source,
        reason=SyncReason(reason or source.sync_reason),
        label=label or source.label,
        now=timezone.now(),
        postgres=connection.vendor == "postgresql",
    )
    result = ActionResult(matched=len(ids))
    live: list[Action] = []
    for action in actions:
        try:
            action.prepare(ctx)
            live.append(action)
        except ActionRefused as exc:
            result.messages.append(str(exc))
            result.failed = len(ids)
    changed: set[int] = set()
    parallel = _in_parallel(live, ctx, len(ids))
    chunks = _chunks(ids, WORKERS if parallel else 1)
    applied = _apply_chunks(live, ctx, chunks, parallel=parallel)
    for chunk, (touched, queued) in zip(chunks, applied, strict=True):
        changed |= touched
        result.queued += queued
        if progress is not None:
            progress(len(chunk))
    for action in live:
        action.finish(ctx, result)
    result.changed = len(changed)
    return result


def _in_parallel(actions: Sequence[Action], ctx: Context, count: int) -> bool:
    """Whether ``count`` prospects are applied on ``WORKERS`` connections (module docstring)."""
    return (
        ctx.postgres
        and count > CHUNK
        and not connection.in_atomic_block  # an outer transaction must see every write
        and all(isinstance(a, ColumnAction) for a in actions)  # the others keep counts
    )


def _chunks(ids: list[int], workers: int) -> list[list[int]]:
    """``ids`` in chunks of at most ``CHUNK``, in number a multiple of ``workers`` and of equal
    size, so each connection gets the same share (50,000: six of 8,334, not five of 10,000)."""
    count = -(-len(ids) // CHUNK)
    count = -(-count // workers) * workers
    size = -(-len(ids) // count) if ids else CHUNK
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def _apply_chunks(
    actions: Sequence[Action], ctx: Context, chunks: list[list[int]], *, parallel: bool
) -> Iterator[tuple[set[int], int]]:
    """Each chunk applied in its own transaction: (prospects changed, syncs queued), in the
    chunks' order; on ``WORKERS`` connections at once when ``parallel``."""
    if not parallel:
        for chunk in chunks:
            yield _apply_in_transaction(actions, ctx, chunk)
        return
    pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="apply-actions")
    try:
        futures = [pool.submit(_apply_on_own_connection, actions, ctx, c) for c in chunks]
        for future in futures:
            yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _apply_on_own_connection(
    actions: Sequence[Action], ctx: Context, chunk: list[int]
) -> tuple[set[int], int]:
    """``_apply_in_transaction`` in a worker thread, on the thread's own connection."""
    try:
        return _apply_in_transaction(actions, ctx, chunk)
    finally:
        connection.close()


def _apply_in_transaction(
    actions: Sequence[Action], ctx: Context, chunk: list[int]
) -> tuple[set[int], int]:
    """One chunk in one transaction: its actions, then its changed prospects' syncs queued."""
    with transaction.atomic():
        if ctx.postgres:
            _without_jit()
        touched: set[int] = set()
        to_sync: set[int] = set()
        for outcome in _apply_chunk(actions, ctx, chunk):
            touched |= outcome.changed
            to_sync |= outcome.sync
        queued = request_sync_many(sorted(to_sync), ctx.reason) if to_sync else 0
    return touched, queued


def _without_jit() -> None:
    """Switch PostgreSQL's JIT off for the chunk's transaction: a 10,000-id ``= ANY`` estimates
    far above ``jit_above_cost`` and compiling took ~0.25 s per chunk, more than it saved."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")


def _apply_chunk(actions: Sequence[Action], ctx: Context, chunk: list[int]) -> list[Outcome]:
    """The column actions together (one statement, first), then the others in their order."""
    columns = [a for a in actions if isinstance(a, ColumnAction)]
    changed = write_columns([a.write(ctx) for a in columns], chunk, ctx)
    outcomes = [a.after(ctx, ids) for a, ids in zip(columns, changed, strict=True)]
    return outcomes + [a.apply(ctx, chunk) for a in actions if not isinstance(a, ColumnAction)]


def _ids(prospects: QuerySet | Iterable[int]) -> list[int]:
    """The live (not archived) prospects' ids, in id order (locks are taken in this order, so
    two runs over overlapping sets never deadlock)."""
    if isinstance(prospects, QuerySet):
        query = prospects.filter(archived_at__isnull=True).order_by("pk")
        return list(query.values_list("pk", flat=True))
    wanted = sorted(set(prospects))
    found: list[int] = []
    for start in range(0, len(wanted), 20000):
        found += Prospect.objects.filter(
            pk__in=wanted[start : start + 20000], archived_at__isnull=True
        ).values_list("pk", flat=True)
    return sorted(found)
