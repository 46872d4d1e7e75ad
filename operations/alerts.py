"""Alerts: email the Sync admins when operating the connector needs a person.

``evaluate`` runs every minute (``portal/cron.py``, and the ``checkoperations`` watchdog, which
needs neither Redis nor a worker — the two things whose silence it must report):

1. Find what is wrong now (``find_problems``): each finding is a (kind, key) with a sentence.
2. Open an ``Incident`` for each finding without an open one; the database's unique constraint
   makes two evaluators at once open it once.
3. Resolve the open incidents whose finding is gone (a conditional update: resolved once).
4. After commit, one email for what opened and one for what resolved, to every active Sync
   admin with an email address. An incident mails once when it opens and once when it resolves.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

import django_rq
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Min, Q
from django.template.loader import render_to_string
from django.utils import timezone
from redis.exceptions import RedisError

from core.models import Heartbeat
from operations.attention import lost_items
from operations.models import Incident
from prospects.models import SyncQueueItem
from sync.engine import budget
from sync.models import Connector, SyncError

log = logging.getLogger(__name__)

ERROR_WINDOW = dt.timedelta(minutes=15)
Kind = Incident.Kind


@dataclass(frozen=True)
class Finding:
    kind: str
    key: str
    summary: str


@dataclass
class Evaluation:
    opened: list[Incident] = field(default_factory=list)
    resolved: list[Incident] = field(default_factory=list)


def find_problems(*, now: dt.datetime | None = None) -> list[Finding]:
    """Everything wrong right now, one finding per incident-to-be."""
    now = now or timezone.now()
    connector = Connector.objects.current()
    findings = [*_silent(now), *_errors(now)]
    if connector is not None and connector.state != Connector.State.PAUSED:
        findings += [*_attention(connector), *_budget(connector, now), *_queue(connector, now)]
    return findings


def _attention(connector: Connector) -> list[Finding]:
    if connector.state != Connector.State.NEEDS_ATTENTION:
        return []
    return [
        Finding(Kind.CONNECTOR, lost.key, f"{lost.what} Held back: {lost.held_back}")
        for lost in lost_items(connector)
    ]


def _budget(connector: Connector, now: dt.datetime) -> list[Finding]:
    left = budget.allowance(connector)
    paused = connector.paused_until is not None and connector.paused_until > now
    if not paused and (left is None or left > 0):
        return []
    used = (connector.api_max or 0) - (connector.api_remaining or 0)
    return [
        Finding(
            Kind.BUDGET,
            "daily",
            f"The connector has used its share of the org's daily API calls ({used:,} of "
            f"{connector.api_max or 0:,} used; its share is {connector.api_share}%). Pushes and "
            "pulls wait until Salesforce's rolling 24-hour window frees calls; changes stay "
            "queued.",
        )
    ]


def _errors(now: dt.datetime) -> list[Finding]:
    threshold = settings.ALERT_ERROR_SPIKE
    count = SyncError.objects.filter(first_seen_at__gte=now - ERROR_WINDOW).count()
    if count < threshold:
        return []
    return [
        Finding(
            Kind.ERRORS,
            "spike",
            f"{count:,} new Sync Errors in the last 15 minutes (the alert threshold is "
            f"{threshold:,}). See the Sync Errors page for their categories.",
        )
    ]


def _silent(now: dt.datetime) -> list[Finding]:
    limit = dt.timedelta(minutes=settings.ALERT_SILENT_MINUTES)
    stale = Heartbeat.objects.filter(beat_at__lt=now - limit).order_by("name")
    return [
        Finding(
            Kind.SILENT,
            beat.name,
            f"No heartbeat from '{beat.name}' since {timezone.localtime(beat.beat_at):%Y-%m-%d %H:%M %Z} "
            f"({int((now - beat.beat_at).total_seconds() // 60)} minutes): {_why_silent(beat)}",
        )
        for beat in stale
    ]


def _why_silent(beat: Heartbeat) -> str:
    """Tell a dead worker (jobs wait in its queue) from a dead cron (nothing is enqueued)."""
    queue_name = beat.name.split(":", 1)[1] if ":" in beat.name else "default"
    try:
        waiting = django_rq.get_queue(queue_name).count
    except (RedisError, OSError, KeyError):
        return "Redis cannot be reached, so neither the cron nor the workers can run jobs."
    if waiting:
        return f"no worker is taking jobs from the '{queue_name}' queue ({waiting:,} waiting)."
    return "the RQ cron is not enqueueing its jobs (the 'cron' process is down)."


def _queue(connector: Connector, now: dt.datetime) -> list[Finding]:
    if not connector.may_sync:
        return []  # the connector's own incident says why nothing goes out
    limit = dt.timedelta(minutes=settings.ALERT_QUEUE_STUCK_MINUTES)
    oldest = SyncQueueItem.objects.aggregate(oldest=Min("requested_at"))["oldest"]
    if oldest is None or now - oldest < limit:
        return []
    depth = SyncQueueItem.objects.count()
    minutes = int((now - oldest).total_seconds() // 60)
    return [
        Finding(
            Kind.QUEUE,
            "pending",
            f"The oldest of {depth:,} pending prospects has waited {minutes} minutes to sync "
            f"(the alert threshold is {settings.ALERT_QUEUE_STUCK_MINUTES}).",
        )
    ]


def evaluate(*, now: dt.datetime | None = None) -> Evaluation:
    """Open and resolve incidents for what is wrong now; mail the Sync admins about changes.

    The mails go to incidents not yet notified, each claimed by a conditional update first
    (two evaluators never both send it); a mail that could not go is retried next time.
    """
    now = now or timezone.now()
    findings = {(f.kind, f.key): f for f in find_problems(now=now)}
    open_now = {(i.kind, i.key): i for i in Incident.objects.filter(resolved_at__isnull=True)}
    for ident, finding in findings.items():
        if ident not in open_now:
            _open(finding, now)
    for ident, incident in open_now.items():
        if ident not in findings:
            Incident.objects.filter(pk=incident.pk, resolved_at__isnull=True).update(
                resolved_at=now
            )
    unsent = Q(last_notified_at__isnull=True) | Q(last_notified_at__lt=F("resolved_at"))
    result = Evaluation(
        opened=_claim(
            Incident.objects.filter(resolved_at__isnull=True, last_notified_at=None), now
        ),
        resolved=_claim(
            Incident.objects.filter(unsent, resolved_at__gte=now - dt.timedelta(days=1)), now
        ),
    )
    for incidents, state in ((result.opened, "opened"), (result.resolved, "resolved")):
        if incidents and not send_alert(incidents, state=state):
            for incident in incidents:  # try again at the next evaluation
                Incident.objects.filter(pk=incident.pk, last_notified_at=now).update(
                    last_notified_at=incident.last_notified_at
                )
    return result


def _open(finding: Finding, now: dt.datetime) -> None:
    try:
        with transaction.atomic():
            Incident.objects.create(
                kind=finding.kind, key=finding.key, summary=finding.summary, opened_at=now
            )
    except IntegrityError:  # another evaluator opened it a moment ago
        pass


def _claim(incidents, now: dt.datetime) -> list[Incident]:
    """The incidents this evaluator gets to mail about (``last_notified_at`` moved to now)."""
    claimed = []
    for incident in incidents.order_by("opened_at", "pk"):
        before = incident.last_notified_at
        mine = Incident.objects.filter(pk=incident.pk)
        mine = (
            mine.filter(last_notified_at__isnull=True)
            if before is None
            else mine.filter(last_notified_at=before)
        )
        if mine.update(last_notified_at=now) == 1:
            claimed.append(incident)  # keeps the old stamp, to put back if the mail fails
    return claimed


def sync_admin_emails() -> list[str]:
    """Every active Sync admin's address (the role through a group or held directly)."""
    role = Q(
        groups__permissions__codename="administer_sync",
        groups__permissions__content_type__app_label="core",
    ) | Q(
        user_permissions__codename="administer_sync",
        user_permissions__content_type__app_label="core",
    )
    users = get_user_model().objects.filter(role, is_active=True).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def send_alert(incidents: list[Incident], *, state: str) -> bool:
    """One email listing these incidents (``state``: opened or resolved); False if none went."""
    recipients = sync_admin_emails()
    if not recipients:
        log.warning(
            "%d incidents %s, but no Sync admin has an email address", len(incidents), state
        )
        return False
    first = incidents[0]
    more = f" (+{len(incidents) - 1} more)" if len(incidents) > 1 else ""
    if state == "opened":
        subject = f"[Leadbridge] {first.get_kind_display()}: {first.key or ''}{more}".strip()
    else:
        subject = f"[Leadbridge] Resolved: {first.get_kind_display()}: {first.key}{more}".strip()
    body = render_to_string(
        "operations/alert_email.txt",
        {"incidents": incidents, "state": state, "portal_url": settings.PORTAL_URL},
    )
    try:
        send_mail(subject, body, None, recipients)
    except OSError:
        log.exception("could not send the %s alert", state)
        return False
    return True


def send_digest(*, now: dt.datetime | None = None) -> bool:
    """The optional daily digest (``ALERT_DAILY_DIGEST``): open incidents, the last day's
    incidents and figures, to the Sync admins. False when off or nobody could be mailed."""
    from operations import metrics  # the dashboard's figures; only the digest needs them

    if not settings.ALERT_DAILY_DIGEST:
        return False
    now = now or timezone.now()
    recipients = sync_admin_emails()
    if not recipients:
        return False
    flow = metrics.throughput(now=now)["totals"]
    day = now - dt.timedelta(days=1)
    context = {
        "open": list(Incident.objects.filter(resolved_at__isnull=True)),
        "resolved": list(Incident.objects.filter(resolved_at__gte=day)),
        "flow": flow,
        "new_errors": SyncError.objects.filter(first_seen_at__gte=day).count(),
        "open_errors": SyncError.objects.open().count(),
        "queue": SyncQueueItem.objects.count(),
        "portal_url": settings.PORTAL_URL,
    }
    body = render_to_string("operations/digest_email.txt", context)
    subject = f"[Leadbridge] Daily sync digest: {len(context['open'])} open incidents"
    try:
        send_mail(subject, body, None, recipients)
    except OSError:
        log.exception("could not send the daily digest")
        return False
    return True
