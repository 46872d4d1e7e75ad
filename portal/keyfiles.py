"""Secrets generated once into ``var/`` for local use (never for production).

Imported by settings, so it uses nothing but the standard library.
"""

import contextlib
import os
from collections.abc import Callable
from pathlib import Path


def local_secret(path: Path, make: Callable[[], str]) -> str:
    """The secret in ``path``, made by ``make()`` and written there first if it is missing.

    1. The new secret goes to a temporary file created with mode 0600 (``O_CREAT | O_EXCL``),
       so no other user can read it at any moment — there is no chmod afterwards.
    2. ``os.link`` publishes it only if ``path`` still does not exist: when two processes start
       at once (``make run`` starts web, worker and cron together) one secret wins and both
       read it, instead of each keeping a key the other never saw.
    """
    if not path.exists():
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.unlink(missing_ok=True)  # left by a crashed process that had our pid
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(make())
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    return path.read_text().strip()
