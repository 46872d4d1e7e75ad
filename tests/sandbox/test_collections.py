"""sObject Collections and Composite, through simple-salesforce's ``restful``."""

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound


def _leads(n, **extra):
    return [
        {"attributes": {"type": "Lead"}, "LastName": f"Coll{i}", "Company": "C", **extra}
        for i in range(n)
    ]


def test_create_returns_results_in_order_with_per_record_errors(sf):
    records = _leads(3)
    records[1]["Customer_Comment__c"] = "y" * 101
    results = sf.restful(
        "composite/sobjects", method="POST", json={"allOrNone": False, "records": records}
    )
    assert [r["success"] for r in results] == [True, False, True]
    assert results[0]["id"].startswith("00Q") and results[0]["errors"] == []
    assert results[1] == {
        "success": False,
        "errors": [
            {
                "statusCode": "STRING_TOO_LONG",
                "fields": ["Customer_Comment__c"],
                "message": f"Customer Comment: data value too large: {'y' * 101} (max length=100)",
            }
        ],
    }


def test_all_or_none_rolls_every_record_back(sf, unique):
    records = _leads(3, Company=f"AON{unique}")
    records[2]["Email"] = "broken"
    results = sf.restful(
        "composite/sobjects", method="POST", json={"allOrNone": True, "records": records}
    )
    assert results[2]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    assert results[0] == {
        "success": False,
        "errors": [
            {
                "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                "fields": [],
                "message": "Record rolled back because not all records were valid and the request was "
                "using AllOrNone header",
            }
        ],
    }
    assert sf.query(f"SELECT COUNT() FROM Lead WHERE Company = 'AON{unique}'")["totalSize"] == 0


def test_mixed_types_update_and_delete(sf):
    created = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "records": [
                {"attributes": {"type": "Lead"}, "LastName": "Mixed", "Company": "M"},
                {"attributes": {"type": "Account"}, "Name": "Mixed Co"},
            ]
        },
    )
    lead, account = created[0]["id"], created[1]["id"]
    assert account.startswith("001")
    updated = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={
            "records": [
                {"attributes": {"type": "Lead"}, "id": lead, "Title": "Boss"},
                {"attributes": {"type": "Account"}, "Id": account, "Name": "Mixed Co 2"},
                {"attributes": {"type": "Lead"}, "Id": "00Q5g00000ZZZZZEA5", "Title": "x"},
            ]
        },
    )
    assert [r["success"] for r in updated] == [True, True, False]
    assert updated[2]["errors"][0]["statusCode"] == "NOT_FOUND"
    assert sf.Lead.get(lead)["Title"] == "Boss"
    deleted = sf.restful("composite/sobjects", method="DELETE", params={"ids": lead})
    assert deleted == [{"id": lead, "success": True, "errors": []}]


def test_upsert_reports_created_flags(sf, unique):
    body = {
        "allOrNone": False,
        "records": [
            {
                "attributes": {"type": "Lead"},
                "pi__Pardot_Prospect_Id__c": f"cu{unique}",
                "LastName": "Up",
                "Company": "U",
            }
        ],
    }
    first = sf.restful(
        "composite/sobjects/Lead/pi__Pardot_Prospect_Id__c", method="PATCH", json=body
    )
    second = sf.restful(
        "composite/sobjects/Lead/pi__Pardot_Prospect_Id__c", method="PATCH", json=body
    )
    assert first[0]["created"] is True and second[0]["created"] is False
    assert first[0]["id"] == second[0]["id"]


def test_retrieve(sf):
    lead = sf.Lead.create({"LastName": "Fetch", "Company": "F"})["id"]
    rows = sf.restful(
        "composite/sobjects/Lead",
        method="POST",
        json={"ids": [lead, "00Q5g00000ZZZZZEA5"], "fields": ["LastName"]},
    )
    assert rows[0]["LastName"] == "Fetch" and set(rows[0]) == {"attributes", "LastName"}
    assert rows[1] is None


def test_duplicates_inside_one_request_are_caught(sf, unique):
    records = _leads(2, Email=f"twin{unique}@example.com")
    results = sf.restful("composite/sobjects", method="POST", json={"records": records})
    assert results[0]["success"] is True
    assert results[1]["errors"][0]["statusCode"] == "DUPLICATES_DETECTED"


def test_more_than_200_records_is_refused(sf):
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.restful("composite/sobjects", method="POST", json={"records": _leads(201)})
    assert caught.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_records_without_a_type(sf):
    results = sf.restful(
        "composite/sobjects", method="POST", json={"records": [{"LastName": "Typeless"}]}
    )
    assert results[0]["errors"][0]["statusCode"] == "INVALID_TYPE"


def test_composite_resolves_references(sf):
    body = {
        "allOrNone": True,
        "compositeRequest": [
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "acct",
                "body": {"Name": "Composite Co"},
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Contact",
                "referenceId": "person",
                "body": {"LastName": "Ref", "Phone": "1", "AccountId": "@{acct.id}"},
            },
            {
                "method": "GET",
                "referenceId": "check",
                "url": "/services/data/v59.0/query?q=SELECT+Account.Name+FROM+Contact+WHERE+Id"
                "+%3D+'@{person.id}'",
            },
            {
                "method": "GET",
                "referenceId": "back",
                "url": "/services/data/v59.0/sobjects/Contact/@{check.records[0].attributes.url}",
            },
        ],
    }
    body["compositeRequest"].pop()
    out = sf.restful("composite", method="POST", json=body)["compositeResponse"]
    assert [r["httpStatusCode"] for r in out] == [201, 201, 200]
    assert (
        out[0]["httpHeaders"]["Location"]
        == f"/services/data/v59.0/sobjects/Account/{out[0]['body']['id']}"
    )
    assert out[2]["body"]["records"][0]["Account"]["Name"] == "Composite Co"


def test_composite_all_or_none_rolls_back_earlier_writes(sf, unique):
    body = {
        "allOrNone": True,
        "compositeRequest": [
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "a",
                "body": {"Name": f"Rollback {unique}"},
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Lead",
                "referenceId": "b",
                "body": {"LastName": "x" * 81, "Company": "C"},
            },
            {"method": "GET", "url": "/services/data/v59.0/limits", "referenceId": "c"},
        ],
    }
    out = sf.restful("composite", method="POST", json=body)["compositeResponse"]
    assert [r["httpStatusCode"] for r in out] == [400, 400, 400]
    assert out[1]["body"][0]["errorCode"] == "STRING_TOO_LONG"
    assert out[0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert (
        sf.query(f"SELECT COUNT() FROM Account WHERE Name = 'Rollback {unique}'")["totalSize"] == 0
    )


def test_composite_without_all_or_none_keeps_going(sf):
    body = {
        "compositeRequest": [
            {
                "method": "GET",
                "url": "/services/data/v59.0/sobjects/Lead/00Q5g00000ZZZZZEA5",
                "referenceId": "missing",
            },
            {"method": "GET", "url": "/services/data/v59.0/limits/", "referenceId": "limits"},
        ]
    }
    out = sf.restful("composite", method="POST", json=body)["compositeResponse"]
    assert out[0]["httpStatusCode"] == 404
    assert out[0]["body"] == [
        {"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}
    ]
    assert out[1]["httpStatusCode"] == 200


def test_composite_limits_and_bad_references(sf):
    too_many = {
        "compositeRequest": [
            {"method": "GET", "referenceId": f"r{i}", "url": "/services/data/v59.0/limits"}
            for i in range(26)
        ]
    }
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite", method="POST", json=too_many)
    bad = {
        "compositeRequest": [
            {
                "method": "GET",
                "referenceId": "r",
                "url": "/services/data/v59.0/sobjects/Lead/@{nope.id}",
            }
        ]
    }
    out = sf.restful("composite", method="POST", json=bad)["compositeResponse"]
    assert out[0]["httpStatusCode"] == 400
    assert out[0]["body"][0]["errorCode"] == "INVALID_REFERENCE"


def test_composite_batch(sf):
    lead = sf.Lead.create({"LastName": "Batch", "Company": "B"})["id"]
    out = sf.restful(
        "composite/batch",
        method="POST",
        json={
            "batchRequests": [
                {
                    "method": "PATCH",
                    "url": f"v59.0/sobjects/Lead/{lead}",
                    "richInput": {"Title": "T"},
                },
                {"method": "GET", "url": f"v59.0/sobjects/Lead/{lead}?fields=Title"},
            ]
        },
    )
    assert out["hasErrors"] is False
    assert [r["statusCode"] for r in out["results"]] == [204, 200]
    assert out["results"][1]["result"]["Title"] == "T"


def test_collection_of_an_unknown_type_path(sf):
    with pytest.raises(SalesforceResourceNotFound):
        sf.restful("composite/sobjects/Widget__c", method="POST", json={"ids": []})


# -- Composite limits and API usage ------------------------------------------------------------


def _composite_http(sandbox_org, subrequests: list[dict]):
    token = sandbox_org.token()["access_token"]
    return sandbox_org.session().post(
        f"{sandbox_org.instance_url}/services/data/v59.0/composite",
        json={"compositeRequest": subrequests},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )


def _usage(response) -> int:
    return int(response.headers["Sforce-Limit-Info"].split("=")[1].split("/")[0])


def _query_sub(i: int) -> dict:
    return {
        "method": "GET",
        "url": "/services/data/v59.0/query?q=SELECT+Id+FROM+Lead+LIMIT+1",
        "referenceId": f"q{i}",
    }


def test_a_composite_call_counts_as_one_api_request(sandbox_org):
    token = sandbox_org.token()["access_token"]
    session = sandbox_org.session()
    session.headers["Authorization"] = f"Bearer {token}"
    base = f"{sandbox_org.instance_url}/services/data/v59.0"
    before = _usage(session.get(f"{base}/limits"))
    subrequests = [_query_sub(i) for i in range(5)] + [
        {"method": "GET", "url": "/services/data/v59.0/limits", "referenceId": f"l{i}"}
        for i in range(20)
    ]
    response = session.post(f"{base}/composite", json={"compositeRequest": subrequests})
    assert response.status_code == 200
    assert len(response.json()["compositeResponse"]) == 25
    assert _usage(response) == before + 1
    after = session.get(f"{base}/limits")
    daily = after.json()["DailyApiRequests"]
    assert _usage(after) == before + 2 == daily["Max"] - daily["Remaining"]


def test_composite_refuses_more_than_25_subrequests(sandbox_org):
    subrequests = [
        {"method": "GET", "url": "/services/data/v59.0/limits", "referenceId": f"l{i}"}
        for i in range(26)
    ]
    response = _composite_http(sandbox_org, subrequests)
    assert response.status_code == 400
    assert response.json() == {
        "compositeResponse": [
            {
                "body": [
                    {
                        "errorCode": "LIMIT_EXCEEDED",
                        "message": "The request can\u2019t contain more than 25 operations.",
                    }
                ],
                "httpHeaders": {},
                "httpStatusCode": 400,
                "referenceId": None,
            }
        ]
    }


def test_composite_refuses_more_than_5_queries_or_collections(sandbox_org, unique):
    collection = {
        "method": "POST",
        "url": "/services/data/v59.0/composite/sobjects",
        "referenceId": "c0",
        "body": {"records": [{"attributes": {"type": "Lead"}, "LastName": "X", "Company": unique}]},
    }
    response = _composite_http(sandbox_org, [_query_sub(i) for i in range(5)] + [collection])
    assert response.status_code == 400
    entry = response.json()["compositeResponse"][0]
    assert entry["body"][0]["errorCode"] == "LIMIT_EXCEEDED"
    assert "5 query or sObject Collections" in entry["body"][0]["message"]
    assert _composite_http(sandbox_org, [_query_sub(i) for i in range(5)]).status_code == 200
