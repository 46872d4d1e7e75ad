"""A marketer reads a prospect's timeline; a Sync admin changes scoring and recomputes, in a real
browser (htmx "Show more", the type filter, the recompute's progress)."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from prospects.activities import record_activities
from prospects.factories import ProspectFactory, UserFactory
from prospects.models import ActivityType, GradingCriterion, GradingProfile
from tests.conftest import ensure_roles
from tests.e2e.conftest import SHOTS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, role: str) -> None:
    ensure_roles()
    user = UserFactory(username=f"{role.lower().replace(' ', '-')}-e2e")
    user.groups.add(Group.objects.get(name=role))
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", "leadbridge-test")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_the_timeline_pages_and_filters_without_a_reload(browser_page, live_server):
    page = browser_page
    prospect = ProspectFactory(first_name="Tia", last_name="Timeline", score=0)
    start = timezone.now() - dt.timedelta(days=30)
    for day in range(25):
        record_activities(
            [prospect.pk],
            ActivityType.LANDING_PAGE_VIEW,
            title=f"Pricing page, visit {day}",
            details={"url": "/pricing"},
            occurred_at=start + dt.timedelta(days=day, hours=1),
            reason=None,
        )
    record_activities([prospect.pk], ActivityType.FORM_HANDLER, title="Contact us", reason=None)
    log_in(page, live_server, "Marketer")
    page.goto(live_server.url + prospect.get_absolute_url())
    items = page.locator("[data-testid=activity]")
    assert items.count() == 20
    assert "+50" in items.first.inner_text() and "Contact us" in items.first.inner_text()
    page.screenshot(path=SHOTS / "prospect-timeline.png", full_page=True)
    page.click("text=Show more")
    page.wait_for_function("document.querySelectorAll('[data-testid=activity]').length === 26")
    assert page.locator("text=Show more").count() == 0
    page.select_option("#timeline-type", "form_handler")
    page.wait_for_function("document.querySelectorAll('[data-testid=activity]').length === 1")
    assert page.locator("[data-testid=activity]").get_attribute("data-type") == "form_handler"


def test_a_sync_admin_recomputes_and_sees_the_progress(browser_page, live_server, run_jobs):
    page = browser_page
    profile = GradingProfile.objects.create(name="Ideal customer", is_default=True)
    GradingCriterion.objects.create(
        profile=profile, field="industry", match="is", values=["Software"], weight=3
    )
    ProspectFactory.create_batch(5, industry="Software", grade="")
    log_in(page, live_server, "Sync admin")
    page.goto(f"{live_server.url}/prospects/scoring/")
    assert "Ideal customer" in page.inner_text("[data-testid=grading-profiles]")
    page.click("[data-testid=recompute]")
    page.wait_for_selector("[data-testid=scoring-task][data-state=queued]")
    run_jobs("imports")  # the worker runs the recompute; the page's poll sees it finish
    page.wait_for_selector("[data-testid=scoring-task][data-state=done]")
    assert "5 grades changed" in page.inner_text("[data-testid=scoring-task]")
    page.screenshot(path=SHOTS / "scoring.png", full_page=True)
    page.click("text=Edit points and decay")
    page.screenshot(path=SHOTS / "scoring-edit.png", full_page=True)
    page.goto(f"{live_server.url}/prospects/scoring/profiles/{profile.pk}/")
    page.screenshot(path=SHOTS / "grading-profile.png", full_page=True)
