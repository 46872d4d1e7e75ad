"""Every rule on the single-record path, answered as Salesforce answers it.

Each test asserts the status, the simple-salesforce exception class, errorCode, message and
fields. The same rules on the Collections and Composite paths are in test_collections.py.
"""

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound


def _fails(call, *args):
    with pytest.raises(SalesforceMalformedRequest) as caught:
        call(*args)
    assert caught.value.status == 400
    assert len(caught.value.content) == 1
    return caught.value.content[0]


def _lead(**extra):
    return {"LastName": "Rule", "Company": "Rules Inc", **extra}


# -- data formatting ---------------------------------------------------------------------------


def test_the_guides_example_a_143_character_comment(sf):
    comment = "x" * 143
    error = _fails(sf.Lead.create, _lead(Customer_Comment__c=comment))
    assert error == {
        "errorCode": "STRING_TOO_LONG",
        "fields": ["Customer_Comment__c"],
        "message": f"Customer Comment: data value too large: {comment} (max length=100)",
    }


def test_standard_field_lengths(sf):
    error = _fails(sf.Lead.create, _lead(LastName="L" * 81))
    assert error["errorCode"] == "STRING_TOO_LONG"
    assert error["message"].endswith("(max length=80)")


def test_name_is_first_and_last_name_without_the_salutation(sf, unique):
    lead = sf.Lead.create(_lead(Salutation="Dr.", FirstName="Ada", LastName=f"Name{unique}"))
    contact = sf.Contact.create(
        {"Salutation": "Mr.", "LastName": f"Name{unique}", "Email": f"n{unique}@x.io"}
    )
    assert sf.Lead.get(lead["id"])["Name"] == f"Ada Name{unique}"
    assert sf.Contact.get(contact["id"])["Name"] == f"Name{unique}"


def test_text_into_a_number_field_is_a_json_parser_error(sf):
    error = _fails(sf.Lead.create, _lead(Budget__c="lots"))
    assert error["errorCode"] == "JSON_PARSER_ERROR"
    assert error["message"].startswith(
        "Cannot deserialize instance of double from VALUE_STRING value lots"
    )


def test_a_bad_date_is_invalid_type_on_field_in_record(sf):
    error = _fails(sf.Lead.create, _lead(Demo_Date__c="31/12/2024"))
    assert error == {
        "errorCode": "INVALID_TYPE_ON_FIELD_IN_RECORD",
        "fields": ["Demo_Date__c"],
        "message": "Demo Date: value not of required type: 31/12/2024",
    }


def test_an_object_for_a_text_field_is_a_json_parser_error(sf):
    error = _fails(sf.Lead.create, _lead(Title={"a": 1}))
    assert error["errorCode"] == "JSON_PARSER_ERROR"


def test_invalid_email(sf):
    error = _fails(sf.Lead.create, _lead(Email="not an email"))
    assert error == {
        "errorCode": "INVALID_EMAIL_ADDRESS",
        "fields": ["Email"],
        "message": "Email: invalid email address: not an email",
    }


def test_restricted_picklist(sf):
    error = _fails(sf.Lead.create, _lead(Product_Interest__c="Gizmos"))
    assert error == {
        "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "fields": ["Product_Interest__c"],
        "message": "Product Interest: bad value for restricted picklist field: Gizmos",
    }


def test_unrestricted_picklists_take_any_value(sf):
    assert sf.Lead.create(_lead(Region__c="LATAM"))["success"]


def test_required_fields(sf):
    error = _fails(sf.Lead.create, {"FirstName": "No"})
    assert error == {
        "errorCode": "REQUIRED_FIELD_MISSING",
        "fields": ["LastName", "Company"],
        "message": "Required fields are missing: [LastName, Company]",
    }


def test_clearing_a_required_field_on_update(sf):
    lead = sf.Lead.create(_lead())
    error = _fails(sf.Lead.update, lead["id"], {"Company": None})
    assert error["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert error["fields"] == ["Company"]


def test_state_without_country(sf):
    error = _fails(sf.Lead.create, _lead(State="California"))
    assert error == {
        "errorCode": "FIELD_INTEGRITY_EXCEPTION",
        "fields": ["State"],
        "message": "A country/territory must be specified before specifying a "
        "state value for field: State/Province",
    }


def test_unknown_state_and_country_values(sf):
    error = _fails(sf.Lead.create, _lead(Country="Atlantis"))
    assert error["errorCode"] == "FIELD_INTEGRITY_EXCEPTION" and error["fields"] == ["Country"]
    error = _fails(sf.Lead.create, _lead(Country="US", State="Narnia"))
    assert error["errorCode"] == "FIELD_INTEGRITY_EXCEPTION" and error["fields"] == ["State"]


def test_state_and_country_codes_are_filled_in(sf):
    lead = sf.Lead.create(_lead(Country="US", State="ca"))
    record = sf.Lead.get(lead["id"])
    assert (record["Country"], record["CountryCode"]) == ("United States", "US")
    assert (record["State"], record["StateCode"]) == ("California", "CA")


def test_a_reference_to_the_wrong_object_and_a_malformed_reference(sf):
    account = sf.query("SELECT Id FROM Account LIMIT 1")["records"][0]["Id"]
    lead = sf.query("SELECT Id FROM Lead LIMIT 1")["records"][0]["Id"]
    error = _fails(sf.Contact.create, {"LastName": "C", "Email": "c@x.io", "AccountId": lead})
    assert error == {
        "errorCode": "FIELD_INTEGRITY_EXCEPTION",
        "fields": ["AccountId"],
        "message": f"Account ID: id value of incorrect type: {lead}",
    }
    error = _fails(sf.Contact.create, {"LastName": "C", "Email": "c@x.io", "AccountId": "xyz"})
    assert error == {
        "errorCode": "MALFORMED_ID",
        "fields": ["AccountId"],
        "message": "Account ID: id value of incorrect type: xyz",
    }
    assert sf.Contact.create({"LastName": "C", "Phone": "1", "AccountId": account})["success"]


# -- access -----------------------------------------------------------------------------------


def test_unknown_field(sf):
    error = _fails(sf.Lead.create, _lead(Favourite_Colour__c="red"))
    assert error == {
        "errorCode": "INVALID_FIELD",
        "fields": [],
        "message": "No such column 'Favourite_Colour__c' on sobject of type Lead",
    }


def test_a_field_hidden_by_field_level_security_does_not_exist_for_the_user(sf, sandbox_org):
    error = _fails(sf.Lead.create, _lead(Credit_Limit__c=10))
    assert error["errorCode"] == "INVALID_FIELD"
    assert sandbox_org.admin().Lead.create(_lead(Credit_Limit__c=10))["success"]


def test_a_read_only_field(sf):
    error = _fails(sf.Lead.create, _lead(Sales_Notes__c="hi", IsConverted=True))
    assert error == {
        "errorCode": "INVALID_FIELD_FOR_INSERT_UPDATE",
        "fields": ["Sales_Notes__c", "IsConverted"],
        "message": "Unable to create/update fields: Sales_Notes__c, IsConverted. Please check the "
        "security settings of this field and verify that it is read/write for your "
        "profile or permission set.",
    }


def test_revoking_field_edit_access_takes_effect_at_once(sf, sandbox_org):
    params = {"profile": "Leadbridge Connector", "sobject": "Lead", "field": "Region__c"}
    sandbox_org.control("set_field_permission", **params, readable=True, editable=False)
    try:
        error = _fails(sf.Lead.create, _lead(Region__c="EMEA"))
        assert error["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    finally:
        sandbox_org.control("set_field_permission", **params, readable=True, editable=True)
    assert sf.Lead.create(_lead(Region__c="EMEA"))["success"]


def test_assigning_to_a_queue_the_user_cannot_see(sf):
    queues = {
        r["Name"]: r["Id"]
        for r in sf.query("SELECT Id, Name FROM Group WHERE Type = 'Queue'")["records"]
    }
    assert sf.Lead.create(_lead(OwnerId=queues["Inbound Leads"]))["success"]
    error = _fails(sf.Lead.create, _lead(OwnerId=queues["Enterprise Leads"]))
    assert error == {
        "errorCode": "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
        "fields": [],
        "message": "insufficient access rights on cross-reference id: "
        f"{queues['Enterprise Leads']}",
    }


def test_editing_a_read_only_shared_record(sf):
    unit_b = sf.query("SELECT Id FROM Opportunity WHERE Owner.Division = 'Unit B' LIMIT 1")
    opp = unit_b["records"][0]["Id"]
    error = _fails(sf.Opportunity.update, opp, {"Description": "mine now"})
    assert error == {
        "errorCode": "INSUFFICIENT_ACCESS_OR_READONLY",
        "fields": [],
        "message": "insufficient access rights on object id",
    }


def test_object_permission_without_delete(sf):
    account = sf.Account.create({"Name": "Undeletable"})
    error = _fails(sf.Account.delete, account["id"])
    assert error["errorCode"] == "INSUFFICIENT_ACCESS_OR_READONLY"


def test_private_sharing_hides_the_other_units_records(sf, sandbox_org):
    count = "SELECT COUNT() FROM Lead WHERE Owner.Division = 'Unit B'"
    hidden = sf.query("SELECT Id FROM Lead WHERE Owner.Division = 'Unit B' LIMIT 1")
    hidden_id = hidden["records"][0]["Id"]
    assert sf.query(count)["totalSize"] > 0
    sandbox_org.control("set_sharing", sobject="Lead", model="Private")
    try:
        assert sf.query(count)["totalSize"] == 0
        with pytest.raises(SalesforceResourceNotFound):
            sf.Lead.get(hidden_id)
        assert sandbox_org.admin().query(count)["totalSize"] > 0
    finally:
        sandbox_org.control("set_sharing", sobject="Lead", model="ReadWrite")


# -- process alignment ------------------------------------------------------------------------


def test_validation_rule(sf):
    error = _fails(sf.Lead.create, _lead(Phone="call me"))
    assert error == {
        "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "fields": ["Phone"],
        "message": "Phone numbers may only contain digits, spaces and + ( ) - .",
    }


def test_validation_rule_with_combined_conditions(sf):
    error = _fails(sf.Lead.create, _lead(Status="Working - Contacted"))
    assert error["message"] == "Working leads need a Lead Source."
    assert sf.Lead.create(_lead(Status="Working - Contacted", LeadSource="Web"))["success"]
    error = _fails(sf.Contact.create, {"LastName": "Nobody"})
    assert error == {
        "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "fields": [],
        "message": "Enter an email address or a phone number.",
    }


def test_blocking_duplicate_rule(sf, unique):
    email = f"dup{unique}@example.com"
    first = sf.Lead.create(_lead(Email=email))
    error = _fails(sf.Lead.create, _lead(Email=email.upper()))
    assert error["errorCode"] == "DUPLICATES_DETECTED"
    assert error["message"].startswith("You're creating a duplicate record.")
    result = error["duplicateResult"]
    assert result["allowSave"] is False
    assert result["duplicateRule"] == "Standard_Lead_Duplicate_Rule"
    match = result["matchResults"][0]
    assert match["rule"] == "Standard_Lead_Match_Rule_v1_0"
    assert match["matchRecords"][0]["record"]["Id"] == first["id"]


def test_alert_duplicate_rule_can_be_overridden_with_the_header(sf, unique):
    email = f"alert{unique}@example.com"
    sf.Contact.create({"LastName": "One", "Email": email})
    error = _fails(sf.Contact.create, {"LastName": "Two", "Email": email})
    assert error["errorCode"] == "DUPLICATES_DETECTED"
    assert error["message"] == "Use one of these records?"
    assert error["duplicateResult"]["allowSave"] is True
    saved = sf.Contact.create(
        {"LastName": "Two", "Email": email},
        headers={"Sforce-Duplicate-Rule-Header": "allowSave=true"},
    )
    assert saved["success"]


def test_unique_external_id(sf, unique):
    sf.Lead.create(_lead(pi__Pardot_Prospect_Id__c=f"u{unique}"))
    error = _fails(sf.Lead.create, _lead(pi__Pardot_Prospect_Id__c=f"U{unique}"))
    assert error["errorCode"] == "DUPLICATE_VALUE"
    assert error["message"].startswith(
        "duplicate value found: pi__Pardot_Prospect_Id__c duplicates value on record with id: 00Q"
    )
    assert len(error["message"].rsplit(" ", 1)[1]) == 15


def test_converted_leads_cannot_be_updated(sf, sandbox_org):
    lead = sf.query("SELECT Id FROM Lead WHERE IsConverted = true LIMIT 1")["records"][0]["Id"]
    error = _fails(sf.Lead.update, lead, {"Title": "CEO"})
    assert error == {
        "errorCode": "CANNOT_UPDATE_CONVERTED_LEAD",
        "fields": [],
        "message": "cannot reference converted lead",
    }
    assert sandbox_org.admin().Lead.update(lead, {"Title": "CEO"}) == 204


def test_deleted_records(sf):
    lead = sf.Lead.create(_lead())
    sf.Lead.delete(lead["id"])
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.Lead.update(lead["id"], {"Title": "x"})
    assert caught.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_duplicate_campaign_member(sf):
    campaign = sf.query("SELECT Id FROM Campaign LIMIT 1")["records"][0]["Id"]
    lead = sf.Lead.create(_lead())["id"]
    assert sf.CampaignMember.create({"CampaignId": campaign, "LeadId": lead})["success"]
    error = _fails(sf.CampaignMember.create, {"CampaignId": campaign, "LeadId": lead})
    assert error == {
        "errorCode": "DUPLICATE_VALUE",
        "fields": [],
        "message": "Already a campaign member.",
    }


# -- trigger rules (Apex triggers that throw) ----------------------------------------------------

BLOCKED = "Blocked Industries"


def _trigger_message(event: str) -> str:
    return (
        f"LeadTrigger: execution of {event}\n\ncaused by: System.DmlException: Insert failed. "
        "First exception on row 0; first error: INVALID_CROSS_REFERENCE_KEY, No territory for "
        f"account {BLOCKED}: []\n\nTrigger.LeadTrigger: line 27, column 1"
    )


def test_a_trigger_refuses_a_blocked_company_on_insert(sf):
    error = _fails(sf.Lead.create, _lead(Company=BLOCKED))
    assert error == {
        "errorCode": "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
        "fields": [],
        "message": _trigger_message("BeforeInsert"),
    }


def test_a_trigger_refuses_a_blocked_company_on_update_before_validation_rules(sf):
    lead = sf.Lead.create(_lead())
    # Phone_Format would also fail: before triggers run first.
    error = _fails(sf.Lead.update, lead["id"], {"Company": BLOCKED, "Phone": "call me"})
    assert error["errorCode"] == "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY"
    assert error["message"] == _trigger_message("BeforeUpdate")


def test_a_trigger_failure_in_collections_and_bulk(sf, unique):
    results = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "records": [
                {"attributes": {"type": "Lead"}, "LastName": "T1", "Company": BLOCKED},
                {"attributes": {"type": "Lead"}, "LastName": "T2", "Company": "Fine"},
            ]
        },
    )
    assert results[0]["errors"][0]["statusCode"] == "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY"
    assert results[1]["success"] is True
    job = sf.bulk2.Lead.insert(
        records=[{"LastName": "TB", "Company": BLOCKED, "Email": f"tb{unique}@x.io"}], wait=0.2
    )
    assert job[0]["numberRecordsFailed"] == 1
    failed = sf.bulk2.Lead.get_failed_records(job[0]["job_id"])
    assert "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY:LeadTrigger: execution of BeforeInsert" in failed
