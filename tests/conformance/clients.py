"""The two clients of the conformance suite, each playing the same scenarios against the org.

A scenario is a short, realistic use of a client (log in, describe, write a collection, page a
query, load and query with Bulk API 2.0, read limits) reduced to a JSON-shaped result, so one
test asserts the same outcome for both clients:

* ``Jsforce`` runs ``tests/conformance/js/<scenario>.js`` with Node (jsforce from the npm
  registry, unchanged, pinned in package.json), the org's parameters as JSON on stdin and the
  sandbox CA in ``NODE_EXTRA_CA_CERTS``;
* ``SimpleSalesforce`` runs the Python functions below, one per script, with simple-salesforce.
"""

import csv
import io
import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from tests.fixtures.sandbox import SandboxOrg

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).resolve().parent / "js"
JSFORCE = ROOT / "node_modules" / "jsforce"
BATCH_HEADERS = {"Sforce-Query-Options": "batchSize=200"}
PAGING_SOQL = "SELECT Id, LastName FROM Lead ORDER BY Id LIMIT 450"
USERS_SOQL = (
    "SELECT Id, Username, IsActive, UserType, Profile.Name, UserRole.Name FROM User "
    "WHERE Username IN ('alice@acme.example', 'ivan@acme.example', 'pat@globex.example') "
    "ORDER BY Username"
)


def jsforce_missing() -> str:
    """Why the jsforce scenarios cannot run here ('' when they can)."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not JSFORCE.is_dir():
        return "jsforce is not installed (npm ci: `make test` runs it when npm is present)"
    return ""


class Jsforce:
    """Scenarios played by the Node scripts under tests/conformance/js/."""

    name = "jsforce"

    def __init__(self, org: SandboxOrg):
        self.org = org

    def run(self, scenario: str, **params: str) -> dict:
        args = {
            "loginUrl": self.org.login_url,
            "clientId": self.org.client_id,
            "clientSecret": self.org.client_secret,
            "username": self.org.username,
            "password": self.org.password,
            "version": self.org.api_version,
            **params,
        }
        env = {**os.environ, "NODE_EXTRA_CA_CERTS": self.org.ca_bundle}
        done = subprocess.run(
            ["node", str(SCRIPTS / f"{scenario}.js")],
            input=json.dumps(args),
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=180,
            check=False,
        )
        assert done.returncode == 0, f"{scenario}.js failed:\n{done.stderr}"
        return json.loads(done.stdout)


class SimpleSalesforce:
    """The same scenarios with simple-salesforce (log in as the README shows: the token
    endpoint through the client's requests session, then ``Salesforce(session_id=…)``)."""

    name = "simple-salesforce"

    def __init__(self, org: SandboxOrg):
        self.org = org

    def run(self, scenario: str, **params: str) -> dict:
        return getattr(self, scenario)(**params)

    def _login(self) -> tuple[Salesforce, dict]:
        session = requests.Session()
        session.trust_env = False
        session.verify = self.org.ca_bundle
        token = session.post(
            f"{self.org.login_url}/services/oauth2/token",
            data={
                "grant_type": "password",
                "client_id": self.org.client_id,
                "client_secret": self.org.client_secret,
                "username": self.org.username,
                "password": self.org.password,
            },
            timeout=30,
        )
        token.raise_for_status()
        body = token.json()
        sf = Salesforce(
            instance_url=body["instance_url"],
            session_id=body["access_token"],
            session=session,
            version=self.org.api_version,
        )
        return sf, body

    def login(self) -> dict:
        sf, token = self._login()
        identity = sf.session.get(token["id"], headers=sf.headers, timeout=30).json()
        org_id, user_id = token["id"].split("/")[-2:]
        return {
            "instanceUrl": token["instance_url"],
            "hasAccessToken": bool(sf.session_id),
            "organizationId": org_id,
            "userId": user_id,
            "identity": {
                "username": identity["username"],
                "userId": identity["user_id"],
                "organizationId": identity["organization_id"],
            },
        }

    def describe(self) -> dict:
        sf, _ = self._login()
        lead = sf.Lead.describe()
        fields = {f["name"]: f for f in lead["fields"]}
        keys = ("type", "length", "nillable", "createable", "updateable")
        names = ("Id", "Name", "LastName", "Company", "Email", "Customer_Comment__c")
        return {
            "globalHasLead": any(s["name"] == "Lead" for s in sf.describe()["sobjects"]),
            "name": lead["name"],
            "keyPrefix": lead["keyPrefix"],
            "createable": lead["createable"],
            "fields": {n: {k: fields[n][k] for k in keys} for n in names},
            "statusValues": [v["value"] for v in fields["Status"]["picklistValues"] if v["active"]],
        }

    def collections(self, unique: str) -> dict:
        sf, _ = self._login()
        company = f"Collections {unique}"
        leads = [
            {"LastName": "One", "Company": company},
            {"LastName": "Two", "Company": company, "Customer_Comment__c": "y" * 101},
            {"LastName": "Three", "Company": company},
        ]
        created = sf.restful(
            "composite/sobjects",
            method="POST",
            json={"allOrNone": False, "records": [_typed("Lead", r) for r in leads]},
        )
        ids = [r["id"] for r in created if r["success"]]
        changes = [{"Id": ids[0], "Title": "Buyer"}, {"Id": ids[1], "Email": "not-an-email"}]
        updated = sf.restful(
            "composite/sobjects",
            method="PATCH",
            json={"allOrNone": False, "records": [_typed("Lead", r) for r in changes]},
        )
        after = sf.query(
            f"SELECT LastName, Title FROM Lead WHERE Company = '{company}' ORDER BY LastName"
        )
        deleted = sf.restful(
            "composite/sobjects",
            method="DELETE",
            params={"ids": ",".join(ids), "allOrNone": "false"},
        )
        return {
            "created": [_outcome(r) for r in created],
            "updated": [_outcome(r) for r in updated],
            "after": [{"LastName": r["LastName"], "Title": r["Title"]} for r in after["records"]],
            "deleted": [_outcome(r) for r in deleted],
        }

    def campaign_members(self, unique: str) -> dict:
        sf, _ = self._login()
        company = f"Campaign {unique}"
        leads = sf.restful(
            "composite/sobjects",
            method="POST",
            json={
                "allOrNone": False,
                "records": [
                    _typed("Lead", {"LastName": name, "Company": company}) for name in ("Ada", "Bo")
                ],
            },
        )
        ada, bo = (r["id"] for r in leads)
        campaign = sf.Campaign.create({"Name": company, "IsActive": True})["id"]
        statuses = sf.query(
            "SELECT Label, IsDefault, HasResponded FROM CampaignMemberStatus "
            f"WHERE CampaignId = '{campaign}' ORDER BY SortOrder"
        )
        members = [
            {"CampaignId": campaign, "LeadId": ada},
            {"CampaignId": campaign, "LeadId": ada, "Status": "Responded"},
            {"CampaignId": campaign, "LeadId": bo, "Status": "Attended"},
        ]
        created = sf.restful(
            "composite/sobjects",
            method="POST",
            json={"allOrNone": False, "records": [_typed("CampaignMember", m) for m in members]},
        )
        updated = sf.restful(
            "composite/sobjects",
            method="PATCH",
            json={
                "allOrNone": False,
                "records": [
                    _typed("CampaignMember", {"Id": created[0]["id"], "Status": "Responded"})
                ],
            },
        )
        after = sf.query(
            "SELECT LeadId, Status, HasResponded FROM CampaignMember "
            f"WHERE CampaignId = '{campaign}'"
        )
        sf.Campaign.delete(campaign)
        gone = sf.query_all(
            f"SELECT IsDeleted FROM CampaignMember WHERE CampaignId = '{campaign}'",
            include_deleted=True,
        )
        for lead in (ada, bo):
            sf.Lead.delete(lead)
        return {
            "statuses": [
                [r["Label"], r["IsDefault"], r["HasResponded"]] for r in statuses["records"]
            ],
            "created": [_outcome(r) for r in created],
            "updated": [_outcome(r) for r in updated],
            "members": [
                [r["LeadId"] == ada, r["Status"], r["HasResponded"]] for r in after["records"]
            ],
            "deleted": [r["IsDeleted"] for r in gone["records"]],
        }

    def query_paging(self) -> dict:
        sf, _ = self._login()
        fetched = sf.query_all(PAGING_SOQL, headers=BATCH_HEADERS)
        return {
            "query": _pages(sf, include_deleted=False),
            "queryAll": _pages(sf, include_deleted=True),
            "autoFetch": {
                "totalSize": fetched["totalSize"],
                "records": len(fetched["records"]),
                "done": fetched["done"],
            },
        }

    def users(self) -> dict:
        sf, _ = self._login()
        rows = sf.query(USERS_SOQL)["records"]
        users = [
            {
                "username": r["Username"],
                "isActive": r["IsActive"],
                "userType": r["UserType"],
                "profile": (r["Profile"] or {}).get("Name"),
                "role": (r["UserRole"] or {}).get("Name"),
            }
            for r in rows
        ]
        ivan = next(r for r in rows if r["Username"] == "ivan@acme.example")
        try:
            sf.Lead.create({"LastName": "Owned", "Company": "Acme", "OwnerId": ivan["Id"]})
            refusal = None
        except SalesforceMalformedRequest as exc:
            error = exc.content[0]
            refusal = {
                "errorCode": error["errorCode"],
                "message": error["message"].replace(ivan["Id"], "<id>"),
            }
        return {"users": users, "refusal": refusal}

    def bulk_load(self, unique: str) -> dict:
        sf, _ = self._login()
        company = f"Bulk load {unique}"
        rows = [
            {"LastName": "Ada", "Company": company, "Customer_Comment__c": "hello"},
            {"LastName": "Bo", "Company": company, "Customer_Comment__c": "z" * 101},
            {"LastName": "Cy", "Company": company, "Customer_Comment__c": ""},
        ]
        job = sf.bulk2.Lead.insert(records=rows, wait=0.2)[0]["job_id"]
        successful = _csv_rows(sf.bulk2.Lead.get_successful_records(job))
        failed = _csv_rows(sf.bulk2.Lead.get_failed_records(job))
        unprocessed = _csv_rows(sf.bulk2.Lead.get_unprocessed_records(job))
        stored = sf.query(
            "SELECT LastName, Customer_Comment__c FROM Lead "
            f"WHERE Company = '{company}' ORDER BY LastName"
        )
        return {
            "successful": [
                {
                    "created": r["sf__Created"],
                    "hasId": len(r["sf__Id"]) == 18,
                    "LastName": r["LastName"],
                }
                for r in successful
            ],
            "failed": [{"error": r["sf__Error"], "LastName": r["LastName"]} for r in failed],
            "unprocessed": len(unprocessed),
            "stored": [
                {"LastName": r["LastName"], "Customer_Comment__c": r["Customer_Comment__c"]}
                for r in stored["records"]
            ],
        }

    def bulk_query(self, unique: str) -> dict:
        sf, _ = self._login()
        company = f"Bulk query {unique}"
        leads = [
            _typed("Lead", {"LastName": name, "Company": company, "Title": f"{name} T"})
            for name in ("Ada", "Bo", "Cy")
        ]
        sf.restful("composite/sobjects", method="POST", json={"allOrNone": True, "records": leads})
        pages = sf.bulk2.Lead.query(
            "SELECT Id, LastName, Title, Company FROM Lead "
            f"WHERE Company = '{company}' ORDER BY LastName",
            wait=0.2,
        )
        records = [row for page in pages for row in _csv_rows(page)]
        return {
            "records": [
                {
                    "hasId": len(r["Id"]) == 18,
                    "LastName": r["LastName"],
                    "Title": r["Title"],
                    "Company": r["Company"],
                }
                for r in records
            ]
        }

    def limits(self) -> dict:
        sf, _ = self._login()
        limits = sf.limits()
        usage = sf.api_usage["api-usage"]
        return {
            "dailyApiRequests": dict(limits["DailyApiRequests"]),
            "dailyBulkV2QueryJobs": dict(limits["DailyBulkV2QueryJobs"]),
            "apiUsage": {"used": usage.used, "limit": usage.total},
        }


def _typed(sobject: str, record: dict) -> dict:
    return {"attributes": {"type": sobject}, **record}


def _outcome(result: dict) -> dict:
    """A collection result as both clients can report it (see js/client.js ``outcome``)."""
    return {
        "success": result["success"],
        "hasId": isinstance(result.get("id"), str) and len(result["id"]) == 18,
        "errors": [
            {"statusCode": e["statusCode"], "message": e["message"], "fields": e["fields"]}
            for e in result.get("errors") or []
        ],
    }


def _pages(sf: Salesforce, *, include_deleted: bool) -> dict:
    page = sf.query(PAGING_SOQL, include_deleted=include_deleted, headers=BATCH_HEADERS)
    path = urlparse(page["nextRecordsUrl"]).path
    result = {"totalSize": page["totalSize"], "nextRecordsPath": path}
    sizes, ids = [], set()
    while True:
        sizes.append(len(page["records"]))
        ids.update(r["Id"] for r in page["records"])
        if page["done"]:
            break
        page = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True, headers=BATCH_HEADERS)
    return {**result, "sizes": sizes, "distinctIds": len(ids)}


def _csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))
