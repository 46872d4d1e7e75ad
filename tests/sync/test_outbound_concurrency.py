"""A pull that lands while a push is in flight: the links it records survive the push.

The push's write reaches the org and commits; before its answer is back, the lead is converted
(or merged) in the org and a pull records the new link. The push's bookkeeping runs last and
must not put back the links it read when it started.
"""

import datetime as dt

import pytest
from django.utils import timezone

from prospects.factories import ProspectFactory, UserFactory
from prospects.models import Prospect, SyncStatus
from sync.engine.inbound import pull_changes
from sync.engine.outbound import push_prospects
from sync.models import SyncCursor
from sync.salesforce import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def restored_org(sandbox_org):
    """A conversion adds an account to the demo org: reload it afterwards."""
    yield sandbox_org
    sandbox_org.reset()


@pytest.fixture
def synced(connector, unique_email):
    """A prospect pushed to a Lead of its own, the pull watermark just before now."""
    owner = UserFactory(username="alice", email="alice@acme.example")
    prospect = ProspectFactory(email=unique_email(), assigned_user=owner, company="Initech")
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    prospect.refresh_from_db()
    assert prospect.crm_lead_id
    since = timezone.now() - dt.timedelta(seconds=5)
    for sobject in ("Lead", "Contact"):
        SyncCursor.objects.update_or_create(
            connector=connector,
            sobject=sobject,
            defaults={"watermark": since, "deleted_watermark": since},
        )
    return prospect


def edit(prospect: Prospect, notes: str) -> None:
    """A marketer's edit that the next push sends (Customer_Comment__c: Leadbridge wins)."""
    prospect.notes = notes
    prospect.stamp_changes(["notes"])
    prospect.save()


def while_the_answer_travels(monkeypatch, then) -> None:
    """Run ``then`` after the org has committed the push's write, before the push reads the
    answer: the moment a concurrent pull can land."""
    write = Client.collections

    def write_then(self, writes):
        results = write(self, writes)
        then()
        return results

    monkeypatch.setattr(Client, "collections", write_then)


def test_a_conversion_pulled_while_a_push_is_in_flight_keeps_its_contact_link(
    connector, restored_org, synced, monkeypatch
):
    lead_id = synced.crm_lead_id
    converted, pulled = {}, {}

    def convert_and_pull():
        converted.update(restored_org.control("convert_lead", lead_id=lead_id))
        pull_changes(connector=connector)
        pulled["prospect"] = Prospect.objects.get(pk=synced.pk)
        assert pulled["prospect"].crm_contact_id == converted["contact"]  # the pull's link

    while_the_answer_travels(monkeypatch, convert_and_pull)
    edit(synced, "Pushed while the lead converts")
    report = push_prospects(connector=connector, prospect_ids=[synced.pk])

    assert converted and report.synced == 1, report.outcomes
    synced.refresh_from_db()
    assert synced.crm_contact_id == converted["contact"]
    assert synced.crm_account_id == converted["account"]
    assert synced.crm_lead_id == lead_id  # history kept
    # The contact's stamp and owner, as the pull read them: the push wrote only its outcome.
    assert synced.crm_modified_at == pulled["prospect"].crm_modified_at is not None
    assert synced.crm_owner_id == pulled["prospect"].crm_owner_id
    assert synced.sync_status != SyncStatus.ERROR
    # The next push goes to the contact.
    monkeypatch.undo()
    edit(synced, "After the conversion")
    push_prospects(connector=connector, prospect_ids=[synced.pk])
    contact = restored_org.admin().Contact.get(converted["contact"])
    assert contact["Customer_Comment__c"] == "After the conversion"


def test_a_merge_pulled_while_a_push_is_in_flight_keeps_the_surviving_lead(
    connector, sf, sandbox_org, synced, monkeypatch
):
    survivor = sf.Lead.create({"LastName": "Survivor", "Company": "Initech"})["id"]

    def merge_and_pull():
        sandbox_org.control("merge", master_id=survivor, duplicate_ids=[synced.crm_lead_id])
        pull_changes(connector=connector)
        assert Prospect.objects.get(pk=synced.pk).crm_lead_id == survivor

    while_the_answer_travels(monkeypatch, merge_and_pull)
    edit(synced, "Pushed while the lead merges")
    push_prospects(connector=connector, prospect_ids=[synced.pk])

    synced.refresh_from_db()
    assert synced.crm_lead_id == survivor and synced.archived_at is None
