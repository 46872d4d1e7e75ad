"""The demo stays out of production (issue 11, item 13). That no app imports the sandbox is an
import-linter contract (``make lint``); tests/portal/test_deploy.py starts without it."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from core.roles import is_marketer, is_sync_admin
from portal.demo import load_demo_users
from tests.conftest import ensure_roles


@pytest.mark.django_db
def test_loaddemo_refuses_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("loaddemo")
    assert not get_user_model().objects.filter(username__in=["admin", "marketer"]).exists()


@pytest.mark.django_db
def test_the_demo_users_hold_their_roles_and_only_the_admin_is_staff():
    ensure_roles()
    admin, marketer = load_demo_users()
    assert is_sync_admin(admin) and admin.is_staff
    assert is_marketer(marketer) and not is_sync_admin(marketer) and not marketer.is_staff
    assert load_demo_users() == [admin, marketer]  # idempotent


@pytest.mark.django_db
def test_demo_prospects_carry_weeks_of_activities_that_explain_their_scores():
    """After the demo loads, timelines, scores, last activities and grades are alive and agree:
    each score is what its activities earned."""
    from django.db.models import Max, Sum
    from django.utils import timezone

    from portal.demo import load_demo
    from prospects.models import Activity, Prospect

    ensure_roles()
    added = load_demo(prospects=60)
    assert added >= 60
    assert Activity.objects.count() > 60
    oldest = Activity.objects.order_by("occurred_at").first().occurred_at
    assert (timezone.now() - oldest).days >= 14  # a few weeks of history
    earned = dict(
        Activity.objects.values("prospect")
        .annotate(total=Sum("points"))
        .values_list("prospect", "total")
    )
    for prospect in Prospect.objects.all():
        assert prospect.score == earned.get(prospect.pk, 0), prospect.pk
    scored = Prospect.objects.filter(score__gt=0)
    assert scored.count() > 10 and scored.exclude(last_activity_at=None).count() == scored.count()
    newest = Activity.objects.filter(type="form_handler").aggregate(Max("occurred_at"))
    assert newest["occurred_at__max"] is not None
    assert Prospect.objects.exclude(grade="").count() == Prospect.objects.count()


@pytest.mark.django_db
def test_the_demo_shows_what_automation_is_for():
    """A dynamic list already holding its matches, a static list of webinar registrants and a
    draft rule: the Automation pages are not empty after ``make run``, and nothing runs until
    a marketer switches the rule on."""
    from automation.models import ProspectList, Rule
    from portal.demo import load_demo
    from prospects.models import Prospect

    ensure_roles()
    load_demo(prospects=60)
    engaged = ProspectList.objects.get(kind=ProspectList.Kind.DYNAMIC)
    assert engaged.member_count == Prospect.objects.filter(score__gte=50).count() > 0
    assert engaged.memberships.count() == engaged.member_count
    registrants = ProspectList.objects.get(kind=ProspectList.Kind.STATIC)
    assert 0 < registrants.member_count == registrants.memberships.count() <= 25
    rule = Rule.objects.get()
    assert rule.state == Rule.State.DRAFT and not rule.runs.exists()
    load_demo(prospects=60)  # idempotent
    assert ProspectList.objects.count() == 2 and Rule.objects.count() == 1
