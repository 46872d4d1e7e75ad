"""Issue 17's "Done when", in Chromium: a marketer builds a dynamic list ("score ≥ 50 and
country = Germany"), previews and switches on a rule that assigns its members to a queue and
adds them to a Salesforce campaign; within a minute the sandbox org shows the leads owned by the
queue and the campaign members."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from automation.models import ProspectList, Rule
from crm.models import SalesforceCampaign
from prospects.factories import ProspectFactory
from prospects.models import CrmQueue
from sync.jobs import pull
from sync.owner_queues import refresh_queues
from sync.salesforce import Client
from tests.e2e.conftest import SHOTS
from tests.e2e.test_prospects import log_in_as_marketer
from tests.fixtures.database import database_url

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def start_worker() -> subprocess.Popen:
    """A real worker on the default (lists, rules) and sync queues, as `make run` has."""
    return subprocess.Popen(
        [sys.executable, "manage.py", "rqworker", "default", "sync"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url(), "DEBUG": "true"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def add_condition(page, index: int, field: str, op: str, value: str) -> None:
    page.click("[data-testid=add-condition]")
    row = page.locator(".criteria-row").nth(index)
    row.locator("select[aria-label=Field]").select_option(field)
    row.locator("select[aria-label=Operator]").select_option(op)
    row.locator("[data-part=value]").fill(value)


def test_a_dynamic_list_and_a_rule_put_leads_in_a_queue_and_a_campaign(
    browser_page, live_server, connector, sf, unique_email
):
    page = browser_page
    refresh_queues(Client.for_connector(connector))
    queue = CrmQueue.objects.get(name="Inbound Leads")
    campaign_name = f"Germany push {uuid.uuid4().hex[:6]}"
    campaign_sf_id = sf.Campaign.create({"Name": campaign_name, "IsActive": True})["id"]
    pull(connector.pk)
    campaign = SalesforceCampaign.objects.get(sf_id=campaign_sf_id)
    hot = [
        ProspectFactory(email=unique_email("hot"), score=s, country="Germany", state="")
        for s in (50, 75, 120)
    ]
    ProspectFactory(email=unique_email("cold"), score=49, country="Germany", state="")
    ProspectFactory(email=unique_email("far"), score=90, country="France", state="")
    worker = start_worker()
    try:
        log_in_as_marketer(page, live_server)
        # 1. The dynamic list, built in the criteria editor.
        page.goto(f"{live_server.url}/automation/lists/new/?kind=dynamic")
        page.fill("input[name=name]", "Hot Germans")
        add_condition(page, 0, "score", "gte", "50")
        add_condition(page, 1, "country", "eq", "Germany")
        page.click("button[name=preview]")
        assert page.inner_text("[data-testid=preview-count]") == "3"
        page.screenshot(path=SHOTS / "automation-list-preview.png", full_page=True)
        page.click("button[name=save]")
        page.wait_for_url("**/automation/lists/*/")
        hot_list = ProspectList.objects.get(name="Hot Germans")
        assert hot_list.criteria["conditions"][0] == {"field": "score", "op": "gte", "value": 50}
        for _ in range(30):  # the worker recomputes the members
            page.reload()
            if "3 members" in page.inner_text("[data-testid=member-count]"):
                break
            time.sleep(1)
        assert "3 members" in page.inner_text("[data-testid=member-count]")
        page.screenshot(path=SHOTS / "automation-list.png", full_page=True)

        # 2. The rule on the list: assign to the queue, add to the Salesforce campaign.
        page.click("text=New rule on this list")
        page.fill("input[name=name]", "Germany to Inbound Leads")
        # The actions in the action editor, picked by name (no ids, no JSON).
        page.select_option("[data-testid=add-action]", label="Assign to a queue")
        page.select_option("[data-type=assign_queue] select[aria-label=Queue]", label=queue.name)
        page.select_option("[data-testid=add-action]", label="Add to a Salesforce campaign")
        row = page.locator("[data-type=add_to_sf_campaign]")
        row.locator("select[aria-label='Salesforce campaign']").select_option(label=campaign_name)
        row.locator("input[aria-label=Status]").fill("Sent")
        page.screenshot(path=SHOTS / "automation-rule-actions.png", full_page=True)
        page.click("button[name=save]")
        page.wait_for_url("**/automation/rules/*/")
        assert Rule.objects.get().actions == [
            {"type": "assign_queue", "queue": queue.pk, "only_unassigned": False},
            {"type": "add_to_sf_campaign", "campaign": campaign.pk, "status": "Sent"},
        ]
        assert page.inner_text("[data-testid=preview-count]") == "3"
        page.screenshot(path=SHOTS / "automation-rule-preview.png", full_page=True)
        switched_on = time.monotonic()
        page.click("[data-testid=switch-on]")
        page.wait_for_selector("text=is on")

        # 3. Within a minute the org shows the leads owned by the queue, and the members.
        emails = ", ".join(f"'{p.email}'" for p in hot)
        leads, members = [], []
        while time.monotonic() - switched_on < 60:
            leads = sf.query(f"SELECT Id, OwnerId FROM Lead WHERE Email IN ({emails})")["records"]
            members = sf.query(
                f"SELECT LeadId FROM CampaignMember WHERE CampaignId = '{campaign_sf_id}'"
            )["records"]
            if len(leads) == 3 and len(members) == 3:
                break
            time.sleep(2)
        assert {lead["OwnerId"] for lead in leads} == {queue.sf_id} and len(leads) == 3
        assert {m["LeadId"] for m in members} == {lead["Id"] for lead in leads}
        page.reload()
        assert "Ran once" in page.inner_text("[data-testid=rule-state]")
        assert Rule.objects.get().runs.get().changed == 3
        page.screenshot(path=SHOTS / "automation-rule-ran.png", full_page=True)
    finally:
        worker.terminate()
        worker.wait(timeout=10)
