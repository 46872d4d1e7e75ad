"""Person accounts in the demo org, through simple-salesforce: create, mirror, query, upsert,
describe, delete and lead conversion (sandbox/person.py)."""

import csv
import io
import time

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

EXT = "pi__Pardot_Prospect_Id__pc"


def _fails(call, *args):
    with pytest.raises(SalesforceMalformedRequest) as caught:
        call(*args)
    assert caught.value.status == 400
    return caught.value.content[0]


def _person_type(sf) -> str:
    rows = sf.query(
        "SELECT Id, DeveloperName, IsPersonType FROM RecordType WHERE SobjectType = 'Account'"
    )["records"]
    return next(r["Id"] for r in rows if r["IsPersonType"])


def _account(sf, account_id: str) -> dict:
    return sf.query(
        "SELECT Id, Name, IsPersonAccount, PersonContactId, PersonEmail, FirstName, LastName, "
        "PersonTitle, PersonMailingCity, PersonMailingCountryCode, Customer_Comment__pc, "
        f"{EXT}, SystemModstamp, RecordTypeId FROM Account WHERE Id = '{account_id}'"
    )["records"][0]


def _contact(sf, contact_id: str) -> dict:
    return sf.query(
        "SELECT Id, Name, IsPersonAccount, AccountId, Email, Title, MailingCity, "
        "Customer_Comment__c, pi__Pardot_Prospect_Id__c, IsDeleted FROM Contact "
        f"WHERE Id = '{contact_id}'"
    )["records"][0]


def test_creating_with_the_person_record_type_creates_the_person_contact(sf, unique):
    email = f"pa{unique}@example.com"
    made = sf.Account.create(
        {
            "RecordTypeId": _person_type(sf),
            "FirstName": "Ada",
            "LastName": f"Person{unique}",
            "PersonEmail": email,
            "PersonTitle": "Buyer",
            "PersonMailingCity": "Austin",
            "PersonMailingCountry": "United States",
            "Customer_Comment__pc": "hello",
            EXT: f"pa-{unique}",
        }
    )
    account = _account(sf, made["id"])
    assert account["IsPersonAccount"] is True
    assert account["Name"] == f"Ada Person{unique}"
    assert account["PersonMailingCountryCode"] == "US"
    contact = _contact(sf, account["PersonContactId"])
    assert account["PersonContactId"].startswith("003")
    assert contact["IsPersonAccount"] is True and contact["AccountId"] == made["id"]
    assert contact["Email"] == email and contact["Title"] == "Buyer"
    assert contact["MailingCity"] == "Austin" and contact["Customer_Comment__c"] == "hello"
    assert contact["pi__Pardot_Prospect_Id__c"] == f"pa-{unique}"
    assert contact["Name"] == f"Ada Person{unique}"


def test_name_is_first_and_last_name_without_the_salutation(sf, unique):
    made = sf.Account.create({"Salutation": "Ms.", "FirstName": "Ada", "LastName": f"Sal{unique}"})
    account = _account(sf, made["id"])
    assert account["Name"] == f"Ada Sal{unique}"
    assert _contact(sf, account["PersonContactId"])["Name"] == f"Ada Sal{unique}"
    sf.Account.update(made["id"], {"Salutation": "Dr.", "FirstName": "Bea"})
    account = _account(sf, made["id"])
    assert account["Name"] == f"Bea Sal{unique}"
    assert _contact(sf, account["PersonContactId"])["Name"] == f"Bea Sal{unique}"


def test_last_name_without_name_makes_a_person_account(sf, unique):
    made = sf.Account.create({"LastName": f"Solo{unique}"})
    account = _account(sf, made["id"])
    assert account["IsPersonAccount"] is True and account["RecordTypeId"] == _person_type(sf)
    business = sf.Account.create({"Name": f"Biz {unique}"})
    assert _account(sf, business["id"])["IsPersonAccount"] is False
    assert _account(sf, business["id"])["PersonContactId"] is None


def test_name_on_a_person_account_and_person_fields_on_a_business_account_fail(sf, unique):
    person = sf.Account.create({"LastName": f"Named{unique}"})
    assert _fails(sf.Account.update, person["id"], {"Name": "Renamed"}) == {
        "errorCode": "INVALID_FIELD_FOR_INSERT_UPDATE",
        "message": "Account: bad field names on insert/update call: Name",
        "fields": ["Name"],
    }
    error = _fails(
        sf.Account.create, {"RecordTypeId": _person_type(sf), "Name": "X", "LastName": "Y"}
    )
    assert error["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    business = sf.Account.create({"Name": f"Biz2 {unique}"})
    assert _fails(
        sf.Account.update, business["id"], {"LastName": "Nope", "PersonEmail": "a@b.io"}
    ) == {
        "errorCode": "INVALID_FIELD_FOR_INSERT_UPDATE",
        "message": "Account: bad field names on insert/update call: LastName, PersonEmail",
        "fields": ["LastName", "PersonEmail"],
    }
    error = _fails(sf.Account.create, {"Name": f"Biz3 {unique}", "Customer_Comment__pc": "x"})
    assert error["fields"] == ["Customer_Comment__pc"]


def test_a_pc_external_id_held_by_a_business_contact_is_a_duplicate(sf):
    holder = sf.query("SELECT Id FROM Contact WHERE pi__Pardot_Prospect_Id__c = 'c-1'")
    error = _fails(sf.Account.create, {"LastName": "Dup", EXT: "c-1"})
    assert error["errorCode"] == "DUPLICATE_VALUE"
    assert error["message"].endswith(holder["records"][0]["Id"][:15])
    records = [{"attributes": {"type": "Account"}, EXT: "c-1", "LastName": "Dup"}] * 2
    results = sf.restful(
        f"composite/sobjects/Account/{EXT}", method="PATCH", json={"records": records}
    )
    assert [r["errors"][0]["statusCode"] for r in results] == ["DUPLICATE_VALUE"] * 2


def test_person_account_needs_a_last_name(sf):
    error = _fails(sf.Account.create, {"RecordTypeId": _person_type(sf), "FirstName": "Only"})
    assert error == {
        "errorCode": "REQUIRED_FIELD_MISSING",
        "message": "Required fields are missing: [LastName]",
        "fields": ["LastName"],
    }


def test_updating_person_fields_keeps_the_contact_in_step_and_moves_the_modstamp(sf, unique):
    made = sf.Account.create({"FirstName": "Bo", "LastName": f"Step{unique}"})
    before = _account(sf, made["id"])
    time.sleep(0.01)
    sf.Account.update(
        made["id"],
        {"PersonEmail": f"step{unique}@example.com", "LastName": f"Stepped{unique}"},
    )
    after = _account(sf, made["id"])
    assert after["SystemModstamp"] > before["SystemModstamp"]
    assert after["Name"] == f"Bo Stepped{unique}"
    contact = _contact(sf, after["PersonContactId"])
    assert contact["Email"] == f"step{unique}@example.com"
    assert contact["Name"] == f"Bo Stepped{unique}"


def test_the_person_contact_cannot_be_written_or_deleted_directly(sf, unique):
    made = sf.Account.create({"LastName": f"Guard{unique}"})
    contact_id = _account(sf, made["id"])["PersonContactId"]
    expected = {
        "errorCode": "INSUFFICIENT_ACCESS_OR_READONLY",
        "message": "insufficient access rights on object id",
        "fields": [],
    }
    assert _fails(sf.Contact.update, contact_id, {"Title": "x"}) == expected
    assert _fails(sf.Contact.delete, contact_id) == expected


def test_deleting_the_account_deletes_the_person_contact(sf, sandbox_org, unique):
    made = sf.Account.create({"LastName": f"Gone{unique}"})
    contact_id = _account(sf, made["id"])["PersonContactId"]
    sandbox_org.control(
        "set_object_permission", profile="Leadbridge Connector", sobject="Account", can_delete=True
    )
    try:
        sf.Account.delete(made["id"])
    finally:
        sandbox_org.control(
            "set_object_permission",
            profile="Leadbridge Connector",
            sobject="Account",
            can_delete=False,
        )
    assert sf.query(f"SELECT COUNT() FROM Contact WHERE Id = '{contact_id}'")["totalSize"] == 0
    deleted = sf.query_all(f"SELECT Id, IsDeleted FROM Contact WHERE Id = '{contact_id}'")
    assert deleted["totalSize"] in (0, 1)
    sandbox_org.control("undelete", record_id=made["id"])
    assert _contact(sf, contact_id)["IsDeleted"] is False


def test_soql_on_person_email_and_is_person_account(sf, unique):
    emails = [f"q{unique}-{i}@example.com" for i in range(3)]
    made = [
        sf.Account.create({"LastName": f"Q{i}", "PersonEmail": email})["id"]
        for i, email in enumerate(emails)
    ]
    listed = ", ".join(f"'{e.upper()}'" for e in emails)
    rows = sf.query(
        "SELECT Id, PersonEmail, IsPersonAccount, PersonContactId FROM Account "
        f"WHERE PersonEmail IN ({listed}) AND IsPersonAccount = true ORDER BY Id"
    )["records"]
    assert [r["Id"] for r in rows] == sorted(made)
    assert all(r["IsPersonAccount"] and r["PersonContactId"] for r in rows)
    persons = sf.query("SELECT COUNT() FROM Account WHERE IsPersonAccount = true")["totalSize"]
    business = sf.query("SELECT COUNT() FROM Account WHERE IsPersonAccount = false")["totalSize"]
    everything = sf.query("SELECT COUNT() FROM Account")["totalSize"]
    assert persons >= 5 and business >= 300 and persons + business == everything


def test_demo_org_has_person_accounts(sf):
    rows = sf.query(
        "SELECT Name, PersonEmail, PersonContact.Email FROM Account "
        "WHERE PersonEmail = 'priya.raman@example.com'"
    )["records"]
    assert rows[0]["Name"] == "Priya Raman"
    assert rows[0]["PersonContact"]["Email"] == "priya.raman@example.com"


def test_collections_upsert_on_the_pc_external_id(sf, unique):
    records = [
        {"attributes": {"type": "Account"}, EXT: f"cu{unique}-{i}", "LastName": f"Up{i}"}
        for i in range(3)
    ]
    first = sf.restful(
        f"composite/sobjects/Account/{EXT}",
        method="PATCH",
        json={"allOrNone": False, "records": records},
    )
    assert [r["created"] for r in first] == [True, True, True]
    records[0]["PersonEmail"] = f"cu{unique}@example.com"
    second = sf.restful(
        f"composite/sobjects/Account/{EXT}",
        method="PATCH",
        json={"allOrNone": False, "records": records[:1]},
    )
    assert second[0] == {"id": first[0]["id"], "success": True, "errors": [], "created": False}
    contact = _contact(sf, _account(sf, first[0]["id"])["PersonContactId"])
    assert contact["Email"] == f"cu{unique}@example.com"
    assert contact["pi__Pardot_Prospect_Id__c"] == f"cu{unique}-0"


def test_bulk_upsert_on_the_pc_external_id(sf, unique):
    rows = [
        {EXT: f"bk{unique}-{i}", "LastName": f"Bulk{i}", "PersonEmail": f"bk{unique}{i}@x.io"}
        for i in range(3)
    ]
    first = sf.bulk2.Account.upsert(records=rows, external_id_field=EXT, wait=0.2)
    assert first[0]["numberRecordsFailed"] == 0
    again = sf.bulk2.Account.upsert(
        records=[{**rows[0], "PersonTitle": "Bulked"}], external_id_field=EXT, wait=0.2
    )
    second = list(
        csv.DictReader(io.StringIO(sf.bulk2.Account.get_successful_records(again[0]["job_id"])))
    )
    assert second[0]["sf__Created"] == "false"
    account = _account(sf, second[0]["sf__Id"])
    assert account["PersonTitle"] == "Bulked" and account["IsPersonAccount"] is True
    assert _contact(sf, account["PersonContactId"])["Title"] == "Bulked"


def test_describe_lists_person_fields_with_their_flags(sf):
    fields = {f["name"]: f for f in sf.Account.describe()["fields"]}
    for name in ("IsPersonAccount", "PersonContactId"):
        assert not fields[name]["createable"] and not fields[name]["updateable"]
    for name in (
        "FirstName",
        "LastName",
        "Salutation",
        "PersonEmail",
        "PersonTitle",
        "PersonDepartment",
        "PersonMailingStreet",
        "PersonMailingCity",
        "PersonMailingState",
        "PersonMailingPostalCode",
        "PersonMailingCountry",
        "PersonHomePhone",
        "PersonMobilePhone",
        "PersonLeadSource",
        "PersonHasOptedOutOfEmail",
        "PersonDoNotCall",
        "PersonBirthdate",
        "Customer_Comment__pc",
        "pi__score__pc",
        "pi__grade__pc",
        EXT,
        "RecordTypeId",
    ):
        assert fields[name]["createable"] and fields[name]["updateable"], name
    assert fields[EXT]["externalId"] and fields[EXT]["unique"] and fields[EXT]["custom"]
    assert fields["PersonContactId"]["referenceTo"] == ["Contact"]
    assert fields["Sales_Notes__pc"]["updateable"] is False
    assert "Credit_Limit__pc" not in fields
    contact = {f["name"]: f for f in sf.Contact.describe()["fields"]}
    assert contact["IsPersonAccount"]["updateable"] is False
    infos = sf.Account.describe()["recordTypeInfos"]
    assert [(i["developerName"], i["defaultRecordTypeMapping"], i["master"]) for i in infos] == [
        ("Business_Account", True, False),
        ("PersonAccount", False, False),
        ("Master", False, True),
    ]
    assert infos[1]["recordTypeId"] == _person_type(sf)
    lead_infos = sf.Lead.describe()["recordTypeInfos"]
    assert [(i["name"], i["defaultRecordTypeMapping"]) for i in lead_infos] == [("Master", True)]


def test_converting_a_lead_without_company_makes_a_person_account(sf, sandbox_org, unique):
    sandbox_org.control("set_field", sobject="Lead", field="Company", nillable=True)
    try:
        lead = sf.Lead.create(
            {
                "FirstName": "Conv",
                "LastName": f"Person{unique}",
                "Email": f"cv{unique}@x.io",
                "Title": "Owner",
                "City": "Dallas",
                "Customer_Comment__c": "walk-in",
            }
        )
    finally:
        sandbox_org.control("set_field", sobject="Lead", field="Company", nillable=False)
    try:
        made = sandbox_org.control("convert_lead", lead_id=lead["id"])
        _check_conversion(sf, lead["id"], made, unique)
    finally:
        sandbox_org.reset()  # other suites count the demo org's 60 converted leads


def _check_conversion(sf, lead_id: str, made: dict, unique: str) -> None:
    account = _account(sf, made["account"])
    assert account["IsPersonAccount"] is True and account["PersonContactId"] == made["contact"]
    assert account["PersonEmail"] == f"cv{unique}@x.io" and account["PersonTitle"] == "Owner"
    assert account["PersonMailingCity"] == "Dallas"
    assert account["Customer_Comment__pc"] == "walk-in"
    assert account["Name"] == f"Conv Person{unique}"
    contact = _contact(sf, made["contact"])
    assert contact["IsPersonAccount"] is True and contact["AccountId"] == made["account"]
    converted = sf.Lead.get(lead_id)
    assert converted["ConvertedAccountId"] == made["account"]


def test_soap_login_says_the_org_has_person_accounts(sandbox_org):
    body = (
        '<?xml version="1.0" encoding="utf-8" ?><env:Envelope '
        'xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:urn="urn:partner.soap.sforce.com"><env:Body><urn:login>'
        f"<urn:username>{sandbox_org.username}</urn:username>"
        f"<urn:password>{sandbox_org.password}</urn:password>"
        "</urn:login></env:Body></env:Envelope>"
    )
    response = sandbox_org.session().post(
        f"{sandbox_org.instance_url}/services/Soap/u/59.0",
        data=body,
        headers={"Content-Type": "text/xml", "SOAPAction": "login"},
        timeout=30,
    )
    assert response.status_code == 200
    assert "<orgHasPersonAccounts>true</orgHasPersonAccounts>" in response.text
