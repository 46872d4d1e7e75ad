"""Background processing of Bulk API 2.0 jobs on RQ.

``enqueue(process_job, job_id)`` puts the job on the RQ queue named by ``SANDBOX_QUEUE``
(default ``sandbox``) in the Redis at ``REDIS_URL``. ``runsandbox`` and the test server start
``python -m sandbox.worker`` beside themselves, so bulk jobs run the same under ``make run`` and
in CI. With no Redis reachable the job runs on a background thread instead.
"""

import ctypes
import os
import secrets
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

import redis
from django.conf import settings
from rq import Queue, SimpleWorker


def queue_name() -> str:
    return os.environ.get("SANDBOX_QUEUE", "sandbox")


def connection() -> redis.Redis | None:
    """The Redis to queue on, or None when it cannot be reached."""
    try:
        conn = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
        conn.ping()
    except (redis.RedisError, OSError, ValueError):
        return None
    return conn


def enqueue(job: Callable[[str], None], job_id: str) -> None:
    """Queue ``job(job_id)`` on RQ (or run it on a thread when there is no Redis)."""
    conn = connection() if os.environ.get("SANDBOX_BULK_INLINE") != "1" else None
    if conn is None:
        threading.Thread(target=job, args=(job_id,), daemon=True).start()
        return
    Queue(queue_name(), connection=conn).enqueue(job, job_id, job_timeout=3600, result_ttl=0)


def _die_with_parent() -> None:
    # SIGKILL, not SIGTERM: RQ treats SIGTERM as "finish the current job first".
    with suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)


def start_worker_process(root: Path, slot: int = 1) -> subprocess.Popen | None:
    """Start ``python -m sandbox.worker`` when Redis is reachable (stops with its parent).

    The caller fails the jobs a previous run left InProgress first (``fail_interrupted_jobs``),
    once: a worker doing it as it starts would fail the job another worker has just taken.
    Each worker beside others gets its own ``slot`` (1-7) of record ids (``sandbox/ids.py``)."""
    if connection() is None or os.environ.get("SANDBOX_BULK_INLINE") == "1":
        os.environ["SANDBOX_BULK_INLINE"] = "1"
        return None
    # A queue of its own: several sandbox servers may share one Redis (make run, make test).
    os.environ.setdefault("SANDBOX_QUEUE", f"sandbox-{os.getpid()}-{secrets.token_hex(4)}")
    return subprocess.Popen(
        [sys.executable, "-m", "sandbox.worker"],
        cwd=root,
        env={**os.environ, "SANDBOX_ID_SLOT": str(slot)},
        preexec_fn=_die_with_parent,  # noqa: PLW1509
    )


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    settings.DEBUG = False  # no query log: the org serves and bulk-loads at full speed
    conn = connection()
    if conn is None:
        raise SystemExit(f"sandbox worker: no Redis at {settings.REDIS_URL}")
    worker = SimpleWorker([Queue(queue_name(), connection=conn)], connection=conn)
    worker.work(with_scheduler=False)


if __name__ == "__main__":
    main()
