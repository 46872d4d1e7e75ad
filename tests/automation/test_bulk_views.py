"""Bulk actions on the prospect list (automation/bulk_views.py): pick, count, confirm, apply; large
ones as a task with a progress bar and a report."""

import json

import pytest
from django.urls import reverse

from automation import bulk
from core.models import Task
from prospects.factories import ProspectFactory
from prospects.models import CrmQueue, Prospect, SyncQueueItem, SyncReason

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(db):
    return CrmQueue.objects.create(sf_id="00G000000000001AAA", name="EMEA leads")


def test_the_prospect_list_offers_bulk_actions(marketer_client):
    ProspectFactory()
    page = marketer_client.get(reverse("prospects:list")).content.decode()
    assert reverse("automation:bulk") in page
    assert "Bulk action on all 1 matching" in page


def test_a_selection_is_counted_confirmed_then_applied(marketer_client, marketer, queue):
    chosen = ProspectFactory.create_batch(3)
    ProspectFactory()
    ids = [p.pk for p in chosen]
    url = reverse("automation:bulk")
    page = marketer_client.get(url, {"select": ids, "scope": "selection"}).content.decode()
    assert "The <strong>3</strong> selected prospects" in page and "Assign to a queue" in page
    data = {"select": ids, "scope": "selection", "type": "assign_queue", "queue": queue.pk}
    page = marketer_client.post(url, data).content.decode()
    assert "Assign to a queue: EMEA leads — <strong>3</strong> prospects. Apply?" in page
    assert not Prospect.objects.filter(assigned_queue=queue).exists()  # not yet confirmed
    actions = json.dumps([{"type": "assign_queue", "queue": queue.pk, "only_unassigned": False}])
    response = marketer_client.post(url, {**data, "actions": actions, "confirm": "1"}, follow=True)
    assert "3 prospects matched, 3 changed." in response.content.decode()
    assert set(Prospect.objects.filter(assigned_queue=queue).values_list("pk", flat=True)) == set(
        ids
    )
    assert set(SyncQueueItem.objects.values_list("reason", flat=True)) == {SyncReason.BULK_ACTION}


def test_an_invalid_value_is_shown_on_the_form(marketer_client):
    ProspectFactory()
    page = marketer_client.post(
        reverse("automation:bulk"),
        {"querystring": "", "type": "set_field", "field": "employees", "value": "lots"},
    ).content.decode()
    assert "Enter a whole number." in page and "Apply?" not in page


def test_the_whole_filter_runs_as_a_task_with_a_report_when_large(
    marketer_client, monkeypatch, run_jobs, django_capture_on_commit_callbacks, queue
):
    ProspectFactory.create_batch(4, company="Initech")
    ProspectFactory(company="Other")
    monkeypatch.setattr(bulk, "INLINE_LIMIT", 2)
    actions = json.dumps([{"type": "set_field", "field": "country", "value": "Germany"}])
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer_client.post(
            reverse("automation:bulk"),
            {"querystring": "q=Initech", "type": "set_field", "actions": actions, "confirm": "1"},
            follow=True,
        )
    assert "Applying…" in response.content.decode()
    run_jobs("imports")
    task = Task.objects.get(kind="bulk_action")
    assert task.state == Task.State.DONE and task.total == 4 and task.done == 4
    assert task.result["changed"] == 4
    assert Prospect.objects.filter(country="Germany").count() == 4
    page = marketer_client.get(reverse("automation:bulk_task", args=[task.pk])).content.decode()
    assert "4 prospects matched, 4 changed." in page


def test_allow_recreate_is_for_sync_admins_only(marketer_client):
    ProspectFactory()
    page = marketer_client.get(reverse("automation:bulk")).content.decode()
    assert "Allow a deleted CRM record" not in page
    response = marketer_client.get(reverse("automation:bulk"), {"type": "allow_recreate"})
    assert response.status_code == 403
