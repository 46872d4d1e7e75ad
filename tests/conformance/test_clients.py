"""Real clients, unchanged, against the sandbox org: every scenario once with simple-salesforce
and once with jsforce (tests/conformance/clients.py), asserting the same outcome for both.

The sandbox's own suite (tests/sandbox/) goes deeper through simple-salesforce; this one checks
that the everyday calls of both clients work end to end.
"""

import itertools
import time

_counter = itertools.count()


def _unique() -> str:
    return f"{int(time.time() * 1000)}{next(_counter)}"


def test_login_uses_the_password_grant_and_reads_the_identity(client, sandbox_org):
    out = client.run("login")
    assert out["instanceUrl"] == sandbox_org.instance_url
    assert out["hasAccessToken"] is True
    assert out["organizationId"].startswith("00D") and len(out["organizationId"]) == 18
    assert out["userId"].startswith("005") and len(out["userId"]) == 18
    assert out["identity"] == {
        "username": sandbox_org.username,
        "userId": out["userId"],
        "organizationId": out["organizationId"],
    }


def test_describe_lists_lead_and_its_fields(client):
    out = client.run("describe")
    assert out["globalHasLead"] is True
    assert (out["name"], out["keyPrefix"], out["createable"]) == ("Lead", "00Q", True)
    writable = {"nillable": True, "createable": True, "updateable": True}
    assert out["fields"] == {
        "Id": {
            "type": "id",
            "length": 18,
            "nillable": False,
            "createable": False,
            "updateable": False,
        },
        "Name": {
            "type": "string",
            "length": 121,
            "nillable": True,
            "createable": False,
            "updateable": False,
        },
        "LastName": {"type": "string", "length": 80, **writable, "nillable": False},
        "Company": {"type": "string", "length": 255, **writable, "nillable": False},
        "Email": {"type": "email", "length": 80, **writable},
        "Customer_Comment__c": {"type": "string", "length": 100, **writable},
    }
    assert out["statusValues"][0] == "Open - Not Contacted"


def test_collections_report_each_records_error_and_keep_the_rest(client):
    out = client.run("collections", unique=_unique())
    ok = {"success": True, "hasId": True, "errors": []}
    assert out["created"] == [
        ok,
        {
            "success": False,
            "hasId": False,
            "errors": [
                {
                    "statusCode": "STRING_TOO_LONG",
                    "message": f"Customer Comment: data value too large: {'y' * 101} (max length=100)",
                    "fields": ["Customer_Comment__c"],
                }
            ],
        },
        ok,
    ]
    assert out["updated"] == [
        ok,
        {
            "success": False,
            "hasId": False,
            "errors": [
                {
                    "statusCode": "INVALID_EMAIL_ADDRESS",
                    "message": "Email: invalid email address: not-an-email",
                    "fields": ["Email"],
                }
            ],
        },
    ]
    assert out["after"] == [
        {"LastName": "One", "Title": "Buyer"},
        {"LastName": "Three", "Title": None},
    ]
    assert out["deleted"] == [ok, ok]


def test_query_pages_follow_next_records_url_for_query_and_query_all(client, sandbox_org):
    out = client.run("query_paging")
    for kind in ("query", "queryAll"):
        pages = out[kind]
        assert pages["totalSize"] == 450
        assert pages["sizes"] == [200, 200, 50]
        assert pages["distinctIds"] == 450
        assert pages["nextRecordsPath"].startswith(
            f"/services/data/v{sandbox_org.api_version}/query/"
        )
    assert out["autoFetch"] == {"totalSize": 450, "records": 450, "done": True}


def test_bulk_load_uploads_csv_and_reports_the_refused_row(client):
    out = client.run("bulk_load", unique=_unique())
    assert out["successful"] == [
        {"created": "true", "hasId": True, "LastName": "Ada"},
        {"created": "true", "hasId": True, "LastName": "Cy"},
    ]
    assert out["failed"] == [
        {
            "error": "STRING_TOO_LONG:Customer Comment: data value too large: "
            f"{'z' * 101} (max length=100):Customer_Comment__c --",
            "LastName": "Bo",
        }
    ]
    assert out["unprocessed"] == 0
    assert out["stored"] == [
        {"LastName": "Ada", "Customer_Comment__c": "hello"},
        {"LastName": "Cy", "Customer_Comment__c": None},
    ]


def test_bulk_query_returns_the_rows_as_csv_records(client):
    unique = _unique()
    out = client.run("bulk_query", unique=unique)
    company = f"Bulk query {unique}"
    assert out["records"] == [
        {"hasId": True, "LastName": name, "Title": f"{name} T", "Company": company}
        for name in ("Ada", "Bo", "Cy")
    ]


def test_limits_match_the_limit_info_header(client):
    out = client.run("limits")
    daily = out["dailyApiRequests"]
    assert daily["Max"] == out["apiUsage"]["limit"] > 0
    assert out["apiUsage"]["used"] == daily["Max"] - daily["Remaining"] > 0
    assert out["dailyBulkV2QueryJobs"]["Max"] == 10_000


def test_campaign_members_take_the_campaigns_statuses_and_refuse_duplicates(client):
    out = client.run("campaign_members", unique=_unique())
    assert out["statuses"] == [["Sent", True, False], ["Responded", False, True]]
    ok = {"success": True, "hasId": True, "errors": []}
    assert out["created"] == [
        ok,
        {
            "success": False,
            "hasId": False,
            "errors": [
                {
                    "statusCode": "DUPLICATE_VALUE",
                    "message": "Already a campaign member.",
                    "fields": [],
                }
            ],
        },
        {
            "success": False,
            "hasId": False,
            "errors": [
                {
                    "statusCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    "message": "Status: bad value for restricted picklist field: Attended",
                    "fields": ["Status"],
                }
            ],
        },
    ]
    assert out["updated"] == [ok]
    assert out["members"] == [[True, "Responded", True]]
    assert out["deleted"] == [True]  # the campaign's delete takes its members along


def test_users_read_with_profile_and_role_and_an_inactive_owner_is_refused(client):
    out = client.run("users")
    assert out["users"] == [
        {
            "username": "alice@acme.example",
            "isActive": True,
            "userType": "Standard",
            "profile": "Standard User",
            "role": "Sales Rep",
        },
        {
            "username": "ivan@acme.example",
            "isActive": False,
            "userType": "Standard",
            "profile": "Standard User",
            "role": "Sales Rep",
        },
        {
            "username": "pat@globex.example",
            "isActive": True,
            "userType": "PowerPartner",
            "profile": "Partner Community User",
            "role": "Globex Partner Executive",
        },
    ]
    assert out["refusal"] == {
        "errorCode": "INACTIVE_OWNER_OR_USER",
        "message": "operation performed with inactive user [<id>] as owner of lead",
    }
