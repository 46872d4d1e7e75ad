"""The data sharing page's live count: Salesforce counts, Leadbridge fetches no records."""

import pytest
from django.test import Client as DjangoClient
from django.urls import reverse

from sync.connectors import count_shared_records
from sync.salesforce import Client
from tests.fixtures.connector import sandbox_connector

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    """Django's test client (kept explicit; the Salesforce client fixture is ``sf_client``)."""
    return DjangoClient()


@pytest.fixture
def paused_connector(sandbox_org):
    return sandbox_connector(sandbox_org)


def soql_count(sandbox_org, soql: str) -> int:
    return sandbox_org.salesforce().query(soql)["totalSize"]


def test_the_count_is_two_soql_counts_and_fetches_no_record(paused_connector, sandbox_org):
    client = Client.for_connector(paused_connector)

    shared, total = count_shared_records(
        connector=paused_connector, sobject="Lead", field="Region__c", value="EMEA", client=client
    )

    assert client.api_calls == 2  # COUNT() of the matches and of all records: no rows read
    assert shared == soql_count(sandbox_org, "SELECT COUNT() FROM Lead WHERE Region__c = 'EMEA'")
    assert total == soql_count(sandbox_org, "SELECT COUNT() FROM Lead")
    assert 0 < shared < total


def test_the_page_shows_the_count_and_says_salesforce_ignores_case(
    admin_client_, paused_connector, sandbox_org
):
    expected = soql_count(sandbox_org, "SELECT COUNT() FROM Lead WHERE Region__c = 'EMEA'")

    page = admin_client_.get(
        reverse("sync:data_sharing_count"),
        {"sobject": "Lead", "field": "Region__c", "value": "emea"},
    ).content.decode()

    assert f'data-shared="{expected}"' in page
    assert "regardless of case" in page


def test_object_and_field_must_be_api_names(admin_client_, paused_connector):
    page = admin_client_.get(
        reverse("sync:data_sharing_count"),
        {"sobject": "Lead", "field": "Region__c FROM Contact --", "value": "x"},
    ).content.decode()
    assert "must be API names" in page


def test_the_page_counts_after_typing_pauses_not_per_keystroke(admin_client_, paused_connector):
    page = admin_client_.get(reverse("sync:data_sharing")).content.decode()
    assert 'hx-trigger="input changed delay:500ms"' in page
    assert 'hx-sync="this:replace"' in page  # a newer count cancels the one in flight
