"""Faults, API limits and sessions reaching simple-salesforce as Salesforce would send them."""

import uuid

import pytest
import requests
from simple_salesforce.exceptions import (
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)


@pytest.fixture
def faults(sandbox_org):
    yield sandbox_org
    sandbox_org.control("clear_faults")


def test_every_call_fails_with_server_unavailable(sf, faults):
    faults.control("set_faults", error_rate=1.0, error_status=503)
    with pytest.raises(SalesforceGeneralError) as caught:
        sf.query("SELECT Id FROM Lead LIMIT 1")
    assert caught.value.status == 503
    assert caught.value.content[0]["errorCode"] == "SERVER_UNAVAILABLE"
    faults.control("set_faults", error_status=500)
    with pytest.raises(SalesforceGeneralError) as caught:
        sf.Lead.create({"LastName": "x", "Company": "y"})
    assert caught.value.status == 500
    assert caught.value.content[0]["errorCode"] == "UNKNOWN_EXCEPTION"


def test_a_share_of_failures_is_deterministic_under_a_seed(sf, faults):
    def pattern() -> list[bool]:
        faults.control("set_faults", seed=7, error_rate=0.5)
        outcome = []
        for _ in range(12):
            try:
                sf.query("SELECT Id FROM Lead LIMIT 1")
                outcome.append(True)
            except SalesforceGeneralError:
                outcome.append(False)
        return outcome

    first = pattern()
    assert True in first and False in first
    assert pattern() == first


def test_row_locks_fail_single_writes(sf, faults):
    faults.control("set_faults", lock_rate=1.0)
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Lead.create({"LastName": "Locked", "Company": "L"})
    assert caught.value.content == [
        {
            "message": "unable to obtain exclusive access to this record",
            "errorCode": "UNABLE_TO_LOCK_ROW",
            "fields": [],
        }
    ]


def test_row_locks_in_collections_and_bulk(sf, faults):
    faults.control("set_faults", lock_rate=1.0)
    results = sf.restful(
        "composite/sobjects",
        method="POST",
        json={"records": [{"attributes": {"type": "Lead"}, "LastName": "Locked", "Company": "L"}]},
    )
    assert results[0]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    job = sf.bulk2.Lead.insert(records=[{"LastName": "Locked", "Company": "L"}], wait=0.2)
    failed = sf.bulk2.Lead.get_failed_records(job[0]["job_id"])
    assert "UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record:--" in failed


def test_dropped_connections(sf, faults):
    faults.control("set_faults", drop_rate=1.0)
    with pytest.raises(requests.exceptions.ConnectionError):
        sf.query("SELECT Id FROM Lead LIMIT 1")


def test_an_answer_lost_after_the_org_committed_the_call(sf, faults):
    email = f"lost-answer-{uuid.uuid4().hex[:8]}@example.com"
    faults.control("set_faults", drop_after_rate=1.0)
    with pytest.raises(requests.exceptions.ConnectionError):
        sf.Lead.create({"LastName": "Lost", "Company": "Acme", "Email": email})
    faults.control("clear_faults")
    assert sf.query(f"SELECT Id FROM Lead WHERE Email = '{email}'")["totalSize"] == 1


def test_latency(sf, faults):
    import time

    faults.control("set_faults", latency_ms=300)
    start = time.perf_counter()
    sf.query("SELECT Id FROM Lead LIMIT 1")
    assert time.perf_counter() - start >= 0.3


def test_transient_outage_window(sf, faults):
    import time

    faults.control("start_outage", seconds=1.5)
    with pytest.raises(SalesforceGeneralError) as caught:
        sf.query("SELECT Id FROM Lead LIMIT 1")
    assert caught.value.status == 503
    time.sleep(2)
    assert sf.query("SELECT Id FROM Lead LIMIT 1")["totalSize"] == 1


def test_revoking_object_access_and_restoring_it(sf, faults):
    faults.control("revoke_object", sobject="Campaign")
    try:
        with pytest.raises(SalesforceResourceNotFound):
            sf.Campaign.describe()
        with pytest.raises(SalesforceMalformedRequest) as caught:
            sf.query("SELECT Id FROM Campaign")
        assert caught.value.content[0]["errorCode"] == "INVALID_TYPE"
    finally:
        faults.control("restore_object", sobject="Campaign")
    assert sf.query("SELECT COUNT() FROM Campaign")["totalSize"] > 0


def test_revoking_a_field(sf, faults):
    faults.control("revoke_field", sobject="Lead", field="Region__c")
    try:
        with pytest.raises(SalesforceMalformedRequest) as caught:
            sf.query("SELECT Region__c FROM Lead LIMIT 1")
        assert caught.value.content[0]["errorCode"] == "INVALID_FIELD"
    finally:
        faults.control("restore_field", sobject="Lead", field="Region__c")
    sf.query("SELECT Region__c FROM Lead LIMIT 1")


def test_daily_api_limit(sf, sandbox_org):
    used = sf.limits()["DailyApiRequests"]
    assert used["Max"] == 115_000
    sandbox_org.control("set_org", daily_api_limit=used["Max"] - used["Remaining"] + 3)
    try:
        sf.query("SELECT Id FROM Lead LIMIT 1")
        with pytest.raises(SalesforceRefusedRequest) as caught:
            for _ in range(5):
                sf.query("SELECT Id FROM Lead LIMIT 1")
        assert caught.value.status == 403
        assert caught.value.content == [
            {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
        ]
    finally:
        sandbox_org.control("set_org", daily_api_limit=115_000)
    sf.query("SELECT Id FROM Lead LIMIT 1")
    assert sf.api_usage["api-usage"].total == 115_000


def test_composite_counts_as_one_call(sf):
    before = sf.limits()["DailyApiRequests"]["Remaining"]
    sf.restful(
        "composite",
        method="POST",
        json={
            "compositeRequest": [
                {"method": "GET", "url": "/services/data/v59.0/limits", "referenceId": f"r{i}"}
                for i in range(5)
            ]
        },
    )
    after = sf.limits()["DailyApiRequests"]["Remaining"]
    assert before - after == 2


def test_bulk_usage_shows_in_limits(sf):
    before = sf.limits()
    sf.bulk2.Lead.insert(records=[{"LastName": "Counted", "Company": "C"}], wait=0.2)
    list(sf.bulk2.Lead.query("SELECT Id FROM Lead LIMIT 5", wait=0.2))
    after = sf.limits()
    assert (
        before["DailyBulkApiBatches"]["Remaining"] - after["DailyBulkApiBatches"]["Remaining"] == 1
    )
    assert (
        before["DailyBulkV2QueryJobs"]["Remaining"] - after["DailyBulkV2QueryJobs"]["Remaining"]
        == 1
    )
