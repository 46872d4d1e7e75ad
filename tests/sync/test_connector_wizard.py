"""The setup wizard and the connector page's buttons: GETs change nothing, POSTs stay home."""

import pytest
from django.test import Client as DjangoClient
from django.urls import reverse

from sync.models import Connector, ConnectorChange, FieldRule
from sync.verification import verify_connector
from tests.fixtures.connector import sandbox_connector
from tests.sync.factories import CustomFieldFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    """Django's test client (kept explicit; the Salesforce client fixture is ``sf_client``)."""
    return DjangoClient()


@pytest.fixture
def connector(sandbox_org):
    connector = sandbox_connector(sandbox_org)
    verify_connector(connector=connector)  # caches describes
    return connector


@pytest.fixture
def custom_fields(connector):
    """Two custom fields without rules, one matching an org field by API name, one by label;
    and a standard rule whose target the org does not have."""
    CustomFieldFactory(api_name="customer_comment", label="Customer Comment")
    CustomFieldFactory(api_name="pi_interest", label="Product Interest")
    FieldRule.objects.filter(connector=connector, prospect_field="fax").update(
        lead_field="No_Such_Fax__c"
    )


def stored() -> tuple[list[dict], list[dict], list[dict]]:
    return (
        list(FieldRule.objects.order_by("pk").values()),
        list(ConnectorChange.objects.order_by("pk").values()),
        list(Connector.objects.order_by("pk").values()),
    )


def behaviours(response) -> dict[str, str]:
    """The mapping step's form as the browser would post it back unchanged."""
    form = response.context["form"]
    return {name: form[name].value() for name in form.fields}


def test_opening_the_mapping_step_suggests_but_saves_nothing(
    admin_client_, connector, custom_fields
):
    before = stored()

    response = admin_client_.get(reverse("sync:wizard", args=[3]))

    assert stored() == before
    rows = {rule.prospect_field: rule for rule, *_ in response.context["rows"]}
    assert (rows["custom:customer_comment"].lead_field, rows["custom:pi_interest"].lead_field) == (
        "Customer_Comment__c",
        "Product_Interest__c",
    )
    assert rows["fax"].lead_field == ""  # the org has no such field: cleared in the suggestion
    assert 'data-field="custom:customer_comment"' in response.content.decode()


def test_saving_the_mapping_step_saves_the_suggestions_with_history(
    admin_client_, connector, custom_fields, sync_admin
):
    page = admin_client_.get(reverse("sync:wizard", args=[3]))

    response = admin_client_.post(reverse("sync:wizard", args=[3]), behaviours(page))

    assert response.status_code == 302
    by_name = connector.field_rules.get(prospect_field="custom:customer_comment")
    by_label = connector.field_rules.get(prospect_field="custom:pi_interest")
    assert (by_name.lead_field, by_name.contact_field) == ("Customer_Comment__c",) * 2
    assert (by_label.lead_field, by_label.contact_field) == ("Product_Interest__c",) * 2
    assert connector.field_rules.get(prospect_field="fax").lead_field == ""
    change = ConnectorChange.objects.get(subject="custom:customer_comment", field="lead_field")
    assert (change.new, change.user) == ("Customer_Comment__c", sync_admin)


def test_the_behaviour_chosen_in_the_mapping_step_is_saved(admin_client_, connector):
    page = admin_client_.get(reverse("sync:wizard", args=[3]))
    data = behaviours(page)
    data["behaviour:job_title"] = FieldRule.Behaviour.MOST_RECENT

    admin_client_.post(reverse("sync:wizard", args=[3]), data)

    rule = connector.field_rules.get(prospect_field="job_title")
    assert rule.behaviour == FieldRule.Behaviour.MOST_RECENT
    assert Connector.objects.get().state == Connector.State.ACTIVE


def test_opening_the_verification_step_saves_nothing(admin_client_, connector):
    before = stored()
    response = admin_client_.get(reverse("sync:wizard", args=[2]))
    assert "All green" in response.content.decode()
    assert stored() == before


# -- where the buttons go back to ----------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example",
        "javascript:alert(1)",
    ],
)
def test_a_posted_next_goes_back_only_within_the_portal(admin_client_, connector, target):
    response = admin_client_.post(reverse("sync:connector_verify"), {"next": target})
    assert response.status_code == 302
    assert response["Location"] == reverse("sync:connector")

    response = admin_client_.post(
        reverse("sync:connector_state"), {"state": "paused", "next": target}
    )
    assert response["Location"] == reverse("sync:connector")


def test_a_posted_next_within_the_portal_is_followed(admin_client_, connector):
    response = admin_client_.post(
        reverse("sync:connector_verify"), {"next": "/sync/field-sync/?sort=name"}
    )
    assert response["Location"] == "/sync/field-sync/?sort=name"


def test_opening_the_connect_step_when_the_org_cannot_be_reached_says_why(
    admin_client_, sandbox_org
):
    """The package check of step 1 runs on GET; an unreachable org used to crash the page
    (an error added to a form nobody submitted)."""
    sandbox_connector(sandbox_org)
    sandbox_org.control("start_outage", seconds=30)
    try:
        response = admin_client_.get(reverse("sync:wizard", args=[1]))
    finally:
        sandbox_org.control("clear_faults")
    assert response.status_code == 200
    assert 'id="package-problem"' in response.content.decode()
