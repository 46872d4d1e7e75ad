"""Bulk API 2.0 through simple-salesforce's bulk2 client, unchanged, over HTTPS."""

import csv
import io
import time

import pytest
from simple_salesforce.exceptions import SalesforceOperationError

WAIT = 0.2


def _csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _session(sandbox_org):
    token = sandbox_org.token()["access_token"]
    session = sandbox_org.session()
    session.headers.update({"Authorization": f"Bearer {token}"})
    return session


def _jobs_url(sandbox_org, kind="ingest"):
    return f"{sandbox_org.instance_url}/services/data/v59.0/jobs/{kind}"


def test_insert_with_failing_rows_reports_the_rest_paths_errors(sf, unique):
    rows = [
        {
            "LastName": "Bulk Good",
            "Company": "B",
            "Email": f"bg{unique}@x.io",
            "Customer_Comment__c": "ok",
        },
        {
            "LastName": "Bulk Long",
            "Company": "B",
            "Email": f"bl{unique}@x.io",
            "Customer_Comment__c": "z" * 143,
        },
        {"LastName": "", "Company": "B", "Email": f"bm{unique}@x.io", "Customer_Comment__c": ""},
        {
            "LastName": "Bulk Bad Date",
            "Company": "B",
            "Email": f"bd{unique}@x.io",
            "Customer_Comment__c": "",
        },
    ]
    results = sf.bulk2.Lead.insert(records=rows, wait=WAIT)
    assert results[0]["numberRecordsProcessed"] == 4
    assert results[0]["numberRecordsFailed"] == 2
    job = results[0]["job_id"]
    assert job.startswith("750")
    failed = list(csv.DictReader(io.StringIO(sf.bulk2.Lead.get_failed_records(job))))
    errors = {row["LastName"]: row["sf__Error"] for row in failed}
    assert errors["Bulk Long"] == (
        f"STRING_TOO_LONG:Customer Comment: data value too large: "
        f"{'z' * 143} (max length=100):Customer_Comment__c --"
    )
    assert errors[""] == (
        "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --"
    )
    good = list(csv.DictReader(io.StringIO(sf.bulk2.Lead.get_successful_records(job))))
    assert len(good) == 2 and all(r["sf__Created"] == "true" for r in good)
    assert sf.Lead.get(good[0]["sf__Id"])["Company"] == "B"


def test_type_errors_in_csv_are_invalid_type_on_field_in_record(sf):
    results = sf.bulk2.Lead.insert(
        records=[{"LastName": "T", "Company": "T", "Budget__c": "lots"}], wait=WAIT
    )
    failed = sf.bulk2.Lead.get_failed_records(results[0]["job_id"])
    assert (
        "INVALID_TYPE_ON_FIELD_IN_RECORD:Budget: value not of required type: lots:"
        "Budget__c --" in failed
    )


def test_upsert_update_and_delete(sf, unique):
    rows = [
        {"pi__Pardot_Prospect_Id__c": f"bu{unique}-{i}", "LastName": f"Up {i}", "Company": "Upsert"}
        for i in range(3)
    ]
    first = sf.bulk2.Lead.upsert(
        records=rows, external_id_field="pi__Pardot_Prospect_Id__c", wait=WAIT
    )
    assert first[0]["numberRecordsFailed"] == 0
    created = list(
        csv.DictReader(io.StringIO(sf.bulk2.Lead.get_successful_records(first[0]["job_id"])))
    )
    ids = [r["sf__Id"] for r in created]
    again = sf.bulk2.Lead.upsert(
        records=[{**rows[0], "Company": "Upserted"}],
        external_id_field="pi__Pardot_Prospect_Id__c",
        wait=WAIT,
    )
    second = list(
        csv.DictReader(io.StringIO(sf.bulk2.Lead.get_successful_records(again[0]["job_id"])))
    )
    assert second[0]["sf__Created"] == "false" and second[0]["sf__Id"] == ids[0]
    sf.bulk2.Lead.update(records=[{"Id": ids[1], "Title": "Updated"}], wait=WAIT)
    assert sf.Lead.get(ids[1])["Title"] == "Updated"
    deleted = sf.bulk2.Lead.delete(records=[{"Id": ids[2]}], wait=WAIT)
    assert deleted[0]["numberRecordsFailed"] == 0
    assert sf.query(f"SELECT COUNT() FROM Lead WHERE Id = '{ids[2]}'")["totalSize"] == 0
    hard = sf.bulk2.Lead.hard_delete(records=[{"Id": ids[1]}], wait=WAIT)
    assert hard[0]["numberRecordsFailed"] == 0
    assert (
        sf.query_all(f"SELECT Id FROM Lead WHERE Id = '{ids[1]}'", include_deleted=True)[
            "totalSize"
        ]
        == 0
    )


def test_query_and_query_all_page_with_locators(sf):
    pages = list(
        sf.bulk2.Contact.query(
            "SELECT Id, LastName, Account.Name FROM Contact", max_records=500, wait=WAIT
        )
    )
    assert len(pages) >= 3
    rows = [r for page in pages for r in csv.DictReader(io.StringIO(page))]
    assert len(rows) == sf.query("SELECT COUNT() FROM Contact")["totalSize"]
    assert list(rows[0]) == ["Id", "LastName", "Account.Name"]
    everything = list(sf.bulk2.Lead.query_all("SELECT Id FROM Lead", wait=WAIT))
    assert sum(len(p.splitlines()) - 1 for p in everything) >= 1500


def test_query_results_headers(sandbox_org):
    session = _session(sandbox_org)
    job = session.post(
        _jobs_url(sandbox_org, "query"),
        json={"operation": "query", "query": "SELECT Id FROM Account"},
    ).json()
    assert job["state"] == "UploadComplete" and job["jobType"] == "V2Query"
    for _ in range(100):
        if (
            session.get(f"{_jobs_url(sandbox_org, 'query')}/{job['id']}").json()["state"]
            == "JobComplete"
        ):
            break
    url = f"{_jobs_url(sandbox_org, 'query')}/{job['id']}/results"
    first = session.get(url, params={"maxRecords": 100})
    assert first.headers["Sforce-NumberOfRecords"] == "100"
    assert first.headers["Content-Type"].startswith("text/csv")
    assert first.text.startswith('"Id"\n"001')
    last = session.get(
        url, params={"maxRecords": 100000, "locator": first.headers["Sforce-Locator"]}
    )
    assert last.headers["Sforce-Locator"] == "null"


def test_bulk_query_rejects_what_bulk_2_cannot_do(sandbox_org):
    session = _session(sandbox_org)
    for text in ("SELECT COUNT() FROM Lead", "SELECT Id FROM Lead OFFSET 5"):
        response = session.post(
            _jobs_url(sandbox_org, "query"), json={"operation": "query", "query": text}
        )
        assert response.status_code == 400
    bad = session.post(
        _jobs_url(sandbox_org, "query"),
        json={"operation": "query", "query": "SELECT Nope FROM Lead"},
    )
    assert bad.json()[0]["errorCode"] == "INVALID_FIELD"


def _ingest_job(sandbox_org, session, **extra):
    body = {"object": "Lead", "operation": "insert", "contentType": "CSV", **extra}
    response = session.post(_jobs_url(sandbox_org), json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _run(sandbox_org, session, job, data):
    url = f"{_jobs_url(sandbox_org)}/{job['id']}"
    upload = session.put(f"{url}/batches", data=data, headers={"Content-Type": "text/csv"})
    assert upload.status_code == 201, upload.text
    assert session.patch(url, json={"state": "UploadComplete"}).json()["state"] in (
        "UploadComplete",
        "InProgress",
        "JobComplete",
        "Failed",
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        info = session.get(url).json()
        if info["state"] in ("JobComplete", "Failed", "Aborted"):
            return info
        time.sleep(0.05)
    raise AssertionError(f"job did not finish: {info}")


@pytest.mark.parametrize(
    ("data", "extra", "message"),
    [
        (b"LastName,Nope__c\nA,B\n", {}, "InvalidBatch : Field name not found : Nope__c"),
        (b"LastName;Company\nA;B\n", {}, "InvalidBatch : Field name not found : LastName;Company"),
        (
            b"LastName,Company\r\nA,B\r\n",
            {},
            "ClientInputError : LineEnding is invalid on user "
            "data. Current LineEnding setting is LF",
        ),
        (b"LastName,Company\nA\xff,B\n", {}, "InvalidBatch : The file is not valid UTF-8"),
    ],
)
def test_bad_files_fail_the_job_with_salesforces_message(sandbox_org, data, extra, message):
    session = _session(sandbox_org)
    info = _run(sandbox_org, session, _ingest_job(sandbox_org, session, **extra), data)
    assert info["state"] == "Failed"
    assert info["errorMessage"].startswith(message)


def test_other_delimiters_and_line_endings(sandbox_org):
    session = _session(sandbox_org)
    job = _ingest_job(sandbox_org, session, columnDelimiter="SEMICOLON", lineEnding="CRLF")
    info = _run(sandbox_org, session, job, b"LastName;Company\r\nSemi;Colon\r\nOnly\r\n")
    assert info["state"] == "JobComplete"
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (2, 1)
    failed = session.get(f"{_jobs_url(sandbox_org)}/{job['id']}/failedResults/").text
    assert "Row has 1 columns but the header has 2" in failed


def test_a_chunked_upload_is_read_whole(sandbox_org):
    """jsforce streams the CSV: Transfer-Encoding: chunked, no Content-Length."""
    session = _session(sandbox_org)
    job = _ingest_job(sandbox_org, session)
    parts = [b"LastName,Company\n", b"Chunk One,C", b"hunks\nChunk Two,Chunks\n"]
    info = _run(sandbox_org, session, job, iter(parts))
    assert info["state"] == "JobComplete"
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (2, 0)


def test_state_transitions_salesforce_refuses(sandbox_org):
    session = _session(sandbox_org)
    job = _ingest_job(sandbox_org, session)
    url = f"{_jobs_url(sandbox_org)}/{job['id']}"
    assert session.delete(url).status_code == 409
    assert session.patch(url, json={"state": "Aborted"}).json()["state"] == "Aborted"
    upload = session.put(f"{url}/batches", data=b"LastName,Company\nA,B\n")
    assert upload.status_code == 409
    assert upload.json()[0]["errorCode"] == "INVALIDJOBSTATE"
    assert session.patch(url, json={"state": "UploadComplete"}).status_code == 409
    assert session.get(url).json()["state"] == "Aborted"
    assert session.get(f"{url}/unprocessedRecords").status_code == 200
    assert session.delete(url).status_code == 204
    assert session.get(url).status_code == 404


def test_job_creation_errors_and_listing(sandbox_org):
    session = _session(sandbox_org)
    bad_object = session.post(
        _jobs_url(sandbox_org), json={"object": "Nope", "operation": "insert"}
    )
    assert bad_object.status_code == 400
    no_ext = session.post(_jobs_url(sandbox_org), json={"object": "Lead", "operation": "upsert"})
    assert no_ext.json()[0]["errorCode"] == "INVALIDJOB"
    listing = session.get(_jobs_url(sandbox_org)).json()
    assert listing["done"] is True and listing["records"]


def test_oversized_upload_is_refused(sandbox_org):
    session = _session(sandbox_org)
    job = _ingest_job(sandbox_org, session)
    big = b"LastName,Company\n" + b"x,y\n" * (26 * 1024 * 1024)
    response = session.put(f"{_jobs_url(sandbox_org)}/{job['id']}/batches", data=big)
    assert response.status_code == 413
    assert session.get(f"{_jobs_url(sandbox_org)}/{job['id']}").json()["state"] == "Open"


def test_failed_job_reaches_simple_salesforce_as_an_operation_error(sf):
    with pytest.raises(SalesforceOperationError):
        sf.bulk2.Lead.insert(records=[{"Nope__c": "x"}], wait=WAIT)
