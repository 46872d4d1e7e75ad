"""Who did it: every history row names the portal user who acted, or the system (11.15)."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from prospects.factories import ProspectFactory, UserFactory
from prospects.models import SyncHistory
from sync.engine.inbound import pull_changes
from sync.engine.outbound import push_prospects
from sync.models import FieldRule, SyncCursor, SyncError
from tests.fixtures.html_forms import form_data, with_changes

pytestmark = pytest.mark.django_db


def history_html(client, prospect) -> str:
    return client.get(prospect.get_absolute_url()).content.decode()


def test_an_edit_names_the_marketer_on_the_prospect_page(marketer_client, marketer):
    marketer.first_name, marketer.last_name = "Maria", "Lopez"
    marketer.save()
    prospect = ProspectFactory(phone="111", assigned_user=None)
    url = reverse("prospects:edit", args=[prospect.pk])
    shown = form_data(marketer_client.get(url).content.decode(), testid="prospect-form")
    marketer_client.post(url, with_changes(shown, phone="333"))

    entry = SyncHistory.objects.get(prospect=prospect, operation="edit")
    assert (entry.actor, entry.actor_label, entry.direction) == (marketer, "Maria Lopez", "local")
    assert entry.changes == [{"field": "phone", "old": "111", "new": "333"}]
    assert entry.reason == "field_update"
    assert 'by <span class="text-body">Maria Lopez</span>' in history_html(
        marketer_client, prospect
    )


def test_an_assignment_names_who_assigned(marketer_client, marketer):
    from django.contrib.auth.models import Group

    owner = UserFactory(username="owner")
    owner.groups.add(Group.objects.get(name="Marketer"))
    prospect = ProspectFactory(assigned_user=None)
    url = reverse("prospects:edit", args=[prospect.pk])
    shown = form_data(marketer_client.get(url).content.decode(), testid="prospect-form")
    marketer_client.post(url, with_changes(shown, assigned_user=str(owner.pk)))
    entry = SyncHistory.objects.get(prospect=prospect, operation="edit")
    assert entry.actor == marketer and entry.reason == "assignment_change"
    assert entry.changes == [{"field": "assigned_user", "old": None, "new": str(owner)}]


def test_a_created_prospect_and_a_sync_request_name_the_marketer(marketer_client, marketer):
    marketer_client.post(reverse("prospects:create"), {"email": "new@x.example", "score": 0})
    prospect = SyncHistory.objects.get(operation="create").prospect
    marketer_client.post(reverse("prospects:sync", args=[prospect.pk]))
    actors = set(SyncHistory.objects.filter(prospect=prospect).values_list("operation", "actor"))
    assert actors == {("create", marketer.pk), ("sync request", marketer.pk)}


def test_pulls_and_pushes_are_the_systems(connector, sf, marketer_client, unique_email):
    FieldRule.objects.filter(connector=connector, prospect_field="job_title").update(
        behaviour=FieldRule.Behaviour.SALESFORCE
    )
    prospect = ProspectFactory(email=unique_email(), assigned_user=UserFactory())
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    prospect.refresh_from_db()
    SyncCursor.objects.update_or_create(
        connector=connector,
        sobject="Lead",
        defaults={"watermark": timezone.now() - dt.timedelta(seconds=5)},
    )
    sf.Lead.update(prospect.crm_lead_id, {"Title": "VP Sales"})
    pull_changes(connector=connector)
    entries = list(SyncHistory.objects.filter(prospect=prospect))
    assert {e.direction for e in entries} == {"inbound", "outbound"}
    assert all(e.actor is None and e.who == "System" for e in entries)
    assert history_html(marketer_client, prospect).count("by the system") == len(entries)


@pytest.fixture
def refused(connector, unique_email):
    prospect = ProspectFactory(assigned_user=UserFactory(), email=unique_email(), notes="x" * 143)
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    return prospect, SyncError.objects.open().get(prospect=prospect)


def test_a_resync_names_who_asked(refused, marketer_client, marketer):
    prospect, error = refused
    marketer_client.post(reverse("sync:error_resync", args=[error.pk]))
    entry = SyncHistory.objects.get(prospect=prospect, operation="resync")
    assert entry.actor == marketer and entry.reason == "error_resync"


def test_a_bulk_resync_names_who_asked(
    refused, marketer_client, marketer, run_jobs, django_capture_on_commit_callbacks
):
    prospect, error = refused
    with django_capture_on_commit_callbacks(execute=True):
        marketer_client.post(
            reverse("sync:errors_bulk_resync"), {"scope": "selected", "select": [error.pk]}
        )
    run_jobs("imports")
    assert SyncHistory.objects.get(prospect=prospect, operation="resync").actor == marketer


def test_a_reimport_names_who_imported(
    refused, marketer_client, marketer, run_jobs, django_capture_on_commit_callbacks
):
    prospect, _ = refused
    out = io.StringIO()
    csv.writer(out).writerows([["prospect_id", "notes"], [prospect.pk, "Shortened."]])
    upload = io.BytesIO(out.getvalue().encode())
    upload.name = "corrected.csv"
    with django_capture_on_commit_callbacks(execute=True):
        marketer_client.post(reverse("sync:errors_import"), {"file": upload})
    run_jobs("imports")
    entry = SyncHistory.objects.get(prospect=prospect, operation="import")
    assert (entry.actor, entry.reason) == (marketer, "error_reimport")
    assert entry.changes == [{"field": "notes", "old": "x" * 143, "new": "Shortened."}]
