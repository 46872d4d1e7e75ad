"""The guide's first step, end to end in Chromium: a visitor fills in the demo landing page,
the prospect appears with its activity and score, a marketer assigns it, and it becomes a Lead
in the sandbox org within seconds."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from intake.preferences import links_for
from portal.demo import load_demo_forms
from prospects.models import ActivityType, Prospect
from tests.conftest import user_with_role
from tests.e2e.conftest import SHOTS
from tests.e2e.test_prospects import log_in_as_marketer
from tests.fixtures.database import database_url

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def start_sync_worker() -> subprocess.Popen:
    """A real worker on the sync queue, as `make run` has."""
    return subprocess.Popen(
        [sys.executable, "manage.py", "rqworker", "sync"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url(), "DEBUG": "true"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_visitor_becomes_a_lead_once_a_marketer_assigns_them(
    browser_page, live_server, connector, sf, unique_email
):
    page = browser_page
    load_demo_forms()
    # A sales rep who can be assigned (a role), the demo org's Salesforce user by email.
    owner = user_with_role("alice", "Marketer", email="alice@acme.example")
    email = unique_email("webinar")

    # 1. A visitor registers on the demo landing page.
    page.goto(f"{live_server.url}/l/demo-webinar/")
    assert "keep marketing and sales in sync" in page.inner_text("h1")
    page.fill("input[name=email]", email)
    page.fill("input[name=first_name]", "Grace")
    page.fill("input[name=last_name]", "<b>Hopper</b>")  # typed as is, shown escaped
    page.fill("input[name=company]", "Navy Labs")
    page.screenshot(path=SHOTS / "forms-landing-page.png", full_page=True)
    page.click("button:has-text('Register')")
    page.wait_for_selector("[data-testid=thanks]")
    page.screenshot(path=SHOTS / "forms-landing-page-thanks.png", full_page=True)

    prospect = Prospect.objects.get(email=email)
    activity = prospect.activities.get(type=ActivityType.LANDING_PAGE)
    assert activity.points > 0 and prospect.score == activity.points
    assert prospect.last_name == "<b>Hopper</b>"

    # 2. A marketer finds it, with its score, and assigns it.
    worker = start_sync_worker()
    try:
        log_in_as_marketer(page, live_server)
        page.goto(f"{live_server.url}{prospect.get_absolute_url()}")
        main = page.inner_text("main")
        assert "<b>Hopper</b>" in main  # escaped: shown as typed, not bold
        assert f"{prospect.score} ·" in page.inner_text("dl.fields:has-text('Score')")
        submitted = page.locator("[data-testid=activity][data-type=landing_page]")
        assert "Webinar: syncing marketing and sales" in submitted.inner_text()  # the timeline
        page.wait_for_selector("[data-testid=preference-links]")
        assert links_for(prospect, base_url=live_server.url).preferences.split("/p/")[0] in (
            page.input_value("[data-testid=preference-links] input >> nth=0")
        )
        page.screenshot(path=SHOTS / "forms-prospect.png", full_page=True)
        page.goto(f"{live_server.url}/prospects/{prospect.pk}/edit/")
        page.select_option("select[name=assigned_user]", str(owner.pk))
        page.click("button:has-text('Save')")
        # 3. Within seconds the worker creates the Lead; the page shows it without a reload.
        page.wait_for_selector("[data-testid=sync-status]:has-text('Synced')", timeout=60_000)
        page.screenshot(path=SHOTS / "forms-prospect-synced.png", full_page=True)
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    prospect.refresh_from_db()
    lead = sf.Lead.get(prospect.crm_lead_id)
    assert (lead["Email"], lead["Company"], lead["LastName"]) == (
        email,
        "Navy Labs",
        "<b>Hopper</b>",
    )


def test_a_marketer_adds_completion_actions_by_name(browser_page, live_server):
    from intake.form_models import FormHandler

    page = browser_page
    load_demo_forms()
    handler = FormHandler.objects.get(slug="demo-contact-us")
    handler.completion_actions = [{"type": "adjust_score", "points": 5}]
    handler.save(update_fields=["completion_actions"])
    log_in_as_marketer(page, live_server)

    page.goto(f"{live_server.url}/intake/form-handlers/{handler.pk}/")
    # The stored action is shown as a row; one more is added and one value changed.
    assert page.locator("[data-type=adjust_score] input[aria-label=Points]").input_value() == "5"
    page.fill("[data-type=adjust_score] input[aria-label=Points]", "15")
    page.select_option("[data-testid=add-action]", label="Set a field")
    row = page.locator("[data-type=set_field]")
    row.locator("select[aria-label=Field]").select_option(label="Country")
    row.locator("input[aria-label=Value]").fill("Germany")
    page.screenshot(path=SHOTS / "forms-completion-actions.png", full_page=True)
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=saved.")

    handler.refresh_from_db()
    assert handler.completion_actions == [
        {"type": "adjust_score", "points": 15},
        {"type": "set_field", "field": "country", "value": "Germany"},
    ]
    # The row's inputs are not the page's own fields: the handler's campaign is untouched.
    assert handler.campaign_id is None
