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
