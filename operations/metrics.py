"""The dashboard's figures over time, rolled up each minute into ``MetricMinute``.

The history gains a row per record pushed or pulled; charting a day of it straight from
``SyncHistory`` would scan millions of rows on every refresh. Instead ``roll_up`` (every minute,
from ``portal/cron.py``) counts only the last few minutes — a range scan on the indexed ``at``
and ``first_seen_at`` columns — and upserts one small row per minute. Recounting a short
overlap catches history rows whose transaction committed after the previous roll-up; a cron
that was down is caught up (at most a day back) from the newest row stored.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count
from django.db.models.functions import TruncMinute
from django.utils import timezone

from operations.models import MetricMinute
from prospects.models import Direction, SyncHistory
from sync.models import ErrorCategory, SyncError

OVERLAP = dt.timedelta(minutes=5)
DAY = dt.timedelta(days=1)
KEEP = dt.timedelta(days=7)
OK = (SyncHistory.Result.OK,)
FAILED = (SyncHistory.Result.ERROR,)


def minute_of(moment: dt.datetime) -> dt.datetime:
    return moment.replace(second=0, microsecond=0)


def roll_up(*, now: dt.datetime | None = None) -> int:
    """Recount the minutes since the newest stored one (less an overlap); returns rows written.

    1. Start: the newest stored minute minus ``OVERLAP``, never more than a day back.
    2. Count history rows (pushed: outbound synced; pulled: inbound synced; failed: refused)
       and new Sync Errors by category, grouped by minute, in two queries.
    3. Upsert those minutes in one statement; drop rows older than a week.
    """
    now = now or timezone.now()
    newest = MetricMinute.objects.order_by("-minute").values_list("minute", flat=True).first()
    start = max(minute_of(now) - DAY, (newest or now) - OVERLAP)
    start = minute_of(start)
    rows: dict[dt.datetime, MetricMinute] = {}

    def row(minute: dt.datetime) -> MetricMinute:
        return rows.setdefault(minute, MetricMinute(minute=minute, errors={}))

    history = (
        SyncHistory.objects.filter(
            at__gte=start, direction__in=(Direction.OUTBOUND, Direction.INBOUND)
        )
        .annotate(m=TruncMinute("at"))
        .values("m", "direction", "result")
        .annotate(n=Count("id"))
    )
    for item in history:
        entry = row(item["m"])
        if item["result"] in FAILED:
            entry.failed += item["n"]
        elif item["result"] in OK and item["direction"] == Direction.OUTBOUND:
            entry.pushed += item["n"]
        elif item["result"] in OK:
            entry.pulled += item["n"]
    errors = (
        SyncError.objects.filter(first_seen_at__gte=start)
        .annotate(m=TruncMinute("first_seen_at"))
        .values("m", "category")
        .annotate(n=Count("id"))
    )
    for item in errors:
        row(item["m"]).errors[item["category"]] = item["n"]
    # Minutes in the window with nothing left in them (an error resolved and deleted, say).
    MetricMinute.objects.filter(minute__gte=start).exclude(minute__in=list(rows)).delete()
    MetricMinute.objects.bulk_create(
        rows.values(),
        update_conflicts=True,
        unique_fields=["minute"],
        update_fields=["pushed", "pulled", "failed", "errors"],
    )
    MetricMinute.objects.filter(minute__lt=now - KEEP).delete()
    return len(rows)


def throughput(*, now: dt.datetime | None = None, hours: int = 24) -> dict:
    """Pushed, pulled and refused records per minute over the last ``hours`` (chart series),
    up to the last whole minute: the current one is still being counted."""
    now = now or timezone.now()
    first = minute_of(now) - dt.timedelta(hours=hours)
    stored = {
        m.minute: m
        for m in MetricMinute.objects.filter(minute__gte=first).only(
            "minute", "pushed", "pulled", "failed"
        )
    }
    labels, pushed, pulled, failed = [], [], [], []
    for index in range(hours * 60):
        minute = first + dt.timedelta(minutes=index)
        entry = stored.get(minute)
        labels.append(timezone.localtime(minute).strftime("%H:%M"))
        pushed.append(entry.pushed if entry else 0)
        pulled.append(entry.pulled if entry else 0)
        failed.append(entry.failed if entry else 0)
    return {
        "labels": labels,
        "pushed": pushed,
        "pulled": pulled,
        "failed": failed,
        "totals": {"pushed": sum(pushed), "pulled": sum(pulled), "failed": sum(failed)},
        "last_hour": {"pushed": sum(pushed[-60:]), "pulled": sum(pulled[-60:])},
    }


def errors_by_category(*, now: dt.datetime | None = None, hours: int = 24) -> dict:
    """New Sync Errors per hour and category over the last ``hours`` (a stacked bar chart)."""
    now = now or timezone.now()
    first_hour = now.replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=hours - 1)
    counts: dict[str, dict[dt.datetime, int]] = defaultdict(lambda: defaultdict(int))
    for minute, errors in MetricMinute.objects.filter(minute__gte=first_hour).values_list(
        "minute", "errors"
    ):
        hour = minute.replace(minute=0)
        for category, n in (errors or {}).items():
            counts[category][hour] += n
    hours_list = [first_hour + dt.timedelta(hours=i) for i in range(hours)]
    return {
        "labels": [timezone.localtime(h).strftime("%H:00") for h in hours_list],
        "series": [
            {"category": value, "label": str(label), "data": [counts[value][h] for h in hours_list]}
            for value, label in ErrorCategory.choices
        ],
    }
