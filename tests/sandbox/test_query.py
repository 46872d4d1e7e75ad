"""SOQL through simple-salesforce: parsing, evaluation, paging and Salesforce's errors."""

import datetime as dt

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sandbox import soql
from sandbox.errors import ApiError


def _error(sf, text):
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query(text)
    assert caught.value.status == 400
    return caught.value.content[0]


def test_the_grammar_parses_the_supported_language():
    query = soql.parse(
        "SELECT Id, Account.Name FROM Contact WHERE (Email LIKE '%@x.io' OR "
        "NOT Name = null) AND CreatedDate >= LAST_N_DAYS:30 AND Id NOT IN "
        "('003000000000001') ORDER BY Name DESC NULLS LAST LIMIT 5 OFFSET 2"
    )
    assert query.sobject == "Contact"
    assert [f.text for f in query.fields] == ["Id", "Account.Name"]
    assert (query.limit, query.offset, query.order[0].descending) == (5, 2, True)


def test_the_parser_reports_unexpected_tokens_with_a_caret():
    with pytest.raises(ApiError) as caught:
        soql.parse("SELECT Id FORM Lead")
    assert caught.value.code == "MALFORMED_QUERY"
    assert caught.value.message == (
        "\nSELECT Id FORM Lead\n          ^\nERROR at Row:1:Column:11\nunexpected token: 'FORM'"
    )


def test_records_carry_attributes_and_only_selected_fields(sf):
    result = sf.query("SELECT Id, LastName FROM Lead LIMIT 2")
    assert result["totalSize"] == 2 and result["done"] is True
    record = result["records"][0]
    assert list(record) == ["attributes", "Id", "LastName"]
    assert record["attributes"]["url"] == f"/services/data/v59.0/sobjects/Lead/{record['Id']}"


def test_field_names_come_back_in_api_spelling(sf):
    record = sf.query("SELECT id, lastname FROM lead LIMIT 1")["records"][0]
    assert list(record)[1:] == ["Id", "LastName"]


def test_parent_relationships_nest_records(sf):
    record = sf.query(
        "SELECT Name, Account.Name, Account.Owner.Email, Owner.Name FROM Contact "
        "WHERE AccountId != null LIMIT 1"
    )["records"][0]
    assert record["Account"]["attributes"]["type"] == "Account"
    assert record["Account"]["Name"]
    assert record["Account"]["Owner"]["Email"].endswith("@acme.example")
    assert record["Owner"]["attributes"]["type"] == "User"
    orphan = sf.Contact.create({"LastName": "Orphan", "Phone": "1"})
    found = sf.query(f"SELECT Account.Name FROM Contact WHERE Id = '{orphan['id']}'")
    assert found["records"][0]["Account"] is None


def test_child_subquery(sf):
    record = sf.query(
        "SELECT Name, (SELECT LastName FROM Contacts) FROM Account WHERE Name LIKE '% 000'"
    )["records"][0]
    assert record["Contacts"]["totalSize"] == 4
    assert record["Contacts"]["records"][0]["attributes"]["type"] == "Contact"


def test_count(sf):
    result = sf.query("SELECT COUNT() FROM Lead WHERE IsConverted = true")
    assert result == {"totalSize": 60, "done": True, "records": []}


@pytest.mark.parametrize(
    ("where", "check"),
    [
        (
            "Email = 'ADA.LOVELACE.100000@EXAMPLE.COM'",
            lambda r: r == [] or all(x["Email"] == "ada.lovelace.100000@example.com" for x in r),
        ),
        (
            "Company LIKE 'Globex%'",
            lambda r: r and all(x["Company"].startswith("Globex") for x in r),
        ),
        ("pi__score__c > 290", lambda r: r and all(x["pi__score__c"] > 290 for x in r)),
        ("pi__score__c <= 2", lambda r: all(x["pi__score__c"] <= 2 for x in r)),
        (
            "Region__c IN ('EMEA', 'APAC')",
            lambda r: r and all(x["Region__c"] in ("EMEA", "APAC") for x in r),
        ),
        (
            "Region__c NOT IN ('EMEA', 'APAC')",
            lambda r: r and all(x["Region__c"] not in ("EMEA", "APAC") for x in r),
        ),
        ("Title = null", lambda r: r and all(x["Title"] is None for x in r)),
        (
            "Title != null AND (Region__c = 'EMEA' OR Region__c = 'APAC')",
            lambda r: r and all(x["Title"] and x["Region__c"] in ("EMEA", "APAC") for x in r),
        ),
        ("NOT Region__c = 'EMEA'", lambda r: r and all(x["Region__c"] != "EMEA" for x in r)),
        ("IsConverted = false", lambda r: r and all(not x["IsConverted"] for x in r)),
        ("CreatedDate < 2000-01-01T00:00:00Z", lambda r: r == []),
        ("CreatedDate = LAST_N_DAYS:365", lambda r: len(r) > 0),
        ("CreatedDate > TODAY", lambda r: r == []),
        ("ConvertedDate = TODAY", lambda r: len(r) == 60),
    ],
)
def test_where_operators(sf, where, check):
    fields = "Id, Email, Company, pi__score__c, Region__c, Title, IsConverted"
    records = sf.query_all(f"SELECT {fields} FROM Lead WHERE {where}")["records"]
    assert check(records)


def test_includes_on_multi_select_picklists(sf, unique):
    lead = sf.Lead.create(
        {
            "LastName": "Multi",
            "Company": "M",
            "Interests__c": "Email;Events",
            "pi__Pardot_Prospect_Id__c": f"m{unique}",
        }
    )
    base = f"SELECT Id FROM Lead WHERE pi__Pardot_Prospect_Id__c = 'm{unique}' AND Interests__c "
    assert sf.query(base + "INCLUDES ('Events')")["totalSize"] == 1
    assert sf.query(base + "INCLUDES ('Email;Social')")["totalSize"] == 0
    assert sf.query(base + "EXCLUDES ('Social')")["records"][0]["Id"] == lead["id"]


def test_semi_join(sf):
    result = sf.query(
        "SELECT Id FROM Contact WHERE AccountId IN (SELECT Id FROM Account WHERE Name LIKE '% 001')"
    )
    assert result["totalSize"] == 4


def test_order_by_with_nulls_limit_and_offset(sf):
    rows = sf.query(
        "SELECT Title, pi__score__c FROM Lead ORDER BY Title ASC NULLS FIRST, "
        "pi__score__c DESC LIMIT 30"
    )["records"]
    assert rows[0]["Title"] is None
    nulls = [r["pi__score__c"] for r in rows if r["Title"] is None]
    assert nulls == sorted(nulls, reverse=True)
    by_id = [r["Id"] for r in sf.query("SELECT Id FROM Lead ORDER BY Id LIMIT 10")["records"]]
    assert by_id == sorted(by_id)
    offset = sf.query("SELECT Id FROM Lead ORDER BY Id LIMIT 5 OFFSET 5")["records"]
    assert [r["Id"] for r in offset] == by_id[5:]


def test_paging_follows_next_records_url_with_batch_size(sf):
    first = sf.query("SELECT Id FROM Contact", headers={"Sforce-Query-Options": "batchSize=200"})
    assert first["done"] is False and len(first["records"]) == 200
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert len(second["records"]) == 200
    assert not {r["Id"] for r in first["records"]} & {r["Id"] for r in second["records"]}
    everything = sf.query_all("SELECT Id FROM Contact")
    assert everything["totalSize"] == len(everything["records"]) >= 1200


def test_python_evaluated_queries_page_too(sf):
    result = sf.query(
        "SELECT Id FROM Lead WHERE Company LIKE '%' ORDER BY LastName",
        headers={"Sforce-Query-Options": "batchSize=500"},
    )
    assert len(result["records"]) == 500 and not result["done"]
    locator = result["nextRecordsUrl"].rsplit("/", 1)[1]
    assert len(sf.query_more(locator)["records"]) == 500


def test_query_all_includes_deleted_rows(sf, unique):
    lead = sf.Lead.create(
        {"LastName": "Gone", "Company": "G", "pi__Pardot_Prospect_Id__c": f"g{unique}"}
    )
    sf.Lead.delete(lead["id"])
    text = f"SELECT Id, IsDeleted FROM Lead WHERE pi__Pardot_Prospect_Id__c = 'g{unique}'"
    assert sf.query(text)["totalSize"] == 0
    assert sf.query_all(text, include_deleted=True)["records"][0]["IsDeleted"] is True


def test_organization_is_queryable(sf):
    assert sf.is_sandbox() is True


def test_unknown_column(sf):
    error = _error(sf, "SELECT Id, Foo FROM Lead")
    assert error["errorCode"] == "INVALID_FIELD"
    assert error["message"] == (
        "\nSELECT Id, Foo FROM Lead\n           ^\nERROR at Row:1:Column:12\nNo such column "
        "'Foo' on entity 'Lead'. If you are attempting to use a custom field, be sure to append "
        "the '__c' after the custom field name. Please reference your WSDL or the describe call "
        "for the appropriate names."
    )


def test_fields_hidden_by_field_level_security_are_no_such_column(sf):
    assert _error(sf, "SELECT Credit_Limit__c FROM Lead")["errorCode"] == "INVALID_FIELD"


def test_unknown_object_and_relationship(sf):
    error = _error(sf, "SELECT Id FROM Widget__c")
    assert error["errorCode"] == "INVALID_TYPE"
    assert "sObject type 'Widget__c' is not supported." in error["message"]
    error = _error(sf, "SELECT Boss.Name FROM Lead")
    assert error["errorCode"] == "INVALID_FIELD"
    assert "Didn't understand relationship 'Boss'" in error["message"]


@pytest.mark.parametrize(
    "text",
    [
        "SELECT FROM Lead",
        "SELECT Id FROM",
        "SELECT Id FROM Lead WHERE",
        "SELECT Id FROM Lead GROUP BY Name",
        "SELECT MAX(Id) FROM Lead",
        "DELETE FROM Lead",
        "SELECT Id FROM Lead WHERE Name = 'unterminated",
    ],
)
def test_unsupported_or_broken_soql_is_malformed_query(sf, text):
    error = _error(sf, text)
    assert error["errorCode"] == "MALFORMED_QUERY"
    assert "unexpected token" in error["message"]


def test_datetime_filters_need_unquoted_values(sf):
    error = _error(sf, "SELECT Id FROM Lead WHERE CreatedDate > '2024-01-01'")
    assert error["errorCode"] == "INVALID_FIELD"
    assert "must be of type dateTime and should not be enclosed in quotes" in error["message"]


def test_incremental_sync_query_on_system_modstamp(sf):
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    lead = sf.Lead.create({"LastName": "Fresh", "Company": "F"})
    rows = sf.query_all(
        f"SELECT Id FROM Lead WHERE SystemModstamp > {since} ORDER BY SystemModstamp, Id"
    )["records"]
    assert lead["id"] in [r["Id"] for r in rows]
