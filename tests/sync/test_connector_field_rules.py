"""Editing field rules, custom fields and data sharing rules in the browser's forms."""

import pytest
from django.test import Client as DjangoClient
from django.urls import reverse

from prospects.factories import ProspectFactory
from prospects.models import CustomField
from sync.models import Connector, ConnectorChange, DataSharingRule, FieldRule
from sync.verification import verify_connector
from tests.fixtures.connector import sandbox_connector

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


def edit(client, rule, **data):
    payload = {
        "lead_field": rule.lead_field,
        "contact_field": rule.contact_field,
        "person_account_field": rule.person_account_field,
        "behaviour": rule.behaviour,
        **data,
    }
    return client.post(reverse("sync:field_rule_edit", args=[rule.pk]), payload)


def test_changing_a_behaviour_is_saved_with_history(admin_client_, connector, sync_admin):
    rule = connector.field_rules.get(prospect_field="job_title")

    response = edit(admin_client_, rule, behaviour="most_recent", salesforce_blanks_overwrite="on")

    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.behaviour == FieldRule.Behaviour.MOST_RECENT and rule.salesforce_blanks_overwrite
    change = ConnectorChange.objects.get(subject="job_title", field="behaviour")
    assert (change.old, change.new, change.user) == (
        "Use Leadbridge's value",
        "Use the most recently updated value",
        sync_admin,
    )
    page = admin_client_.get(reverse("sync:field_rules")).content.decode()
    assert "Use the most recently updated value" in page and "blanks overwrite" in page


def test_mapping_a_field_that_does_not_exist_is_refused(admin_client_, connector):
    rule = connector.field_rules.get(prospect_field="notes")
    response = edit(admin_client_, rule, lead_field="No_Such_Field__c", behaviour="leadbridge")
    assert "Lead.No_Such_Field__c does not exist or the connector user cannot read it." in (
        response.content.decode()
    )
    rule.refresh_from_db()
    assert rule.lead_field == ""


def test_mapping_an_already_mapped_field_is_refused_case_insensitively(admin_client_, connector):
    rule = connector.field_rules.get(prospect_field="notes")
    response = edit(admin_client_, rule, lead_field="title", behaviour="leadbridge")
    assert "Lead.title is already mapped to job_title." in response.content.decode()


def test_mapping_a_read_only_field_is_refused_with_the_reason(admin_client_, connector):
    rule = connector.field_rules.get(prospect_field="notes")
    response = edit(admin_client_, rule, lead_field="Sales_Notes__c", behaviour="leadbridge")
    assert "Lead.Sales_Notes__c is read-only for the connector user." in response.content.decode()


def test_lookups_and_type_mismatches_are_refused(admin_client_, connector):
    rule = connector.field_rules.get(prospect_field="notes")
    page = edit(admin_client_, rule, lead_field="ConvertedAccountId", behaviour="leadbridge")
    assert "a lookup field; those never sync" in page.content.decode()
    rule = connector.field_rules.get(prospect_field="years_in_business")
    page = edit(admin_client_, rule, lead_field="Demo_Date__c", behaviour="leadbridge")
    assert "Type mismatch: Lead.Demo_Date__c is date" in page.content.decode()


def test_the_db_backs_the_one_mapping_per_field_rule(connector):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        FieldRule.objects.filter(connector=connector, prospect_field="notes").update(
            lead_field="Title"
        )


def test_the_live_compatibility_preview_counts_rejected_prospects(admin_client_, connector):
    ProspectFactory(notes="x" * 150)
    ProspectFactory(notes="y" * 101)
    ProspectFactory(notes="short")
    rule = connector.field_rules.get(prospect_field="notes")
    response = admin_client_.get(
        reverse("sync:field_rule_check", args=[rule.pk]),
        {"lead_field": "Customer_Comment__c", "behaviour": "leadbridge"},
    )
    html = response.content.decode()
    assert "Lead.Customer_Comment__c holds 100 characters; 2 prospects hold longer values." in html
    assert 'data-rejected="2"' in html


def test_a_custom_field_pulls_predefined_values_from_a_salesforce_picklist(
    admin_client_, connector
):
    response = admin_client_.post(
        reverse("sync:custom_field_create"),
        {
            "label": "Region",
            "api_name": "region",
            "type": "dropdown",
            "picklist_source": "Lead.Region__c",
            "validate_on_import": "on",
            "lead_field": "Region__c",
            "contact_field": "Region__c",
            "behaviour": "salesforce",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    custom = CustomField.objects.get(api_name="region")
    assert custom.choices == ["AMER", "EMEA", "APAC"] and custom.validate_on_import
    rule = connector.field_rules.get(prospect_field="custom:region")
    assert (rule.lead_field, rule.contact_field, rule.behaviour) == (
        "Region__c",
        "Region__c",
        "salesforce",
    )
    assert "Region" in admin_client_.get(reverse("sync:custom_fields")).content.decode()


def test_validate_on_import_needs_predefined_values(admin_client_, connector):
    response = admin_client_.post(
        reverse("sync:custom_field_create"),
        {
            "label": "Size",
            "api_name": "size",
            "type": "text",
            "validate_on_import": "on",
            "behaviour": "dont_sync",
        },
    )
    assert "Validating on import needs predefined values." in response.content.decode()
    assert not CustomField.objects.exists()


def test_a_custom_field_cannot_take_a_geolocation_or_mapped_target(admin_client_, connector):
    response = admin_client_.post(
        reverse("sync:custom_field_create"),
        {
            "label": "Job",
            "api_name": "job",
            "type": "text",
            "lead_field": "Title",
            "behaviour": "leadbridge",
        },
    )
    assert "Lead.Title is already mapped to job_title." in response.content.decode()
    assert not CustomField.objects.exists()


# -- Marketing Data Sharing -----------------------------------------------------------------


def test_a_sharing_rule_is_saved_while_paused_and_counts_records_live(
    admin_client_, connector, sandbox_org
):
    response = admin_client_.post(
        reverse("sync:data_sharing"), {"sobject": "Lead", "field": "Region__c", "value": "EMEA"}
    )
    assert response.status_code == 302, response.context["form"].errors
    assert str(DataSharingRule.objects.get()) == "Lead.Region__c = 'EMEA'"

    count = admin_client_.get(
        reverse("sync:data_sharing_count"),
        {"sobject": "Lead", "field": "Region__c", "value": "EMEA"},
    )
    expected = sandbox_org.salesforce().query("SELECT COUNT() FROM Lead WHERE Region__c = 'EMEA'")
    assert f'data-shared="{expected["totalSize"]}"' in count.content.decode()


def test_sharing_rules_refuse_mapped_fields_a_second_rule_and_an_active_connector(
    admin_client_, connector
):
    page = admin_client_.post(
        reverse("sync:data_sharing"), {"sobject": "Lead", "field": "Title", "value": "CEO"}
    ).content.decode()
    assert "Lead.Title is mapped to a prospect field" in page

    DataSharingRule.objects.create(
        connector=connector, sobject="Contact", field="Region__c", value="AMER"
    )
    Connector.objects.filter(pk=connector.pk).update(state=Connector.State.ACTIVE)
    page = admin_client_.post(
        reverse("sync:data_sharing"), {"sobject": "Lead", "field": "Region__c", "value": "EMEA"}
    ).content.decode()
    assert "Pause the connector before editing Marketing Data Sharing." in page
    assert DataSharingRule.objects.count() == 1
