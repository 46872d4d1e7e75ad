"""Activities meet the connector: score, grade and last activity reach the Lead, and the sync
events sales cares about (created in Salesforce, converted, assigned) land on the timeline."""

import datetime as dt

import pytest
from django.utils import timezone

from prospects.activities import record_activities
from prospects.factories import ProspectFactory, UserFactory
from prospects.models import (
    Activity,
    ActivityType,
    GradingCriterion,
    GradingProfile,
    SyncQueueItem,
    SyncReason,
)
from prospects.scoring import recompute_scores
from sync.engine.inbound import pull_changes
from sync.engine.outbound import push_prospects
from sync.engine.values import parse_sf_datetime
from sync.models import SyncCursor

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db):
    return UserFactory(username="alice", email="alice@acme.example")


@pytest.fixture
def synced(connector, owner, unique_email):
    """A prospect pushed to a new Lead, with the pull watermark just before now."""
    prospect = ProspectFactory(
        email=unique_email(), assigned_user=owner, company="Initech", score=0, grade=""
    )
    push_prospects(connector=connector, prospect_ids=[prospect.pk])
    prospect.refresh_from_db()
    assert prospect.crm_lead_id
    for sobject in ("Lead", "Contact"):
        SyncCursor.objects.update_or_create(
            connector=connector,
            sobject=sobject,
            defaults={
                "watermark": timezone.now() - dt.timedelta(seconds=5),
                "deleted_watermark": timezone.now() - dt.timedelta(seconds=5),
            },
        )
    return prospect


def _lead(sf, prospect) -> dict:
    return sf.Lead.get(prospect.crm_lead_id)


def test_a_push_that_creates_the_lead_puts_it_on_the_timeline(synced):
    [created] = Activity.objects.filter(prospect=synced, type=ActivityType.CRM_CREATED)
    assert created.title == f"Lead {synced.crm_lead_id}"
    assert created.details == {"sobject": "Lead", "record_id": synced.crm_lead_id}
    assert created.points == 0 and created.actor is None


def test_score_grade_and_last_activity_reach_the_lead(connector, sf, synced):
    profile = GradingProfile.objects.create(name="Default", is_default=True)
    GradingCriterion.objects.create(
        profile=profile, field="industry", match="is", values=["Aerospace"], weight=3
    )
    synced.industry = "Aerospace"
    synced.save(update_fields=["industry"])
    when = timezone.now().replace(microsecond=123456)
    record_activities([synced.pk], ActivityType.FORM_HANDLER, title="Contact us", occurred_at=when)
    assert SyncQueueItem.objects.get(prospect=synced).reason == SyncReason.SCORE_CHANGE
    push_prospects(connector=connector, prospect_ids=[synced.pk])
    lead = _lead(sf, synced)
    assert lead["pi__score__c"] == 50
    assert lead["pi__grade__c"] == "C"  # D + a letter (graded by the activity)
    assert parse_sf_datetime(lead["pi__last_activity__c"]) == when.replace(microsecond=123000)
    # Nothing changed since: the next push sends nothing (milliseconds compared, not micro).
    report = push_prospects(connector=connector, prospect_ids=[synced.pk])
    assert report.count("nothing") == 1, report.outcomes


def test_a_recompute_sends_new_scores_to_salesforce(connector, sf, synced):
    Activity.objects.create(prospect=synced, type=ActivityType.LANDING_PAGE_VIEW, points=0)
    SyncQueueItem.objects.all().delete()
    report = recompute_scores()  # the view was recorded at 0: rescoring adds Pardot's +1
    assert report.rescored == 1 and report.queued == 1
    push_prospects(connector=connector, prospect_ids=[synced.pk])
    assert _lead(sf, synced)["pi__score__c"] == 1


def test_a_pulled_owner_change_is_an_assigned_activity(connector, sf, synced):
    UserFactory(username="bella", email="bella@acme.example")
    bella = sf.query("SELECT Id FROM User WHERE Username = 'bella@acme.example'")["records"][0]
    sf.Lead.update(synced.crm_lead_id, {"OwnerId": bella["Id"]})
    pull_changes(connector=connector)
    [assigned] = Activity.objects.filter(prospect=synced, type=ActivityType.ASSIGNED)
    assert assigned.title == "Assigned in Salesforce"
    assert assigned.details["owner_id"] == bella["Id"]
    # Not the prospect's own doing: its last activity stays, and no sync is asked for it.
    synced.refresh_from_db()
    assert synced.last_activity_at is None


@pytest.fixture
def restored_org(sandbox_org):
    yield sandbox_org
    sandbox_org.reset()


def test_a_pulled_conversion_is_a_converted_activity(connector, restored_org, synced):
    made = restored_org.control("convert_lead", lead_id=synced.crm_lead_id)
    pull_changes(connector=connector)
    [converted] = Activity.objects.filter(prospect=synced, type=ActivityType.CONVERTED)
    assert made["contact"] in converted.title
    assert converted.details == {"lead_id": synced.crm_lead_id, "contact_id": made["contact"]}
