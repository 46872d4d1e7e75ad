import datetime as dt

import pytest
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from prospects.factories import ProspectFactory
from prospects.models import (
    Activity,
    ActivityType,
    GradingCriterion,
    GradingProfile,
    Prospect,
    ScoringRule,
    ScoringSettings,
    SyncQueueItem,
    SyncReason,
    SyncStatus,
)
from prospects.scoring import (
    apply_scores,
    decay_and_sync,
    decay_scores,
    grade_for,
    recompute_scores,
    regrade,
    rescore,
    rescored,
)
from prospects.sync_requests import request_sync_many

Field, Match = GradingCriterion.Field, GradingCriterion.Match


def _profile(*criteria, default=True, name="Default") -> GradingProfile:
    profile = GradingProfile.objects.create(name=name, is_default=default)
    for values in criteria:
        GradingCriterion.objects.create(profile=profile, **values)
    return profile


# -- grading --------------------------------------------------------------------------------
@pytest.mark.django_db
def test_each_match_raises_and_each_miss_lowers_the_grade_from_d():
    _profile(
        {"field": Field.JOB_TITLE, "match": Match.CONTAINS, "values": ["market"], "weight": 2},
        {"field": Field.INDUSTRY, "match": Match.IS, "values": ["Software"], "weight": 2},
        {"field": Field.EMPLOYEES, "match": Match.BETWEEN, "minimum": 50, "weight": 3},
        {"field": Field.COUNTRY, "match": Match.IS, "values": ["France", "Spain"], "weight": 1},
    )
    ideal = ProspectFactory(
        job_title="Head of Marketing", industry="software", employees=200, country="FRANCE"
    )
    half = ProspectFactory(job_title="Engineer", industry="Software", employees=None, country="")
    low = ProspectFactory(job_title="CTO", industry="Retail", employees=10, country="Peru")
    unknown = ProspectFactory(job_title="", industry="", employees=None, country="")
    regrade()
    grades = dict(Prospect.objects.values_list("pk", "grade"))
    assert grades[ideal.pk] == "A-"  # D + 8 thirds
    assert grades[half.pk] == "D"  # D - 2 + 2 (size and country unknown: neither way)
    assert grades[low.pk] == "F"  # D - 8 thirds, stopped at F
    assert grades[unknown.pk] == ""  # nothing judged: not graded, as in Pardot


@pytest.mark.django_db
def test_grades_stop_at_a_plus_and_f():
    _profile(
        *[
            {"field": f, "match": Match.CONTAINS, "values": ["x"], "weight": 6}
            for f in (Field.JOB_TITLE, Field.INDUSTRY, Field.COUNTRY)
        ]
    )
    top = ProspectFactory(job_title="x", industry="x", country="x")
    bottom = ProspectFactory(job_title="y", industry="y", country="y")
    regrade()
    assert Prospect.objects.get(pk=top.pk).grade == "A+"
    assert Prospect.objects.get(pk=bottom.pk).grade == "F"


@pytest.mark.django_db
def test_a_prospects_own_profile_grades_it_and_the_default_grades_the_rest():
    _profile({"field": Field.COUNTRY, "match": Match.IS, "values": ["Peru"], "weight": 3})
    other = _profile(
        {"field": Field.COUNTRY, "match": Match.IS, "values": ["Chile"], "weight": 3},
        default=False,
        name="LatAm",
    )
    mine = ProspectFactory(country="Chile", grading_profile=other, grade="")
    theirs = ProspectFactory(country="Chile", grade="")
    assert sorted(regrade()) == sorted([mine.pk, theirs.pk])
    assert Prospect.objects.get(pk=mine.pk).grade == "C"  # D + 3 thirds
    assert Prospect.objects.get(pk=theirs.pk).grade == "F"  # D - 3 thirds, stopped at F
    assert regrade() == []  # nothing changes the second time


@pytest.mark.django_db
def test_without_profiles_grades_are_left_alone():
    prospect = ProspectFactory(grade="B")
    assert regrade() == []
    assert Prospect.objects.get(pk=prospect.pk).grade == "B"


# -- rescoring ------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_rule_change_rescores_past_activities_and_keeps_adjustments():
    prospect = ProspectFactory(score=0)
    for kind, points in [
        (ActivityType.FORM, 50),
        (ActivityType.LANDING_PAGE_VIEW, 1),
        (ActivityType.SCORE_ADJUSTED, 30),
    ]:
        Activity.objects.create(prospect=prospect, type=kind, points=points)
    Prospect.objects.filter(pk=prospect.pk).update(score=81)
    ScoringRule.objects.create(activity_type=ActivityType.FORM, points=20)
    ScoringRule.objects.create(activity_type=ActivityType.LANDING_PAGE_VIEW, points=5)
    assert rescore() == [prospect.pk]
    assert Prospect.objects.get(pk=prospect.pk).score == 20 + 5 + 30
    assert rescore() == []


@pytest.mark.django_db
def test_recompute_queues_only_changed_prospects_for_a_score_sync():
    _profile({"field": Field.INDUSTRY, "match": Match.IS, "values": ["Retail"], "weight": 1})
    changed = ProspectFactory(industry="Retail", grade="")
    same = ProspectFactory(industry="", grade="")
    SyncQueueItem.objects.all().delete()
    report = recompute_scores()
    assert report.regraded == 1 and report.queued == 1
    assert SyncQueueItem.objects.get().prospect_id == changed.pk
    assert SyncQueueItem.objects.get().reason == SyncReason.SCORE_CHANGE
    assert not SyncQueueItem.objects.filter(prospect=same).exists()


def _sync_state() -> tuple[dict, dict]:
    """Who is queued (reason, generation, attempts, backoff) and every prospect's status."""
    queue = {
        q.prospect_id: (q.reason, q.generation, q.attempts, q.not_before)
        for q in SyncQueueItem.objects.all()
    }
    return queue, dict(Prospect.objects.values_list("pk", "sync_status"))


@pytest.mark.django_db
@pytest.mark.parametrize("named", [False, True], ids=["every prospect", "named prospects"])
def test_scoring_queues_exactly_what_request_sync_many_would(named):
    """Scoring marks and queues its changed prospects in its own statements (every prospect:
    the recompute), or asks request_sync_many (named ones): the queue and the statuses must
    come out as rescoring, then ``request_sync_many``, left them."""
    _profile({"field": Field.INDUSTRY, "match": Match.IS, "values": ["Retail"], "weight": 1})
    later = timezone.now() + dt.timedelta(hours=1)

    def make(**fields) -> Prospect:
        prospect = ProspectFactory(industry="", grade="", score=50, **fields)
        Activity.objects.create(prospect=prospect, type=ActivityType.FORM, points=50)
        return prospect

    plain = make(sync_status=SyncStatus.SYNCED)
    quiet = make(do_not_sync=True, sync_status=SyncStatus.DO_NOT_SYNC)
    archived = make(archived_at=timezone.now())
    failing = make(sync_status=SyncStatus.ERROR)
    waiting = make(sync_status=SyncStatus.PENDING)
    regraded = ProspectFactory(industry="Retail", grade="", sync_status=SyncStatus.SYNCED)
    unchanged = ProspectFactory(industry="", grade="", sync_status=SyncStatus.SYNCED)
    SyncQueueItem.objects.all().delete()
    SyncQueueItem.objects.create(
        prospect=waiting,
        reason=SyncReason.MANUAL,
        requested_at=timezone.now(),
        generation=3,
        attempts=2,
        not_before=later,
    )
    SyncQueueItem.objects.create(
        prospect=unchanged, reason=SyncReason.MANUAL, requested_at=timezone.now()
    )
    ScoringRule.objects.create(activity_type=ActivityType.FORM, points=20)
    with transaction.atomic():  # the reference: the old two passes, then forgotten
        profiles = list(GradingProfile.objects.prefetch_related("criteria"))
        applied = apply_scores(points=ScoringRule.points_by_type(), profiles=profiles)
        request_sync_many(
            sorted(set(applied.rescored) | set(applied.regraded)), SyncReason.SCORE_CHANGE
        )
        expected = _sync_state()
        transaction.set_rollback(True)

    if named:
        ids = Prospect.objects.values_list("pk", flat=True)
        report = apply_scores(
            points=ScoringRule.points_by_type(),
            profiles=profiles,
            prospect_ids=ids,
            sync_reason=SyncReason.SCORE_CHANGE,
        )
    else:
        report = recompute_scores()

    assert _sync_state() == expected
    queue, statuses = expected
    changed = [plain, archived, failing, waiting, regraded]
    assert report.queued == len(changed) and set(queue) == {p.pk for p in [*changed, unchanged]}
    assert {queue[p.pk][0] for p in changed} == {SyncReason.SCORE_CHANGE}
    assert queue[waiting.pk] == (SyncReason.SCORE_CHANGE, 4, 2, None)  # bumped, backoff lifted
    assert queue[unchanged.pk][:2] == (SyncReason.MANUAL, 1)
    assert {statuses[p.pk] for p in changed} == {SyncStatus.PENDING}
    assert statuses[quiet.pk] == SyncStatus.DO_NOT_SYNC
    assert statuses[unchanged.pk] == SyncStatus.SYNCED


# -- decay ----------------------------------------------------------------------------------
@pytest.mark.django_db
def test_decay_takes_its_share_once_per_idle_period():
    ScoringSettings.objects.create(pk=1, decay_enabled=True, decay_percent=25, decay_after_days=30)
    now = timezone.now()
    idle = ProspectFactory(score=100, last_activity_at=now - dt.timedelta(days=31))
    busy = ProspectFactory(score=100, last_activity_at=now - dt.timedelta(days=2))
    tiny = ProspectFactory(score=3, last_activity_at=now - dt.timedelta(days=90))  # 25% of 3 = 0
    assert decay_scores(now=now) == [idle.pk]
    assert decay_scores(now=now + dt.timedelta(days=1)) == []  # already decayed this period
    scores = dict(Prospect.objects.values_list("pk", "score"))
    assert scores[busy.pk] == 100 and scores[tiny.pk] == 3
    # A period later both are idle; the first decays again, from its lowered score.
    assert sorted(decay_scores(now=now + dt.timedelta(days=31))) == sorted([idle.pk, busy.pk])
    scores = dict(Prospect.objects.values_list("pk", "score"))
    assert scores[idle.pk] == 57  # 100 → 75 → 57 (75 - 18)
    assert scores[busy.pk] == 75
    decays = Activity.objects.filter(prospect=idle, type=ActivityType.SCORE_DECAYED)
    assert sorted(decays.values_list("points", flat=True)) == [-25, -18]
    assert Prospect.objects.get(pk=idle.pk).last_activity_at < now  # a decay is no engagement


@pytest.mark.django_db
def test_the_daily_decay_queues_what_it_lowered_with_one_write_each():
    """The decay marks its prospects pending in its own UPDATE, so queueing them rewrites no
    row (on PostgreSQL a second write is a second row version in every index)."""
    ScoringSettings.objects.create(pk=1, decay_enabled=True, decay_percent=25, decay_after_days=30)
    long_ago = timezone.now() - dt.timedelta(days=40)
    idle = ProspectFactory.create_batch(3, score=100, last_activity_at=long_ago)
    quiet = ProspectFactory(score=100, last_activity_at=long_ago, do_not_sync=True)
    updates = _prospect_updates_in_this_transaction()

    assert decay_and_sync() == 4

    queued = dict(SyncQueueItem.objects.values_list("prospect_id", "reason"))
    assert queued == {p.pk: SyncReason.SCORE_CHANGE for p in idle}
    statuses = dict(Prospect.objects.values_list("pk", "sync_status"))
    assert {statuses[p.pk] for p in idle} == {SyncStatus.PENDING}
    assert statuses[quiet.pk] == quiet.sync_status  # lowered, never queued nor marked
    assert Prospect.objects.get(pk=quiet.pk).score == 75
    if updates is not None:
        assert _prospect_updates_in_this_transaction() - updates == 4


def _prospect_updates_in_this_transaction() -> int | None:
    """Rows of prospects updated so far by this (test's) transaction; PostgreSQL only."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = %s",
            [Prospect._meta.db_table],
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_decay_is_off_by_default():
    ProspectFactory(score=100, last_activity_at=timezone.now() - dt.timedelta(days=400))
    assert decay_scores() == []


# -- SQL equals Python ----------------------------------------------------------------------
TEXTS = st.sampled_from(["", "Marketing Manager", "cto", "Software", "retail", "France", "peru"])
CRITERION = st.one_of(
    st.builds(
        dict,
        field=st.sampled_from([Field.JOB_TITLE, Field.INDUSTRY, Field.COUNTRY, Field.DEPARTMENT]),
        match=st.sampled_from([Match.CONTAINS, Match.IS]),
        values=st.lists(st.sampled_from(["market", "CTO", "software", "France", "x"]), max_size=3),
        weight=st.integers(1, 6),
    ),
    st.builds(
        dict,
        field=st.just(Field.EMPLOYEES),
        match=st.just(Match.BETWEEN),
        minimum=st.one_of(st.none(), st.integers(0, 500)),
        maximum=st.one_of(st.none(), st.integers(0, 5000)),
        weight=st.integers(1, 6),
    ),
)
PROSPECT = st.fixed_dictionaries(
    {
        "job_title": TEXTS,
        "industry": TEXTS,
        "country": TEXTS,
        "department": TEXTS,
        "employees": st.one_of(st.none(), st.integers(0, 10000)),
        "score": st.integers(-500, 500),
        "activities": st.lists(
            st.tuples(
                st.sampled_from(
                    [
                        ActivityType.FORM,
                        ActivityType.LANDING_PAGE_VIEW,
                        ActivityType.OPPORTUNITY_LOST,
                        ActivityType.SCORE_ADJUSTED,
                        ActivityType.IMPORT,
                    ]
                ),
                st.integers(-100, 100),
            ),
            max_size=4,
        ),
    }
)
RULES = st.dictionaries(
    st.sampled_from([ActivityType.FORM, ActivityType.LANDING_PAGE_VIEW, ActivityType.IMPORT]),
    st.integers(-1000, 1000),
)


class TestRecomputeInSqlEqualsPython(HypothesisTestCase):
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        criteria=st.lists(CRITERION, max_size=4),
        people=st.lists(PROSPECT, min_size=1, max_size=6),
        rules=RULES,
    )
    def test_sql_and_python_agree(self, criteria, people, rules):
        profile = GradingProfile.objects.create(name="P", is_default=True)
        made = [GradingCriterion(profile=profile, **c) for c in criteria]
        GradingCriterion.objects.bulk_create(made)
        for kind, points in rules.items():
            ScoringRule.objects.create(activity_type=kind, points=points)
        expected = {}
        for person in people:
            activities = person.pop("activities")
            prospect = ProspectFactory(**person, grade="")
            Activity.objects.bulk_create(
                Activity(prospect=prospect, type=kind, points=points) for kind, points in activities
            )
            score, _ = rescored(person["score"], activities, ScoringRule.points_by_type())
            expected[prospect.pk] = (score, grade_for(person, made))
        recompute_scores()
        got = {pk: (s, g) for pk, s, g in Prospect.objects.values_list("pk", "score", "grade")}
        assert got == expected


def test_the_cron_decays_scores_daily():
    import django_rq
    from rq.cron import CronScheduler

    scheduler = CronScheduler(connection=django_rq.get_connection("default"))
    scheduler.load_config_from_file("portal.cron")
    jobs = {job.func_name: job for job in scheduler.get_jobs()}
    assert jobs["prospects.jobs.decay_job"].interval == 86400


@pytest.mark.django_db
def test_the_decay_job_queues_lowered_prospects_for_a_score_sync():
    from prospects.jobs import decay_job

    ScoringSettings.objects.create(pk=1, decay_enabled=True, decay_percent=50, decay_after_days=7)
    idle = ProspectFactory(score=40, last_activity_at=timezone.now() - dt.timedelta(days=8))
    SyncQueueItem.objects.all().delete()
    assert decay_job() == 1
    assert Prospect.objects.get(pk=idle.pk).score == 20
    assert SyncQueueItem.objects.get(prospect=idle).reason == SyncReason.SCORE_CHANGE
