"""The action set (automation/actions.py): each action, set-based, changed rows only, history
with the actor, one sync request per chunk, bad input refused whole with a clear message."""

import pytest
from django.utils import timezone

from automation.actions import (
    InvalidActions,
    Source,
    apply_actions,
    parse_actions,
)
from automation.lists import add_members
from automation.models import ProspectList
from crm.models import CampaignMembership
from prospects.factories import CampaignFactory, ProspectFactory, UserFactory
from prospects.models import (
    CrmQueue,
    CustomField,
    Prospect,
    SyncHistory,
    SyncQueueItem,
    SyncReason,
    SyncStatus,
)
from sync.models import SyncError
from tests.conftest import user_with_role
from tests.crm.factories import MembershipFactory, SalesforceCampaignFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(db):
    return CrmQueue.objects.create(sf_id="00G000000000001AAA", name="EMEA leads")


@pytest.fixture
def prospects(db):
    return [ProspectFactory(country="France") for _ in range(4)]


def ids(prospects):
    return [p.pk for p in prospects]


def test_assign_to_queue_changes_only_differing_rows_with_history_and_one_sync(
    marketer, queue, prospects
):
    prospects[0].assigned_queue = queue
    prospects[0].save()
    actions = parse_actions([{"type": "assign_queue", "queue": queue.pk}])
    result = apply_actions(actions, ids(prospects), actor=marketer, source=Source.BULK)
    assert (result.matched, result.changed, result.failed) == (4, 3, 0)
    assert set(Prospect.objects.values_list("assigned_queue", flat=True)) == {queue.pk}
    notes = SyncHistory.objects.filter(operation="bulk action")
    assert sorted(notes.values_list("prospect_id", flat=True)) == ids(prospects[1:])
    note = notes.first()
    assert note.actor == marketer and note.reason == SyncReason.BULK_ACTION
    assert note.changes == [{"field": "assigned_queue", "old": None, "new": "EMEA leads"}]
    queued = SyncQueueItem.objects.values_list("prospect_id", "reason")
    assert sorted(queued) == [(pk, SyncReason.BULK_ACTION) for pk in ids(prospects[1:])]
    stamped = Prospect.objects.get(pk=prospects[1].pk).field_changed_at
    assert "assigned_queue" in stamped and "assigned_user" in stamped


def test_assign_to_user_clears_the_queue_and_only_unassigned_keeps_owners(marketer, queue):
    other = user_with_role("bob", "Marketer")
    owned = ProspectFactory(assigned_queue=queue)
    free = ProspectFactory()
    apply_actions(
        parse_actions([{"type": "assign_user", "user": other.pk, "only_unassigned": True}]),
        [owned.pk, free.pk],
        actor=marketer,
        source=Source.COMPLETION,
    )
    owned.refresh_from_db()
    free.refresh_from_db()
    assert owned.assigned_queue == queue and owned.assigned_user is None
    assert free.assigned_user == other
    apply_actions(
        parse_actions([{"type": "assign_user", "user": other.pk}]), [owned.pk], actor=marketer
    )
    owned.refresh_from_db()
    assert owned.assigned_user == other and owned.assigned_queue is None
    note = SyncHistory.objects.filter(prospect=owned).first()
    assert note.changes == [{"field": "assigned_user", "old": "EMEA leads", "new": "bob"}]


def test_set_field_standard_and_custom_with_predefined_values(marketer, prospects):
    CustomField.objects.create(
        label="Tier", api_name="tier", type=CustomField.Type.DROPDOWN, choices=["Gold", "Silver"]
    )
    with pytest.raises(InvalidActions) as refused:
        parse_actions([{"type": "set_field", "field": "custom:tier", "value": "Bronze"}])
    assert "'Bronze' is not one of: Gold, Silver" in str(refused.value)
    with pytest.raises(InvalidActions) as refused:
        parse_actions([{"type": "set_field", "field": "employees", "value": "many"}])
    assert "Action 1 (Set a field)" in str(refused.value)
    actions = parse_actions(
        [
            {"type": "set_field", "field": "country", "value": "Germany"},
            {"type": "set_field", "field": "custom:tier", "value": "Gold"},
            {"type": "set_field", "field": "employees", "value": "250"},
        ]
    )
    result = apply_actions(actions, ids(prospects), actor=marketer, source=Source.RULE)
    assert result.changed == 4
    for prospect in Prospect.objects.all():
        assert prospect.country == "Germany" and prospect.custom_fields["tier"] == "Gold"
        assert prospect.employees == 250
    notes = SyncHistory.objects.filter(reason=SyncReason.AUTOMATION_RULE)
    fields = sorted(change["field"] for note in notes for change in note.changes)
    assert fields == ["country"] * 4 + ["custom:tier"] * 4 + ["employees"] * 4
    again = apply_actions(actions, ids(prospects), actor=marketer, source=Source.RULE)
    assert (again.matched, again.changed) == (4, 0)
    assert SyncHistory.objects.count() == notes.count()
    cleared = parse_actions([{"type": "set_field", "field": "custom:tier", "value": ""}])
    apply_actions(cleared, ids(prospects[:1]), actor=marketer)
    assert "tier" not in Prospect.objects.get(pk=prospects[0].pk).custom_fields


def test_set_field_never_reverts_a_value_written_since_the_rows_were_chosen(marketer, prospects):
    """The comparison is made in the statement, on the row as it is now."""
    Prospect.objects.filter(pk=prospects[0].pk).update(country="Germany")
    actions = parse_actions([{"type": "set_field", "field": "country", "value": "Germany"}])
    result = apply_actions(actions, ids(prospects), actor=marketer)
    assert result.changed == 3
    assert not SyncHistory.objects.filter(prospect=prospects[0]).exists()


def test_opt_out_cannot_be_cleared_by_an_action():
    with pytest.raises(InvalidActions, match="preference centre"):
        parse_actions([{"type": "set_field", "field": "opted_out", "value": False}])


def test_campaign_adjust_score_and_lists(marketer, prospects):
    campaign = CampaignFactory()
    static = ProspectList.objects.create(name="Hot")
    add_members(static, [prospects[0].pk])  # keeps member_count (a bare create would not)
    actions = parse_actions(
        [
            {"type": "set_campaign", "campaign": campaign.pk},
            {"type": "adjust_score", "points": 15},
            {"type": "add_to_list", "list": static.pk},
        ]
    )
    before = {p.pk: p.score for p in prospects}
    result = apply_actions(actions, ids(prospects), actor=marketer)
    assert result.changed == 4
    for prospect in Prospect.objects.all():
        assert prospect.campaign == campaign and prospect.score == before[prospect.pk] + 15
    assert static.memberships.count() == 4
    static.refresh_from_db()
    assert static.member_count == 4
    added = static.memberships.exclude(prospect=prospects[0])
    assert set(added.values_list("source", flat=True)) == {"action"}
    apply_actions(
        parse_actions([{"type": "remove_from_list", "list": static.pk}]), ids(prospects[:2])
    )
    assert static.memberships.count() == 2


def test_a_dynamic_list_or_unknown_action_is_refused():
    dynamic = ProspectList.objects.create(name="Dyn", kind=ProspectList.Kind.DYNAMIC)
    with pytest.raises(InvalidActions) as refused:
        parse_actions([{"type": "add_to_list", "list": dynamic.pk}, {"type": "explode"}])
    assert "dynamic list" in refused.value.errors[0]
    assert "There is no action 'explode'" in refused.value.errors[1]


def test_do_not_sync_takes_prospects_off_the_queue_and_sync_now_queues_the_rest(
    marketer, prospects
):
    apply_actions(parse_actions([{"type": "sync_now"}]), ids(prospects), actor=marketer)
    assert SyncQueueItem.objects.count() == 4
    apply_actions(parse_actions([{"type": "do_not_sync"}]), ids(prospects[:2]), actor=marketer)
    assert sorted(SyncQueueItem.objects.values_list("prospect_id", flat=True)) == ids(prospects[2:])
    assert set(
        Prospect.objects.filter(pk__in=ids(prospects[:2])).values_list("sync_status", flat=True)
    ) == {SyncStatus.DO_NOT_SYNC}
    SyncQueueItem.objects.all().delete()
    result = apply_actions(parse_actions([{"type": "sync_now"}]), ids(prospects), actor=marketer)
    assert result.queued == 2


def test_add_to_salesforce_campaign_with_status(marketer, prospects):
    campaign = SalesforceCampaignFactory()
    MembershipFactory(prospect=prospects[0], campaign=campaign, status="Responded")
    actions = parse_actions(
        [{"type": "add_to_sf_campaign", "campaign": campaign.pk, "status": "Responded"}]
    )
    result = apply_actions(actions, ids(prospects), actor=marketer)
    assert result.changed == 3
    assert CampaignMembership.objects.filter(campaign=campaign, status="Responded").count() == 4
    with pytest.raises(InvalidActions, match="not a member status"):
        parse_actions([{"type": "add_to_sf_campaign", "campaign": campaign.pk, "status": "Won"}])


def test_a_salesforce_campaign_deleted_since_the_action_was_saved_is_refused_whole(
    marketer, prospects, queue
):
    campaign = SalesforceCampaignFactory()
    actions = parse_actions(
        [
            {"type": "add_to_sf_campaign", "campaign": campaign.pk},
            {"type": "assign_queue", "queue": queue.pk},
        ]
    )
    campaign.deleted_at = timezone.now()
    campaign.save()
    result = apply_actions(actions, ids(prospects), actor=marketer)
    assert result.failed == 4 and result.changed == 4  # the assignment still ran
    assert "was deleted in Salesforce" in result.messages[0]
    assert not CampaignMembership.objects.exists()
    pk = campaign.pk
    campaign.delete()
    with pytest.raises(InvalidActions, match="no longer exists"):
        parse_actions([{"type": "add_to_sf_campaign", "campaign": pk}])
    result = apply_actions(actions, ids(prospects), actor=marketer)
    assert "no longer exists" in result.messages[0]


def test_allow_recreate_clears_only_links_to_deleted_records(marketer):
    gone = ProspectFactory(crm_lead_id="00Q000000000001AAA", crm_modified_at=timezone.now())
    alive = ProspectFactory(crm_lead_id="00Q000000000002AAA")
    SyncError.objects.create(
        prospect=gone,
        error_code="ENTITY_IS_DELETED",
        category="access",
        message="gone",
        first_seen_at=timezone.now(),
        last_seen_at=timezone.now(),
    )
    result = apply_actions(
        parse_actions([{"type": "allow_recreate"}]), [gone.pk, alive.pk], actor=marketer
    )
    assert result.changed == 1
    gone.refresh_from_db()
    alive.refresh_from_db()
    assert gone.crm_lead_id == "" and gone.crm_modified_at is None
    assert alive.crm_lead_id == "00Q000000000002AAA"
    assert list(SyncQueueItem.objects.values_list("prospect_id", flat=True)) == [gone.pk]


def test_notify_user_mails_a_count_and_a_sample(marketer, prospects, mailoutbox, settings):
    from automation.notify import notify_user_job

    watcher = UserFactory(username="watcher", email="watcher@acme.example")
    actions = parse_actions([{"type": "notify_user", "user": watcher.pk}])
    assert actions[0].describe() == "Notify a user by email: watcher"
    notify_user_job(watcher.pk, ids(prospects), 4, "Rule “Hot leads”")
    assert mailoutbox[0].subject == "Rule “Hot leads”: 4 prospects"
    assert prospects[0].email in mailoutbox[0].body


def test_archived_prospects_are_never_acted_on(marketer, queue):
    archived = ProspectFactory(archived_at=timezone.now())
    result = apply_actions(
        parse_actions([{"type": "assign_queue", "queue": queue.pk}]),
        Prospect.objects.all(),
        actor=marketer,
    )
    assert result.matched == 0
    archived.refresh_from_db()
    assert archived.assigned_queue is None


def test_actions_round_trip_through_json(queue):
    data = [
        {"type": "assign_queue", "queue": queue.pk, "only_unassigned": False},
        {"type": "set_field", "field": "country", "value": "Germany"},
        {"type": "adjust_score", "points": -5},
        {"type": "do_not_sync", "value": True},
        {"type": "sync_now"},
        {"type": "allow_recreate"},
    ]
    assert [a.to_json() for a in parse_actions(data)] == data
