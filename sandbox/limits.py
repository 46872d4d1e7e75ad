"""API request allocation: a rolling 24-hour count of calls per org, in this process.

Salesforce counts each REST call once (a Collections or Composite call is one call); the
versions list is free. Past the org's ``daily_api_limit`` calls get 403 REQUEST_LIMIT_EXCEEDED
until the window frees them. ``/limits`` reports the same numbers.
"""

import threading
import time
from collections import defaultdict, deque

from sandbox.errors import ApiError
from sandbox.models import Org

WINDOW = 24 * 3600
BUCKET = 60

_lock = threading.Lock()
_buckets: dict[str, deque] = defaultdict(deque)


def _trim(buckets: deque, moment: float) -> None:
    while buckets and buckets[0][0] <= moment - WINDOW:
        buckets.popleft()


def used(org_id: str) -> int:
    with _lock:
        buckets = _buckets[org_id]
        _trim(buckets, time.time())
        return sum(count for _start, count in buckets)


def count_call(org: Org) -> tuple[int, int]:
    """Count one call; (used, max) after it, or REQUEST_LIMIT_EXCEEDED past the allocation."""
    moment = time.time()
    with _lock:
        buckets = _buckets[org.pk]
        _trim(buckets, moment)
        total = sum(count for _start, count in buckets)
        if total >= org.daily_api_limit:
            raise ApiError("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", 403, None)
        start = moment - moment % BUCKET
        if buckets and buckets[-1][0] == start:
            buckets[-1][1] += 1
        else:
            buckets.append([start, 1])
        return total + 1, org.daily_api_limit


_bulk: dict[tuple[str, str], deque] = defaultdict(deque)


def count_bulk(org_id: str, kind: str, amount: int = 1) -> None:
    """Count Bulk API 2.0 usage: ``batches`` (one per 10,000 ingested rows) or ``query_jobs``."""
    moment = time.time()
    with _lock:
        buckets = _bulk[(org_id, kind)]
        _trim(buckets, moment)
        buckets.append([moment, amount])


def bulk_used(org_id: str, kind: str) -> int:
    with _lock:
        buckets = _bulk[(org_id, kind)]
        _trim(buckets, time.time())
        return sum(count for _start, count in buckets)


def reset(org_id: str) -> None:
    with _lock:
        _buckets.pop(org_id, None)
        for kind in ("batches", "query_jobs"):
            _bulk.pop((org_id, kind), None)


def org_limits(org: Org) -> dict:
    """The ``/limits`` resource."""
    api_used = used(org.pk)

    def entry(maximum: int, remaining: int) -> dict:
        return {"Max": maximum, "Remaining": max(remaining, 0)}

    return {
        "ConcurrentAsyncGetReportInstances": entry(200, 200),
        "DailyApiRequests": entry(org.daily_api_limit, org.daily_api_limit - api_used),
        "DailyAsyncApexExecutions": entry(250000, 250000),
        "DailyBulkApiBatches": entry(15000, 15000 - bulk_used(org.pk, "batches")),
        "DailyBulkV2QueryFileStorageMB": entry(976562, 976562),
        "DailyBulkV2QueryJobs": entry(10000, 10000 - bulk_used(org.pk, "query_jobs")),
        "DataStorageMB": entry(5, 5),
        "FileStorageMB": entry(20, 20),
        "HourlyTimeBasedWorkflow": entry(50, 50),
        "MassEmail": entry(5000, 5000),
        "SingleEmail": entry(5000, 5000),
        "StreamingApiConcurrentClients": entry(2000, 2000),
    }
