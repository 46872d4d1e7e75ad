"""Queue assignment end to end, and what a Collections-path push costs in API calls."""

import uuid

import pytest
from django.urls import reverse

from prospects.factories import ProspectFactory, UserFactory
from prospects.models import CrmQueue, Prospect, SyncQueueItem, SyncStatus
from sync.engine.outbound import push_prospects
from sync.owner_queues import refresh_queues
from sync.verification import verify_connector

pytestmark = pytest.mark.django_db


def api_used(sf) -> int:
    limits = sf.limits()["DailyApiRequests"]
    return limits["Max"] - limits["Remaining"]


def test_verification_mirrors_the_orgs_queues(connector, sf, sf_client):
    CrmQueue.objects.create(sf_id="00G000000000001AAA", name="Gone queue")
    verify_connector(connector=connector)
    names = set(CrmQueue.objects.filter(is_active=True).values_list("name", flat=True))
    assert {"Inbound Leads", "Enterprise Leads"} <= names
    assert not CrmQueue.objects.get(sf_id="00G000000000001AAA").is_active
    org = sf.query("SELECT Id FROM Group WHERE Type = 'Queue' AND Name = 'Inbound Leads'")
    assert CrmQueue.objects.get(name="Inbound Leads").sf_id == org["records"][0]["Id"]
    assert refresh_queues(sf_client) == CrmQueue.objects.filter(is_active=True).count()


def test_a_prospect_assigned_to_a_queue_is_created_owned_by_the_queue(
    connector, sf, sf_client, unique_email
):
    refresh_queues(sf_client)
    queue = CrmQueue.objects.get(name="Inbound Leads")
    prospect = ProspectFactory(email=unique_email(), assigned_user=None, assigned_queue=queue)
    report = push_prospects(connector=connector, prospect_ids=[prospect.pk])
    assert report.synced == 1, report.outcomes
    [lead] = sf.query(f"SELECT Id, OwnerId FROM Lead WHERE Email = '{prospect.email}'")["records"]
    assert lead["OwnerId"] == queue.sf_id
    prospect.refresh_from_db()
    assert prospect.crm_lead_id == lead["Id"] and prospect.crm_owner_id == queue.sf_id


def test_an_unassigned_prospect_waits_but_a_queue_is_an_assignment(
    connector, sf_client, unique_email
):
    refresh_queues(sf_client)
    waiting = ProspectFactory(email=unique_email(), assigned_user=None)
    queued = ProspectFactory(
        email=unique_email(),
        assigned_user=None,
        assigned_queue=CrmQueue.objects.get(name="Inbound Leads"),
    )
    # The connector user is no member of this queue and cannot see it: Salesforce refuses.
    hidden = ProspectFactory(
        email=unique_email(),
        assigned_user=None,
        assigned_queue=CrmQueue.objects.get(name="Enterprise Leads"),
    )
    push_prospects(connector=connector, prospect_ids=[waiting.pk, queued.pk, hidden.pk])
    for prospect in (waiting, queued, hidden):
        prospect.refresh_from_db()
    assert waiting.sync_status == SyncStatus.WAITING_ASSIGNMENT
    assert queued.sync_status == SyncStatus.SYNCED and queued.crm_lead_id
    assert hidden.sync_status == SyncStatus.ERROR
    error = hidden.sync_errors.get()
    assert error.error_code == "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY"
    assert hidden.assigned_queue.sf_id in error.message


def test_the_edit_form_assigns_a_queue_and_refuses_a_user_and_a_queue(marketer_client, marketer):
    queue = CrmQueue.objects.create(sf_id="00G000000000002AAA", name="Inbound Leads")
    CrmQueue.objects.create(sf_id="00G000000000003AAA", name="Retired", is_active=False)
    prospect = ProspectFactory(email="q@x.example", assigned_user=None)
    url = reverse("prospects:edit", args=[prospect.pk])
    page = marketer_client.get(url).content.decode()
    assert "Inbound Leads" in page and "Retired" not in page
    both = {"email": "q@x.example", "score": 0, "assigned_queue": queue.pk}
    both["assigned_user"] = marketer.pk  # assignable: an active user with a role
    response = marketer_client.post(url, both)
    assert "a user or a queue, not both" in response.content.decode()
    assert not SyncQueueItem.objects.filter(prospect=prospect).exists()
    marketer_client.post(url, {"email": "q@x.example", "score": 0, "assigned_queue": queue.pk})
    prospect.refresh_from_db()
    assert prospect.assigned_queue == queue
    assert SyncQueueItem.objects.get(prospect=prospect).reason == "assignment_change"
    detail = marketer_client.get(prospect.get_absolute_url()).content.decode()
    assert "Inbound Leads" in detail and "(queue" in detail


def test_a_thousand_creates_with_email_matching_cost_at_most_five_calls(connector, sf):
    """The Collections path: lookups five queries to a Composite call, writes five
    Collections of 200 to a Composite call (Composite counts as one call)."""
    connector.match_by_email = True
    connector.save()
    owner = UserFactory(username="alice", email="alice@acme.example")
    domain = f"calls-{uuid.uuid4().hex[:8]}.example"
    Prospect.objects.bulk_create(
        [ProspectFactory.build(email=f"p{i}@{domain}", assigned_user=owner) for i in range(1000)]
    )
    ids = list(Prospect.objects.filter(email__endswith=domain).values_list("pk", flat=True))
    # A worker that has pushed before has the describes cached (15 minutes): warm it up.
    push_prospects(connector=connector, prospect_ids=ids[:1])
    ids = ids[1:] + [ProspectFactory(email=f"last@{domain}", assigned_user=owner).pk]
    before = api_used(sf)
    report = push_prospects(connector=connector, prospect_ids=ids)
    used = api_used(sf) - before - 1  # the limits read itself
    assert report.synced == 1000, {o.message for o in report.outcomes if o.result != "synced"}
    assert used <= 5, used
    count = sf.query(f"SELECT COUNT() FROM Lead WHERE Email LIKE '%@{domain}'")["totalSize"]
    assert count == 1001  # with the warm-up push
