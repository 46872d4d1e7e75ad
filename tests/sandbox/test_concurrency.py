"""Concurrent upserts on one external id never insert twice (sandbox/records.py locks).

Meant for PostgreSQL (``SANDBOX_DATABASE_URL``), where the race showed; SQLite's IMMEDIATE
transactions serialise writers, so the same test passes there too.
"""

from concurrent.futures import ThreadPoolExecutor

EXT = "pi__Pardot_Prospect_Id__c"
THREADS = 8


def _clients(sandbox_org) -> list:
    return [sandbox_org.salesforce(fresh=i == 0) for i in range(THREADS)]


def _count(sf, value: str) -> int:
    return sf.query(f"SELECT COUNT() FROM Lead WHERE {EXT} = '{value}'")["totalSize"]


def test_concurrent_rest_upserts_on_one_external_id_insert_once(sandbox_org, unique):
    clients = _clients(sandbox_org)
    for round_ in range(5):
        value = f"race{unique}-{round_}"

        def upsert(index: int, value=value) -> int:
            sf = clients[index]
            return sf.Lead.upsert(
                f"{EXT}/{value}", {"LastName": f"Race {index}", "Company": "Race"}
            )

        with ThreadPoolExecutor(THREADS) as pool:
            statuses = list(pool.map(upsert, range(THREADS)))
        assert sorted(statuses) == [200] * (THREADS - 1) + [201]
        assert _count(clients[0], value) == 1


def test_concurrent_collections_upserts_insert_each_value_once(sandbox_org, unique):
    clients = _clients(sandbox_org)
    values = [f"crace{unique}-{i}" for i in range(50)]

    def upsert(index: int) -> list:
        records = [
            {"attributes": {"type": "Lead"}, EXT: v, "LastName": f"C{index}", "Company": "Race"}
            for v in values
        ]
        return clients[index].restful(
            f"composite/sobjects/Lead/{EXT}",
            method="PATCH",
            json={"allOrNone": False, "records": records},
        )

    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(upsert, range(THREADS)))
    for position in range(len(values)):
        results = [answer[position] for answer in answers]
        assert all(r["success"] for r in results), results
        assert sum(r["created"] for r in results) == 1
        assert len({r["id"] for r in results}) == 1
    listed = ", ".join(f"'{v}'" for v in values)
    rows = clients[0].query_all(f"SELECT Id FROM Lead WHERE {EXT} IN ({listed})")
    assert rows["totalSize"] == len(values)


def test_a_bulk_job_and_collections_upserting_the_same_values_insert_each_once(sandbox_org, unique):
    """The value locks serialise writers of one value only: a bulk job (2,000-row chunks)
    and Collections upserts of the same values, side by side, still insert each value once."""
    clients = _clients(sandbox_org)
    values = [f"brace{unique}-{i}" for i in range(2500)]
    rows = [{EXT: v, "LastName": "Bulk", "Company": "Race"} for v in values]

    def bulk() -> None:
        result = clients[0].bulk2.Lead.upsert(records=rows, external_id_field=EXT, wait=0.2)
        assert sum(r["numberRecordsFailed"] for r in result) == 0

    def collections(index: int) -> None:
        chunk = values[index * 200 : (index + 1) * 200]
        records = [
            {"attributes": {"type": "Lead"}, EXT: v, "LastName": "Coll", "Company": "Race"}
            for v in chunk
        ]
        answer = clients[1 + index].restful(
            f"composite/sobjects/Lead/{EXT}",
            method="PATCH",
            json={"allOrNone": False, "records": records},
        )
        assert all(r["success"] for r in answer), answer

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(bulk)] + [pool.submit(collections, i) for i in range(4)]
        for future in futures:
            future.result()
    found = clients[0].query_all(f"SELECT {EXT} FROM Lead WHERE {EXT} LIKE 'brace{unique}-%'")
    assert found["totalSize"] == len(values)
    assert len({r[EXT] for r in found["records"]}) == len(values)
