"""The wire format the custom objects mirror relies on, through simple-salesforce unchanged:
describeGlobal's custom objects, a custom object's describe (its lookups), SOQL on it, its
deleted records through queryAll, and INVALID_TYPE once the connector user loses the object."""

import pytest
from simple_salesforce.exceptions import SalesforceError

OBJECT = "Subscription__c"


def test_describe_global_lists_the_custom_object_as_custom_and_queryable(sf):
    entries = {o["name"]: o for o in sf.describe()["sobjects"]}
    entry = entries[OBJECT]
    assert (entry["custom"], entry["queryable"], entry["label"]) == (True, True, "Subscription")
    assert entry["keyPrefix"] and len(entry["keyPrefix"]) == 3
    assert (
        entry["urls"]["describe"] == f"/services/data/v{sf.sf_version}/sobjects/{OBJECT}/describe"
    )
    assert entries["Lead"]["custom"] is False


def test_a_custom_objects_describe_gives_its_lookup_to_account(sf):
    describe = sf.Subscription__c.describe()
    assert describe["name"] == OBJECT and describe["custom"] is True
    fields = {f["name"]: f for f in describe["fields"]}
    lookup = fields["Account__c"]
    assert (lookup["type"], lookup["referenceTo"], lookup["custom"]) == (
        "reference",
        ["Account"],
        True,
    )
    assert lookup["relationshipName"] == "Account__r"
    assert fields["Plan__c"]["type"] == "picklist"
    assert {"Id", "Name", "SystemModstamp", "IsDeleted"} <= set(fields)


def test_query_all_returns_a_deleted_custom_record_and_query_does_not(sf, unique):
    account = sf.query("SELECT Id FROM Account LIMIT 1")["records"][0]["Id"]
    made = sf.Subscription__c.create(
        {"Name": f"SUB-{unique}", "Account__c": account, "Plan__c": "Growth"}
    )["id"]
    sf.Subscription__c.delete(made)
    soql = f"SELECT Id, IsDeleted, Account__c FROM {OBJECT} WHERE Id = '{made}'"
    assert sf.query(soql)["totalSize"] == 0
    [row] = sf.query_all(soql, include_deleted=True)["records"]
    assert (row["Id"], row["IsDeleted"], row["Account__c"]) == (made, True, account)
    assert row["attributes"]["type"] == OBJECT


def test_a_lost_custom_object_is_invalid_type_to_query_and_not_in_describe_global(sandbox_org, sf):
    sandbox_org.control("revoke_object", sobject=OBJECT)
    try:
        assert OBJECT not in {o["name"] for o in sf.describe()["sobjects"]}
        with pytest.raises(SalesforceError) as raised:
            sf.query(f"SELECT Id FROM {OBJECT}")
        assert raised.value.content[0]["errorCode"] == "INVALID_TYPE"
        with pytest.raises(SalesforceError) as raised:
            sf.Subscription__c.describe()
        assert raised.value.status == 404
    finally:
        sandbox_org.control("restore_object", sobject=OBJECT)
