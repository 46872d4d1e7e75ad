"""Fault injection: latency, 5xx answers, row locks, dropped connections and outages.

A connection can be dropped before the org does anything (``drop_rate``) or after it did the
work and committed (``drop_after_rate``): the client cannot tell which, and only a call it may
safely repeat (a read, an upsert on an external id) may be retried.

Configured per org on a ``FaultConfig`` row (admin, ``manage.py sandboxctl set_faults …`` or the
test fixture's control endpoint). Decisions come from one ``random.Random(seed)`` per org,
restarted whenever the configuration changes, so a scripted sequence of calls meets the same
faults on every run.
"""

import random
import threading
import time
from dataclasses import dataclass

from sandbox.errors import ApiError
from sandbox.models import FaultConfig, Org
from sandbox.values import now

DB = "sandbox"
REFRESH_SECONDS = 0.5


class DropConnection(Exception):
    """Close the client's connection without answering."""


@dataclass
class _State:
    config: FaultConfig | None
    version: int
    rng: random.Random
    checked: float


_states: dict[str, _State] = {}
_lock = threading.Lock()


def _state(org: Org) -> _State:
    moment = time.monotonic()
    state = _states.get(org.pk)
    if state is not None and moment - state.checked < REFRESH_SECONDS:
        return state
    config = FaultConfig.objects.using(DB).filter(org_id=org.pk).first()
    version = config.version if config else 0
    if state is None or state.version != version:
        state = _State(config, version, random.Random(config.seed if config else 0), moment)
    state.config, state.checked = config, moment
    _states[org.pk] = state
    return state


def forget(org_id: str) -> None:
    """Re-read the configuration on the next call (changes made in this process)."""
    with _lock:
        _states.pop(org_id, None)


def before_call(org: Org) -> None:
    """Apply call-level faults: latency, outage window, dropped connection, 5xx."""
    with _lock:
        state = _state(org)
        config = state.config
        if config is None:
            return
        drop = state.rng.random() < config.drop_rate
        fail = state.rng.random() < config.error_rate
    if config.latency_ms:
        time.sleep(config.latency_ms / 1000)
    if config.outage_until and now() < config.outage_until:
        raise unavailable()
    if drop:
        raise DropConnection()
    if fail:
        raise server_error(config.error_status)


def after_call(org: Org) -> None:
    """Lose the answer of a call the org has carried out (``drop_after_rate``)."""
    with _lock:
        state = _state(org)
        rate = state.config.drop_after_rate if state.config else 0.0
        drop = bool(rate) and state.rng.random() < rate
    if drop:
        raise DropConnection()


def lock_fails(org: Org) -> bool:
    """Whether this record write meets UNABLE_TO_LOCK_ROW."""
    with _lock:
        state = _state(org)
        return bool(
            state.config and state.config.lock_rate and state.rng.random() < state.config.lock_rate
        )


def unavailable() -> ApiError:
    return ApiError(
        "SERVER_UNAVAILABLE", "Server temporarily unavailable. Please try again later.", 503, None
    )


def server_error(status: int) -> ApiError:
    if status == 503:
        return unavailable()
    return ApiError(
        "UNKNOWN_EXCEPTION",
        "An unexpected error occurred. Please include this "
        "ErrorId if you contact support: 0000000000-00000 (0)",
        status,
        None,
    )


def unable_to_lock_row() -> ApiError:
    return ApiError(
        "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record", 400, []
    )
