"""Fixtures for the sync engine's tests: a connector pointed at the live sandbox org."""

import uuid
from pathlib import Path

import pytest

from sync.mapping import ensure_default_rules
from sync.models import Connector, FieldRule
from sync.salesforce import Client


@pytest.fixture
def connector(db, sandbox_org) -> Connector:
    """An active connector on the sandbox org with the default field rules."""
    connector = Connector.objects.create(
        login_url=sandbox_org.login_url,
        client_id=sandbox_org.client_id,
        client_secret=sandbox_org.client_secret,
        username=sandbox_org.username,
        password=sandbox_org.password,
        api_version=sandbox_org.api_version,
        ca_bundle=Path(sandbox_org.ca_bundle).read_text(),
        state=Connector.State.ACTIVE,
    )
    ensure_default_rules(connector)
    # Map the demo org's Customer_Comment__c (text 100) like an admin would.
    FieldRule.objects.update_or_create(
        connector=connector,
        prospect_field="notes",
        defaults={
            "lead_field": "Customer_Comment__c",
            "contact_field": "Customer_Comment__c",
            "behaviour": FieldRule.Behaviour.LEADBRIDGE,
        },
    )
    return connector


@pytest.fixture
def client(connector) -> Client:
    return Client.for_connector(connector)


@pytest.fixture
def sf(sandbox_org):
    """simple-salesforce as the org's admin, to look at and change the Salesforce side."""
    return sandbox_org.admin()


@pytest.fixture
def unique_email():
    def make(prefix: str = "p") -> str:
        return f"{prefix}.{uuid.uuid4().hex[:10]}@leadbridge-test.example"

    return make
