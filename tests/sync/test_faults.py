"""Every fault the sandbox org can inject, met by the engine: each test ends with both sides
in the right state — every prospect synced exactly once, refusals recorded, nothing lost."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from prospects.factories import ProspectFactory, UserFactory
from prospects.models import Prospect, SyncQueueItem, SyncReason, SyncStatus
from prospects.sync_requests import request_sync_many
from sync.jobs import push_pending
from sync.models import Connector, SyncError
from sync.salesforce import Client, SalesforceError

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(connector):
    owner = UserFactory(username="alice", email="alice@acme.example")
    domain = f"fault-{uuid.uuid4().hex[:8]}.example"
    prospects = [ProspectFactory(email=f"p{i}@{domain}", assigned_user=owner) for i in range(30)]
    ids = [p.pk for p in prospects]
    request_sync_many(ids, SyncReason.INITIAL_SYNC)
    return domain, ids


def drain(connector, rounds: int = 12) -> None:
    """Cron ticks until the queue is empty; time "passes" over each backoff."""
    for _ in range(rounds):
        push_pending(connector.pk)
        if not SyncQueueItem.objects.exists():
            return
        SyncQueueItem.objects.update(not_before=None)
        Connector.objects.filter(pk=connector.pk, paused_until__isnull=False).update(
            paused_until=timezone.now() - dt.timedelta(seconds=1)
        )


def assert_converged(org, domain, ids) -> None:
    assert not SyncQueueItem.objects.filter(prospect_id__in=ids).exists()
    assert Prospect.objects.filter(pk__in=ids, sync_status=SyncStatus.SYNCED).count() == len(ids)
    leads = org.admin().query_all(
        f"SELECT Id, pi__Pardot_Prospect_Id__c FROM Lead WHERE Email LIKE '%@{domain}'"
    )["records"]
    assert len(leads) == len(ids)  # exactly once each
    keys = {lead["pi__Pardot_Prospect_Id__c"]: lead["Id"] for lead in leads}
    for prospect in Prospect.objects.filter(pk__in=ids):
        assert keys[prospect.sync_key.hex] == prospect.crm_lead_id
    assert not SyncError.objects.filter(prospect_id__in=ids, resolved_at=None).exists()


def test_row_locks_are_retried_and_never_become_errors(connector, org, batch):
    org.control("set_faults", seed=7, lock_rate=0.4)
    drain(connector)
    org.control("clear_faults")
    drain(connector)
    assert_converged(org, *batch)


def test_server_errors_are_retried_with_backoff(connector, org, batch):
    org.control("set_faults", seed=11, error_rate=0.4, error_status=503)
    drain(connector)
    org.control("set_faults", error_status=500)
    drain(connector)
    org.control("clear_faults")
    drain(connector)
    assert_converged(org, *batch)


def test_dropped_connections_do_not_duplicate(connector, org, batch):
    org.control("set_faults", seed=3, drop_rate=0.4)
    drain(connector)
    org.control("clear_faults")
    drain(connector)
    assert_converged(org, *batch)


def test_latency_only_slows_things_down(connector, org, batch):
    org.control("set_faults", latency_ms=30)
    drain(connector)
    assert_converged(org, *batch)


def test_an_outage_window_loses_nothing(connector, org, batch):
    org.control("start_outage", seconds=3600)
    push_pending(connector.pk)
    pending = SyncQueueItem.objects.filter(prospect_id__in=batch[1])
    assert pending.count() == len(batch[1]) and all(i.attempts == 1 for i in pending)
    assert not SyncError.objects.exists()  # transient: no error rows
    org.control("clear_faults")
    drain(connector)
    assert_converged(org, *batch)


def test_an_expired_session_reauthenticates_once(connector, org, batch, sandbox_org):
    client = Client.for_connector(connector)
    client.authenticate()
    org.control("revoke_sessions", username=sandbox_org.username)
    sandbox_org.forget_tokens()  # other suites' cached tokens for this user are gone too
    assert client.query_count("SELECT COUNT() FROM Lead") > 0  # re-authenticated and retried
    drain(connector)
    assert_converged(org, *batch)


def test_revoked_object_access_records_access_errors_until_restored(connector, org, batch):
    org.control("revoke_object", sobject="Lead")
    try:
        drain(connector, rounds=2)
        errors = SyncError.objects.filter(prospect_id__in=batch[1], resolved_at=None)
        assert errors.exists() and {e.category for e in errors} == {"access"}
    finally:
        org.control("restore_object", sobject="Lead")
    request_sync_many(batch[1], SyncReason.ERROR_RESYNC)
    drain(connector)
    assert_converged(org, *batch)


def test_a_field_made_read_only_is_an_access_error_and_clears_when_restored(connector, org):
    owner = UserFactory(username="alice", email="alice@acme.example")
    from sync.models import FieldRule

    FieldRule.objects.update_or_create(
        connector=connector,
        prospect_field="territory",
        defaults={"lead_field": "Region__c", "contact_field": "", "behaviour": "leadbridge"},
    )
    prospect = ProspectFactory(assigned_user=owner, territory="EMEA")
    org.control("revoke_field", sobject="Lead", field="Region__c", readable=True)
    try:
        request_sync_many([prospect.pk], SyncReason.MANUAL)
        drain(connector, rounds=1)
        error = SyncError.objects.get(prospect=prospect, resolved_at=None)
        assert error.category == "access" and error.field == "Region__c"
    finally:
        org.control("restore_field", sobject="Lead", field="Region__c")
    request_sync_many([prospect.pk], SyncReason.ERROR_RESYNC)
    drain(connector)
    prospect.refresh_from_db()
    assert prospect.sync_status == SyncStatus.SYNCED
    assert not SyncError.objects.filter(prospect=prospect, resolved_at=None).exists()


def test_the_api_budget_governor_stops_and_resumes(connector, org, batch):
    connector.api_share = 50
    connector.save()
    used = org.admin().limits()["DailyApiRequests"]
    org.control("set_org", daily_api_limit=used["Max"] - used["Remaining"] + 10)
    original = used["Max"]
    try:
        push_pending(connector.pk)
        connector.refresh_from_db()
        assert connector.paused_until and connector.paused_until > timezone.now()
        assert SyncQueueItem.objects.filter(prospect_id__in=batch[1]).exists()  # nothing lost
        push_pending(connector.pk)  # still paused: no calls
    finally:
        org.control("set_org", daily_api_limit=original)
    drain(connector)
    assert_converged(org, *batch)


def test_request_limit_exceeded_reaches_the_engine_as_transient(connector, org):
    used = org.admin().limits()["DailyApiRequests"]
    org.control("set_org", daily_api_limit=used["Max"] - used["Remaining"])
    original = used["Max"]
    try:
        with pytest.raises(SalesforceError) as caught:
            Client.for_connector(connector, retry_attempts=1).query_count(
                "SELECT COUNT() FROM Lead"
            )
        assert caught.value.code == "REQUEST_LIMIT_EXCEEDED" and caught.value.transient
    finally:
        org.control("set_org", daily_api_limit=original)


def test_a_failure_that_outlasts_every_retry_becomes_a_sync_error(connector, org, batch, settings):
    settings.SYNC_MAX_ATTEMPTS = 3
    domain, ids = batch
    org.control("start_outage", seconds=3600)
    drain(connector, rounds=3)
    assert not SyncQueueItem.objects.filter(prospect_id__in=ids).exists()
    errors = SyncError.objects.filter(prospect_id__in=ids, resolved_at=None)
    assert errors.count() == len(ids) and {e.attempts for e in errors} == {3}
    assert all("still failing after 3 attempts" in e.message for e in errors)
    assert Prospect.objects.filter(pk__in=ids, sync_status=SyncStatus.ERROR).count() == len(ids)
    # The org is back: a resync from the Sync Errors table clears them.
    org.control("clear_faults")
    request_sync_many(ids, SyncReason.ERROR_RESYNC)
    drain(connector)
    assert_converged(org, domain, ids)


def test_a_plain_create_whose_answer_is_lost_is_never_sent_twice(connector, org):
    client = Client.for_connector(connector)
    client.authenticate()
    name = f"Once-{uuid.uuid4().hex[:10]}"  # no email: no duplicate rule to hide a repeat
    org.control("set_faults", drop_after_rate=1.0)
    with pytest.raises(SalesforceError) as caught:
        client.collection("create", "Lead", [{"LastName": name, "Company": "X"}])
    org.control("clear_faults")
    assert caught.value.transient  # the outcome is unknown: the caller may look, not repeat
    leads = org.admin().query(f"SELECT Id FROM Lead WHERE LastName = '{name}'")["records"]
    assert len(leads) == 1


def test_creates_whose_answers_are_lost_after_the_org_committed_them_sync_once(
    connector, org, batch
):
    org.control("set_faults", seed=5, drop_after_rate=0.4)
    drain(connector)
    org.control("clear_faults")
    drain(connector)
    assert_converged(org, *batch)
