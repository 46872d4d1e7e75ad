"""Bulk API 2.0 query results (``Client.bulk_query``): each page streamed to a temporary file
and read from it, so the worker never holds a page; pages asked for by locator, so a page whose
answer was lost is asked for again without reading any row twice."""

import tempfile
import tracemalloc
import uuid

import pytest

from sync import salesforce
from sync.salesforce import Client

pytestmark = pytest.mark.django_db

DESCRIPTION = 500  # characters of Description per Lead: pages worth measuring


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """The temporary files of this test, where it can see them."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def make_leads(org, count: int, *, description: int = 0) -> tuple[str, set[str]]:
    domain = f"bq-{uuid.uuid4().hex[:8]}.example"
    emails = {f"lead{i}@{domain}" for i in range(count)}
    org.admin().bulk2.Lead.insert(
        records=[
            {"LastName": email.split("@")[0], "Company": "Bulk", "Email": email}
            | ({"Description": "d" * description} if description else {})
            for email in sorted(emails)
        ],
        wait=0.2,
    )
    return domain, emails


def read(client: Client, domain: str, fields: str = "Id, Email") -> list[dict]:
    return list(client.bulk_query(f"SELECT {fields} FROM Lead WHERE Email LIKE '%@{domain}'"))


def test_every_row_is_read_once_across_pages_and_no_file_is_left(
    connector, org, private_tmp, monkeypatch
):
    domain, emails = make_leads(org, 23)
    monkeypatch.setattr(salesforce, "BULK_PAGE_ROWS", 5)  # five pages
    client = Client.for_connector(connector)
    client.authenticate()
    rows = read(client, domain)
    assert sorted(row["Email"] for row in rows) == sorted(emails)
    assert len({row["Id"] for row in rows}) == 23
    assert client.api_calls == 2 + 5  # the job, its wait, one call per page
    assert list(private_tmp.iterdir()) == []


def test_a_page_whose_answer_was_lost_is_asked_for_again(connector, org, monkeypatch):
    domain, emails = make_leads(org, 23)
    monkeypatch.setattr(salesforce, "BULK_PAGE_ROWS", 2)  # twelve pages: answers surely lost
    client = Client.for_connector(connector, retry_attempts=20)
    client.authenticate()
    # The org carries out every other call and drops the connection before answering.
    org.control("set_faults", drop_after_rate=0.5, seed=19)
    rows = read(client, domain)
    org.control("clear_faults")
    assert sorted(row["Email"] for row in rows) == sorted(emails)  # each once, none lost
    assert client.api_calls > 2 + 12  # answers were lost, and their calls made again


def test_reading_a_job_holds_no_page_in_memory(connector, org, private_tmp):
    """The library's own reader holds each page as bytes and again as text: 20–40 MB a page at
    Salesforce's 50,000 rows, in a worker that should stay flat however long the pull."""
    domain, emails = make_leads(org, 2_000, description=DESCRIPTION)
    page_chars = len(emails) * DESCRIPTION  # the Descriptions alone: 1 MB
    client = Client.for_connector(connector)
    client.authenticate()
    tracemalloc.start()
    try:
        count = 0
        for row in client.bulk_query(
            f"SELECT Id, Email, Description FROM Lead WHERE Email LIKE '%@{domain}'"
        ):
            assert len(row["Description"]) == DESCRIPTION
            count += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == len(emails)
    assert peak < page_chars / 4, f"peak {peak:,} bytes reading a page of {page_chars:,}+"
