# ruff: noqa: F811 - fixtures imported from factories_errors
"""Resync from the Sync Errors page goes through the queue: the request marks the prospect
pending and wakes the sync workers; the row then follows what the worker made of it."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import Task
from prospects.factories import ProspectFactory, UserFactory
from prospects.models import SyncQueueItem, SyncReason, SyncStatus
from sync.engine.outbound import push_prospects
from sync.models import Connector, SyncError

from .factories_errors import SyncErrorFactory, api_used, marketer_web, web  # noqa: F401

pytestmark = pytest.mark.django_db


def _failing(connector, unique_email, **fields):
    prospect = ProspectFactory(assigned_user=UserFactory(), email=unique_email(), **fields)
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    return prospect, SyncError.objects.open().get(prospect=prospect)


@pytest.fixture
def resync(marketer_web, django_capture_on_commit_callbacks):
    """POST a row's Resync button; the page's transaction commits (the wake-up is sent)."""

    def post(error: SyncError) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            response = marketer_web.post(reverse("sync:error_resync", args=[error.pk]))
        assert response.status_code == 200
        return response.content.decode()

    return post


@pytest.fixture
def row(marketer_web):
    """GET the row as its htmx poll does."""

    def get(error: SyncError, **params) -> str:
        response = marketer_web.get(reverse("sync:error_status", args=[error.pk]), params)
        assert response.status_code == 200
        return response.content.decode()

    return get


def test_resync_calls_no_salesforce_in_the_request_then_a_worker_clears_the_row(
    connector, sandbox_org, resync, row, run_jobs, unique_email
):
    prospect, error = _failing(connector, unique_email, notes="x" * 143)
    prospect.notes = "short now"
    prospect.save()
    before = api_used(sandbox_org)
    page = resync(error)
    assert api_used(sandbox_org) == before + 1  # the /limits read itself: nothing else
    assert 'data-state="queued"' in page and 'hx-trigger="every 2s"' in page
    assert reverse("sync:error_status", args=[error.pk]) in page
    error.refresh_from_db()
    assert error.resolved_at is None and error.attempts == 1
    assert SyncQueueItem.objects.get(prospect=prospect).reason == SyncReason.ERROR_RESYNC

    run_jobs("sync")  # the wake-up the request sent: a sync worker pushes the prospect
    page = row(error)
    assert 'data-state="cleared"' in page and "every 2s" not in page
    assert "Cleared" in page and prospect.email in page
    error.refresh_from_db()
    assert error.resolution == SyncError.Resolution.CLEAN_SYNC
    prospect.refresh_from_db()
    assert prospect.sync_status == SyncStatus.SYNCED and prospect.crm_lead_id
    assert prospect.crm_lead_id in page
    assert not SyncQueueItem.objects.filter(prospect=prospect).exists()


def test_a_refused_resync_shows_salesforces_message_with_another_attempt(
    connector, resync, row, run_jobs, unique_email
):
    _, error = _failing(connector, unique_email, notes="x" * 143)
    resync(error)
    assert 'data-state="queued"' in row(error)  # no worker yet: still queued, still polling
    run_jobs("sync")
    page = row(error)
    assert 'data-state="failed"' in page and "every 2s" not in page
    assert "data value too large" in page and f'id="error-{error.pk}"' in page
    error.refresh_from_db()
    assert error.resolved_at is None and error.attempts == 2


def test_a_new_refusal_replaces_the_row(connector, resync, row, run_jobs, unique_email):
    prospect, error = _failing(connector, unique_email, notes="x" * 143)
    prospect.notes = "fine"
    prospect.phone = "call me maybe"  # now the validation rule refuses it
    prospect.save()
    resync(error)
    run_jobs("sync")
    assert "FIELD_CUSTOM_VALIDATION_EXCEPTION" in row(error)
    # Salesforce named only the new rule: the old error stays open until a clean sync clears it.
    codes = set(
        SyncError.objects.open().filter(prospect=prospect).values_list("error_code", flat=True)
    )
    assert codes == {"STRING_TOO_LONG", "FIELD_CUSTOM_VALIDATION_EXCEPTION"}


def test_an_unassigned_prospect_ends_waiting_for_assignment(
    connector, resync, row, run_jobs, unique_email
):
    prospect = ProspectFactory(assigned_user=None, email=unique_email())
    error = SyncErrorFactory(prospect=prospect, connector=connector)
    resync(error)
    run_jobs("sync")
    page = row(error)
    assert 'data-state="waiting"' in page and "waiting for assignment" in page


def test_a_transient_failure_shows_the_row_retrying(connector, row, unique_email):
    prospect = ProspectFactory(email=unique_email())
    error = SyncErrorFactory(prospect=prospect, connector=connector)
    # What a worker leaves after Salesforce answered 503: the row back with a backoff.
    SyncQueueItem.objects.create(
        prospect=prospect,
        reason=SyncReason.ERROR_RESYNC,
        requested_at=timezone.now(),
        attempts=2,
        not_before=timezone.now() + dt.timedelta(seconds=30),
    )
    page = row(error)
    assert 'data-state="retry"' in page and "retrying" in page and "every 2s" in page


def test_resync_while_the_connector_is_paused_says_it_waits_for_resume(
    connector, sandbox_org, resync, row, run_jobs, unique_email
):
    _, error = _failing(connector, unique_email, notes="x" * 143)
    Connector.objects.filter(pk=connector.pk).update(state=Connector.State.PAUSED)
    before = api_used(sandbox_org)
    page = resync(error)
    assert 'data-state="paused"' in page and "paused" in page
    run_jobs("sync")  # the woken worker sees the connector paused and pushes nothing
    assert api_used(sandbox_org) == before + 1  # the /limits read itself
    assert 'data-state="paused"' in row(error)
    assert SyncQueueItem.objects.filter(prospect_id=error.prospect_id).exists()


def test_resync_of_a_deleted_prospect_says_so(connector, resync, unique_email):
    prospect, error = _failing(connector, unique_email, notes="x" * 143)
    prospect.delete()
    page = resync(error)
    assert "The prospect was deleted" in page and "every 2s" not in page
    error.refresh_from_db()
    assert error.resolution == SyncError.Resolution.PROSPECT_DELETED


def test_resync_of_a_do_not_sync_prospect_says_it_is_never_sent(connector, resync, unique_email):
    prospect, error = _failing(connector, unique_email, notes="x" * 143)
    prospect.do_not_sync = True
    prospect.save()
    page = resync(error)
    assert 'data-state="skipped"' in page and "Do not sync" in page and "every 2s" not in page
    assert not SyncQueueItem.objects.filter(prospect=prospect).exists()


def test_resync_selected_queues_them_and_the_progress_follows_the_queue(
    connector,
    sandbox_org,
    marketer_web,
    run_jobs,
    unique_email,
    django_capture_on_commit_callbacks,
):
    fixed, fixed_error = _failing(connector, unique_email, notes="x" * 143)
    _, kept_error = _failing(connector, unique_email, notes="y" * 120)
    fixed.notes = "ok"
    fixed.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer_web.post(
            reverse("sync:errors_bulk_resync"),
            {"scope": "selected", "select": [fixed_error.pk, kept_error.pk]},
        )
    assert response.status_code == 200
    task = Task.objects.get(kind="errors_resync")
    assert task.state == Task.State.QUEUED  # nothing ran inside the request

    before = api_used(sandbox_org)
    run_jobs("imports")  # the page's job marks both pending: no Salesforce call
    assert api_used(sandbox_org) == before + 1
    task.refresh_from_db()
    assert (task.state, task.total) == (Task.State.DONE, 2)
    poll_url = reverse("sync:errors_task", args=[task.pk])
    visible = {"visible": f"{fixed_error.pk},{kept_error.pk}"}
    poll = marketer_web.get(poll_url, visible).content.decode()
    assert "0 of 2 prospects synced" in poll and 'hx-trigger="every 2s"' in poll
    page = marketer_web.get(reverse("sync:errors")).content.decode()  # back on the table
    assert f'hx-get="{poll_url}" hx-trigger="every 2s"' in page

    run_jobs("sync")
    poll = marketer_web.get(poll_url, visible).content.decode()
    assert "every 2s" not in poll
    assert "1 cleared" in poll and "1 still failing" in poll
    assert f'id="error-{fixed_error.pk}" hx-swap-oob' in poll
    assert 'data-state="failed"' in poll and f'id="error-{kept_error.pk}"' in poll
    fixed_error.refresh_from_db()
    kept_error.refresh_from_db()
    assert fixed_error.resolved_at and not kept_error.resolved_at


def test_resync_all_matching_the_filter(
    connector, marketer_web, run_jobs, unique_email, django_capture_on_commit_callbacks
):
    _failing(connector, unique_email, notes="x" * 143)
    _, other = _failing(connector, unique_email, phone="call me maybe")
    with django_capture_on_commit_callbacks(execute=True):
        marketer_web.post(
            reverse("sync:errors_bulk_resync"),
            {"scope": "filter", "querystring": "error_code=STRING_TOO_LONG"},
        )
    run_jobs("imports")
    task = Task.objects.get(kind="errors_resync")
    assert task.total == 1
    assert not SyncQueueItem.objects.filter(prospect_id=other.prospect_id).exists()
    run_jobs("sync")
    other.refresh_from_db()
    assert other.attempts == 1  # outside the filter: untouched


def test_the_detail_form_saves_the_value_and_shows_the_sync_as_it_happens(
    connector, marketer_web, row, run_jobs, unique_email, django_capture_on_commit_callbacks
):
    prospect, error = _failing(connector, unique_email, notes="x" * 143)
    url = reverse("sync:error_detail", args=[error.pk])
    page = marketer_web.get(url).content.decode()
    assert "Prospect field <code>notes</code>" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer_web.post(url, {"value": "x" * 100}, follow=True)
    page = response.content.decode()
    assert 'data-testid="sync-status"' in page and 'data-state="queued"' in page
    run_jobs("sync")
    status = row(error, on="detail")
    assert 'data-state="cleared"' in status and "Cleared" in status
    prospect.refresh_from_db()
    assert prospect.notes == "x" * 100 and prospect.sync_status == SyncStatus.SYNCED


def test_bulk_resync_says_which_prospects_it_left_out(
    marketer_web, run_jobs, django_capture_on_commit_callbacks
):
    queued = SyncErrorFactory()
    left_out = SyncErrorFactory(prospect=ProspectFactory(do_not_sync=True))
    with django_capture_on_commit_callbacks(execute=True):
        marketer_web.post(
            reverse("sync:errors_bulk_resync"),
            {"scope": "selected", "select": [queued.pk, left_out.pk]},
        )
    run_jobs("imports")
    task = Task.objects.get(kind="errors_resync")
    assert task.total == 1 and task.result["prospect_ids"] == [queued.prospect_id]
    poll = marketer_web.get(reverse("sync:errors_task", args=[task.pk])).content.decode()
    assert "0 of 1 prospects synced" in poll and "1 marked “Do not sync” left alone." in poll
    assert "The connector is paused" in poll and 'hx-trigger="every 10s"' in poll  # none syncs


def test_a_resync_goes_out_at_once_even_above_the_batch_threshold(
    connector, sandbox_org, resync, row, run_jobs, unique_email
):
    """Above the threshold a plain request waits for the cron's batch; a marketer who pressed
    Resync is waiting for the row, so the resync's own push job takes it now."""
    prospect, error = _failing(connector, unique_email, notes="x" * 143)
    prospect.notes = "short now"
    prospect.save()
    Connector.objects.filter(pk=connector.pk).update(batch_threshold=0)

    resync(error)
    run_jobs("sync")

    assert 'data-state="cleared"' in row(error)
    assert not SyncQueueItem.objects.filter(prospect=prospect).exists()
