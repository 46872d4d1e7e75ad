"""Sandbox org benchmarks (``make bench``): each figure beside a trivial HTTPS endpoint.

Targets (issue 3): single create median ≤ 15 ms; 200-record Collections create median ≤ 200 ms;
paging a 100,000-row query at ≥ 20,000 rows/s. The trivial endpoint is the same cheroot server
and TLS answering canned JSON, so the difference is the sandbox's own work.
"""

import statistics
import time

import pytest
import requests
from simple_salesforce import Salesforce

from tests.fixtures.sandbox import start_trivial

ROWS = 100_000


@pytest.fixture(scope="module")
def trivial(tmp_path_factory):
    url, ca, process = start_trivial(tmp_path_factory.mktemp("trivial"))
    session = requests.Session()
    session.trust_env = False
    session.verify = ca
    yield Salesforce(instance_url=url, session_id="trivial", session=session, version="59.0")
    process.terminate()
    process.wait()


def _median_ms(call, runs: int) -> float:
    for _ in range(3):
        call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _report(name: str, sandbox: float, baseline: float, unit: str, target: str) -> None:
    print(
        f"\n{name:<38} sandbox {sandbox:10.1f} {unit:<7} trivial HTTPS {baseline:10.1f} "
        f"{unit:<7} target {target}"
    )


def test_single_record_create(sandbox_org, trivial):
    sf = sandbox_org.salesforce()
    counter = iter(range(10**6))

    def create(client):
        return lambda: client.Lead.create(
            {"LastName": f"Bench {next(counter)}", "Company": "Bench", "Email": None}
        )

    sandbox = _median_ms(create(sf), 300)
    baseline = _median_ms(create(trivial), 300)
    _report("single create (median)", sandbox, baseline, "ms", "<= 15 ms")
    assert sandbox <= 15


def test_collections_create_200(sandbox_org, trivial):
    sf = sandbox_org.salesforce()
    counter = iter(range(10**6))

    def create(client):
        def call():
            batch = next(counter)
            records = [
                {
                    "attributes": {"type": "Lead"},
                    "LastName": f"Coll {batch}-{i}",
                    "Company": "Bench",
                    "Email": f"c{batch}-{i}@bench.example",
                }
                for i in range(200)
            ]
            client.restful(
                "composite/sobjects", method="POST", json={"allOrNone": False, "records": records}
            )

        return call

    sandbox = _median_ms(create(sf), 30)
    baseline = _median_ms(create(trivial), 30)
    _report("collections create x200 (median)", sandbox, baseline, "ms", "<= 200 ms")
    assert sandbox <= 200


def _rows_per_second(client, text: str) -> float:
    start = time.perf_counter()
    count = sum(1 for _ in client.query_all_iter(text))
    elapsed = time.perf_counter() - start
    assert count >= ROWS
    return count / elapsed


def test_paging_a_100k_row_query(sandbox_org, trivial):
    sandbox_org.control("seed_leads", count=ROWS, prefix="bench")
    sf = sandbox_org.salesforce()
    text = "SELECT Id, LastName, Company, Email FROM Lead WHERE Company = 'Bench Co'"
    runs = [_rows_per_second(sf, "SELECT Id, LastName, Company, Email FROM Lead") for _ in range(3)]
    filtered = _rows_per_second(sf, text)
    baseline = statistics.median(_rows_per_second(trivial, text) for _ in range(3))
    _report(
        "query paging, 100k rows (median)",
        statistics.median(runs),
        baseline,
        "rows/s",
        ">= 20,000 rows/s",
    )
    _report("  same, filtered in Python", filtered, baseline, "rows/s", "(info)")
    assert statistics.median(runs) >= 20_000


class _PeakRss:
    """Samples the RSS of the sandbox server and its worker every 50 ms."""

    def __init__(self, pid: int):
        import threading

        import psutil

        self.process = psutil.Process(pid)
        self.peak = 0
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        import psutil

        while self.running:
            try:
                procs = [self.process, *self.process.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in procs))
            except psutil.Error:
                pass
            time.sleep(0.05)

    def stop(self) -> float:
        self.running = False
        self.thread.join()
        return self.peak / 2**20


def _bulk_rows(count: int, tag: str) -> list[dict]:
    return [
        {
            "LastName": f"Bulk {i}",
            "Company": f"Bulk {tag}",
            "Email": f"{tag}{i}@bulk.example",
            "Customer_Comment__c": "loaded by the benchmark",
            "Country": "US",
            "State": "CA",
            "pi__Pardot_Prospect_Id__c": f"{tag}-{i}",
        }
        for i in range(count)
    ]


@pytest.mark.parametrize("count", [10_000, 100_000])
def test_bulk_ingest_and_query(sandbox_org, count):
    sf = sandbox_org.salesforce()
    tag = f"b{count}"
    meter = _PeakRss(sandbox_org.pid)
    start = time.perf_counter()
    result = sf.bulk2.Lead.insert(records=_bulk_rows(count, tag), wait=0.5)
    ingest = time.perf_counter() - start
    rss = meter.stop()
    assert sum(r["numberRecordsProcessed"] for r in result) == count
    assert sum(r["numberRecordsFailed"] for r in result) == 0
    start = time.perf_counter()
    rows = sum(
        len(page.splitlines()) - 1
        for page in sf.bulk2.Lead.query(
            f"SELECT Id, LastName, Email FROM Lead WHERE Company = 'Bulk {tag}'", wait=0.5
        )
    )
    read = time.perf_counter() - start
    assert rows == count
    print(
        f"\nbulk ingest {count:>7,} Lead rows, all rules  {ingest:6.1f} s "
        f"({count / ingest:,.0f} rows/s)  peak RSS server+worker {rss:6.0f} MiB"
        f"   target <= 30 s at 100k"
    )
    print(
        f"bulk query  {count:>7,} rows                {read:6.1f} s "
        f"({count / read:,.0f} rows/s)   target <= 10 s at 100k"
    )
    if count == 100_000:
        assert ingest <= 30 and read <= 10


# -- the sync engine's hot paths (issue: slow initial push on PostgreSQL) ---------------------

ENGINE_ROWS = 20_000
EXT = "pi__Pardot_Prospect_Id__c"
LEAD_FIELDS = (
    "Id, FirstName, LastName, Email, Company, Title, Phone, Street, City, State, PostalCode, "
    "Country, LeadSource, Description, HasOptedOutOfEmail, DoNotCall, OwnerId, IsConverted, "
    "ConvertedContactId, pi__score__c, pi__grade__c, SystemModstamp"
)


def _engine_rows(count: int, tag: str, start: int = 0) -> list[dict]:
    return [
        {
            EXT: f"{tag}-{i}",
            "FirstName": "Eng",
            "LastName": f"Ine {i}",
            "Company": f"Engine {tag}",
            "Email": f"{tag}{i}@engine.example",
            "Title": "Buyer",
            "pi__score__c": str(i % 300),
        }
        for i in range(start, start + count)
    ]


def _timed(call) -> tuple[float, object]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def _line(name: str, seconds: float, extra: str = "") -> None:
    print(f"\n{name:<58} {seconds * 1000:10.1f} ms {extra}")


@pytest.fixture(scope="module")
def engine_org(sandbox_org):
    """The demo org plus ENGINE_ROWS leads upserted through Bulk 2.0 (timed, new then existing)."""
    sf = sandbox_org.salesforce()
    rows = _engine_rows(ENGINE_ROWS, "eng")
    first, result = _timed(
        lambda: sf.bulk2.Lead.upsert(records=rows, external_id_field=EXT, wait=0.5)
    )
    assert sum(r["numberRecordsFailed"] for r in result) == 0
    _line(f"bulk2 upsert {ENGINE_ROWS:,} new leads on {EXT}", first, "(all inserted)")
    for row in rows:
        row["Title"] = "Updated"
    second, result = _timed(
        lambda: sf.bulk2.Lead.upsert(records=rows, external_id_field=EXT, wait=0.5)
    )
    assert sum(r["numberRecordsFailed"] for r in result) == 0
    _line(f"bulk2 upsert {ENGINE_ROWS:,} existing leads on {EXT}", second, "(all updated)")
    return sf


def test_engine_bulk_query_of_unconverted_emails(engine_org):
    text = "SELECT Id, Email FROM Lead WHERE Email != null AND IsConverted = false"
    seconds, pages = _timed(lambda: list(engine_org.bulk2.Lead.query(text, wait=0.5)))
    rows = sum(len(page.splitlines()) - 1 for page in pages)
    assert rows >= ENGINE_ROWS
    _line("bulk2 query Email != null AND IsConverted = false", seconds, f"({rows:,} rows)")


def _soql_in(sf, column: str, values: list[str]) -> float:
    listed = ", ".join(f"'{v}'" for v in values)
    text = f"SELECT {LEAD_FIELDS} FROM Lead WHERE {column} IN ({listed})"

    def call():
        assert sf.query(text)["totalSize"] == len(values)

    return _median_ms(call, 20)


def test_engine_soql_in_200_emails_and_ids(engine_org):
    emails = [f"eng{i}@engine.example" for i in range(5000, 5200)]
    by_email = _soql_in(engine_org, "Email", emails)
    listed = ", ".join(f"'{e}'" for e in emails)
    found = engine_org.query(f"SELECT Id FROM Lead WHERE Email IN ({listed})")["records"]
    by_id = _soql_in(engine_org, "Id", [r["Id"] for r in found])
    print(f"\nSOQL ~20 fields WHERE Email IN (200) median {by_email:8.1f} ms")
    print(f"SOQL ~20 fields WHERE Id IN (200)    median {by_id:8.1f} ms")


def _collection(tag: str, start: int) -> list[dict]:
    return [{"attributes": {"type": "Lead"}, **row} for row in _engine_rows(200, tag, start=start)]


def test_engine_collections_upsert_200(engine_org):
    counter = iter(range(10**6))

    def call():
        batch = next(counter) % 10  # half new, then existing values
        results = engine_org.restful(
            f"composite/sobjects/Lead/{EXT}",
            method="PATCH",
            json={"allOrNone": False, "records": _collection("coll", batch * 200)},
        )
        assert all(r["success"] for r in results)

    print(f"\ncollections upsert x200 median {_median_ms(call, 20):8.1f} ms")


def test_engine_composite_of_5_collections_and_5_queries(engine_org):
    counter = iter(range(10**6))

    def writes():
        base = (next(counter) % 4) * 1000
        subrequests = [
            {
                "method": "PATCH",
                "url": f"/services/data/v59.0/composite/sobjects/Lead/{EXT}",
                "referenceId": f"w{i}",
                "body": {"allOrNone": False, "records": _collection("comp", base + i * 200)},
            }
            for i in range(5)
        ]
        body = engine_org.restful(
            "composite", method="POST", json={"compositeRequest": subrequests}
        )
        assert all(r["httpStatusCode"] == 200 for r in body["compositeResponse"])

    def reads():
        subrequests = []
        for i in range(5):
            emails = ", ".join(f"'eng{n}@engine.example'" for n in range(i * 200, i * 200 + 200))
            text = f"SELECT {LEAD_FIELDS} FROM Lead WHERE Email IN ({emails})".replace(" ", "+")
            subrequests.append(
                {
                    "method": "GET",
                    "url": f"/services/data/v59.0/query?q={text}",
                    "referenceId": f"q{i}",
                }
            )
        body = engine_org.restful(
            "composite", method="POST", json={"compositeRequest": subrequests}
        )
        assert all(r["body"]["totalSize"] == 200 for r in body["compositeResponse"])

    print(f"\ncomposite 5 x collections upsert x200 median {_median_ms(writes, 8):8.1f} ms")
    print(f"composite 5 x query (Email IN 200)   median {_median_ms(reads, 8):8.1f} ms")
