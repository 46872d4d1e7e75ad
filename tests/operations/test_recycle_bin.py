"""The recycle bin: why each prospect is there, restoring (Pardot's recreation rule) and
deleting for good (Sync admins only)."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from operations.recycle import ArchiveReason, archived_prospects, reason_of
from prospects.factories import ProspectFactory, UserFactory
from prospects.models import Prospect, SyncHistory, SyncQueueItem
from sync.engine.inbound import pull_changes
from sync.engine.outbound import push_prospects
from sync.models import DataSharingRule, SyncCursor, SyncError
from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db
BIN = reverse("operations:recycle_bin")


def restore_url(prospect) -> str:
    return reverse("operations:recycle_restore", args=[prospect.pk])


def purge_url(prospect) -> str:
    return reverse("operations:recycle_purge", args=[prospect.pk])


@pytest.fixture
def synced(connector, unique_email):
    """A prospect pushed to a new Lead, with the pull watermarks just before now."""
    owner = UserFactory(username="alice", email="alice@acme.example")
    prospect = ProspectFactory(email=unique_email(), assigned_user=owner, company="Initech")
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    prospect.refresh_from_db()
    assert prospect.crm_lead_id
    earlier = timezone.now() - dt.timedelta(seconds=5)
    for sobject in ("Lead", "Contact"):
        SyncCursor.objects.update_or_create(
            connector=connector,
            sobject=sobject,
            defaults={"watermark": earlier, "deleted_watermark": earlier},
        )
    return prospect


def _reason(prospect) -> ArchiveReason:
    row = archived_prospects().get(pk=prospect.pk)
    return reason_of(row.archive_direction, row.archive_message)


def test_a_lead_deleted_in_salesforce_is_restored_without_recreating_it(
    connector, sf, synced, marketer_client
):
    deleted_id = synced.crm_lead_id
    sf.Lead.delete(deleted_id)
    pull_changes(connector=connector)
    assert _reason(synced) == ArchiveReason.CRM_DELETED
    html = marketer_client.get(BIN).content.decode()
    assert synced.email in html and "Deleted in Salesforce" in html

    page = marketer_client.get(restore_url(synced)).content.decode()
    assert 'data-testid="record-gone"' in page and "Only a Sync admin" in page
    assert 'name="recreate"' not in page
    response = marketer_client.post(restore_url(synced))

    synced.refresh_from_db()
    assert response.status_code == 302 and synced.archived_at is None
    assert synced.crm_lead_id == deleted_id  # still names its deleted record
    assert not SyncQueueItem.objects.filter(prospect=synced).exists()
    note = SyncHistory.objects.filter(prospect=synced, operation="restore").get()
    assert "not recreated" in note.message and note.actor_label


def test_a_marketer_cannot_allow_recreation(connector, sf, synced, marketer_client):
    sf.Lead.delete(synced.crm_lead_id)
    pull_changes(connector=connector)

    response = marketer_client.post(restore_url(synced), {"recreate": "on"})

    synced.refresh_from_db()
    assert response.status_code == 403 and synced.archived_at is not None


def test_a_sync_admin_may_let_salesforce_recreate_the_deleted_lead(
    connector, sf, synced, admin_client_
):
    deleted_id = synced.crm_lead_id
    sf.Lead.delete(deleted_id)
    pull_changes(connector=connector)
    assert 'name="recreate"' in admin_client_.get(restore_url(synced)).content.decode()

    admin_client_.post(restore_url(synced), {"recreate": "on"})
    synced.refresh_from_db()
    assert synced.archived_at is None and synced.crm_lead_id == ""
    assert SyncQueueItem.objects.filter(prospect=synced).exists()

    push_prospects(connector=connector, prospect_ids=[synced.pk])
    synced.refresh_from_db()
    assert synced.crm_lead_id and synced.crm_lead_id != deleted_id
    assert sf.Lead.get(synced.crm_lead_id)["Email"] == synced.email
    assert sf.query_all(f"SELECT Id FROM Lead WHERE Email = '{synced.email}'")["totalSize"] == 1


def test_a_prospect_a_sharing_rule_excluded_is_restored_with_a_sync(
    connector, sf, synced, marketer_client
):
    DataSharingRule.objects.create(
        connector=connector, sobject="Lead", field="Region__c", value="EMEA"
    )
    sf.Lead.update(synced.crm_lead_id, {"Region__c": "AMER"})
    pull_changes(connector=connector)
    assert _reason(synced) == ArchiveReason.SHARING
    assert synced.email in marketer_client.get(BIN, {"reason": "sharing"}).content.decode()
    assert synced.email not in marketer_client.get(BIN, {"reason": "user"}).content.decode()

    marketer_client.post(restore_url(synced))

    synced.refresh_from_db()
    assert synced.archived_at is None and synced.crm_lead_id
    assert SyncQueueItem.objects.get(prospect=synced).reason == "manual"


def test_a_marketer_deletes_a_prospect_to_the_bin_and_restores_it(marketer, marketer_client):
    prospect = ProspectFactory(first_name="Zed", crm_lead_id="00Q000000000001AAA")
    delete = reverse("operations:prospect_delete", args=[prospect.pk])
    assert f'href="{delete}"' in marketer_client.get(prospect.get_absolute_url()).content.decode()

    marketer_client.get(delete)
    prospect.refresh_from_db()
    assert prospect.archived_at is None  # a GET only asks to confirm
    marketer_client.post(delete)

    prospect.refresh_from_db()
    assert prospect.archived_at is not None and _reason(prospect) == ArchiveReason.USER
    html = marketer_client.get(BIN, {"reason": "user"}).content.decode()
    assert prospect.email in html and "Deleted in Leadbridge" in html
    assert marketer.get_username() in html
    assert prospect.email not in marketer_client.get(reverse("prospects:list")).content.decode()

    marketer_client.post(restore_url(prospect))
    prospect.refresh_from_db()
    assert prospect.archived_at is None and prospect.crm_lead_id == "00Q000000000001AAA"
    assert SyncQueueItem.objects.filter(prospect=prospect).exists()


def _archived(**extra) -> Prospect:
    prospect = ProspectFactory(archived_at=timezone.now(), **extra)
    SyncHistory.objects.create(
        prospect=prospect,
        at=timezone.now(),
        direction="inbound",
        operation="archive",
        result="ok",
        message="Sent to the recycle bin: the Lead was deleted in Salesforce",
    )
    return prospect


def test_only_sync_admins_delete_for_good_after_confirming(marketer, sync_admin):
    marketer_client, admin_client_ = Client(), Client()
    marketer_client.force_login(marketer)
    admin_client_.force_login(sync_admin)
    prospect = _archived()
    now = timezone.now()
    error = SyncError.objects.create(
        prospect=prospect,
        operation="update",
        error_code="ENTITY_IS_DELETED",
        category="process_alignment",
        message="gone",
        first_seen_at=now,
        last_seen_at=now,
    )
    for method in ("get", "post"):
        assert getattr(marketer_client, method)(purge_url(prospect)).status_code == 403
    assert "Delete for good" not in marketer_client.get(BIN).content.decode()

    assert "cannot be restored" in admin_client_.get(purge_url(prospect)).content.decode()
    assert Prospect.objects.filter(pk=prospect.pk).exists()
    admin_client_.post(purge_url(prospect))

    assert not Prospect.objects.filter(pk=prospect.pk).exists()
    error.refresh_from_db()
    assert error.resolution == SyncError.Resolution.PROSPECT_DELETED


def test_an_active_prospect_cannot_be_purged(admin_client_):
    prospect = ProspectFactory()
    assert admin_client_.post(purge_url(prospect)).status_code == 404
    assert Prospect.objects.filter(pk=prospect.pk).exists()


def test_restoring_twice_is_harmless(marketer_client):
    prospect = _archived(crm_lead_id="")
    marketer_client.post(restore_url(prospect))
    response = marketer_client.post(restore_url(prospect))
    assert response.status_code == 302 and response.url == BIN
    assert SyncHistory.objects.filter(prospect=prospect, operation="restore").count() == 1


def test_the_bin_lists_in_a_fixed_number_of_queries(marketer_client, django_assert_max_num_queries):
    for _ in range(3):
        _archived(assigned_user=user_with_role(f"u{Prospect.objects.count()}", "Marketer"))
    marketer_client.get(BIN)
    with django_assert_max_num_queries(12) as few:
        marketer_client.get(BIN)
    for _ in range(20):
        _archived()
    with django_assert_max_num_queries(len(few.captured_queries)):
        marketer_client.get(BIN)


def test_hostile_names_are_escaped_in_the_bin(marketer_client):
    _archived(first_name='<script>alert("x")</script>', company="<b>Co</b>")
    html = Client().get(BIN)  # anonymous: sent to log in
    assert html.status_code == 302
    html = marketer_client.get(BIN).content.decode()
    assert "<script>alert" not in html and "&lt;b&gt;Co&lt;/b&gt;" in html
