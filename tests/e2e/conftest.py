"""Shared browser fixture: Playwright driving a headless Chromium.

The browser is Debian's ``chromium`` when installed, else the one Playwright downloads
(``python -m playwright install chromium``); ``CHROMIUM=/path`` picks another. Without one, the
browser tests are skipped with one line saying how to get it — except under CI (``CI=true``),
where a missing browser fails the run.
"""

import os
import shutil
from functools import cache
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop shares the thread

SHOTS = Path("/tmp/leadbridge-e2e")
E2E_DIR = Path(__file__).resolve().parent
ENABLE = (
    "`apt-get install chromium` (Debian) or `.venv/bin/python -m playwright install chromium` "
    "(Playwright's own download)"
)
SKIPPED = pytest.StashKey[int]()


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@cache
def find_chromium() -> str | None:
    """The Chromium to drive: ``$CHROMIUM`` if set (and only it), Debian's, Playwright's own."""
    if chosen := os.environ.get("CHROMIUM"):
        return chosen if Path(chosen).is_file() else None
    if debian := shutil.which("chromium"):
        return debian
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            downloaded = playwright.chromium.executable_path
    except Exception:  # noqa: BLE001 - no Playwright, no driver: no browser either way
        return None
    return downloaded if Path(downloaded).is_file() else None


def pytest_collection_modifyitems(config, items) -> None:
    """Outside CI, skip the browser tests when there is no browser (and say so once)."""
    browser_tests = [item for item in items if E2E_DIR in Path(item.fspath).parents]
    if not browser_tests or _in_ci() or find_chromium():
        return
    config.stash[SKIPPED] = len(browser_tests)
    for item in browser_tests:
        item.add_marker(pytest.mark.skip(reason=f"no Chromium: enable with {ENABLE}"))


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if skipped := config.stash.get(SKIPPED, 0):
        terminalreporter.write_line(
            f"{skipped} browser tests skipped: no Chromium found. Enable them with {ENABLE}.",
            yellow=True,
        )


@pytest.fixture(scope="session")
def chromium() -> str:
    """The browser's path; under CI a missing one is a failure, not a skip."""
    if path := find_chromium():
        return path
    pytest.fail(
        f"no Chromium, and under CI browser tests must run. Get one: {ENABLE}.", pytrace=False
    )


@pytest.fixture
def browser_page(chromium, live_server):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.set_default_timeout(20_000)
        yield page
        browser.close()


@pytest.fixture(autouse=True)
def _empty_job_queues():
    """Each browser test starts with empty RQ queues: a worker it starts must not first work
    through jobs the suite's earlier tests (or an earlier run on the same Redis) left behind."""
    import django_rq
    from rq.registry import DeferredJobRegistry, ScheduledJobRegistry, StartedJobRegistry

    for name in ("default", "sync", "imports"):
        queue = django_rq.get_queue(name)
        queue.empty()
        for registry in (ScheduledJobRegistry, DeferredJobRegistry, StartedJobRegistry):
            found = registry(queue=queue)
            for job_id in found.get_job_ids():
                found.remove(job_id, delete_job=True)
    yield
