"""``make reliability``: crash and fault scenarios against a stack of its own, counted.

It starts its own stack — a sandbox org (HTTPS, its own port and database), two RQ workers and
the RQ cron, exactly as the Procfile runs them — on a database of its own: a fresh SQLite file,
or, when ``DATABASE_URL`` names PostgreSQL, a fresh database created on that server and dropped
at the end (nothing existing is touched). Redis: the embedded one ``make`` starts, or
``REDIS_URL`` (give it a database number of its own: the suite empties it).

1. Work: ``RELIABILITY_SIZE`` prospects (5,000) pushed to new leads, and a fifth as many leads
   seeded in the org and pulled in as new prospects; the initial sync must converge first.
2. Scenarios, one by one (``RELIABILITY_SCENARIOS`` picks some, comma-separated). Each edits a
   tenth of the prospects here (Title: Leadbridge wins) and as many leads in the org (City:
   Salesforce wins), injects its fault while that work is in flight, then waits for
   convergence and counts: records checked, duplicates (two leads for one prospect, two
   prospects for one lead or email), lost changes (an edit not on the other side), Sync Errors
   left by transient faults, and the time to converge.
3. One line per scenario, then ``N scenarios, D duplicates, L lost``; exit 1 on any duplicate or
   loss (or a scenario that never converged).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SIZE = int(os.environ.get("RELIABILITY_SIZE", "5000"))
EDITS = max(20, SIZE // 10)  # edits per side per scenario
SEEDED = max(10, SIZE // 5)  # leads created in the org, pulled in as prospects
CONVERGE_TIMEOUT = float(os.environ.get("RELIABILITY_TIMEOUT", "240"))
CLAIM_TIMEOUT = 20  # seconds: a killed worker's claims are taken again after this
FAULT_RATE = 0.2  # of calls: 503s, row locks and dropped connections, a third each
OWNER_EMAIL = "alice@acme.example"  # a user of the demo org: new leads are assigned to her
POLL = 2.0


def log(message: str) -> None:
    print(message, flush=True)


# -- the stack -----------------------------------------------------------------------------------


@dataclass
class Database:
    url: str
    engine: str  # "sqlite" or "postgresql"
    drop: Callable[[], None] = lambda: None


def _postgres(base: str, suffix: str) -> Database:
    import psycopg

    parts = urlparse(base)
    name = f"{parts.path.lstrip('/') or 'leadbridge'}_{suffix}_{secrets.token_hex(3)}"

    def admin():
        return psycopg.connect(
            host=parts.hostname,
            port=parts.port or 5432,
            user=parts.username or None,
            password=parts.password or None,
            dbname="postgres",
            autocommit=True,
        )

    with admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return Database(urlunparse(parts._replace(path=f"/{name}")), "postgresql", drop)


def make_database(tmp: Path) -> Database:
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith(("postgres://", "postgresql://")):
        return _postgres(base, "reliability")
    return Database(f"sqlite:///{tmp / 'leadbridge.sqlite3'}", "sqlite")


class Stack:
    """The sandbox org, two workers and the cron, each a process group of its own."""

    def __init__(self, tmp: Path, env: dict) -> None:
        self.tmp, self.env = tmp, env
        self.workers: list[subprocess.Popen] = []
        self.cron: subprocess.Popen | None = None
        self.logs = tmp / "logs"
        self.logs.mkdir(exist_ok=True)
        self.started = 0

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        self.started += 1
        out = (self.logs / f"{name}-{self.started}.log").open("w")
        return subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_worker(self, scheduler: bool = False) -> subprocess.Popen:
        args = ["rqworker", "default", "sync", "--worker-class", "core.worker.Worker"]
        worker = self._spawn("worker", args + (["--with-scheduler"] if scheduler else []))
        self.workers.append(worker)
        return worker

    def start(self) -> None:
        self.start_worker(scheduler=True)
        self.start_worker()
        self.cron = self._spawn("cron", ["rqcron", "portal.cron"])

    def kill_worker(self, worker: subprocess.Popen) -> None:
        """SIGKILL, as when a machine dies: no warm shutdown, no claim released."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        self.workers.remove(worker)

    def worker_pids(self) -> dict[int, subprocess.Popen]:
        return {w.pid: w for w in self.workers}

    def stop(self) -> None:
        for process in [*self.workers, self.cron]:
            if process is None or process.poll() is not None:
                continue
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in [*self.workers, self.cron]:
            if process is None:
                continue
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


# -- the run -------------------------------------------------------------------------------------


@dataclass
class Outcome:
    name: str
    checked: int = 0
    duplicates: int = 0
    lost: int = 0
    errors: int = 0
    seconds: float = 0.0
    converged: bool = False
    note: str = ""
    skipped: bool = False

    def line(self) -> str:
        if self.skipped:
            return f"{self.name:<34} skipped: {self.note}"
        state = f"converged in {self.seconds:5.1f} s" if self.converged else "DID NOT CONVERGE"
        extra = f"  ({self.note})" if self.note else ""
        return (
            f"{self.name:<34} checked {self.checked:>6,}  duplicates {self.duplicates}  "
            f"lost {self.lost}  sync errors {self.errors}  {state}{extra}"
        )


class Run:
    def __init__(self, org, stack: Stack, database: Database, embedded_redis: bool) -> None:
        from prospects.models import Prospect, SyncQueueItem
        from sync.models import Connector, SyncError

        self.org, self.stack, self.database = org, stack, database
        self.embedded_redis = embedded_redis
        self.sf = org.admin()
        self.domain = f"rel-{secrets.token_hex(3)}.example"
        self.seed_prefix = f"rel{secrets.token_hex(2)}"
        self.Prospect, self.Queue, self.Connector, self.SyncError = (
            Prospect,
            SyncQueueItem,
            Connector,
            SyncError,
        )
        self.expected_title: dict[int, str] = {}  # prospect pk -> Title we set
        self.expected_city: dict[str, str] = {}  # lead id -> City they set
        self.round = 0

    # -- set-up ----------------------------------------------------------------------------
    def connect(self) -> None:
        from sync.models import Connector, FieldRule
        from tests.fixtures.connector import sandbox_connector

        self.connector = sandbox_connector(
            self.org,
            state=Connector.State.ACTIVE,
            sync_interval=10,
            auto_create_prospects=True,
        )
        rules = FieldRule.objects.filter(connector=self.connector)
        rules.filter(prospect_field="job_title").update(behaviour=FieldRule.Behaviour.LEADBRIDGE)
        rules.filter(prospect_field="city").update(behaviour=FieldRule.Behaviour.SALESFORCE)

    def create_work(self) -> float:
        """SIZE prospects to push, SEEDED leads to pull; returns the seconds to converge."""
        from django.contrib.auth import get_user_model

        from prospects.models import SyncReason
        from prospects.sync_requests import request_sync_many

        owner, _ = get_user_model().objects.get_or_create(
            username="alice", defaults={"email": OWNER_EMAIL}
        )
        started = time.monotonic()
        self.org.control("seed_leads", count=SEEDED, prefix=self.seed_prefix)
        for start in range(0, SIZE, 1000):
            batch = [
                self.Prospect(
                    email=f"r{index}@{self.domain}",
                    first_name="Rel",
                    last_name=f"Prospect {index}",
                    company="Reliability Co",
                    job_title="start",
                    city="Boston",
                    assigned_user=owner,
                )
                for index in range(start, min(start + 1000, SIZE))
            ]
            created = self.Prospect.objects.bulk_create(batch)
            request_sync_many([p.pk for p in created], SyncReason.INITIAL_SYNC)
        ok = self.wait_converged(timeout=max(CONVERGE_TIMEOUT, SIZE / 10))
        return time.monotonic() - started if ok else -1.0

    # -- edits on both sides ---------------------------------------------------------------
    def edit_both_sides(self, tag: str) -> None:
        from prospects.models import SyncReason
        from prospects.sync_requests import request_sync_many

        self.round += 1
        ours = list(
            self.Prospect.objects.filter(email__endswith=f"@{self.domain}")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        offset = (self.round * EDITS) % max(1, len(ours) - EDITS)
        picked = ours[offset : offset + EDITS]
        rows = list(self.Prospect.objects.filter(pk__in=picked))
        for row in rows:
            row.job_title = f"{tag}-{row.pk}"
            self.expected_title[row.pk] = row.job_title
        self.Prospect.objects.bulk_update(rows, ["job_title"], batch_size=500)
        request_sync_many(picked, SyncReason.FIELD_UPDATE)
        # Their side: other prospects' leads (the second half of the list, same rotation).
        theirs = ours[len(ours) // 2 :][offset % max(1, len(ours) // 2 - EDITS) :][:EDITS]
        leads = list(
            self.Prospect.objects.filter(pk__in=theirs)
            .exclude(crm_lead_id="")
            .values_list("crm_lead_id", flat=True)
        )
        for start in range(0, len(leads), 200):
            chunk = leads[start : start + 200]
            records = [
                {"attributes": {"type": "Lead"}, "id": lead, "City": f"{tag}-{lead[-6:]}"}
                for lead in chunk
            ]
            for _ in range(5):  # the org may be faulty: the person retries their save
                try:
                    self.sf.restful(
                        "composite/sobjects",
                        method="PATCH",
                        data=json.dumps({"allOrNone": True, "records": records}),
                    )
                    break
                except Exception:  # noqa: BLE001 - a person retries whatever went wrong
                    time.sleep(1)
            else:
                continue  # never saved: nothing to expect
            for lead in chunk:
                self.expected_city[lead] = f"{tag}-{lead[-6:]}"

    # -- convergence -----------------------------------------------------------------------
    def queue_idle(self) -> bool:
        return not self.Queue.objects.exists()

    def count(self) -> Outcome:
        """Compare both sides: duplicates, and edits not (yet) on the other side."""
        outcome = Outcome("")
        leads = self.sf.query_all(
            "SELECT Id, Email, Title, City FROM Lead "
            f"WHERE Email LIKE '%@{self.domain}' OR Email LIKE '{self.seed_prefix}%'"
        )["records"]
        by_email = Counter(lead["Email"].lower() for lead in leads)
        lead_of = {lead["Id"]: lead for lead in leads}
        prospects = list(
            self.Prospect.objects.filter(archived_at__isnull=True)
            .filter(email__endswith=f"@{self.domain}")
            .values("pk", "email", "crm_lead_id", "job_title", "city")
        )
        pulled = list(
            self.Prospect.objects.filter(email__startswith=self.seed_prefix).values(
                "email", "crm_lead_id"
            )
        )
        outcome.checked = len(prospects) + len(pulled)
        prospect_emails = Counter(p["email"].lower() for p in [*prospects, *pulled])
        links = Counter(p["crm_lead_id"] for p in [*prospects, *pulled] if p["crm_lead_id"])
        outcome.duplicates = (
            sum(n - 1 for n in by_email.values() if n > 1)
            + sum(n - 1 for n in prospect_emails.values() if n > 1)
            + sum(n - 1 for n in links.values() if n > 1)
        )
        lost = 0
        for prospect in prospects:
            lead = lead_of.get(prospect["crm_lead_id"])
            if lead is None:
                lost += 1  # never reached Salesforce
                continue
            wanted = self.expected_title.get(prospect["pk"])
            if wanted and lead["Title"] != wanted:
                lost += 1
            wanted_city = self.expected_city.get(prospect["crm_lead_id"])
            if wanted_city and prospect["city"] != wanted_city:
                lost += 1
        lost += max(0, SEEDED - len(pulled))  # seeded leads never pulled in
        outcome.lost = lost
        return outcome

    def wait_converged(self, *, timeout: float = CONVERGE_TIMEOUT) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.queue_idle():
                outcome = self.count()
                if outcome.lost == 0:
                    return True
            time.sleep(POLL)
        return False

    def wait_for(self, condition: Callable[[], bool], timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(0.05)
        return False

    def claimed(self) -> bool:
        return self.Queue.objects.filter(claimed_at__isnull=False).exists()

    def scenario(self, name: str, inject: Callable[[], str]) -> Outcome:
        errors_before = self.SyncError.objects.count()
        tag = f"s{self.round + 1}"
        started = time.monotonic()
        self.edit_both_sides(tag)
        note = inject()
        converged = self.wait_converged()
        seconds = time.monotonic() - started
        outcome = self.count()
        outcome.name, outcome.seconds, outcome.converged, outcome.note = (
            name,
            seconds,
            converged,
            note,
        )
        outcome.errors = self.SyncError.objects.count() - errors_before
        return outcome

    # -- the faults ------------------------------------------------------------------------
    def kill_worker_mid_batch(self) -> str:
        if not self.wait_for(self.claimed):
            return "no batch was in flight to kill"
        holders = set(
            self.Queue.objects.filter(claimed_at__isnull=False).values_list("claimed_by", flat=True)
        )
        pids = {int(h.split("/")[0].rsplit(":", 1)[1]) for h in holders if ":" in h}
        victims = [w for pid, w in self.stack.worker_pids().items() if pid in pids]
        victims = victims or list(self.stack.workers)
        held = self.Queue.objects.filter(claimed_at__isnull=False).count()
        for worker in victims:
            self.stack.kill_worker(worker)
        for index, _ in enumerate(victims):
            self.stack.start_worker(scheduler=index == 0)
        return f"killed {len(victims)} worker(s) holding {held:,} claims"

    def flush_redis(self) -> str:
        import django_rq

        if not self.wait_for(self.claimed):
            return "no batch was in flight"
        connection = django_rq.get_connection("default")
        if self.embedded_redis:
            connection.flushall()
            return "FLUSHALL on the embedded Redis"
        connection.flushdb()
        return "FLUSHDB of its own Redis database (FLUSHALL would empty others' databases)"

    def kill_database_connections(self) -> str:
        from django.db import connection

        if not self.wait_for(self.claimed):
            return "no batch was in flight"
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            killed = cursor.fetchone()[0]
        return f"pg_terminate_backend on {killed} connection(s) of the workers and cron"

    def faults(self) -> str:
        third = round(FAULT_RATE / 3, 3)
        self.org.control(
            "set_faults", error_rate=third, error_status=503, lock_rate=third, drop_rate=third
        )
        retried: set[int] = set()
        deadline = time.monotonic() + CONVERGE_TIMEOUT / 2
        while time.monotonic() < deadline and not self.queue_idle():
            retried.update(
                self.Queue.objects.filter(attempts__gt=0).values_list("prospect_id", flat=True)
            )
            time.sleep(0.2)
        self.org.control("clear_faults")
        return (
            f"{FAULT_RATE:.0%} of calls failed (503, row lock, dropped) until the queue "
            f"drained; {len(retried)} prospects went back to the queue to retry"
        )

    def self_check(self) -> Outcome:
        """Prove the counters can fail: expect edits neither side ever received (lost changes,
        both directions) and link a second prospect to one lead (a duplicate); count them;
        then take both back."""
        # Edits the checker expects but no side ever received (a lost change, as the checker
        # sees one): half on each side.
        planted = list(
            self.Prospect.objects.filter(email__endswith=f"@{self.domain}")
            .exclude(crm_lead_id="")
            .order_by("-pk")
            .values_list("pk", "crm_lead_id")[:EDITS]
        )
        saved = {pk: self.expected_title.get(pk) for pk, _ in planted}
        saved_city = {lead: self.expected_city.get(lead) for _, lead in planted}
        for index, (pk, lead) in enumerate(planted):
            if index % 2:
                self.expected_title[pk] = f"never-saved-{pk}"
            else:
                self.expected_city[lead] = f"never-saved-{lead}"
        # A second prospect with the same email, as a duplicating pull would leave (unlinked
        # and "do not sync", so no job of the running stack touches it while it exists).
        original = self.Prospect.objects.get(pk=planted[0][0])
        twin = self.Prospect.objects.create(
            email=original.email, last_name="Twin", do_not_sync=True
        )
        outcome = self.count()
        outcome.name = "self-check (planted faults)"
        caught = outcome.lost >= len(planted) and outcome.duplicates >= 1
        outcome.note = (
            f"planted {len(planted)} lost and a duplicate; counted {outcome.lost} and "
            f"{outcome.duplicates}: the counters {'work' if caught else 'MISSED THEM'}"
        )
        outcome.converged = caught
        twin.delete()
        for pk, lead in planted:  # forget the planted expectations
            for store, key, value in ((self.expected_title, pk, saved[pk]),
                                      (self.expected_city, lead, saved_city[lead])):  # fmt: skip
                if value is None:
                    store.pop(key, None)
                else:
                    store[key] = value
        return outcome

    def revoke_sessions(self) -> str:
        if not self.wait_for(self.claimed):
            return "no batch was in flight"
        revoked = self.org.control("revoke_sessions", username=self.org.username)["revoked"]
        return f"{revoked} session(s) revoked mid-batch"

    def api_limit(self) -> str:
        """The org's allocation nearly spent: the governor must pause the connector (no Sync
        Error), and it resumes when the rolling window frees calls — simulated here by
        restoring the allocation and ending the pause, instead of waiting the 15-minute
        recheck."""
        limit = self.sf.limits()["DailyApiRequests"]["Max"]
        self.org.control("reset_api_usage")
        self.org.control("set_org", daily_api_limit=12)  # the connector's half: 6 calls
        paused = self.wait_for(
            lambda: self.Connector.objects.filter(paused_until__isnull=False).exists(),
            timeout=90,
        )
        time.sleep(3)
        self.org.control("set_org", daily_api_limit=limit)
        self.org.control("reset_api_usage")
        self.Connector.objects.update(paused_until=None, api_checked_at=None)
        return "governor paused the connector" if paused else "the governor never paused"


SCENARIOS = {
    "worker_killed": ("worker SIGKILL mid-batch", "kill_worker_mid_batch"),
    "redis_flushed": ("Redis flushed mid-run", "flush_redis"),
    "db_connection_killed": ("DB connections killed mid-batch", "kill_database_connections"),
    "faults": ("sandbox faults at 20%", "faults"),
    "sessions_revoked": ("session revocation", "revoke_sessions"),
    "api_limit": ("API limit reached", "api_limit"),
}


def _interrupted(signum: int, frame) -> None:
    raise KeyboardInterrupt  # run the clean-up below: stop the stack, drop the databases


def main() -> int:
    began = time.monotonic()
    signal.signal(signal.SIGINT, _interrupted)
    signal.signal(signal.SIGTERM, _interrupted)
    wanted = [s for s in os.environ.get("RELIABILITY_SCENARIOS", "").split(",") if s]
    unknown = [s for s in wanted if s not in SCENARIOS]
    if unknown:
        log(f"unknown scenarios {unknown}; known: {', '.join(SCENARIOS)}")
        return 2
    (ROOT / "var").mkdir(exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="reliability-", dir=ROOT / "var"))
    database = make_database(tmp)
    redis_url = os.environ.get("REDIS_URL", "")
    embedded = "/var/redis/" in redis_url and redis_url.startswith("unix://")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "true",
        "SANDBOX_ENABLED": "false",
        "DATABASE_URL": database.url,
        "SYNC_CLAIM_TIMEOUT": str(CLAIM_TIMEOUT),
        "EMAIL_URL": "dummymail://",
    }
    os.environ.update({k: v for k, v in env.items() if k != "SANDBOX_ENABLED"})
    from tests.fixtures.sandbox import start_sandbox, stop_sandbox

    (tmp / "sandbox").mkdir()
    try:
        org, sandbox, sandbox_db = start_sandbox(tmp / "sandbox")
    except BaseException:
        database.drop()
        raise
    hosts = [h for h in os.environ.get("SALESFORCE_LOGIN_HOSTS", "").split(",") if h]
    os.environ["SALESFORCE_LOGIN_HOSTS"] = env["SALESFORCE_LOGIN_HOSTS"] = ",".join(
        [*hosts, org.host]
    )
    os.environ["SANDBOX_ENABLED"] = "false"  # the org runs on its own; the portal talks HTTPS
    stack = Stack(tmp, env)
    outcomes: list[Outcome] = []
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        import django_rq

        django_rq.get_connection("default").flushdb()
        log(
            f"reliability: {SIZE:,} prospects + {SEEDED:,} pulled leads, {EDITS:,} edits per side "
            f"per scenario; {database.engine}, "
            f"{'embedded Redis' if embedded else 'Redis at REDIS_URL'}; logs in {tmp}"
        )
        run = Run(org, stack, database, embedded)
        run.connect()
        stack.start()
        seconds = run.create_work()
        if seconds < 0:
            first = run.count()
            log(f"initial sync did not converge: {first.lost} missing, {first.duplicates} dup.")
            return 1
        log(f"{'initial sync':<34} {SIZE + SEEDED:,} records converged in {seconds:.1f} s")
        check = run.self_check()
        log(f"{check.name:<34} {check.note}")
        if not check.converged:
            return 1
        for key in wanted or list(SCENARIOS):
            name, method = SCENARIOS[key]
            if key == "db_connection_killed" and database.engine != "postgresql":
                outcome = Outcome(name, skipped=True, note="SQLite has no connections to kill")
            else:
                outcome = run.scenario(name, getattr(run, method))
            outcomes.append(outcome)
            log(outcome.line())
    finally:
        stack.stop()
        stop_sandbox(sandbox, sandbox_db)
        from django.db import connections

        connections.close_all()
        database.drop()
    ran = [o for o in outcomes if not o.skipped]
    failed = any(o.duplicates or o.lost or not o.converged for o in ran) or not outcomes
    if failed or os.environ.get("RELIABILITY_KEEP") == "1":
        log(f"logs kept in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    duplicates = sum(o.duplicates for o in ran)
    lost = sum(o.lost for o in ran)
    skipped = len(outcomes) - len(ran)
    log(f"{'total (stack, work, scenarios)':<34} {(time.monotonic() - began) / 60:.1f} min")
    log(
        f"{len(ran)} scenarios, {duplicates} duplicates, {lost} lost"
        + (f" ({skipped} skipped)" if skipped else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
