"""The Sync health dashboard: who sees what, its figures, its query count and its escaping."""

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import Heartbeat
from operations import metrics
from operations.models import Incident, MetricMinute
from prospects.factories import ProspectFactory
from prospects.models import Direction, SyncHistory, SyncQueueItem, SyncReason
from sync.models import Connector, SyncError
from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db
URL = reverse("portal:dashboard")
PANELS = reverse("operations:dashboard_panels")


def _queue(prospect, *, minutes_ago: int = 1, attempts: int = 0) -> SyncQueueItem:
    return SyncQueueItem.objects.create(
        prospect=prospect,
        reason=SyncReason.MANUAL,
        requested_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
        attempts=attempts,
    )


def _error(prospect, category: str = "access", code: str = "INSUFFICIENT_ACCESS", **extra):
    now = timezone.now()
    return SyncError.objects.create(
        prospect=prospect,
        operation="update",
        error_code=code,
        category=category,
        message="refused",
        first_seen_at=extra.pop("at", now),
        last_seen_at=now,
        **extra,
    )


def _history(prospect, direction: str, at: dt.datetime, result: str = "ok", n: int = 1):
    SyncHistory.objects.bulk_create(
        SyncHistory(
            prospect=prospect, at=at, direction=direction, operation="update", result=result
        )
        for _ in range(n)
    )


def test_a_marketer_sees_their_own_queue_and_errors_and_no_connector_internals(client, marketer):
    other = user_with_role("other-marketer", "Marketer")
    mine = ProspectFactory(assigned_user=marketer)
    theirs = ProspectFactory(assigned_user=other)
    _queue(mine, minutes_ago=7, attempts=2)
    _queue(theirs)
    _error(mine, "data_formatting", "STRING_TOO_LONG")
    _error(theirs, "access")
    Incident.objects.create(kind="budget", key="daily", summary="spent", opened_at=timezone.now())
    client.force_login(marketer)

    html = client.get(URL).content.decode()

    assert 'data-testid="health-marketer"' in html and 'data-testid="health-admin"' not in html
    assert 'data-testid="my-queue">1<' in html and "1 being retried" in html
    assert 'Data formatting <span class="badge text-bg-danger">1</span>' in html
    assert 'Access <span class="badge text-bg-secondary">0</span>' in html
    assert "health-charts" not in html and "spent" not in html


def test_a_sync_admin_sees_the_whole_connector(client, sync_admin):
    Connector.objects.create(
        login_url="https://127.0.0.1:1",
        client_id="x",
        state=Connector.State.ACTIVE,
        api_max=15000,
        api_remaining=12000,
        api_share=50,
        last_push_at=timezone.now(),
    )
    for attempts in (0, 0, 3):
        _queue(ProspectFactory(), minutes_ago=12, attempts=attempts)
    Heartbeat.objects.create(name="cron", beat_at=timezone.now())
    Heartbeat.objects.create(name="worker:sync", beat_at=timezone.now() - dt.timedelta(hours=1))
    Incident.objects.create(
        kind="silent", key="worker:sync", summary="No heartbeat", opened_at=timezone.now()
    )
    client.force_login(sync_admin)

    html = client.get(URL).content.decode()

    assert 'data-testid="queue-depth">3<' in html and "oldest waiting 12" in html
    assert 'data-testid="retrying">1<' in html
    assert '3,000 <span class="small text-secondary">/ 15,000</span>' in html
    assert "40% of the connector’s 50% share (7,500)" in html
    assert "worker:sync" in html and "silent</span>" in html
    assert 'data-testid="incidents"' in html
    assert 'id="chart-throughput"' in html and "vendor/chartjs/chart.umd.min.js" in html
    assert 'hx-get="/operations/health/panels/?hours=24" hx-trigger="every 30s"' in html


def test_the_panels_carry_the_chart_series_for_the_day(client, sync_admin):
    prospect = ProspectFactory()
    now = timezone.now()
    _history(prospect, Direction.OUTBOUND, now - dt.timedelta(minutes=3), n=4)
    _history(prospect, Direction.INBOUND, now - dt.timedelta(minutes=3), n=2)
    _error(prospect, "customization", "FIELD_CUSTOM_VALIDATION_EXCEPTION", at=now)
    metrics.roll_up()
    client.force_login(sync_admin)

    response = client.get(PANELS)

    html = response.content.decode()
    data = json.loads(html.split('id="health-charts" type="application/json">')[1].split("<")[0])
    assert len(data["throughput"]["labels"]) == 1440
    assert sum(data["throughput"]["pushed"]) == 4 and sum(data["throughput"]["pulled"]) == 2
    customization = next(s for s in data["errors"]["series"] if s["category"] == "customization")
    assert sum(customization["data"]) == 1 and len(customization["data"]) == 24


@pytest.mark.parametrize(("hours", "points"), [("1", 60), ("6", 360), ("junk", 1440)])
def test_the_throughput_window_is_one_of_three(client, sync_admin, hours, points):
    client.force_login(sync_admin)
    html = client.get(PANELS, {"hours": hours}).content.decode()
    data = json.loads(html.split('id="health-charts" type="application/json">')[1].split("<")[0])
    assert len(data["throughput"]["labels"]) == points


def test_roll_up_counts_each_minute_once_and_recounts_late_rows():
    prospect = ProspectFactory()
    now = timezone.now().replace(second=30)
    _history(prospect, Direction.OUTBOUND, now - dt.timedelta(minutes=2), n=3)
    _history(prospect, Direction.OUTBOUND, now - dt.timedelta(minutes=2), result="error")
    _history(prospect, Direction.LOCAL, now - dt.timedelta(minutes=2))  # a user's edit: not synced
    metrics.roll_up(now=now)
    metrics.roll_up(now=now)
    # A push whose transaction committed late: its rows land in a minute already counted.
    _history(prospect, Direction.OUTBOUND, now - dt.timedelta(minutes=2), n=2)
    metrics.roll_up(now=now + dt.timedelta(minutes=1))

    row = MetricMinute.objects.get()
    assert (row.pushed, row.pulled, row.failed) == (5, 0, 1)


def test_the_dashboard_query_count_does_not_grow_with_the_data(
    client, sync_admin, django_assert_max_num_queries
):
    Connector.objects.create(login_url="https://127.0.0.1:1", client_id="x")
    client.force_login(sync_admin)
    client.get(URL)  # warm the per-process caches (content types, the session)
    with django_assert_max_num_queries(20) as few:
        client.get(URL)
    prospects = ProspectFactory.create_batch(30)
    for prospect in prospects:
        _queue(prospect, attempts=1)
        _error(prospect)
        Incident.objects.create(
            kind="silent", key=f"w{prospect.pk}", summary="x", opened_at=timezone.now()
        )
    start = timezone.now() - dt.timedelta(hours=23)
    MetricMinute.objects.bulk_create(
        MetricMinute(minute=metrics.minute_of(start) + dt.timedelta(minutes=i), pushed=i)
        for i in range(1380)
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(URL)


def test_hostile_text_in_an_incident_is_escaped(client, sync_admin):
    Incident.objects.create(
        kind="connector",
        key="<script>alert(1)</script>",
        summary='<img src=x onerror="alert(1)">',
        opened_at=timezone.now(),
    )
    client.force_login(sync_admin)

    html = client.get(URL).content.decode()

    assert "<img src=x" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


@pytest.mark.parametrize("url", [URL, PANELS])
def test_anonymous_visitors_are_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
