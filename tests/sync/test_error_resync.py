# ruff: noqa: F811 - fixtures imported from factories_errors
"""Resync from the Sync Errors page against the sandbox org: rows clear or show the new error."""

import pytest
from django.urls import reverse

from core.models import Task
from prospects.factories import ProspectFactory, UserFactory
from prospects.models import SyncStatus
from sync.engine.outbound import push_prospects
from sync.models import SyncError, SyncQueueItem

from .factories_errors import jobs_inline, marketer_web, web  # noqa: F401

pytestmark = pytest.mark.django_db


def _failing(connector, unique_email, **fields):
    prospect = ProspectFactory(assigned_user=UserFactory(), email=unique_email(), **fields)
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    return prospect, SyncError.objects.open().get(prospect=prospect)


def test_a_fixed_prospect_clears_its_row(connector, marketer_web, unique_email):
    prospect, error = _failing(connector, unique_email, notes="x" * 143)
    prospect.notes = "short now"
    prospect.save()
    response = marketer_web.post(reverse("sync:error_resync", args=[error.pk]))
    assert response.status_code == 200
    assert 'data-state="cleared"' in response.content.decode()
    error.refresh_from_db()
    assert error.resolved_at is not None
    assert error.resolution == SyncError.Resolution.CLEAN_SYNC
    prospect.refresh_from_db()
    assert prospect.sync_status == SyncStatus.SYNCED and prospect.crm_lead_id
    assert not SyncQueueItem.objects.filter(prospect=prospect).exists()


def test_an_unfixed_prospect_keeps_its_row_with_another_attempt(
    connector, marketer_web, unique_email
):
    _, error = _failing(connector, unique_email, notes="x" * 143)
    page = marketer_web.post(reverse("sync:error_resync", args=[error.pk])).content.decode()
    assert f'id="error-{error.pk}"' in page and "STRING_TOO_LONG" in page
    error.refresh_from_db()
    assert error.resolved_at is None and error.attempts == 2


def test_a_new_refusal_replaces_the_row(connector, marketer_web, unique_email):
    prospect, error = _failing(connector, unique_email, notes="x" * 143)
    prospect.notes = "fine"
    prospect.phone = "call me maybe"  # now the validation rule refuses it
    prospect.save()
    page = marketer_web.post(reverse("sync:error_resync", args=[error.pk])).content.decode()
    assert "FIELD_CUSTOM_VALIDATION_EXCEPTION" in page
    # Salesforce named only the new rule: the old error stays open until a clean sync clears it.
    codes = set(
        SyncError.objects.open().filter(prospect=prospect).values_list("error_code", flat=True)
    )
    assert codes == {"STRING_TOO_LONG", "FIELD_CUSTOM_VALIDATION_EXCEPTION"}


def test_resync_of_a_deleted_prospect_says_so(connector, marketer_web, unique_email):
    prospect, error = _failing(connector, unique_email, notes="x" * 143)
    prospect.delete()
    page = marketer_web.post(reverse("sync:error_resync", args=[error.pk])).content.decode()
    assert "The prospect was deleted" in page
    error.refresh_from_db()
    assert error.resolution == SyncError.Resolution.PROSPECT_DELETED


def test_resync_selected_runs_a_job_with_progress(
    connector, marketer_web, jobs_inline, unique_email, django_capture_on_commit_callbacks
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
    assert (task.state, task.total, task.done, task.failed) == ("done", 2, 1, 1)
    fixed_error.refresh_from_db()
    kept_error.refresh_from_db()
    assert fixed_error.resolved_at and not kept_error.resolved_at
    poll = marketer_web.get(
        reverse("sync:errors_task", args=[task.pk]),
        {"visible": f"{fixed_error.pk},{kept_error.pk}"},
    ).content.decode()
    assert f'id="error-{fixed_error.pk}" hx-swap-oob' in poll
    assert 'data-state="failed"' in poll and f'id="error-{kept_error.pk}"' in poll


def test_resync_all_matching_the_filter(
    connector, marketer_web, jobs_inline, unique_email, django_capture_on_commit_callbacks
):
    _failing(connector, unique_email, notes="x" * 143)
    _, other = _failing(connector, unique_email, phone="call me maybe")
    with django_capture_on_commit_callbacks(execute=True):
        marketer_web.post(
            reverse("sync:errors_bulk_resync"),
            {"scope": "filter", "querystring": "error_code=STRING_TOO_LONG"},
        )
    task = Task.objects.get(kind="errors_resync")
    assert (task.total, task.failed) == (1, 1)
    other.refresh_from_db()
    assert other.attempts == 1  # outside the filter: untouched


def test_the_detail_form_edits_the_value_then_resyncs(connector, marketer_web, unique_email):
    prospect, error = _failing(connector, unique_email, notes="x" * 143)
    url = reverse("sync:error_detail", args=[error.pk])
    page = marketer_web.get(url).content.decode()
    assert "Prospect field <code>notes</code>" in page
    response = marketer_web.post(url, {"value": "x" * 100, "resync": "1"}, follow=True)
    assert "Cleared" in response.content.decode()
    prospect.refresh_from_db()
    assert prospect.notes == "x" * 100 and prospect.sync_status == SyncStatus.SYNCED
