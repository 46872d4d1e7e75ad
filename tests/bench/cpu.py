"""Per-process CPU accounting for the benchmarks, read from ``/proc`` (Linux).

A figure is user + system time of a process, children it has waited for included; the
database's share is the CPU of the PostgreSQL backends serving a client, found by the
``application_name`` the portal gives its connections (``DATABASE_APPLICATION_NAME``).
"""

from __future__ import annotations

import os
from pathlib import Path

import psutil
from django.db import connection

TICK = os.sysconf("SC_CLK_TCK")
SANDBOX_APPLICATION = "leadbridge-sandbox-org"  # how portal/settings.py names the org's backends


def process_cpu(pid: int) -> float:
    """User + system seconds of a process and of its children it has waited for (/proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # the command name may hold spaces
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return (utime + stime + cutime + cstime) / TICK


def tree_cpu(pid: int) -> dict[int, float]:
    """CPU of a process and of each live descendant (a reaped one is in its parent's figure)."""
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        children = []
    return {p: process_cpu(p) for p in [pid, *(c.pid for c in children)]}


def backends(application_name: str) -> dict[int, float]:
    """The CPU of every PostgreSQL backend serving clients of that name."""
    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", [application_name]
        )
        return {pid: process_cpu(pid) for (pid,) in cursor.fetchall()}


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two snapshots; a process born meanwhile counts from zero."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())
