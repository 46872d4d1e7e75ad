"""The timeline on the prospect page and the Scoring settings pages, through the front door."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import Task
from prospects.activities import record_activities
from prospects.factories import ProspectFactory, UserFactory
from prospects.models import (
    Activity,
    ActivityType,
    GradingCriterion,
    GradingProfile,
    Prospect,
    ScoringRule,
    ScoringSettings,
)

pytestmark = pytest.mark.django_db
SCRIPT = '<script>alert("xss")</script>'


# -- the timeline ---------------------------------------------------------------------------
def test_the_timeline_shows_type_title_points_actor_and_when(marketer_client):
    prospect = ProspectFactory()
    user = UserFactory(first_name="Maya", last_name="Marketer")
    record_activities([prospect.pk], ActivityType.FORM_HANDLER, title="Contact us", actor=user)
    record_activities([prospect.pk], ActivityType.CRM_CREATED, title="Lead 00Q000000000001AAA")
    html = marketer_client.get(reverse("prospects:detail", args=[prospect.pk])).content.decode()
    assert "Form handler submission" in html and "Contact us" in html
    assert "+50" in html and "Maya Marketer" in html
    assert "Created in Salesforce" in html and "system" in html
    assert html.index('data-type="crm_created"') < html.index('data-type="form_handler"')
    assert "Last activity" in html


def test_the_timeline_escapes_titles_and_details(marketer_client):
    prospect = ProspectFactory()
    record_activities(
        [prospect.pk], ActivityType.FORM, title=SCRIPT, details={SCRIPT: SCRIPT, "n": [1, 2]}
    )
    html = marketer_client.get(reverse("prospects:detail", args=[prospect.pk])).content.decode()
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;" in html


def test_show_more_pages_through_the_timeline(marketer_client, django_assert_max_num_queries):
    prospect = ProspectFactory()
    start = timezone.now() - dt.timedelta(days=30)
    for day in range(45):
        record_activities(
            [prospect.pk],
            ActivityType.LANDING_PAGE_VIEW,
            title=f"page {day}",
            occurred_at=start + dt.timedelta(days=day),
            reason=None,
        )
    html = marketer_client.get(reverse("prospects:detail", args=[prospect.pk])).content.decode()
    assert html.count('data-testid="activity"') == 20 and "page 44" in html and "Show more" in html
    url = reverse("prospects:timeline", args=[prospect.pk])
    with django_assert_max_num_queries(8):
        more = marketer_client.get(url, {"more": 1, "page": 3}).content.decode()
    assert more.count('data-testid="activity"') == 5 and "page 0" in more
    assert "Show more" not in more


def test_the_timeline_filters_by_type(marketer_client):
    prospect = ProspectFactory()
    record_activities([prospect.pk], ActivityType.FORM, title="A form")
    record_activities([prospect.pk], ActivityType.IMPORT, title="An import")
    url = reverse("prospects:timeline", args=[prospect.pk])
    html = marketer_client.get(url, {"type": "import"}).content.decode()
    assert "An import" in html and "A form" not in html
    bad = marketer_client.get(url, {"type": "<nonsense>", "page": "x"})
    assert bad.status_code == 200  # an unknown type filters nothing out; no 500


# -- who sees and changes scoring ------------------------------------------------------------
def test_marketers_see_scoring_but_cannot_change_it(marketer_client):
    GradingProfile.objects.create(name="Ideal", is_default=True)
    html = marketer_client.get(reverse("prospects:scoring")).content.decode()
    assert "Form submission" in html and "Ideal" in html
    assert "Recompute now" not in html and reverse("prospects:scoring_edit") not in html
    assert marketer_client.get(reverse("prospects:scoring_edit")).status_code == 403
    assert marketer_client.post(reverse("prospects:scoring_recompute")).status_code == 403


def test_the_scoring_page_stays_within_its_query_budget(
    admin_client_, django_assert_max_num_queries
):
    for n in range(15):
        profile = GradingProfile.objects.create(name=f"P{n}")
        GradingCriterion.objects.create(profile=profile, field="industry", values=["x"])
    with django_assert_max_num_queries(12):
        response = admin_client_.get(reverse("prospects:scoring"))
    assert response.status_code == 200


def test_a_sync_admin_changes_points_and_everyone_is_rescored(
    admin_client_, run_jobs, django_capture_on_commit_callbacks
):
    prospect = ProspectFactory(score=0)
    record_activities([prospect.pk], ActivityType.FORM, reason=None)
    data = {kind: points for kind, points in ScoringRule.points_by_type().items()}
    data |= {"form": "20", "decay_enabled": "on", "decay_percent": "5", "decay_after_days": "60"}
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(reverse("prospects:scoring_edit"), data)
    assert response.status_code == 302
    assert list(ScoringRule.objects.values_list("activity_type", "points")) == [("form", 20)]
    assert ScoringSettings.load().decay_percent == 5
    run_jobs("imports")
    task = Task.objects.get(kind="scoring_recompute")
    assert task.state == Task.State.DONE and task.result["rescored"] == 1
    assert Prospect.objects.get(pk=prospect.pk).score == 20
    page = admin_client_.get(reverse("prospects:scoring")).content.decode()
    assert "1 scores and 0 grades changed" in page


def test_bad_points_are_refused_and_nothing_is_saved(admin_client_):
    data = {kind: points for kind, points in ScoringRule.points_by_type().items()}
    data |= {"form": "5000", "landing_page_view": "abc", "decay_percent": "0"}
    data["decay_after_days"] = "30"
    response = admin_client_.post(reverse("prospects:scoring_edit"), data)
    assert response.status_code == 200 and "nothing was saved" in response.content.decode()
    assert not ScoringRule.objects.exists() and not Task.objects.exists()


def test_with_redis_down_a_recompute_is_refused_politely(admin_client_, redis_down):
    response = admin_client_.post(reverse("prospects:scoring_recompute"), follow=True)
    assert "Background jobs are unavailable" in response.content.decode()
    assert not Task.objects.exists()


def test_a_sync_admin_builds_a_profile_and_everyone_is_regraded(
    admin_client_, run_jobs, django_capture_on_commit_callbacks
):
    fit = ProspectFactory(industry="Aerospace", employees=500, grade="")
    data = {
        "name": "Ideal customer",
        "is_default": "on",
        "criteria-TOTAL_FORMS": "2",
        "criteria-INITIAL_FORMS": "0",
        "criteria-0-field": "industry",
        "criteria-0-match": "is",
        "criteria-0-values": "aerospace, Defence",
        "criteria-0-weight": "3",
        "criteria-1-field": "employees",
        "criteria-1-match": "between",
        "criteria-1-minimum": "100",
        "criteria-1-weight": "3",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(reverse("prospects:grading_profile_create"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    profile = GradingProfile.objects.get()
    assert profile.is_default and profile.criteria.count() == 2
    assert profile.criteria.first().values == ["aerospace", "Defence"]
    run_jobs("imports")
    assert Prospect.objects.get(pk=fit.pk).grade == "B"  # D + 2 letters


def test_a_criterion_that_makes_no_sense_is_refused(admin_client_):
    data = {
        "name": "Broken",
        "criteria-TOTAL_FORMS": "2",
        "criteria-INITIAL_FORMS": "0",
        "criteria-0-field": "employees",
        "criteria-0-match": "is",
        "criteria-0-minimum": "500",
        "criteria-0-maximum": "10",
        "criteria-0-weight": "2",
        "criteria-1-field": "industry",
        "criteria-1-match": "contains",
        "criteria-1-values": " , ",
        "criteria-1-weight": "9",
    }
    response = admin_client_.post(reverse("prospects:grading_profile_create"), data)
    html = response.content.decode()
    assert response.status_code == 200 and "nothing was saved" in html
    for message in (
        "is between",
        "The maximum is below the minimum.",
        "Give at least one value.",
        "less than or equal to 6",
    ):
        assert message in html
    assert not GradingProfile.objects.exists()


def test_a_new_default_profile_takes_the_flag(admin_client_, django_capture_on_commit_callbacks):
    old = GradingProfile.objects.create(name="Old", is_default=True)
    data = {
        "name": "New",
        "is_default": "on",
        "criteria-TOTAL_FORMS": "0",
        "criteria-INITIAL_FORMS": "0",
    }
    with django_capture_on_commit_callbacks(execute=True):
        admin_client_.post(reverse("prospects:grading_profile_create"), data)
    old.refresh_from_db()
    assert not old.is_default and GradingProfile.objects.get(name="New").is_default


def test_deleting_a_profile_hands_its_prospects_to_the_default(
    admin_client_, django_capture_on_commit_callbacks
):
    profile = GradingProfile.objects.create(name="Gone")
    prospect = ProspectFactory(grading_profile=profile)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client_.post(reverse("prospects:grading_profile_delete", args=[profile.pk]))
    assert not GradingProfile.objects.exists()
    assert Prospect.objects.get(pk=prospect.pk).grading_profile is None
    assert Activity.objects.count() == 0


def test_assigning_a_prospect_in_the_portal_is_on_its_timeline(marketer_client, marketer):
    from django.contrib.auth.models import Group

    prospect = ProspectFactory(email="a@x.example", assigned_user=None, score=0)
    owner = UserFactory(first_name="Olu", last_name="Owner")
    owner.groups.add(Group.objects.get(name="Marketer"))
    data = {"email": "a@x.example", "score": 0, "assigned_user": owner.pk}
    marketer_client.post(reverse("prospects:edit", args=[prospect.pk]), data)
    [assigned] = Activity.objects.filter(prospect=prospect, type=ActivityType.ASSIGNED)
    assert assigned.title == f"Assigned to {owner}" and assigned.actor == marketer


def test_an_edit_that_changes_a_graded_field_regrades_the_prospect(marketer_client):
    profile = GradingProfile.objects.create(name="Ideal", is_default=True)
    GradingCriterion.objects.create(profile=profile, field="industry", values=["Retail"], weight=3)
    prospect = ProspectFactory(email="g@x.example", industry="", grade="")
    data = {"email": "g@x.example", "score": prospect.score, "industry": "retail"}
    marketer_client.post(reverse("prospects:edit", args=[prospect.pk]), data)
    assert Prospect.objects.get(pk=prospect.pk).grade == "C"
