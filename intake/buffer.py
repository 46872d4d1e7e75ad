"""The Redis buffer in front of ``ReceivedSubmission`` on SQLite: a form handler post appends
its submission to a Redis list and answers; the worker stores what it takes, then applies it.

Why: SQLite has one writer. The worker holds the write lock while it applies a batch, and a
post's INSERT waited behind it: at 210 posts a second one post in twenty waited 200 ms or more
(``tests/bench/test_form_handler_bench.py``); smaller batches only shorten the wait (they are
50 already), and the lock is SQLite's, not a row's. A push to Redis never waits for the database.
PostgreSQL takes a post's INSERT beside the worker's transaction, so there the request stores
the row itself, as before: the database stays a submission's only home wherever it can.

Nothing is lost or stored twice:

1. a post pushes one JSON document carrying its own ``key`` (unique on the table); when Redis
   refuses it, the request stores the row itself (``intake.received.receive``);
2. the worker takes up to a batch in one atomic step (a Lua script) into a list of its own,
   noted with the time in a sorted set, before it stores anything;
3. it stores them (INSERT, skipping keys already stored) and commits, then drops its list;
4. a take older than TAKE_TIMEOUT was left by a worker that died before dropping it: the next
   worker stores it again, and what was committed already is skipped by its key.

The buffer is as durable as Redis: the embedded Redis of ``make run`` writes every command to
its append-only file before it answers (``portal.embedded_redis``) — like SQLite's
``synchronous=NORMAL`` in WAL mode, a crashed process loses nothing, a power cut the last second.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass

from django.db import connection

from intake import protection

log = logging.getLogger(__name__)

BUFFER_KEY = "leadbridge:intake:received:buffer"
TAKES_KEY = "leadbridge:intake:received:takes"
# Longer than a worker takes to store a batch (a few hundred ms), shorter than anyone waits
# for a lead: a take still there after this long was left by a worker that died.
TAKE_TIMEOUT = 60

# KEYS: the buffer, this take's list, the takes; ARGV: how many at most, the time.
_TAKE = """
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items > 0 then
    redis.call('LTRIM', KEYS[1], #items, -1)
    redis.call('RPUSH', KEYS[2], unpack(items))
    redis.call('ZADD', KEYS[3], ARGV[2], KEYS[2])
end
return items
"""


@dataclass(frozen=True)
class Take:
    """Submissions a worker took: ``key`` is the Redis list holding them until released."""

    key: str
    documents: list[bytes]


def in_use() -> bool:
    """Whether form posts go through the buffer: only where the database has one writer."""
    return connection.vendor == "sqlite"


def push(document: bytes) -> bool:
    """Append a submission; False when Redis refused it (the caller stores it itself)."""
    try:
        protection.redis_connection().rpush(BUFFER_KEY, document)
    except Exception:  # noqa: BLE001 - Redis down: the database takes it
        log.warning("form handler buffer unavailable (Redis); storing directly", exc_info=True)
        return False
    return True


def take(limit: int) -> list[Take]:
    """The takes a dead worker left (see TAKE_TIMEOUT), then up to ``limit`` new submissions
    moved to a list of this take's own. What Redis cannot give now waits for the next look."""
    redis = protection.redis_connection()
    now = time.time()
    takes: list[Take] = []
    try:
        for key in redis.zrangebyscore(TAKES_KEY, "-inf", now - TAKE_TIMEOUT):
            takes.append(Take(key.decode(), redis.lrange(key, 0, -1)))
        key = f"{TAKES_KEY}:{uuid.uuid4().hex}"
        script = redis.register_script(_TAKE)  # EVALSHA, loading it once per server
        if documents := script(keys=[BUFFER_KEY, key, TAKES_KEY], args=[limit, now]):
            takes.append(Take(key, documents))
    except Exception:  # noqa: BLE001 - Redis down: nothing was taken that is not noted
        log.warning("could not take from the form handler buffer (Redis)", exc_info=True)
    return takes


def release(takes: list[Take]) -> None:
    """Drop stored takes. Failing, they are taken again after TAKE_TIMEOUT (and skipped)."""
    if not takes:
        return
    keys = [taken.key for taken in takes]
    try:
        with protection.redis_connection().pipeline() as pipe:
            pipe.delete(*keys)
            pipe.zrem(TAKES_KEY, *keys)
            pipe.execute()
    except Exception:  # noqa: BLE001 - stored already: a second store skips them
        log.warning("could not release form handler takes (Redis)", exc_info=True)


def waiting() -> int:
    """How many submissions the buffer holds, and how many takes are not yet released."""
    with protection.redis_connection().pipeline() as pipe:
        pipe.llen(BUFFER_KEY)
        pipe.zcard(TAKES_KEY)
        return sum(pipe.execute())
