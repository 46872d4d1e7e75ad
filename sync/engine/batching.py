"""Batch plumbing for the engine: chunking, a read-ahead thread, deadlock-safe transactions,
Bulk API rows typed as the REST API types them, and a garbage collector paced for batches."""

from __future__ import annotations

import contextlib
import gc
import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator

from django.db import OperationalError, transaction

log = logging.getLogger(__name__)

# PostgreSQL's deadlock_detected and serialization_failure: the transaction may simply rerun.
RETRY_SQLSTATES = frozenset({"40P01", "40001"})
BATCH_GC_THRESHOLD = 50_000  # allocations between young-generation collections during a run


def chunked[T](items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


_TYPED = frozenset({"boolean", "int", "long", "double", "currency", "percent"})
_UNSEEN = object()


def typed_rows(rows: Iterable[dict[str, str]], fields: dict[str, dict]) -> Iterator[dict]:
    """Bulk API CSV rows as the REST API gives them: null for blanks, booleans and numbers
    typed, so comparisons do not depend on how a record was read. The columns' types are
    looked up once per result, not once per cell."""
    kinds: dict[str, str | None] = {}
    for row in rows:
        record = {}
        for name, text in row.items():
            if text == "":
                record[name] = None
                continue
            kind = kinds.get(name, _UNSEEN)
            if kind is _UNSEEN:
                kind = kinds[name] = _typed_kind(fields, name)
            if kind is None:  # text: most columns
                record[name] = text
            elif kind == "boolean":
                record[name] = text == "true"
            else:
                try:
                    record[name] = int(text) if kind in {"int", "long"} else float(text)
                except ValueError:
                    record[name] = float(text) if _is_number(text) else text
        yield record


def _typed_kind(fields: dict[str, dict], name: str) -> str | None:
    kind = fields.get(name, {}).get("type")
    return kind if kind in _TYPED else None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def in_transaction[T](work: Callable[[], T], *, attempts: int = 3) -> T:
    """Run ``work`` in a transaction, again when the database broke a deadlock by aborting it."""
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic():
                return work()
        except OperationalError as exc:
            state = getattr(exc.__cause__, "sqlstate", None)
            if attempt == attempts or state not in RETRY_SQLSTATES:
                raise
            log.info("transaction retried after %s", state)
    raise AssertionError("unreachable")


_DONE = object()


def read_ahead[T](items: Iterator[T], *, depth: int = 2) -> Iterator[T]:
    """Yield ``items`` as a thread produces them, up to ``depth`` ahead: Salesforce sends the
    next chunk while this one is written. The thread makes Salesforce calls only, never a
    database query; its error is raised here."""
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> None:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def produce() -> None:
        try:
            for item in items:
                put(item)
                if stop.is_set():
                    return
            put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            put(exc)

    thread = threading.Thread(target=produce, name="pull-read-ahead", daemon=True)
    thread.start()
    try:
        while (item := ready.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


class _Pacing:
    """The runs under way in this process (threads may overlap): the first one paces the
    collector, the last one to finish restores it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runs = 0
        self.threshold = gc.get_threshold()

    def enter(self) -> None:
        with self.lock:
            self.runs += 1
            if self.runs == 1:
                self.threshold = gc.get_threshold()
                gc.freeze()
                gc.set_threshold(max(self.threshold[0], BATCH_GC_THRESHOLD), *self.threshold[1:])

    def leave(self) -> None:
        with self.lock:
            self.runs -= 1
            if self.runs == 0:
                gc.set_threshold(*self.threshold)
                gc.unfreeze()


_pacing = _Pacing()


@contextlib.contextmanager
def collecting_for_batches() -> Iterator[None]:
    """Pace the garbage collector for a push or pull run, then put it back as it was.

    A run allocates millions of small objects (rows, payloads, history entries), nearly all
    freed by reference counting as soon as a batch is written. At the default threshold of 700
    the collector still runs about a thousand times per 10,000 records, and each of its full
    passes walks the whole heap, Django's own objects included: a fifth of the worker's CPU
    (issue 19). During the run the heap it started with is frozen (left out of collections)
    and the young generation is collected every 50,000 allocations; cycles made during the run
    are still found, and whatever the run left behind is collected as usual afterwards.
    """
    _pacing.enter()
    try:
        yield
    finally:
        _pacing.leave()
