"""Property: whatever interleaving of edits on both sides, pushes, pulls, faults the org injects
(503s, row locks, dropped connections, answers lost after a commit, latency, outages, the API
limit, revoked sessions) and
workers that die — simulated, or a real ``rqworker`` SIGKILLed mid-push — once the connector has
quiesced both sides agree as the field rules say, nothing is duplicated, no change is lost and
no transient fault is left behind as a Sync Error."""

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import django_rq
import psutil
import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from rest_framework.test import APIClient
from rq import SimpleWorker
from simple_salesforce.exceptions import SalesforceError as LibraryError

from api.models import create_key
from automation.actions import apply_actions, parse_actions
from crm.models import Opportunity, OpportunityContactRole
from intake.imports import ImportOptions, start_import
from intake.models import FormHandler
from intake.received import process_received, receive
from intake.submissions import run_completion_actions
from prospects.activities import record_activities
from prospects.factories import ProspectFactory, UserFactory
from prospects.models import Prospect, SyncQueueItem, SyncReason, SyncStatus
from prospects.sync_requests import SYNC_QUEUE, request_sync
from sync import jobs, salesforce
from sync.engine import queue
from sync.engine.inbound import pull_changes
from sync.engine.opportunities import score_events
from sync.engine.outbound import finish_push, start_push
from sync.engine.values import parse_sf_datetime
from sync.models import Connector, FieldRule, SyncCursor, SyncError
from sync.salesforce import Client, SalesforceError
from tests.conftest import user_with_role
from tests.fixtures.database import database_url, drop_dead_connections

ROOT = Path(__file__).resolve().parents[2]
WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)
# (prospect field, Lead field): one field per behaviour.
OURS = ("job_title", "Title")  # Leadbridge wins
THEIRS = ("city", "City")  # Salesforce wins
RECENT = ("comments", "Description")  # most recently updated wins
FIELDS = st.sampled_from([OURS, THEIRS, RECENT])
# Transient faults of the org's fault injector (they stack: set_faults keeps the others).
FAULTS = {
    "unavailable": {"error_rate": 0.4, "error_status": 503},
    "server_errors": {"error_rate": 0.4, "error_status": 500},
    "row_locks": {"lock_rate": 0.5},
    "dropped_connections": {"drop_rate": 0.4},
    "answers_lost": {"drop_after_rate": 0.4},  # the org committed the call, the answer is lost
    "latency": {"latency_ms": 50},
}
SERVER_ERROR_500 = {"error_rate": 1.0, "error_status": 500}
INJECTED = [*FAULTS, "outage", "api_limit"]
# One run of the machine per kind ("mixed": any of INJECTED, stacked).
KINDS = [*INJECTED, "mixed", "sessions_revoked", "worker_killed"]
OUTAGE_SECONDS = (1.0, 2.0, 3600.0)  # by seed; the longest lasts until switched off
API_CALLS_LEFT = (0, 3, 8, 20)  # by seed: calls left in the day when the limit is lowered
FAULT = st.integers(0, 2)  # an operation turns the run's fault on for itself and fault-1 more
SEED = st.integers(0, 5)
KILL_DELAYS = (0.0, 0.05, 0.1, 0.15)  # after the claim (by seed): before or between its calls
KILL_LATENCY_MS = 200  # slows the real worker's calls so the SIGKILL lands mid-push
WORKER_START_TIMEOUT = 60
MAX_PROSPECTS = 4  # two from the start (edited on both sides), two that arrive during the run


class Org:
    """The session-scoped sandbox org as the machine changes it, and how to put it back."""

    def __init__(self, sandbox_org, daily_api_limit: int) -> None:
        self.sandbox = sandbox_org
        self.daily_api_limit = daily_api_limit
        self.faults: dict = {}
        self.outage_until = 0.0
        self.limited = False

    def control(self, action: str, **params) -> dict:
        return self.sandbox.control(action, **params)

    def set_faults(self, **props) -> None:
        self.faults.update(props)
        self.control("set_faults", **props)

    def outage(self, seconds: float) -> None:
        self.control("start_outage", seconds=seconds)
        self.outage_until = time.monotonic() + seconds

    def limit_api(self, calls: int) -> None:
        self.control("reset_api_usage")
        self.control("set_org", daily_api_limit=calls)
        self.limited = True

    def revoke_sessions(self) -> None:
        self.control("revoke_sessions", username=self.sandbox.username)
        self.sandbox.forget_tokens()  # cached tokens of the connector user are dead too

    @property
    def faulty(self) -> bool:
        return bool(self.faults) or self.limited or time.monotonic() < self.outage_until

    def restore(self) -> None:
        """Every fault off and the demo org's defaults back (later suites share the org)."""
        self.control("clear_faults")
        self.control("set_org", daily_api_limit=self.daily_api_limit)
        self.sandbox.forget_tokens()
        self.faults, self.outage_until, self.limited = {}, 0.0, False


def start_worker() -> subprocess.Popen:
    """A real ``rqworker --burst`` on the test database; expired claims are taken at once."""
    env = {**os.environ, "DATABASE_URL": database_url(), "DEBUG": "true"}
    env["SYNC_CLAIM_TIMEOUT"] = "0"
    return subprocess.Popen(
        [sys.executable, "manage.py", "rqworker", SYNC_QUEUE, "--burst"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def sigkill_tree(process: subprocess.Popen) -> None:
    """SIGKILL the worker and the work horse it forked, as when a machine dies."""
    with contextlib.suppress(psutil.NoSuchProcess):
        tree = psutil.Process(process.pid)
        for child in [*tree.children(recursive=True), tree]:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.send_signal(signal.SIGKILL)
    process.wait()


def run_machine(connector, sf, owner, org: Org, django_settings, kind: str, seen: Counter):
    class Sync(RuleBasedStateMachine):
        @initialize()
        def start(self):
            org.restore()
            domain = f"conv-{uuid.uuid4().hex[:8]}.example"
            self.domain = domain
            self.prospects = []
            # What each side last wrote to each field, and the last edit to each prospect.
            self.ours, self.theirs, self.last_edit = {}, {}, {}
            for _ in range(2):
                self.add_prospect()
            self.quiesce()
            self.lead = {pk: Prospect.objects.get(pk=pk).crm_lead_id for pk in self.prospects}
            self.client = Client.for_connector(connector)  # a worker's long-lived client
            self.kills = 0
            self.faulty_operations = 0
            self.revoked_token = None
            self.faulted = False
            self.handler = FormHandler.objects.create(name="Convergence", slug=domain[:40])
            for external, field in (("email", "email"), ("title", "job_title")):
                self.handler.fields.create(external_name=external, prospect_field=field)

        def add_prospect(self) -> int:
            prospect = ProspectFactory(
                email=f"p{len(self.prospects)}@{self.domain}",
                assigned_user=owner,
                job_title="start",
                city="Boston",
                comments="start",
            )
            pk = prospect.pk
            self.prospects.append(pk)
            self.ours[pk] = {"job_title": "start", "comments": "start"}
            self.theirs[pk] = {"city": "Boston", "comments": "start"}
            self.last_edit[pk] = None
            request_sync(prospect, SyncReason.INITIAL_SYNC)
            return pk

        # -- the cron, until there is nothing left --------------------------------------------
        def time_passes(self):
            """Every backoff and the API governor's pause are over."""
            SyncQueueItem.objects.update(not_before=None)
            Connector.objects.filter(pk=connector.pk, paused_until__isnull=False).update(
                paused_until=timezone.now() - dt.timedelta(seconds=1)
            )

        def rewind_watermarks(self):
            SyncCursor.objects.filter(connector=connector).update(
                watermark=timezone.now() - dt.timedelta(seconds=30)
            )

        def quiesce(self):
            """Faults off; then the engine's own jobs until no work is left. Claims of dead
            workers have expired."""
            org.restore()
            django_settings.SYNC_CLAIM_TIMEOUT = 0
            try:
                for _ in range(6):
                    self.time_passes()
                    jobs.push_pending(connector.pk)
                    self.rewind_watermarks()
                    jobs.pull(connector.pk)
                    self.time_passes()
                    jobs.push_pending(connector.pk)
                    if not SyncQueueItem.objects.filter(prospect_id__in=self.prospects).exists():
                        break
            finally:
                django_settings.SYNC_CLAIM_TIMEOUT = 300

        # -- edits ----------------------------------------------------------------------------
        @precondition(lambda self: len(self.prospects) < MAX_PROSPECTS)
        @rule()
        def new_prospect_arrives(self):
            """Created (and, under faults, retried) while the run goes on: never twice."""
            self.add_prospect()

        @rule(index=st.integers(0, 1), value=WORDS, field=FIELDS)
        def edit_in_leadbridge(self, index, value, field):
            pk = self.prospects[index]
            prospect = Prospect.objects.get(pk=pk)
            setattr(prospect, field[0], value)
            prospect.stamp_changes([field[0]])
            prospect.save()
            request_sync(prospect, SyncReason.FIELD_UPDATE)
            self.ours[pk][field[0]] = value
            self.last_edit[pk] = ("ours", field[0])

        @rule(index=st.integers(0, 1))
        def deleted_and_restored_in_leadbridge(self, index):
            """A marketer deletes the prospect to the recycle bin and restores it (operations):
            it keeps its lead and syncs again, never creating a second one."""
            from operations.recycle import archive_prospects, restore_prospect

            archive_prospects([self.prospects[index]], actor=None)
            restore_prospect(prospect_id=self.prospects[index], actor=None)

        @rule(index=st.integers(0, 1), value=WORDS, field=st.sampled_from([OURS, RECENT]))
        def import_a_file(self, index, value, field):
            """A marketer imports a CSV row for the prospect, matched by email: the upload, the
            imports worker and ``intake.writes``, racing the pushes and pulls."""
            pk = self.prospects[index]
            email = Prospect.objects.get(pk=pk).email
            upload = SimpleUploadedFile("conv.csv", f"Email,{field[0]}\n{email},{value}\n".encode())
            run = start_import(
                user=owner, uploaded_file=upload, options=ImportOptions(create=False)
            )
            imports_queue = django_rq.get_queue("imports")
            SimpleWorker([imports_queue], connection=imports_queue.connection).work(burst=True)
            run.refresh_from_db()
            assert (run.state, run.failed) == ("done", 0), run.message
            if run.updated:
                self.ours[pk][field[0]] = value
                self.last_edit[pk] = ("ours", field[0])

        @rule(index=st.integers(0, 1), value=WORDS)
        def submit_the_form_handler(self, index, value):
            """A visitor posts the form handler (intake's write path): AMPSEA finds the prospect
            by its email and the new job title goes out like any edit of ours."""
            pk = self.prospects[index]
            email = Prospect.objects.get(pk=pk).email
            posted = {"email": [email.upper()], "title": [value]}
            assert receive(handler=self.handler, posted=posted, visitor_id=None).ok
            process_received()
            assert self.handler.received.get(prospect_id=pk).outcome != "failed"
            self.handler.received.all().delete()
            self.ours[pk]["job_title"] = value
            self.last_edit[pk] = ("ours", "job_title")

        @rule(
            value=WORDS,
            field=st.sampled_from([OURS, RECENT]),
            both=st.booleans(),
            points=st.integers(-5, 5),
        )
        def bulk_action_on_the_list(self, value, field, both, points):
            """A marketer's bulk action (automation's action set): one field set and the score
            adjusted for one prospect or both, set-based, racing the pushes and pulls."""
            pks = self.prospects[:2] if both else self.prospects[:1]
            before = dict(Prospect.objects.filter(pk__in=pks).values_list("pk", field[0]))
            actions = [{"type": "set_field", "field": field[0], "value": value}]
            if points:
                actions.append({"type": "adjust_score", "points": points})
            result = apply_actions(parse_actions(actions), pks, actor=owner, source="bulk")
            assert not result.failed, result.messages
            for pk in pks:
                if before[pk] != value:
                    self.ours[pk][field[0]] = value
                    self.last_edit[pk] = ("ours", field[0])

        @rule(index=st.integers(0, 1), value=WORDS, field=st.sampled_from([OURS, RECENT]))
        def completion_action_runs(self, index, value, field):
            """A form handler's completion actions (the same action set) set a field and add
            points, as after a submission."""
            pk = self.prospects[index]
            before = Prospect.objects.get(pk=pk).get_field(field[0])
            self.handler.action_score = 3
            self.handler.completion_actions = [
                {"type": "set_field", "field": field[0], "value": value}
            ]
            result = run_completion_actions(self.handler, prospect_id=pk, label="Convergence")
            assert not result.failed, result.messages
            if before != value:
                self.ours[pk][field[0]] = value
                self.last_edit[pk] = ("ours", field[0])

        @rule(index=st.integers(0, 1), kind=st.sampled_from(["form_handler", "landing_page_view"]))
        def prospect_engages(self, index, kind):
            """An activity (issue 14): score and last activity change, synced as package fields."""
            record_activities([self.prospects[index]], kind, title="convergence")

        @rule(index=st.integers(0, 1), outcome=st.sampled_from(["open", "won", "lost"]))
        def an_opportunity_is_scored(self, index, outcome):
            """The opportunities pull scores a deal of the prospect (issue 16): created, and won
            or lost, once each, through ``record_activities`` — a score the push must carry."""
            number = Opportunity.objects.count()
            opportunity = Opportunity.objects.create(
                sf_id=f"006CONV{number:011d}",
                name="Convergence deal",
                is_closed=outcome != "open",
                is_won=outcome == "won",
            )
            OpportunityContactRole.objects.create(
                sf_id=f"00KCONV{number:011d}",
                opportunity=opportunity,
                contact_sf_id=f"003CONV{number:011d}",
                prospect_id=self.prospects[index],
            )
            score_events()

        @rule(
            index=st.integers(0, 1),
            value=WORDS,
            field=st.sampled_from([OURS, RECENT]),
            upsert=st.booleans(),
        )
        def write_through_the_api(self, index, value, field, upsert):
            """A script PATCHes the prospect, or upserts it by email, with a marketer's key:
            the REST API and ``intake.writes``, racing the pushes and pulls."""
            pk = self.prospects[index]
            prospect = Prospect.objects.get(pk=pk)
            user = user_with_role("api-script", "Marketer")
            api = APIClient(HTTP_AUTHORIZATION=f"Bearer {create_key(user=user, name='conv')[1]}")
            if upsert:
                body = {"email": prospect.email, field[0]: value}
                response = api.post("/api/v1/prospects/upsert/", body, format="json")
            else:
                response = api.patch(f"/api/v1/prospects/{pk}/", {field[0]: value}, format="json")
            assert (response.status_code, response.json()["id"]) == (200, pk), response.json()
            if prospect.get_field(field[0]) != value:
                self.ours[pk][field[0]] = value
                self.last_edit[pk] = ("ours", field[0])

        @rule(index=st.integers(0, 1), whom=st.sampled_from(["colleague", "owner", "nobody"]))
        def assign_through_the_api(self, index, whom):
            """A script reassigns the prospect, or takes its assignment away, through
            ``POST …/assign/`` and ``…/unassign/`` (``prospects.assignment``): a row-locked
            write of the assignment alone, racing the pushes and pulls; Salesforce keeps the
            Lead's owner, and the fields converge as before."""
            pk = self.prospects[index]
            user = user_with_role("api-script", "Marketer")
            api = APIClient(HTTP_AUTHORIZATION=f"Bearer {create_key(user=user, name='conv')[1]}")
            if whom == "nobody":
                response = api.post(f"/api/v1/prospects/{pk}/unassign/")
            else:
                target = owner if whom == "owner" else user_with_role("colleague", "Marketer")
                body = {"user": target.pk}
                response = api.post(f"/api/v1/prospects/{pk}/assign/", body, format="json")
            assert (response.status_code, response.json()["id"]) == (200, pk), response.json()

        @rule(index=st.integers(0, 1), value=WORDS, field=FIELDS)
        def edit_in_salesforce(self, index, value, field):
            """A person edits the lead; under faults the save may fail (and then did nothing:
            the org refuses before it writes), so they try a few times."""
            pk = self.prospects[index]
            for _ in range(3):
                try:
                    sf.Lead.update(self.lead[pk], {field[1]: value})
                except (LibraryError, requests.RequestException):
                    continue
                self.theirs[pk][field[0]] = value
                self.last_edit[pk] = ("theirs", field[0])
                return

        @rule(index=st.integers(0, 1), value=WORDS, fault=FAULT, seed=SEED)
        def edit_while_a_push_is_in_flight(self, index, value, fault, seed):
            """A worker claims and writes the old values; the edit lands before it settles."""
            pk = self.prospects[index]
            prospect = Prospect.objects.get(pk=pk)
            request_sync(prospect, SyncReason.MANUAL)
            django_settings.SYNC_CLAIM_TIMEOUT = 0  # take it even if a dead worker held it
            claims = queue.Lease("slow-worker").claim(limit=jobs.BATCH)
            django_settings.SYNC_CLAIM_TIMEOUT = 300
            assert pk in {c.prospect_id for c in claims}
            self.inject(fault, seed)
            run = start_push(
                connector=connector,
                prospect_ids=[c.prospect_id for c in claims],
                client=self.client,
            )
            prospect.refresh_from_db()
            prospect.job_title = value
            prospect.stamp_changes(["job_title"])
            prospect.save()
            request_sync(prospect, SyncReason.FIELD_UPDATE)
            self.ours[pk]["job_title"] = value
            self.last_edit[pk] = ("ours", "job_title")
            # The push settles its older generation.
            queue.settle(claims, finish_push(run), connector=connector)
            self.operated()
            # The edit is still pending: nothing waits for a pull to notice it.
            assert SyncQueueItem.objects.filter(prospect_id=pk, claimed_at=None).exists()

        # -- the engine at work, meeting faults -----------------------------------------------
        @rule(long_lived=st.booleans(), fault=FAULT, seed=SEED)
        def push(self, long_lived, fault, seed):
            """The push job (a fresh client), or a worker that keeps its session between
            batches (it meets revoked sessions); under ``worker_killed`` a real worker's push
            is SIGKILLed instead."""
            if fault and kind == "worker_killed" and self.kills < 2:
                self.sigkill_a_real_worker_mid_push(seed)
                return
            self.inject(fault, seed)
            if long_lived or kind == "sessions_revoked":
                claims = queue.Lease().claim(limit=jobs.BATCH)
                if claims:
                    run = start_push(
                        connector=connector,
                        prospect_ids=[c.prospect_id for c in claims],
                        client=self.client,
                    )
                    queue.settle(claims, finish_push(run), connector=connector)
            else:
                try:
                    jobs.push_pending(connector.pk)
                except SalesforceError as exc:  # the cron's tick logs it; rows stay pending
                    seen[f"push raised {exc.code}"] += 1
            self.operated()

        @rule(fault=FAULT, seed=SEED)
        def pull(self, fault, seed):
            self.inject(fault, seed)
            self.rewind_watermarks()
            try:
                pull_changes(connector=connector, client=self.client)
            except SalesforceError as exc:  # retries ran out: the next tick pulls again
                seen[f"pull raised {exc.code}"] += 1
            self.operated()

        def inject(self, fault: int, seed: int) -> None:
            """Turn this run's fault on for this and the next ``fault - 1`` operations."""
            if not fault or kind == "worker_killed":  # kills happen in ``push``
                return
            if kind == "sessions_revoked":
                if self.client.token is None:
                    self.client.authenticate()
                self.revoked_token = self.client.token
                org.revoke_sessions()
                seen[kind] += 1
                self.faulted = True
                return
            injected = INJECTED[seed % len(INJECTED)] if kind == "mixed" else kind
            if injected == "outage":
                org.outage(OUTAGE_SECONDS[seed % len(OUTAGE_SECONDS)])
            elif injected == "api_limit":
                org.limit_api(API_CALLS_LEFT[seed % len(API_CALLS_LEFT)])
            elif injected in FAULTS:
                org.set_faults(seed=seed, **FAULTS[injected])
            self.faulty_operations = max(self.faulty_operations, fault)
            seen[injected] += 1
            self.faulted = True

        def operated(self) -> None:
            """An operation ran: note a re-login; faults go off once their operations ran."""
            if self.revoked_token and self.client.token is not self.revoked_token:
                seen["reauthenticated"] += 1
                self.revoked_token = None
            if self.faulty_operations:
                self.faulty_operations -= 1
                if not self.faulty_operations:
                    org.restore()

        # -- workers that die -----------------------------------------------------------------
        @rule()
        def worker_dies_holding_a_claim(self):
            queue.Lease("dead-worker").claim(limit=200)

        def sigkill_a_real_worker_mid_push(self, seed: int) -> None:
            """A real ``rqworker`` takes the push job; SIGKILL it (and its work horse) once it
            holds the claims, after a delay, as when a machine dies."""
            self.kills += 1
            for pk in self.prospects:
                request_sync(Prospect.objects.get(pk=pk), SyncReason.MANUAL)
            wakeups = django_rq.get_queue(SYNC_QUEUE)
            wakeups.empty()
            wakeups.enqueue("sync.jobs.push_pending", connector.pk)
            org.set_faults(latency_ms=KILL_LATENCY_MS)
            # Rows the real worker holds (not unclaimed, nor held by the simulated workers).
            held = SyncQueueItem.objects.filter(prospect_id__in=self.prospects).exclude(
                claimed_by__in=["", "dead-worker", "slow-worker"]
            )
            worker = start_worker()
            try:
                deadline = time.monotonic() + WORKER_START_TIMEOUT
                while time.monotonic() < deadline and worker.poll() is None and not held.exists():
                    time.sleep(0.02)
                time.sleep(KILL_DELAYS[seed % len(KILL_DELAYS)])
            finally:
                sigkill_tree(worker)
            drop_dead_connections()
            # The dead worker's last request may still be running in the org: let it land.
            time.sleep(2 * KILL_LATENCY_MS / 1000 + 0.2)
            org.restore()
            wakeups.empty()
            seen[kind] += 1
            self.faulted = True
            if held.exists():
                seen["killed holding claims"] += 1

        # -- checks ---------------------------------------------------------------------------
        @invariant()
        def pending_work_is_queued(self):
            """The database is the source of truth for what must sync: whatever is pending has
            its queue row, whatever happened to the worker that last took it."""
            if hasattr(self, "client"):
                pending = Prospect.objects.filter(
                    pk__in=self.prospects, sync_status=SyncStatus.PENDING
                ).values_list("pk", flat=True)
                queued = SyncQueueItem.objects.filter(prospect_id__in=pending)
                assert set(pending) == set(queued.values_list("prospect_id", flat=True))

        @invariant()
        def never_duplicated(self):
            if hasattr(self, "client") and not org.faulty:
                leads = sf.query(f"SELECT Email FROM Lead WHERE Email LIKE '%@{self.domain}'")
                emails = [lead["Email"] for lead in leads["records"]]
                assert len(emails) == len(set(emails))

        def teardown(self):
            try:
                if hasattr(self, "client"):
                    if not self.faulted:  # every example meets its fault at least once
                        self.push(long_lived=False, fault=1, seed=0)
                    self.quiesce()
                    self.check_converged()
            finally:
                org.restore()

        def check_converged(self):
            assert Connector.objects.get(pk=connector.pk).state == Connector.State.ACTIVE
            assert not SyncQueueItem.objects.filter(prospect_id__in=self.prospects).exists()
            # Every fault was transient: retried until it went through, never a Sync Error.
            errors = SyncError.objects.filter(prospect_id__in=self.prospects)
            assert not errors.exists(), list(errors.values_list("error_code", "message"))
            for pk in self.prospects:
                prospect = Prospect.objects.get(pk=pk)
                assert prospect.sync_status == SyncStatus.SYNCED
                assert prospect.crm_lead_id == self.lead.setdefault(pk, prospect.crm_lead_id)
                self.check_one_record(prospect)
                lead = sf.Lead.get(self.lead[pk])
                self.check_fields(pk, prospect, lead)

        def check_one_record(self, prospect):
            by_key = sf.query(
                f"SELECT Id FROM Lead WHERE pi__Pardot_Prospect_Id__c = '{prospect.sync_key.hex}'"
            )["records"]
            by_email = sf.query(f"SELECT Id FROM Lead WHERE Email = '{prospect.email}'")
            contacts = sf.query(f"SELECT Id FROM Contact WHERE Email = '{prospect.email}'")
            assert [r["Id"] for r in by_key] == [self.lead[prospect.pk]]
            assert [r["Id"] for r in by_email["records"]] == [self.lead[prospect.pk]]
            assert contacts["totalSize"] == 0

        def check_fields(self, pk, prospect, lead):
            ours, theirs = self.ours[pk], self.theirs[pk]
            # Leadbridge wins Title; Salesforce wins City.
            assert prospect.job_title == lead["Title"] == ours["job_title"]
            assert prospect.city == lead["City"] == theirs["city"]
            # Most recent wins Description, by the record's LastModifiedDate: an edit on one
            # side may lose to a later edit of *any* field on the other, but the very last
            # edit to the prospect, if it was to this field, survives.
            assert prospect.comments == lead["Description"]
            assert prospect.comments in {ours["comments"], theirs["comments"]}
            if self.last_edit[pk] == ("ours", "comments"):
                assert prospect.comments == ours["comments"]
            if self.last_edit[pk] == ("theirs", "comments"):
                assert prospect.comments == theirs["comments"]
            # Activities: the score and the last activity (to the millisecond) reached the Lead.
            assert lead["pi__score__c"] == prospect.score
            when = prospect.last_activity_at
            sent = parse_sf_datetime(lead["pi__last_activity__c"])
            assert sent == (
                when.replace(microsecond=when.microsecond // 1000 * 1000) if when else None
            )

    run_state_machine_as_test(
        Sync,
        settings=settings(
            max_examples=4,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
            # Every step is real HTTP: shrinking a failure could take many minutes. Add
            # Phase.shrink locally to minimise a failing sequence.
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
        ),
    )


@pytest.fixture
def org(sandbox_org):
    """The org as the machine changes it; put back whatever happens (later suites share it)."""
    sandbox_org.control("clear_faults")
    limit = sandbox_org.admin().limits()["DailyApiRequests"]["Max"]
    org = Org(sandbox_org, limit)
    yield org
    org.restore()
    django_rq.get_queue(SYNC_QUEUE).empty()


@pytest.fixture
def rules(connector):
    """One field per behaviour."""
    rules = FieldRule.objects.filter(connector=connector)
    rules.filter(prospect_field=OURS[0]).update(behaviour=FieldRule.Behaviour.LEADBRIDGE)
    rules.filter(prospect_field=THEIRS[0]).update(behaviour=FieldRule.Behaviour.SALESFORCE)
    rules.filter(prospect_field=RECENT[0]).update(behaviour=FieldRule.Behaviour.MOST_RECENT)


@pytest.fixture
def quick_retries(monkeypatch):
    """The client retries a call twice, 10x faster, instead of four times: faults then often
    outlast a call and reach the queue's retries (whose backoff the cron here skips), and a run
    spends its time on calls rather than sleeps."""
    real = salesforce.with_retries

    def with_retries(call, *, attempts=4, **kwargs):
        return real(call, attempts=min(attempts, 2), base_delay=0.02, max_delay=0.5)

    monkeypatch.setattr(salesforce, "with_retries", with_retries)


@pytest.mark.django_db(transaction=True)  # a real worker process sees the rows
@pytest.mark.parametrize("kind", KINDS)
def test_both_sides_converge_as_the_rules_say(connector, rules, org, settings, quick_retries, kind):
    owner = UserFactory(username="alice", email="alice@acme.example")
    seen = Counter()
    run_machine(connector, org.sandbox.admin(), owner, org, settings, kind, seen)
    # The faults did meet the engine.
    assert seen[kind] or (kind == "mixed" and seen.keys() & set(INJECTED)), seen
    if kind == "sessions_revoked":
        assert seen["reauthenticated"], seen
    if kind == "worker_killed":
        assert seen["killed holding claims"], seen


@pytest.mark.django_db
def test_a_500_from_salesforce_is_retried_not_recorded_as_an_error(connector, org):
    owner = UserFactory(username="alice", email="alice@acme.example")
    prospect = ProspectFactory(email=f"p@500-{uuid.uuid4().hex[:8]}.example", assigned_user=owner)
    request_sync(prospect, SyncReason.INITIAL_SYNC)
    org.set_faults(seed=0, **SERVER_ERROR_500)
    try:
        jobs.push_pending(connector.pk)
    finally:
        org.restore()
    assert not SyncError.objects.filter(prospect=prospect).exists()
    assert SyncQueueItem.objects.filter(prospect=prospect).exists()  # retried later
