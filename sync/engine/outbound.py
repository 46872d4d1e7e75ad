"""Outbound: push prospects to Salesforce Leads, Contacts and person Accounts.

Each batch is routed (``sync/engine/routing.py``), then written: updates carry only the fields
whose value should flow to Salesforce and differs from what it holds, and creates upsert on the
package's external-id field so a retried create never duplicates. Without that field nothing
is created: the prospects get access Sync Errors and the connector asks for attention.

Results are recorded under a row lock, against what the push read when it started: a pull
that landed meanwhile (a lead converted or merged, an owner or a value changed in Salesforce)
keeps its links and owner, and the push records only its own outcome.

Only fields whose value should flow to Salesforce and differs from what it holds are sent;
nothing to send means no API call. Lookups go five queries to a Composite call and writes five
sObject Collections (1,000 records) to a Composite call; large creates use Bulk API 2.0.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from prospects.activities import add_activities
from prospects.models import (
    Activity,
    ActivityType,
    Direction,
    Prospect,
    SyncHistory,
    SyncReason,
    SyncStatus,
)
from prospects.sync_requests import request_sync_many
from sync import bulk_sql
from sync import describe as describes
from sync.engine import package
from sync.engine.routing import Router, Target
from sync.engine.rules import Change, Plan, create_payload, plan, reconcile
from sync.engine.values import normal, parse_sf_datetime, to_salesforce, write_prospect
from sync.errors import records as error_log
from sync.models import Connector, FieldRule, SyncError
from sync.salesforce import COLLECTION_SIZE, COMPOSITE_HEAVY, BulkJob, Client, SalesforceError

log = logging.getLogger(__name__)

UNKNOWN = "[[Unknown]]"  # what Pardot sends for a required field it has no value for
REQUIRED_ON_CREATE = {
    "Lead": ("LastName", "Company"),
    "Contact": ("LastName",),
    "Account": ("LastName",),
}


# From this many creates in one push, Bulk API 2.0 beats Collections (fewer calls, faster).
BULK_MIN = 2000
FLUSH_SIZE = 2000  # successes saved per transaction
LINK_FIELDS = ("crm_lead_id", "crm_contact_id", "crm_account_id", "crm_person_account")
# What a pull writes when it lands: a push writes its links and owner only if these are
# still what it read when it started (``crm_modified_at`` moves with every record a pull applies).
GUARDED_FIELDS = (*LINK_FIELDS, "crm_owner_id", "crm_modified_at")
OUTCOME_FIELDS = ("last_synced_at", "sync_status")  # the push's own
BOOKKEEPING_FIELDS = [*LINK_FIELDS, "crm_owner_id", *OUTCOME_FIELDS]


class Result:
    SYNCED = "synced"
    NOTHING = "nothing"
    ERROR = "error"
    RETRY = "retry"
    WAITING = "waiting"
    SKIPPED = "skipped"


@dataclass
class Outcome:
    prospect_id: int
    result: str
    sobject: str = ""
    record_id: str = ""
    message: str = ""
    code: str = ""  # Salesforce's errorCode, for a retry or an error


@dataclass
class PushReport:
    """What a push did: each prospect's outcome, or (for long runs) only the counts."""

    outcomes: list[Outcome] = field(default_factory=list)
    api_calls: int = 0
    tally: Counter = field(default_factory=Counter)

    def count(self, result: str) -> int:
        return self.tally[result] + sum(1 for o in self.outcomes if o.result == result)

    def absorb(self, other: PushReport) -> None:
        """Add another report's counts (not its outcomes: a long run stays small)."""
        self.tally.update(other.tally)
        self.tally.update(o.result for o in other.outcomes)

    @property
    def synced(self) -> int:
        return self.count(Result.SYNCED) + self.count(Result.NOTHING)

    @property
    def failed(self) -> int:
        return self.count(Result.ERROR)

    @property
    def waiting(self) -> int:
        return self.count(Result.WAITING)

    @property
    def retry_ids(self) -> set[int]:
        return {o.prospect_id for o in self.outcomes if o.result == Result.RETRY}

    def by_prospect(self) -> dict[int, Outcome]:
        return {o.prospect_id: o for o in self.outcomes}


@dataclass
class Write:
    """One sObject Collections write and the (target, operation, payload, changes) of each row."""

    method: str
    sobject: str
    records: list[dict]
    external_id: str
    items: list[tuple]


class Pusher:
    """One push of a batch of prospects; holds the describe and lookups it needs."""

    def __init__(self, connector: Connector, client: Client) -> None:
        self.connector = connector
        self.client = client
        self.rules = list(FieldRule.objects.filter(connector=connector))
        self.router = Router(connector, client, self.rules)
        self.report = PushReport()
        self._done: list[tuple] = []
        self._jobs: list[tuple[BulkJob, dict[str, tuple[Target, dict]]]] = []
        self._new_accounts: dict[str, int] = {}  # person account id -> prospect id
        self.read: dict[int, dict] = {}  # prospect id -> its guarded fields when loaded
        self._plans: dict[str, Plan] = {}

    def route(self, prospects: Sequence[Prospect]) -> list[Target]:
        """Route the batch; note the prospects that go nowhere, and why."""
        self.read.update((p.pk, guarded(p)) for p in prospects)  # before routing moves links
        routed = self.router.route(prospects)
        self.note_skipped(routed.skipped)
        self.note_waiting(routed.waiting)
        for lost in routed.unreachable:
            self.fail(lost.prospect, lost.sobject, "update", lost.record_id, lost.error, payload={})
        return routed.targets

    # -- payloads -----------------------------------------------------------------------------
    def plan(self, sobject: str) -> Plan:
        """The field rules for ``sobject``, compiled once per push (not once per record)."""
        compiled = self._plans.get(sobject)
        if compiled is None:
            compiled = self._plans[sobject] = plan(self.rules, sobject)
        return compiled

    def update_payload(self, target: Target) -> tuple[dict, list[Change]]:
        modified = parse_sf_datetime(target.record.get("LastModifiedDate"))
        changes = reconcile(
            target.prospect,
            target.record,
            self.plan(target.sobject),
            sobject=target.sobject,
            record_modified_at=modified,
        )
        if not self.connector.auto_change_email:
            changes = [c for c in changes if c.to_salesforce or c.prospect_field != "email"]
        changes += package.last_activity_change(self.client, target.sobject, target)
        fields = self.client.fields_by_name(target.sobject)
        payload = {
            c.sf_field: to_salesforce(c.new, fields.get(c.sf_field))
            for c in changes
            # A field the connector user may not edit is still sent: Salesforce's refusal
            # becomes an access Sync Error (as in Pardot) instead of a silently stale value.
            if c.to_salesforce
        }
        return payload, changes

    def new_payload(self, target: Target) -> dict:
        fields = self.client.fields_by_name(target.sobject)
        payload = {
            name: to_salesforce(value, fields.get(name))
            for name, value in create_payload(
                target.prospect, self.plan(target.sobject), sobject=target.sobject
            ).items()
            if name in fields
        }
        for required in REQUIRED_ON_CREATE.get(target.sobject, ()):
            if not payload.get(required):
                payload[required] = UNKNOWN
        owner = self.router.owner_id(target.prospect)
        if owner:
            payload["OwnerId"] = owner
        record_type = self.router.person_record_type() if target.sobject == "Account" else None
        if record_type:
            payload["RecordTypeId"] = record_type
        payload.update(
            package.package_values(
                self.client,
                target.sobject,
                prospect=target.prospect,
                portal_url=settings.PORTAL_URL,
            )
        )
        return payload

    # -- outcomes -----------------------------------------------------------------------------
    def note_skipped(self, prospects: list[Prospect]) -> None:
        """ "Do not sync" prospects: marked so, nothing sent."""
        for prospect in prospects:
            self.report.outcomes.append(Outcome(prospect.pk, Result.SKIPPED, message="Do not sync"))
        Prospect.objects.filter(pk__in=[p.pk for p in prospects]).update(
            sync_status=SyncStatus.DO_NOT_SYNC
        )

    def note_waiting(self, prospects: list[Prospect]) -> None:
        """No match and nobody assigned: "waiting for assignment" (not an error), in history."""
        if not prospects:
            return
        message = "Not synced: waiting for assignment"
        now = timezone.now()
        for prospect in prospects:
            self.report.outcomes.append(Outcome(prospect.pk, Result.WAITING, message=message))
        with transaction.atomic():
            Prospect.objects.filter(pk__in=[p.pk for p in prospects]).update(
                sync_status=SyncStatus.WAITING_ASSIGNMENT
            )
            bulk_sql.insert(
                SyncHistory,
                [
                    bulk_sql.new(
                        SyncHistory,
                        prospect_id=prospect.pk,
                        at=now,
                        direction=Direction.OUTBOUND,
                        operation="route",
                        result=SyncHistory.Result.WAITING,
                        message=message,
                    )
                    for prospect in prospects
                ],
            )

    def fail(
        self,
        prospect: Prospect,
        sobject: str,
        operation: str,
        record_id: str,
        error: SalesforceError,
        *,
        payload: dict,
    ) -> None:
        if error.transient:
            self.report.outcomes.append(
                Outcome(prospect.pk, Result.RETRY, sobject, record_id, error.message, error.code)
            )
            return
        fields = error.fields or []
        first = fields[0] if fields else ""
        value = payload.get(first)
        describe_field = (
            self.client.fields_by_name(sobject).get(first) if sobject and first else None
        )
        with transaction.atomic():
            error_log.record_sync_error(
                connector=self.connector,
                prospect=prospect,
                direction=Direction.OUTBOUND,
                operation=operation,
                sobject=sobject,
                record_id=record_id or "",
                error_code=error.code,
                message=error.message,
                fields=fields,
                value_sent="" if value is None else str(value),
                constraint=error_log.describe_constraint(describe_field, value)
                if describe_field
                else "",
            )
            SyncHistory.objects.create(
                prospect=prospect,
                at=timezone.now(),
                direction=Direction.OUTBOUND,
                operation=operation,
                sobject=sobject,
                record_id=record_id or "",
                changes=[{"field": k, "new": v} for k, v in payload.items()],
                result=SyncHistory.Result.ERROR,
                message=f"{error.code}: {error.message}",
            )
        self.report.outcomes.append(
            Outcome(prospect.pk, Result.ERROR, sobject, record_id, error.message, error.code)
        )

    def succeed(
        self, target: Target, record_id: str, operation: str, payload: dict, changes: list[Change]
    ) -> None:
        """Note a success; ``flush`` saves a chunk of them in a few queries."""
        self._done.append((target, record_id, operation, payload, changes))
        result = Result.SYNCED if payload or changes or operation != "update" else Result.NOTHING
        self.report.outcomes.append(Outcome(target.prospect.pk, result, target.sobject, record_id))

    def _bookkeep(self, prospect: Prospect, target: Target, record_id: str, payload: dict) -> None:
        if target.sobject == "Account":
            prospect.crm_account_id = record_id
            prospect.crm_person_account = True
            person_contact = (target.record or {}).get("PersonContactId")
            if person_contact:
                prospect.crm_contact_id = person_contact
            else:  # a new person account: its contact's id is read after the write
                self._new_accounts[record_id] = prospect.pk
        elif target.sobject == "Contact":
            prospect.crm_contact_id = record_id
            if target.record and target.record.get("AccountId"):
                prospect.crm_account_id = target.record["AccountId"]
        else:
            prospect.crm_lead_id = record_id
        owner = payload.get("OwnerId") or (target.record or {}).get("OwnerId")
        prospect.crm_owner_id = owner or prospect.crm_owner_id
        prospect.sync_status = SyncStatus.SYNCED

    def _history(self, target, record_id, operation, payload, changes, now) -> SyncHistory:
        return bulk_sql.new(
            SyncHistory,
            prospect_id=target.prospect.pk,
            at=now,
            direction=Direction.OUTBOUND,
            operation=operation,
            sobject=target.sobject,
            record_id=record_id,
            # A create lists every field it sent, all outbound as the row says: no "direction"
            # in each (a third of the text), so the row stays under PostgreSQL's 2 KB TOAST
            # threshold and is stored without compressing it.
            changes=[c.as_history() for c in changes]
            or [{"field": k, "new": _plain(v)} for k, v in payload.items()],
            result=SyncHistory.Result.OK
            if payload or operation == "link" or changes
            else SyncHistory.Result.NOTHING,
            message="matched by email" if target.matched_by_email else "",
        )

    def flush(self) -> None:
        """Save the noted successes: CRM ids and owner, resolved errors, history.

        1. The prospects' guarded fields are re-read under a row lock (pk order, as pulls lock).
        2. Unchanged since the push read them: the push's links, owner and outcome are
           written — only bookkeeping columns, so a marketer's edit made meanwhile stays.
        3. Changed (a pull landed meanwhile: it followed a conversion or a merge, or applied
           a newer record): the pull's links and owner stay; the push writes only its outcome.
        4. Values taken from Salesforce are written on the freshly read row.
        """
        done, self._done = self._done, []
        if not done:
            return
        now = timezone.now()
        with transaction.atomic():
            current = locked_guarded([target.prospect.pk for target, *_ in done])
            ours, theirs, inbound = [], [], []
            for item in done:
                target, record_id, _operation, payload, changes = item
                pk = target.prospect.pk
                if pk not in current:  # deleted meanwhile
                    continue
                if current[pk] != self.read.get(pk):
                    theirs.append(target.prospect)
                elif any(not c.to_salesforce for c in changes):
                    inbound.append(item)
                else:
                    self._bookkeep(target.prospect, target, record_id, payload)
                    ours.append(target.prospect)
            for prospect in ours + theirs:
                prospect.last_synced_at = now
                prospect.sync_status = SyncStatus.SYNCED
            save_bookkeeping(ours)
            bulk_sql.update(Prospect, theirs, list(OUTCOME_FIELDS))
            self.save_inbound(inbound, now)
            error_log.resolve_errors(prospect_ids=[t.prospect.pk for t, *_ in done], at=now)
            bulk_sql.insert(  # prospects deleted meanwhile get none (history has no constraint)
                SyncHistory,
                [
                    self._history(t, rid, op, pay, ch, now)
                    for t, rid, op, pay, ch in done
                    if t.prospect.pk in current
                ],
            )
            note_created(
                [
                    (t, rid)
                    for t, rid, op, *_ in done
                    if op == "create" and t.prospect.pk in current
                ],
                now,
            )

    def save_inbound(self, done: list[tuple], now) -> None:
        """Successes that also take values from Salesforce: written on the row as it is now
        (locked by ``flush``), so nothing a marketer changed meanwhile is overwritten."""
        if not done:
            return
        fresh = Prospect.objects.in_bulk([target.prospect.pk for target, *_ in done])
        for target, record_id, _operation, payload, changes in done:
            prospect = fresh[target.prospect.pk]
            taken = [c for c in changes if not c.to_salesforce]
            for change in taken:
                write_prospect(prospect, change.prospect_field, change.new)
            modified = parse_sf_datetime((target.record or {}).get("LastModifiedDate"))
            prospect.stamp_changes([c.prospect_field for c in taken], modified)
            for name in LINK_FIELDS:  # routing may have followed a conversion
                setattr(prospect, name, getattr(target.prospect, name))
            self._bookkeep(prospect, target, record_id, payload)
            prospect.last_synced_at = now
            prospect.save()

    # -- writing ------------------------------------------------------------------------------
    def push(self, targets: list[Target]) -> None:
        updates: dict[str, list[tuple[Target, dict, list[Change]]]] = defaultdict(list)
        creates: dict[str, list[tuple[Target, dict]]] = defaultdict(list)
        for target in targets:
            if target.record is None:
                creates[target.sobject].append((target, self.new_payload(target)))
                continue
            payload, changes = self.update_payload(target)
            if payload:
                updates[target.sobject].append((target, payload, changes))
            else:
                self.succeed(
                    target,
                    target.record["Id"],
                    "link" if target.matched_by_email else "update",
                    {},
                    changes,
                )
        writes: list[Write] = []
        for sobject, items in updates.items():
            for chunk in _chunks(items, COLLECTION_SIZE):
                writes.append(
                    Write(
                        "update",
                        sobject,
                        [{"Id": t.record["Id"], **payload} for t, payload, _ in chunk],
                        "",
                        [(t, "update", payload, changes) for t, payload, changes in chunk],
                    )
                )
        for sobject, items in creates.items():
            external_id = package.external_id_field(self.client, sobject)
            if not external_id:
                self.refuse_creates(sobject, items)
            elif len(items) >= BULK_MIN:
                self.bulk_create(sobject, items, external_id)
            else:
                writes += self.upserts(sobject, items, external_id)
        for group in _chunks(writes, COMPOSITE_HEAVY):
            for write, results in zip(group, self.write_many(group), strict=True):
                for (target, operation, payload, changes), result in zip(
                    write.items, results, strict=True
                ):
                    self.settle(target, operation, payload, changes, result)
            self.flush()
        self.flush()
        self.link_person_contacts()

    def upserts(
        self, sobject: str, items: list[tuple[Target, dict]], external_id: str
    ) -> list[Write]:
        """Creates as Collections upserts on the external id (= the prospect's sync key)."""
        for target, payload in items:
            payload[external_id] = target.prospect.sync_key.hex
        return [
            Write(
                "upsert",
                sobject,
                [payload for _, payload in chunk],
                external_id,
                [(t, "create", payload, []) for t, payload in chunk],
            )
            for chunk in _chunks(items, COLLECTION_SIZE)
        ]

    def refuse_creates(self, sobject: str, items: list[tuple[Target, dict]]) -> None:
        """No external-id field (missing, hidden or read-only for the connector user): a
        plain create whose answer is lost cannot be told from one that failed, so none is
        sent. Each prospect gets an access Sync Error; the connector asks for attention."""
        name = package.EXTERNAL_ID[sobject]
        error = SalesforceError(
            "INVALID_FIELD",
            f"{sobject}.{name}, the package's external id, is missing or not editable for the "
            f"connector user: no {sobject} is created without it, so a retried create can "
            "never duplicate a record.",
            fields=[name],
            transient=False,
        )
        flag_problem(
            self.connector,
            {
                "kind": "package",
                "label": f"{sobject}.{name}",
                "detail": "missing or not editable",
                "sobject": sobject,
                "field": name,
            },
        )
        for target, payload in items:
            self.fail(target.prospect, sobject, "create", "", error, payload=payload)

    def bulk_create(self, sobject: str, items: list[tuple[Target, dict]], external_id: str) -> None:
        """Many creates at once: one Bulk API 2.0 upsert job on the package's external id.

        The job is started here and settled by :meth:`collect`, so the caller may prepare the
        next batch while Salesforce works.
        """
        by_key: dict[str, tuple[Target, dict]] = {}
        for target, payload in items:
            payload[external_id] = target.prospect.sync_key.hex
            by_key[payload[external_id]] = (target, payload)
        try:
            job = self.client.bulk_upsert_start(
                sobject, [payload for _, payload in items], external_id=external_id
            )
        except SalesforceError as exc:
            self.settle_bulk(sobject, by_key, {}, dict.fromkeys(by_key, exc))
            return
        self._jobs.append((job, by_key))

    def collect(self) -> None:
        """Wait for the bulk jobs this push started and settle every row of them."""
        jobs, self._jobs = self._jobs, []
        for job, by_key in jobs:
            try:
                ids, errors = self.client.bulk_upsert_finish(
                    job, deadline=settings.SYNC_BULK_DEADLINE
                )
            except SalesforceError as exc:
                ids, errors = {}, dict.fromkeys(by_key, exc)
            self.settle_bulk(job.sobject, by_key, ids, errors)
        self.link_person_contacts()

    def link_person_contacts(self) -> None:
        """New person accounts: note each one's person contact id on its prospect (still
        linked to that account: a pull may have moved it meanwhile)."""
        new, self._new_accounts = self._new_accounts, {}
        if not new:
            return
        for account in self.router.fetch("Account", "Id", new):
            if account.get("PersonContactId"):
                Prospect.objects.filter(pk=new[account["Id"]], crm_account_id=account["Id"]).update(
                    crm_contact_id=account["PersonContactId"]
                )

    def settle_bulk(
        self,
        sobject: str,
        by_key: dict[str, tuple[Target, dict]],
        ids: dict[str, str],
        errors: dict[str, SalesforceError],
    ) -> None:
        for key, (target, payload) in by_key.items():
            if key in ids:
                self.succeed(target, ids[key], "create", payload, [])
            else:
                error = errors.get(key) or SalesforceError(
                    "UNKNOWN_EXCEPTION", "The bulk job did not process this record.", transient=True
                )
                self.fail(target.prospect, sobject, "create", "", error, payload=payload)
            if len(self._done) >= FLUSH_SIZE:
                self.flush()
        self.flush()

    def write_many(self, writes: list[Write]) -> list[list[dict]]:
        """Up to five Collections writes in one Composite call. A whole-call failure becomes the
        same error for every record, except a broken connection, which postpones the push."""
        try:
            return self.client.collections(
                [(w.method, w.sobject, w.records, w.external_id) for w in writes]
            )
        except SalesforceError as exc:
            if exc.code in CONNECTION_CODES:
                raise
            failure = {
                "success": False,
                "errors": [{"statusCode": exc.code, "message": exc.message, "fields": exc.fields}],
                "_transient": exc.transient,
            }
            return [[dict(failure) for _ in w.records] for w in writes]

    def settle(
        self, target: Target, operation: str, payload: dict, changes: list, result: dict
    ) -> None:
        if result.get("success"):
            self.succeed(target, result["id"], operation, payload, changes)
            return
        first = (result.get("errors") or [{}])[0]
        error = SalesforceError(
            first.get("statusCode") or first.get("errorCode") or "UNKNOWN_EXCEPTION",
            first.get("message") or "Salesforce refused the record.",
            fields=first.get("fields") or [],
            transient=result.get("_transient"),
        )
        record_id = (target.record or {}).get("Id", "")
        if record_id and not error.transient:
            self.link(target.prospect, target.sobject, record_id)
        self.fail(target.prospect, target.sobject, operation, record_id, error, payload=payload)

    def link(self, prospect: Prospect, sobject: str, record_id: str) -> None:
        """Keep the link to a matched or followed record even when the write was refused —
        unless a pull moved the prospect meanwhile (its links are newer than this push's)."""
        if sobject == "Account":
            links = {"crm_account_id": record_id, "crm_person_account": True}
        else:
            links = {"crm_contact_id" if sobject == "Contact" else "crm_lead_id": record_id}
        as_read = {name: self.read[prospect.pk][name] for name in LINK_FIELDS}
        Prospect.objects.filter(pk=prospect.pk, **as_read).update(**links)


CREATED_LABEL = {"Lead": "Lead", "Contact": "Contact", "Account": "Person account"}


def note_created(created: list[tuple[Target, str]], now) -> None:
    """Sales cares when a prospect becomes a Lead or Contact: a "Created in Salesforce"
    activity on each one's timeline, inserted with the flush's bookkeeping (one COPY)."""
    if not created:
        return
    changed = add_activities(
        [
            bulk_sql.new(
                Activity,
                prospect_id=target.prospect.pk,
                type=ActivityType.CRM_CREATED,
                occurred_at=now,
                title=f"{CREATED_LABEL.get(target.sobject, target.sobject)} {record_id}",
                details={"sobject": target.sobject, "record_id": record_id},
            )
            for target, record_id in created
        ],
        insert=bulk_sql.insert,
        grade=False,
    )
    if changed:  # only when a marketer gave the event points: the new score goes out next
        request_sync_many(sorted(changed), SyncReason.SCORE_CHANGE)


def save_bookkeeping(prospects: list[Prospect]) -> None:
    """Write only the sync bookkeeping columns of many prospects (``COPY`` on PostgreSQL)."""
    bulk_sql.update(Prospect, prospects, BOOKKEEPING_FIELDS)


def guarded(prospect: Prospect) -> dict:
    return {name: getattr(prospect, name) for name in GUARDED_FIELDS}


def locked_guarded(prospect_ids: list[int]) -> dict[int, dict]:
    """The guarded fields of these prospects as they are now, rows locked till commit."""
    rows = bulk_sql.values(
        Prospect.objects.select_for_update()
        .filter(bulk_sql.any_of("pk", prospect_ids))
        .order_by("pk"),
        ["pk", *GUARDED_FIELDS],
    )
    return {pk: dict(zip(GUARDED_FIELDS, row, strict=True)) for pk, *row in rows}


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


_PLAIN = frozenset({str, bool, int, float, type(None)})


def _plain(value):
    if type(value) in _PLAIN:  # nearly every value: no isinstance chain
        return value
    return (
        value
        if value is None or isinstance(value, str | bool | int | float)
        else str(normal(value))
    )


# Whole-call failures that are about the connection itself, not the records: the prospects
# stay pending and the connector asks for attention instead of filling the error table.
CONNECTION_CODES = frozenset(
    {
        "invalid_grant",
        "invalid_client",
        "invalid_client_id",
        "unsupported_grant_type",
        "INVALID_SESSION_ID",
        "INVALID_AUTH_HEADER",
        "TLS_ERROR",
        "INVALID_URL",
    }
)


@dataclass
class PushRun:
    """A push started by :func:`start_push`; :func:`finish_push` settles it."""

    connector: Connector
    client: Client
    pusher: Pusher
    prospects: list[Prospect]


def start_push(
    *, connector: Connector, prospect_ids: Sequence[int], client: Client | None = None
) -> PushRun:
    """Route these prospects and write them; bulk jobs are left running (see finish_push).

    1. Route every prospect (CRM id, email match, create, or wait).
    2. Write: Collections in Composite calls (settled at once), or a Bulk API 2.0 job for many
       creates (settled by ``finish_push``, so the caller can prepare the next batch meanwhile).
    3. Per-record refusals become Sync Error rows; transient ones are retried by the queue.
    """
    client = client or Client.for_connector(connector)
    describes.prime_client(client, connector)
    pusher = Pusher(connector, client)
    prospects = bulk_sql.load(
        # Prefetched, not joined: the few users, queues and campaigns of a batch are read once
        # and shared, instead of three model instances built for every prospect.
        Prospect.objects.filter(bulk_sql.any_of("pk", prospect_ids)).prefetch_related(
            "assigned_user", "assigned_queue", "campaign"
        )
    )
    run = PushRun(connector, client, pusher, prospects)
    try:
        pusher.push(pusher.route(prospects))
    except SalesforceError as exc:
        _whole_call_failed(run, exc)
    return run


def finish_push(run: PushRun) -> PushReport:
    """Wait for the run's bulk jobs, settle them and save every outcome."""
    try:
        run.pusher.collect()
    except SalesforceError as exc:
        _whole_call_failed(run, exc)
    describes.store_client_describes(run.client, run.connector)
    run.pusher.report.api_calls = run.client.api_calls
    Connector.objects.filter(pk=run.connector.pk).update(last_push_at=timezone.now())
    return run.pusher.report


def push_prospects(
    *, connector: Connector, prospect_ids: Sequence[int], client: Client | None = None
) -> PushReport:
    """Push these prospects to Salesforce now; every outcome is saved on a row."""
    return finish_push(start_push(connector=connector, prospect_ids=prospect_ids, client=client))


def _whole_call_failed(run: PushRun, exc: SalesforceError) -> None:
    """A failure of a whole call: transient → every unfinished prospect is retried later;
    a connection problem (credentials, TLS) → they stay pending and the connector needs
    attention; anything else (e.g. the object is no longer visible to the connector user)
    → one Sync Error per unfinished prospect."""
    pusher = run.pusher
    pusher.flush()
    pusher._jobs.clear()  # their rows are among the unfinished; upserts make a retry safe
    done = {o.prospect_id for o in pusher.report.outcomes if o.result != Result.RETRY}
    unfinished = [p for p in run.prospects if p.pk not in done]
    if exc.transient or exc.code in CONNECTION_CODES:
        log.warning("push of %d prospects postponed: %s", len(unfinished), exc.code)
        if exc.code in CONNECTION_CODES:
            problem = f"{exc.code}: {exc.message}"
            flag_problem(run.connector, {"kind": "auth", "label": "Connection", "detail": problem})
        for prospect in unfinished:
            pusher.report.outcomes.append(
                Outcome(prospect.pk, Result.RETRY, message=exc.message, code=exc.code)
            )
    else:
        sobject = run.connector.new_record_type
        for prospect in unfinished:
            pusher.fail(prospect, sobject, "push", "", exc, payload={})


def give_up(connector: Connector, outcome: Outcome, *, attempts: int) -> None:
    """A transient failure that outlasted every retry becomes a Sync Error (resync it later)."""
    prospect = Prospect.objects.filter(pk=outcome.prospect_id).first()
    if prospect is None:
        return
    message = f"{outcome.message} (still failing after {attempts} attempts)"
    with transaction.atomic():
        row = error_log.record_sync_error(
            connector=connector,
            prospect=prospect,
            direction=Direction.OUTBOUND,
            operation="push",
            sobject=outcome.sobject or connector.new_record_type,
            record_id=outcome.record_id,
            error_code=outcome.code or "UNKNOWN_EXCEPTION",
            message=message,
            fields=[],
            value_sent="",
        )
        SyncError.objects.filter(pk=row.pk).update(attempts=attempts)
        SyncHistory.objects.create(
            prospect=prospect,
            at=timezone.now(),
            direction=Direction.OUTBOUND,
            operation="push",
            sobject=outcome.sobject,
            record_id=outcome.record_id,
            result=SyncHistory.Result.ERROR,
            message=f"{outcome.code}: {message}",
        )


def flag_problem(connector: Connector, problem: dict) -> None:
    """Flag the connector for its Sync admins: the banner shows ``problems`` (entries shaped
    like verification's checklist lines); the next verification clears what is fixed. An
    ``auth`` problem stops syncing; any other lets the rest go on (``Connector.may_sync``)."""
    with transaction.atomic():
        locked = Connector.objects.select_for_update().get(pk=connector.pk)
        problems = list(locked.problems or [])
        if problem not in problems:
            problems.append(problem)
        state = locked.state  # a paused connector stays paused
        if state != Connector.State.PAUSED:
            state = Connector.State.NEEDS_ATTENTION
        Connector.objects.filter(pk=connector.pk).update(state=state, problems=problems)
    connector.problems, connector.state = problems, state
