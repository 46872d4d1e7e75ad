"""A Sync admin connects Leadbridge to the sandbox org in a real browser (Playwright + Chromium).

From no connector to an active one through the three wizard steps, then edits a field's
behaviour on the Field sync page. Screenshots go to /tmp/leadbridge-e2e/.
"""

import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission

from prospects.factories import UserFactory
from sync.models import Connector, ConnectorChange, FieldRule
from tests.e2e.conftest import SHOTS

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop shares the thread

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser_page):
    """Headless Chromium (tests/e2e/conftest.py)."""
    return browser_page


def log_in(page, live_server) -> None:
    # transaction=True flushes the roles the data migration made; grant them again.
    group, _ = Group.objects.get_or_create(name="Sync admin")
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="core", codename__in=["use_portal", "administer_sync"]
        )
    )
    user = UserFactory(username="sync-admin-e2e", is_staff=True)
    user.groups.add(group)
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "sync-admin-e2e")
    page.fill("input[name=password]", "leadbridge-test")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def fill_connection(page, sandbox_org, password: str) -> None:
    page.fill("#id_login_url", sandbox_org.login_url)
    page.select_option("#id_grant_type", "password")
    page.fill("#id_client_id", sandbox_org.client_id)
    page.fill("#id_client_secret", sandbox_org.client_secret)
    page.fill("#id_username", sandbox_org.username)
    page.fill("#id_password", password)
    page.fill("#id_api_version", sandbox_org.api_version)
    page.fill("#id_ca_bundle", Path(sandbox_org.ca_bundle).read_text())


def test_a_sync_admin_goes_from_no_connector_to_an_active_one(page, live_server, sandbox_org):
    log_in(page, live_server)
    page.goto(f"{live_server.url}/sync/connector/")
    page.click("text=Start setup")

    # Step 1: a wrong password is refused in plain words and nothing is saved.
    fill_connection(page, sandbox_org, "not-the-password")
    page.click("button[name=connect]")
    page.wait_for_selector("#form-errors")
    assert "authentication failure" in page.inner_text("#form-errors")
    assert not Connector.objects.exists()
    page.screenshot(path=SHOTS / "wizard-1-refused.png", full_page=True)

    fill_connection(page, sandbox_org, sandbox_org.password)
    page.click("button[name=connect]")
    page.wait_for_selector("#package-check .checklist")
    assert page.locator("#package-check [data-ok=false]").count() == 0
    # Lead and Contact: the external id and the three package fields.
    assert page.locator("#package-check [data-ok=true]").count() == 8
    assert Connector.objects.get().state == Connector.State.PAUSED
    page.screenshot(path=SHOTS / "wizard-1-package.png", full_page=True)

    # Step 2: the connector user's checklist is all green.
    page.click("#next-step")
    page.wait_for_selector("#verification")
    assert "All green" in page.inner_text("#verification .card-header")
    assert (
        page.locator("#verification [data-check='Lead.Title']").get_attribute("data-ok") == "true"
    )
    page.screenshot(path=SHOTS / "wizard-2-verify.png", full_page=True)

    # Step 3: defaults are pre-filled; choose a behaviour, save and unpause.
    page.click("#next-step")
    page.wait_for_selector("#mapping-form")
    row = page.locator("#field-rules tr[data-field=job_title]")
    assert row.locator("code", has_text="Title").count() == 2
    row.locator("select").select_option("most_recent")
    page.screenshot(path=SHOTS / "wizard-3-map.png", full_page=True)
    page.click("#unpause")
    page.wait_for_url(f"{live_server.url}/sync/connector/")
    assert page.locator(".page-header [data-state=active]").count() == 1
    page.screenshot(path=SHOTS / "connector-active.png", full_page=True)

    connector = Connector.objects.get()
    assert connector.state == Connector.State.ACTIVE
    assert connector.field_rules.get(prospect_field="job_title").behaviour == "most_recent"


def test_a_sync_admin_edits_a_fields_behaviour(page, live_server, sandbox_org):
    from sync.verification import verify_connector
    from tests.fixtures.connector import sandbox_connector

    connector = sandbox_connector(sandbox_org, state=Connector.State.ACTIVE)
    verify_connector(connector=connector)
    log_in(page, live_server)
    page.goto(f"{live_server.url}/sync/field-sync/")
    page.screenshot(path=SHOTS / "field-rules.png", full_page=True)
    page.locator("#field-rules tr[data-field=phone] a", has_text="Edit").click()
    page.wait_for_selector("#rule-form")

    page.check("input[name=behaviour][value=salesforce]")
    page.fill("#id_lead_field", "Nope__c")
    page.wait_for_selector("#compatibility [data-level=error]")
    assert "Lead.Nope__c does not exist" in page.inner_text("#compatibility")
    page.screenshot(path=SHOTS / "field-rule-edit-refused.png", full_page=True)
    page.fill("#id_lead_field", "Phone")
    page.wait_for_selector("#compatibility [data-level=ok]")
    page.screenshot(path=SHOTS / "field-rule-edit.png", full_page=True)
    page.click("text=Save rule")
    page.wait_for_url(f"{live_server.url}/sync/field-sync/")

    assert "Use Salesforce's value" in page.inner_text(
        "#field-rules tr[data-field=phone] .behaviour"
    )
    assert FieldRule.objects.get(prospect_field="phone").behaviour == "salesforce"
    assert ConnectorChange.objects.filter(subject="phone", field="behaviour").exists()
    assert "Use Salesforce's value" in page.inner_text("#history")


def test_a_lost_field_permission_shows_a_banner_until_restored(page, live_server, sandbox_org):
    from tests.fixtures.connector import sandbox_connector

    sandbox_connector(sandbox_org, state=Connector.State.ACTIVE)
    log_in(page, live_server)
    sandbox_org.control(
        "set_field_permission",
        profile="Leadbridge Connector",
        sobject="Lead",
        field="Title",
        editable=False,
    )
    try:
        page.goto(f"{live_server.url}/sync/connector/")
        page.click("text=Verify now")
        page.wait_for_selector("#connector-attention")
        assert "Lead.Title: the connector user cannot edit it." in page.inner_text(
            "#connector-attention"
        )
        assert page.locator(".page-header [data-state=needs_attention]").count() == 1
        page.screenshot(path=SHOTS / "connector-needs-attention.png", full_page=True)
        page.goto(f"{live_server.url}/sync/connector/setup/2/")
        page.screenshot(path=SHOTS / "wizard-2-red.png", full_page=True)
        assert page.locator("[data-check='Lead.Title']").get_attribute("data-ok") == "false"
    finally:
        sandbox_org.control(
            "set_field_permission",
            profile="Leadbridge Connector",
            sobject="Lead",
            field="Title",
            editable=True,
        )
    page.goto(f"{live_server.url}/sync/connector/")
    page.click("#connector-attention button")
    page.wait_for_selector(".page-header [data-state=active]")
    assert page.locator("#connector-attention").count() == 0


def test_a_sync_admin_adds_a_data_sharing_rule_with_a_live_count(page, live_server, sandbox_org):
    from tests.fixtures.connector import sandbox_connector

    sandbox_connector(sandbox_org)  # paused: data sharing is editable
    log_in(page, live_server)
    page.goto(f"{live_server.url}/sync/custom-fields/new/")
    page.screenshot(path=SHOTS / "custom-field-new.png", full_page=True)
    page.goto(f"{live_server.url}/sync/data-sharing/")
    page.fill("#id_sobject", "Lead")
    page.fill("#id_field", "Region__c")
    page.fill("#id_value", "EMEA")
    page.wait_for_selector("#sharing-count [data-shared]")
    expected = sandbox_org.salesforce().query("SELECT COUNT() FROM Lead WHERE Region__c = 'EMEA'")
    assert page.get_attribute("#sharing-count [data-shared]", "data-shared") == str(
        expected["totalSize"]
    )
    page.screenshot(path=SHOTS / "data-sharing.png", full_page=True)
    page.click("text=Save rule")
    page.wait_for_selector("#sharing-rules >> text=Region__c")
    assert "EMEA" in page.inner_text("#sharing-rules")
