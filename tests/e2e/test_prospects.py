"""A marketer works prospects in a real browser: list, filters, detail, "Sync with CRM"."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from prospects.factories import ProspectFactory, UserFactory
from tests.conftest import ensure_roles
from tests.e2e.conftest import SHOTS

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in_as_marketer(page, live_server) -> None:
    from django.contrib.auth.models import Group

    ensure_roles()
    user = UserFactory(username="marketer-e2e")
    user.groups.add(Group.objects.get(name="Marketer"))
    page.goto(f"{live_server.url}/prospects/")
    page.wait_for_url("**/login/**")
    page.fill("input[name=username]", "marketer-e2e")
    page.fill("input[name=password]", "leadbridge-test")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/prospects/")


def test_marketer_lists_filters_and_opens_prospects(browser_page, live_server):
    page = browser_page
    ProspectFactory.create_batch(40)
    ProspectFactory(first_name="Ada", last_name="Lovelace", company="Analytical Engines")
    log_in_as_marketer(page, live_server)
    assert page.locator("table tbody tr").count() == 25
    page.screenshot(path=SHOTS / "prospects-list.png", full_page=True)
    page.fill("input[name=q]", "lovelace")
    page.click("button:has-text('Filter')")
    page.wait_for_url("**q=lovelace**")
    assert page.locator("table tbody tr").count() == 1
    page.click("text=Ada Lovelace")
    page.wait_for_selector("h1:has-text('Ada Lovelace')")
    assert "Analytical Engines" in page.inner_text("main")
    page.screenshot(path=SHOTS / "prospect-detail.png", full_page=True)


def test_sync_with_crm_shows_the_result_without_a_reload(browser_page, live_server, connector):
    """The button queues the prospect; a real RQ worker pushes it; the panel updates."""
    page = browser_page
    db = connection.settings_dict
    url = (
        f"sqlite:///{db['NAME']}"
        if connection.vendor == "sqlite"
        else f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "rqworker", "sync"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "DEBUG": "true"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        owner = UserFactory(username="alice", email="alice@acme.example")
        prospect = ProspectFactory(assigned_user=owner, first_name="Sync", last_name="Me")
        log_in_as_marketer(page, live_server)
        page.goto(f"{live_server.url}{prospect.get_absolute_url()}")
        page.click("button:has-text('Sync with CRM')")
        page.wait_for_selector("[data-testid=sync-status]:has-text('Synced')", timeout=15_000)
        prospect.refresh_from_db()
        assert prospect.crm_lead_id in page.inner_text("#sync-panel")
        page.wait_for_selector("[data-testid=sync-history]:has-text('create Lead')")
        page.screenshot(path=SHOTS / "prospect-synced.png", full_page=True)
    finally:
        worker.terminate()
        worker.wait(timeout=20)


def test_an_edit_conflict_shows_both_values_and_lets_the_marketer_choose(browser_page, live_server):
    """Phone 111 when the form opened; someone sets 222; the marketer types 333 and changes
    the company: the page shows the conflict, saves nothing, and saves their choice next."""
    from prospects.models import Prospect

    page = browser_page
    prospect = ProspectFactory(first_name="Con", last_name="Flict", phone="111", company="Initech")
    log_in_as_marketer(page, live_server)
    page.goto(f"{live_server.url}/prospects/{prospect.pk}/edit/")
    Prospect.objects.filter(pk=prospect.pk).update(phone="222", city="Bergen")
    page.fill("input[name=phone]", "333")
    page.fill("input[name=company]", "Globex")
    page.click("button:has-text('Save')")
    page.wait_for_selector("[data-testid=conflicts]")
    conflict = page.inner_text("[data-testid=conflict-phone]")
    assert "“222”" in conflict and "“333”" in conflict and "“111”" in conflict
    assert page.input_value("input[name=city]") == "Bergen"
    page.screenshot(path=SHOTS / "prospect-edit-conflict.png", full_page=True)
    prospect.refresh_from_db()
    assert (prospect.phone, prospect.company) == ("222", "Initech")

    page.check("[data-testid=conflict-phone] input[value=theirs]")
    page.click("button:has-text('Save')")
    page.wait_for_selector(f"h1:has-text('{prospect.first_name}')")
    prospect.refresh_from_db()
    assert (prospect.phone, prospect.company, prospect.city) == ("222", "Globex", "Bergen")
