import datetime as dt

import pytest
from django.utils import timezone

from prospects.activities import adjust_scores, record_activities
from prospects.factories import ProspectFactory, UserFactory
from prospects.models import (
    Activity,
    ActivityType,
    GradingCriterion,
    GradingProfile,
    Prospect,
    ScoringRule,
    SyncQueueItem,
    SyncReason,
)

pytestmark = pytest.mark.django_db


def test_a_form_handler_submission_earns_pardots_fifty_points_and_moves_last_activity():
    prospect = ProspectFactory(score=10, do_not_sync=False)
    when = timezone.now()
    [activity] = record_activities(
        [prospect.pk],
        ActivityType.FORM_HANDLER,
        title="Contact us",
        details={"page": "/contact"},
        occurred_at=when,
        reason=SyncReason.FORM_HANDLER,
    )
    prospect.refresh_from_db()
    assert activity.pk and activity.points == 50
    assert prospect.score == 60
    assert prospect.last_activity_at == when
    item = SyncQueueItem.objects.get(prospect=prospect)
    assert item.reason == SyncReason.FORM_HANDLER  # the caller's reason stands


def test_a_saved_rule_overrides_the_default_points():
    ScoringRule.objects.create(activity_type=ActivityType.LANDING_PAGE_VIEW, points=7)
    prospect = ProspectFactory(score=0)
    record_activities([prospect.pk], ActivityType.LANDING_PAGE_VIEW, title="Webinar")
    prospect.refresh_from_db()
    assert prospect.score == 7


def test_a_batch_is_one_insert_and_one_update(django_assert_num_queries):
    prospects = ProspectFactory.create_batch(20, score=0)
    ids = [p.pk for p in prospects]
    # rules, savepoint+insert+release, moving SELECT, UPDATE, profiles (none: no regrade)
    with django_assert_num_queries(7):
        record_activities(ids, ActivityType.FORM, title="Form", reason=None)
    assert Activity.objects.filter(prospect_id__in=ids).count() == 20
    assert set(Prospect.objects.filter(pk__in=ids).values_list("score", flat=True)) == {50}


def test_the_same_prospect_twice_in_a_batch_earns_twice():
    prospect = ProspectFactory(score=0)
    record_activities([prospect.pk, prospect.pk], ActivityType.FORM, reason=None)
    prospect.refresh_from_db()
    assert prospect.score == 100


def test_per_item_details_and_an_anonymous_actor():
    from django.contrib.auth.models import AnonymousUser

    a, b = ProspectFactory.create_batch(2)
    rows = record_activities(
        [(a.pk, {"x": 1}), (b.pk, {"x": 2})], ActivityType.IMPORT, actor=AnonymousUser()
    )
    assert [r.details for r in rows] == [{"x": 1}, {"x": 2}]
    assert all(r.actor_id is None for r in rows)


def test_an_older_activity_never_moves_last_activity_backwards():
    now = timezone.now()
    prospect = ProspectFactory(last_activity_at=now)
    record_activities(
        [prospect.pk], ActivityType.LANDING_PAGE_VIEW, occurred_at=now - dt.timedelta(days=3)
    )
    prospect.refresh_from_db()
    assert prospect.last_activity_at == now


def test_sync_events_are_on_the_timeline_but_ask_for_no_sync():
    prospect = ProspectFactory(score=5)
    record_activities([prospect.pk], ActivityType.CRM_CREATED, title="Lead")
    prospect.refresh_from_db()
    assert prospect.score == 5 and prospect.last_activity_at is None
    assert not SyncQueueItem.objects.filter(prospect=prospect).exists()


def test_scores_stay_within_their_range():
    prospect = ProspectFactory(score=-99990)
    ScoringRule.objects.create(activity_type=ActivityType.OPPORTUNITY_LOST, points=-1000)
    record_activities([prospect.pk], ActivityType.OPPORTUNITY_LOST, reason=None)
    prospect.refresh_from_db()
    assert prospect.score == -100000


def test_an_adjustment_records_who_made_it():
    user = UserFactory()
    prospect = ProspectFactory(score=20)
    [row] = adjust_scores([prospect.pk], -15, title="Completion action", actor=user)
    prospect.refresh_from_db()
    assert prospect.score == 5
    assert row.type == ActivityType.SCORE_ADJUSTED and row.actor == user and row.points == -15


def test_activities_regrade_the_prospects_they_touch():
    profile = GradingProfile.objects.create(name="Default", is_default=True)
    GradingCriterion.objects.create(
        profile=profile, field="job_title", match="contains", values=["marketing"], weight=3
    )
    prospect = ProspectFactory(job_title="VP Marketing", grade="")
    record_activities([prospect.pk], ActivityType.FORM, reason=SyncReason.FORM)
    prospect.refresh_from_db()
    assert prospect.grade == "C"


def test_the_shared_write_core_scores_the_activities_it_records():
    """intake.writes records its activities through record_activities: points, score, and a
    sync for an unchanged row whose score moved."""
    from intake.writes import WriteOptions, write_prospects

    known = ProspectFactory(email="known@example.com", city="Rome", score=5)
    SyncQueueItem.objects.all().delete()
    results = write_prospects(
        [(1, {"email": "known@example.com", "city": "Rome"}), (2, {"email": "new@example.com"})],
        options=WriteOptions(
            activity=ActivityType.FORM_HANDLER,
            activity_title="Contact us",
            reason=SyncReason.FORM_HANDLER,
        ),
    )
    assert [r.outcome for r in results] == ["unchanged", "created"]
    scores = dict(Prospect.objects.values_list("pk", "score"))
    assert scores[known.pk] == 55 and scores[results[1].prospect_id] == 50
    assert SyncQueueItem.objects.get(prospect=known).reason == SyncReason.FORM_HANDLER
    assert Activity.objects.get(prospect=known).points == 50


def test_bulk_sync_requests_queue_and_bump_like_single_ones():
    """request_sync_many's one-statement paths (PostgreSQL, SQLite): created, bumped, "do not
    sync" skipped, and stamps stored as the ORM stores them (an equality filter finds them)."""
    wanted, quiet = ProspectFactory(), ProspectFactory(do_not_sync=True)
    from prospects.sync_requests import request_sync_many

    assert request_sync_many([wanted.pk, quiet.pk], SyncReason.MANUAL) == 1
    assert request_sync_many([wanted.pk], SyncReason.API) == 1
    item = SyncQueueItem.objects.get()
    assert (item.prospect_id, item.generation, item.reason) == (wanted.pk, 2, SyncReason.API)
    assert SyncQueueItem.objects.filter(requested_at=item.requested_at).count() == 1
    assert Prospect.objects.get(pk=wanted.pk).sync_status == "pending"
