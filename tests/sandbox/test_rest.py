"""REST resources through simple-salesforce, unchanged, over HTTPS."""

import datetime as dt
import re

import pytest
from simple_salesforce.exceptions import (
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)

DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")


def _get(sandbox_org, path, token=None, **kwargs):
    token = token or sandbox_org.token()["access_token"]
    return sandbox_org.session().get(
        f"{sandbox_org.instance_url}{path}", headers={"Authorization": f"Bearer {token}"}, **kwargs
    )


def test_versions_list_needs_no_token_and_has_no_limit_header(sandbox_org):
    response = sandbox_org.session().get(f"{sandbox_org.instance_url}/services/data/")
    assert response.status_code == 200
    versions = response.json()
    assert {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"} in versions
    assert versions[0]["version"] == "50.0"
    assert "Sforce-Limit-Info" not in response.headers


def test_resources_and_limits(sf, sandbox_org):
    resources = sf.restful("")
    assert resources["sobjects"] == "/services/data/v59.0/sobjects"
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] > limits["DailyApiRequests"]["Remaining"] > 0
    assert sf.api_usage["api-usage"].used >= 1


def test_every_rest_response_carries_the_usage_header(sandbox_org):
    response = _get(sandbox_org, "/services/data/v59.0/sobjects/Lead/describe/")
    assert re.match(r"^api-usage=\d+/\d+$", response.headers["Sforce-Limit-Info"])


def test_unsupported_api_version_is_not_found(sandbox_org):
    response = _get(sandbox_org, "/services/data/v20.0/sobjects")
    assert response.status_code == 404
    assert response.json() == [
        {"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}
    ]


def test_describe_global_lists_the_org_objects(sf):
    names = {o["name"]: o for o in sf.describe()["sobjects"]}
    assert {
        "Lead",
        "Contact",
        "Account",
        "Opportunity",
        "OpportunityContactRole",
        "Campaign",
        "CampaignMember",
        "User",
        "Profile",
        "Group",
        "Task",
        "Subscription__c",
    } <= set(names)
    assert names["Lead"]["keyPrefix"] == "00Q"
    assert names["Subscription__c"]["custom"] is True
    assert names["User"]["createable"] is False


def test_describe_reflects_types_lengths_and_the_callers_field_security(sf):
    fields = {f["name"]: f for f in sf.Lead.describe()["fields"]}
    comment = fields["Customer_Comment__c"]
    assert (comment["type"], comment["length"], comment["custom"]) == ("string", 100, True)
    assert fields["LastName"]["nillable"] is False and fields["LastName"]["length"] == 80
    assert fields["Company"]["length"] == 255
    assert fields["Email"]["type"] == "email"
    assert fields["OwnerId"]["referenceTo"] == ["Group", "User"]
    assert fields["OwnerId"]["relationshipName"] == "Owner"
    assert fields["pi__Pardot_Prospect_Id__c"]["externalId"] is True
    assert fields["pi__Pardot_Prospect_Id__c"]["unique"] is True
    interest = fields["Product_Interest__c"]
    assert interest["restrictedPicklist"] is True
    assert [v["value"] for v in interest["picklistValues"]] == ["Widgets", "Gadgets", "Services"]
    assert fields["Status"]["defaultedOnCreate"] is True
    assert fields["Name"]["calculated"] is True and fields["Name"]["createable"] is False
    assert fields["Sales_Notes__c"]["updateable"] is False
    assert fields["Sales_Notes__c"]["createable"] is False
    assert "Credit_Limit__c" not in fields


def test_admin_sees_fields_the_connector_cannot(sandbox_org):
    fields = {f["name"]: f for f in sandbox_org.admin().Lead.describe()["fields"]}
    assert fields["Sales_Notes__c"]["updateable"] is True
    assert "Credit_Limit__c" in fields


def test_create_retrieve_update_delete_round_trip(sf, unique):
    created = sf.Lead.create(
        {
            "LastName": "Round",
            "Company": "Trip",
            "Email": f"r{unique}@x.io",
            "Budget__c": "1500.50",
            "Demo_Date__c": "2025-03-01",
            "Last_Demo_At__c": "2025-03-01T10:00:00+02:00",
        }
    )
    assert created["success"] is True and created["errors"] == []
    assert re.match(r"^00Q[0-9A-Za-z]{15}$", created["id"])
    record = sf.Lead.get(created["id"])
    assert record["attributes"] == {
        "type": "Lead",
        "url": f"/services/data/v59.0/sobjects/Lead/{created['id']}",
    }
    assert record["Name"] == "Round"
    assert record["Budget__c"] == 1500.5
    assert record["Last_Demo_At__c"] == "2025-03-01T08:00:00.000+0000"
    assert record["Status"] == "Open - Not Contacted"
    assert record["IsDeleted"] is False and record["Title"] is None
    assert DATETIME_RE.match(record["CreatedDate"])
    assert record["OwnerId"] == record["CreatedById"] and record["OwnerId"].startswith("005")
    assert sf.Lead.update(created["id"], {"FirstName": "Ronda"}) == 204
    updated = sf.Lead.get(created["id"])
    assert updated["Name"] == "Ronda Round"
    assert updated["SystemModstamp"] >= record["SystemModstamp"]
    assert sf.Lead.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.Lead.get(created["id"])
    assert caught.value.content == [
        {"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED", "fields": []}
    ]


def test_retrieve_with_a_field_list_and_a_15_char_id(sandbox_org, sf):
    lead = sf.Lead.create({"LastName": "Fields", "Company": "F"})
    body = _get(
        sandbox_org, f"/services/data/v59.0/sobjects/Lead/{lead['id'][:15]}?fields=LastName,Company"
    ).json()
    assert set(body) == {"attributes", "LastName", "Company"}


def test_upsert_by_external_id_creates_then_updates(sf, unique):
    key = f"p-{unique}"
    created = sf.Lead.upsert(
        f"pi__Pardot_Prospect_Id__c/{key}",
        {"LastName": "Upsert", "Company": "U"},
        raw_response=True,
    )
    assert created.status_code == 201
    assert created.json()["created"] is True
    updated = sf.Lead.upsert(
        f"pi__Pardot_Prospect_Id__c/{key}", {"Company": "U2"}, raw_response=True
    )
    assert updated.status_code == 200
    assert updated.json() == {
        "id": created.json()["id"],
        "success": True,
        "errors": [],
        "created": False,
    }
    fetched = sf.Lead.get_by_custom_id("pi__Pardot_Prospect_Id__c", key)
    assert fetched["Company"] == "U2"


def test_upsert_on_a_value_shared_by_two_records_is_300(sandbox_org, unique):
    admin = sandbox_org.admin()
    for _ in range(2):
        admin.Subscription__c.create({"Name": "Twin", "Legacy_Id__c": f"L{unique}"})
    with pytest.raises(SalesforceMoreThanOneRecord) as caught:
        admin.Subscription__c.upsert(f"Legacy_Id__c/L{unique}", {"Seats__c": 3})
    assert caught.value.status == 300
    assert all(
        url.startswith("/services/data/v59.0/sobjects/Subscription__c/a00")
        for url in caught.value.content
    )


def test_upsert_on_a_non_external_id_field_is_not_found(sf):
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.Lead.upsert("Company/Acme", {"LastName": "X"})
    assert caught.value.content[0]["errorCode"] == "NOT_FOUND"


def test_get_updated_and_deleted(sf):
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)
    lead = sf.Lead.create({"LastName": "Changes", "Company": "C"})
    gone = sf.Lead.create({"LastName": "Gone", "Company": "C"})
    sf.Lead.delete(gone["id"])
    end = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)
    updated = sf.Lead.updated(start, end)
    assert lead["id"] in updated["ids"] and gone["id"] not in updated["ids"]
    assert DATETIME_RE.match(updated["latestDateCovered"])
    deleted = sf.Lead.deleted(start, end)
    assert gone["id"] in [d["id"] for d in deleted["deletedRecords"]]
    assert DATETIME_RE.match(deleted["deletedRecords"][0]["deletedDate"])


@pytest.mark.parametrize("body", [b"{not json", b"", b'{"LastName": ', b"[1, 2"])
def test_malformed_json_is_json_parser_error(sandbox_org, body):
    token = sandbox_org.token()["access_token"]
    response = sandbox_org.session().post(
        f"{sandbox_org.instance_url}/services/data/v59.0/sobjects/Lead/",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_a_chunked_json_body_is_read_whole(sandbox_org, sf, unique):
    token = sandbox_org.token()["access_token"]
    body = f'{{"LastName": "Chunked{unique}", "Company": "Chunks"}}'.encode()
    response = sandbox_org.session().post(
        f"{sandbox_org.instance_url}/services/data/v59.0/sobjects/Lead/",
        data=(body[i : i + 7] for i in range(0, len(body), 7)),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.request.headers["Transfer-Encoding"] == "chunked"
    assert response.status_code == 201, response.text
    assert sf.Lead.get(response.json()["id"])["LastName"] == f"Chunked{unique}"


def test_unknown_object_and_resource_are_not_found(sf):
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.Widget__c.create({"Name": "x"})
    assert caught.value.content == [
        {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}
    ]
    with pytest.raises(SalesforceResourceNotFound):
        sf.restful("nothing/here")


def test_wrong_method_is_405_in_salesforce_shape(sf):
    with pytest.raises(SalesforceGeneralError) as caught:
        sf.restful("sobjects/Lead/describe", method="POST")
    assert caught.value.status == 405
    assert caught.value.content[0]["errorCode"] == "METHOD_NOT_ALLOWED"


def test_oversized_body_is_refused_in_salesforce_shape(sandbox_org):
    token = sandbox_org.token()["access_token"]
    big = b'{"LastName": "' + b"x" * (21 * 1024 * 1024) + b'"}'
    response = sandbox_org.session().post(
        f"{sandbox_org.instance_url}/services/data/v59.0/sobjects/Lead/",
        data=big,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_unknown_record_id_is_not_found_and_a_bad_id_is_malformed(sf):
    with pytest.raises(SalesforceResourceNotFound):
        sf.Lead.get("00Q5g00000ZZZZZEA5")
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Lead.update("bogus", {"LastName": "x"})
    assert caught.value.content == [
        {
            "message": "Lead ID: id value of incorrect type: bogus",
            "errorCode": "MALFORMED_ID",
            "fields": ["Id"],
        }
    ]


def test_paths_with_and_without_trailing_slashes(sandbox_org):
    for path in (
        "/services/data/v59.0/sobjects/Lead/describe",
        "/services/data/v59.0/sobjects/Lead/describe/",
        "/services/data/v59.0/limits",
        "/services/data/v59.0/limits/",
    ):
        assert _get(sandbox_org, path).status_code == 200


def test_deleting_an_opportunity_sends_its_contact_roles_to_the_recycle_bin(sf):
    [role] = sf.query("SELECT Id, OpportunityId FROM OpportunityContactRole LIMIT 1")["records"]
    opportunity = sf.Opportunity.get(role["OpportunityId"])
    made = sf.Opportunity.create(
        {
            "Name": "Cascade check",
            "AccountId": opportunity["AccountId"],
            "StageName": "Prospecting",
            "CloseDate": "2027-01-31",
        }
    )["id"]
    contact = sf.query("SELECT Id FROM Contact LIMIT 1")["records"][0]["Id"]
    sf.OpportunityContactRole.create({"OpportunityId": made, "ContactId": contact})
    sf.Opportunity.delete(made)
    where = f"FROM OpportunityContactRole WHERE OpportunityId = '{made}'"
    assert sf.query(f"SELECT Id {where}")["totalSize"] == 0
    [gone] = sf.query_all(f"SELECT Id, IsDeleted {where}", include_deleted=True)["records"]
    assert gone["IsDeleted"] is True
