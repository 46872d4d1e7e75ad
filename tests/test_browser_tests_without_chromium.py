"""A newcomer's machine without Chromium: browser tests skip with one line, unless under CI
(issue 12, "A newcomer's machine"). Runs pytest on tests/e2e in a subprocess."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pytest_e2e(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "tests/e2e", "-q", "-x"],
        cwd=ROOT,
        env={**os.environ, "CHROMIUM": "/nonexistent/chromium", **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_without_a_browser_the_browser_tests_are_skipped_with_one_line_saying_how():
    result = _pytest_e2e(CI="")
    assert result.returncode == 0, result.stdout[-2000:]
    lines = [line for line in result.stdout.splitlines() if "browser tests skipped" in line]
    assert len(lines) == 1
    assert "apt-get install chromium" in lines[0] and "playwright install chromium" in lines[0]
    assert " passed" not in result.stdout and "error" not in result.stdout.lower()


def test_under_ci_a_missing_browser_fails_the_run():
    result = _pytest_e2e(CI="true")
    assert result.returncode != 0
    assert "under CI browser tests must run" in result.stdout
