"""The compatibility check's rejection counts equal what the sandbox org really rejects."""

import pytest

from prospects.factories import ProspectFactory
from prospects.models import CustomField
from sync import describe
from sync.mapping import CUSTOM_PREFIX, check_rule, custom_prospect_field
from sync.models import FieldRule
from sync.salesforce import Client
from tests.fixtures.connector import sandbox_connector
from tests.sync.factories import CustomFieldFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def connector(sandbox_org):
    return sandbox_connector(sandbox_org)


def push_leads(client: Client, values: list[dict]) -> list[dict]:
    """Create one Lead per value dict; return Salesforce's per-record results (then clean up)."""
    records = [
        {"LastName": f"Compat {i}", "Company": "Compat Co", **v} for i, v in enumerate(values)
    ]
    results = client.collection("create", "Lead", records)
    for result in results:
        if result["success"]:
            client.delete("Lead", result["id"])
    return results


def rejected(results: list[dict], code: str) -> int:
    return sum(1 for r in results if not r["success"] and r["errors"][0]["statusCode"] == code)


def test_length_count_matches_string_too_long_rejections(connector):
    custom = CustomFieldFactory(api_name="customer_comment", label="Customer Comment")
    comments = ["short", "x" * 100, "y" * 101, "z" * 143, "", None, "w" * 99, "v" * 250]
    for comment in comments:
        ProspectFactory(custom_fields={} if comment is None else {"customer_comment": comment})
    rule = FieldRule.objects.create(
        connector=connector,
        prospect_field=CUSTOM_PREFIX + custom.api_name,
        lead_field="Customer_Comment__c",
        contact_field="Customer_Comment__c",
    )
    client = Client.for_connector(connector)
    descs = describe.refresh_describes(connector=connector, client=client)

    check = check_rule(rule=rule, describes=descs, pfield=custom_prospect_field(custom))

    counted = {p.sobject: p.rejected for p in check.problems}
    results = push_leads(client, [{"Customer_Comment__c": c} for c in comments if c])
    assert counted["Lead"] == rejected(results, "STRING_TOO_LONG") == 3
    assert check.problems[0].message == (
        "Lead.Customer_Comment__c holds 100 characters; 3 prospects hold longer values."
    )


def test_restricted_picklist_count_matches_picklist_rejections(connector):
    custom = CustomFieldFactory(
        api_name="product_interest", label="Product Interest", type=CustomField.Type.DROPDOWN
    )
    values = ["Widgets", "widgets", "Gizmos", "Gadgets ", "Services", "", "Gadgets"]
    for value in values:
        ProspectFactory(custom_fields={"product_interest": value})
    rule = FieldRule.objects.create(
        connector=connector,
        prospect_field="custom:product_interest",
        lead_field="Product_Interest__c",
    )
    client = Client.for_connector(connector)
    descs = describe.refresh_describes(connector=connector, client=client)

    check = check_rule(rule=rule, describes=descs, pfield=custom_prospect_field(custom))

    results = push_leads(client, [{"Product_Interest__c": v} for v in values if v])
    assert (
        [p.rejected for p in check.problems]
        == [rejected(results, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")]
        == [3]
    )


def test_standard_field_length_count_follows_a_shrunk_salesforce_field(connector, sandbox_org):
    titles = ["CEO", "Chief Executive Officer", "VP", "Head of Marketing Operations EMEA", ""]
    for title in titles:
        ProspectFactory(job_title=title)
    sandbox_org.control("set_field", sobject="Lead", field="Title", length=20)
    try:
        client = Client.for_connector(connector)
        descs = describe.refresh_describes(connector=connector, client=client)
        rule = connector.field_rules.get(prospect_field="job_title")

        check = check_rule(rule=rule, describes=descs)

        results = push_leads(client, [{"Title": t} for t in titles if t])
        lead_counts = [p.rejected for p in check.problems if p.sobject == "Lead"]
        assert lead_counts == [rejected(results, "STRING_TOO_LONG")] == [2]
    finally:
        sandbox_org.control("set_field", sobject="Lead", field="Title", length=128)
