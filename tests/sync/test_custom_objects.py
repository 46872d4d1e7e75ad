"""Custom objects mirrored for the prospects they relate to (sync/engine/custom_objects.py), the
Custom objects page (sync/views/custom_objects.py), the prospect page's card and list filter,
and the verification finding when the connector user loses the object."""

import contextlib
import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from simple_salesforce.exceptions import SalesforceError

from crm.models import CustomObjectDefinition, CustomObjectRecord
from prospects.factories import ProspectFactory
from sync import jobs
from sync.custom_objects import Lookup, available_objects, lookups, save_definition
from sync.engine.custom_objects import pull_custom_objects
from sync.models import Connector, DataSharingRule
from sync.verification import verify_connector

pytestmark = pytest.mark.django_db
OBJECT = "Subscription__c"
FIELDS = [
    {"name": "Plan__c", "label": "Plan", "type": "picklist"},
    {"name": "Seats__c", "label": "Seats", "type": "double"},
]


@pytest.fixture
def definition(connector, sf_client, sync_admin):
    return save_definition(
        connector=connector,
        describe=sf_client.describe(OBJECT),
        lookup=Lookup("Account__c", "Account", "Account"),
        fields=FIELDS,
        user=sync_admin,
    )


@pytest.fixture
def account(sf):
    """A fresh account with two subscriptions, removed afterwards."""
    account = sf.Account.create({"Name": "Initech Subscriptions"})["id"]
    made = [
        sf.Subscription__c.create(
            {"Name": name, "Account__c": account, "Plan__c": plan, "Seats__c": seats}
        )["id"]
        for name, plan, seats in (("SUB-A", "Growth", 25), ("SUB-B", "Starter", 3))
    ]
    yield {"id": account, "subscriptions": made}
    for record in made:
        with contextlib.suppress(SalesforceError):  # deleted by the test itself
            sf.Subscription__c.delete(record)


def past_the_overlap(definition):
    CustomObjectDefinition.objects.filter(pk=definition.pk).update(
        watermark=timezone.now() - dt.timedelta(seconds=1)
    )


def test_the_org_offers_its_custom_objects_and_their_lookups(sf_client):
    names = {o["name"] for o in available_objects(sf_client)}
    assert OBJECT in names and "Lead" not in names
    found = lookups(sf_client.describe(OBJECT))
    assert Lookup("Account__c", "Account", "Account") in found


def test_records_of_synced_accounts_are_mirrored_and_follow_changes_and_deletes(
    connector, definition, account, sf, marketer_client
):
    prospect = ProspectFactory(crm_account_id=account["id"], crm_contact_id="003000000000AAA")
    ProspectFactory()  # unrelated: nothing of it is read
    report = pull_custom_objects(connector=connector)
    assert (report.objects, report.records, report.problems) == (1, 2, 0)
    first, second = (CustomObjectRecord.objects.get(sf_id=i) for i in account["subscriptions"])
    assert (first.name, first.parent_sf_id, first.values) == (
        "SUB-A",
        account["id"],
        {"Plan__c": "Growth", "Seats__c": 25.0},
    )
    assert CustomObjectRecord.objects.count() == 2  # only records of synced accounts
    page = marketer_client.get(reverse("prospects:detail", args=[prospect.pk])).content.decode()
    assert "SUB-A" in page and "Growth" in page and "Subscription" in page
    # Changes come by SystemModstamp, deletes through queryAll.
    past_the_overlap(definition)
    sf.Subscription__c.update(first.sf_id, {"Plan__c": "Enterprise"})
    sf.Subscription__c.delete(second.sf_id)
    definition.refresh_from_db()
    definition.watermark -= dt.timedelta(seconds=120)  # as if the pull ran before the edits
    definition.save(update_fields=["watermark"])
    report = pull_custom_objects(connector=connector)
    first.refresh_from_db()
    assert first.values["Plan__c"] == "Enterprise"
    assert not CustomObjectRecord.objects.filter(sf_id=second.sf_id).exists()
    assert report.removed == 1
    # A re-pull with nothing new changes nothing and reads no parent twice.
    assert pull_custom_objects(connector=connector).records <= 1


def test_a_data_sharing_rule_on_the_object_keeps_other_records_out(connector, definition, account):
    ProspectFactory(crm_account_id=account["id"])
    pull_custom_objects(connector=connector)
    assert CustomObjectRecord.objects.count() == 2
    DataSharingRule.objects.create(
        connector=connector, sobject=OBJECT, field="Plan__c", value="Growth"
    )
    pull_custom_objects(connector=connector)  # the rule changed: the mirror is rebuilt
    assert list(CustomObjectRecord.objects.values_list("name", flat=True)) == ["SUB-A"]
    DataSharingRule.objects.filter(sobject=OBJECT).delete()
    pull_custom_objects(connector=connector)
    assert CustomObjectRecord.objects.count() == 2


def test_the_list_filters_on_a_mirrored_field(connector, definition, account, marketer_client):
    prospect = ProspectFactory(crm_account_id=account["id"], first_name="Subscribed")
    other = ProspectFactory(first_name="Unrelated")
    pull_custom_objects(connector=connector)
    url = reverse("prospects:list")
    page = marketer_client.get(
        url, {"custom_object_field": f"{OBJECT}.Plan__c", "custom_object_value": "growth"}
    ).content.decode()
    assert prospect.email in page and other.email not in page
    page = marketer_client.get(
        url, {"custom_object_field": f"{OBJECT}.Plan__c", "custom_object_value": "Nope"}
    ).content.decode()
    assert prospect.email not in page
    page = marketer_client.get(
        url, {"custom_object_field": f"{OBJECT}.Name", "custom_object_value": "sub-b"}
    ).content.decode()
    assert prospect.email in page


def test_a_lost_custom_object_is_a_verification_finding_and_the_pull_goes_on(
    connector, definition, account, sandbox_org
):
    ProspectFactory(crm_account_id=account["id"])
    sandbox_org.control("revoke_object", sobject=OBJECT)
    try:
        jobs.pull(connector.pk)  # no crash: the pull notes the problem and carries on
        definition.refresh_from_db()
        assert "INVALID_TYPE" in definition.problem
        assert not CustomObjectRecord.objects.exists()
        verify_connector(connector=connector)
        connector.refresh_from_db()
        assert connector.state == Connector.State.NEEDS_ATTENTION
        assert any(
            p["sobject"] == OBJECT and "cannot read" in p["detail"] for p in connector.problems
        )
    finally:
        sandbox_org.control("restore_object", sobject=OBJECT)
    pull_custom_objects(connector=connector)
    definition.refresh_from_db()
    assert definition.problem == ""
    assert CustomObjectRecord.objects.count() == 2
    verify_connector(connector=connector)
    connector.refresh_from_db()
    assert connector.state == Connector.State.ACTIVE


def test_a_sync_admin_picks_an_object_its_lookup_and_fields(connector, admin_client_):
    url = reverse("sync:custom_objects")
    page = admin_client_.get(url, {"object": OBJECT}).content.decode()
    assert "Account__c:Account" in page and "Plan__c" in page
    response = admin_client_.post(
        url, {"object": OBJECT, "lookup": "Account__c:Account", "shown": ["Plan__c"]}
    )
    assert response.status_code == 302
    definition = CustomObjectDefinition.objects.get(api_name=OBJECT)
    assert (definition.lookup_field, definition.lookup_to, definition.field_names) == (
        "Account__c",
        "Account",
        ["Plan__c"],
    )
    assert connector.changes.filter(subject=f"custom object: {OBJECT}").exists()
    page = admin_client_.get(url).content.decode()
    assert "Subscription" in page
    # A lookup the object does not have is refused.
    response = admin_client_.post(url, {"object": OBJECT, "lookup": "OwnerId:User"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    admin_client_.post(reverse("sync:custom_object_delete", args=[definition.pk]))
    assert not CustomObjectDefinition.objects.exists()


def test_marketers_cannot_open_the_custom_objects_page(connector, marketer_client):
    response = marketer_client.get(reverse("sync:custom_objects"))
    assert response.status_code in (302, 403)
