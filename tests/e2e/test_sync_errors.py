"""The guide's sync-error example, end to end in a real browser (Playwright + Chromium).

A prospect's 143-character comment fails with Salesforce's "max length=100"; a marketer finds it
in Sync Errors, reads the root cause, shortens the value, clicks Resync: the row shows "queued",
a sync worker (run here, in the test) pushes the prospect, and the polling row clears.
Screenshots go to /tmp/leadbridge-e2e/.
"""

import csv
import io
import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache

from prospects.factories import ProspectFactory, UserFactory
from sync.engine.outbound import push_prospects
from sync.models import SyncError
from tests.e2e.conftest import SHOTS

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop shares the thread

COMMENT = (
    "Loved the webinar on lead scoring. Please have someone call me next week about the "
    "enterprise plan, pricing for 40 seats and SSO."
)
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser_page):
    """Headless Chromium (tests/e2e/conftest.py)."""
    return browser_page


def log_in_as_marketer(page, live_server) -> None:
    # transaction=True flushes the roles the data migration made; grant them again.
    group, _ = Group.objects.get_or_create(name="Marketer")
    group.permissions.add(
        Permission.objects.get(content_type__app_label="core", codename="use_portal")
    )
    UserFactory(username="marketer-e2e").groups.add(group)
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "marketer-e2e")
    page.fill("input[name=password]", "leadbridge-test")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_the_guides_long_comment_is_found_explained_fixed_and_cleared(
    page, live_server, connector, run_jobs
):
    assert len(COMMENT) > 100
    comment = (COMMENT + " " + COMMENT)[:143]
    prospect = ProspectFactory(
        email="jordan.reyes@northwind.example", notes=comment, assigned_user=UserFactory()
    )
    for n in range(3):  # a few neighbours failing for other reasons, as in a real table
        ProspectFactory(assigned_user=UserFactory(), phone=f"call me {n}")
    push_prospects(
        connector=connector,
        prospect_ids=list(type(prospect).objects.values_list("pk", flat=True)),
    )
    error = SyncError.objects.get(prospect=prospect)
    assert "max length=100" in error.message

    # Step 1: review the error — the marketer finds it in the table.
    log_in_as_marketer(page, live_server)
    page.click("nav >> text=Sync Errors")
    page.wait_for_selector("#errors-table")
    assert page.locator("#errors-table tbody tr").count() == 4
    page.screenshot(path=SHOTS / "errors-1-table.png", full_page=True)
    page.fill("input[name=q]", "northwind")
    page.click("button[title='Apply filters']")
    row = page.locator(f"#error-{error.pk}")
    assert "max length=100" in row.inner_text()
    assert "STRING_TOO_LONG" in row.inner_text() and "Data formatting" in row.inner_text()
    assert page.locator("#errors-table tbody tr").count() == 1

    # The export of this filter opens as a clean CSV with the prospect's fields.
    with page.expect_download() as download_info:
        page.click("[data-testid=export-csv]")
    data = Path(download_info.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    (SHOTS / "errors-export.csv").write_bytes(data)
    exported = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [(r["prospect_email"], r["notes"]) for r in exported] == [(prospect.email, comment)]

    # Step 2: identify the root cause.
    row.locator("td a[title='Root cause and fixes']").click()
    cause = page.locator("[data-testid=root-cause]")
    cause.wait_for()
    assert "Customer_Comment__c allows 100 characters; this value has 143" in cause.inner_text()
    assert "raise its length to at least 143" in page.inner_text("[data-testid=salesforce-fix]")
    page.screenshot(path=SHOTS / "errors-2-root-cause.png", full_page=True)

    # Step 3: resolve it — option 1, shorten the value here (the prospect is queued for sync).
    page.fill("#id_value", COMMENT[:96])
    page.click("[data-testid=save]")
    page.wait_for_selector(".alert-success")
    page.wait_for_selector("[data-testid=sync-status][data-state=queued]")
    prospect.refresh_from_db()
    assert prospect.notes == COMMENT[:96]

    # Step 4: trigger a sync from the table; the row shows it queued, then clears in place.
    page.click("text=Sync Errors >> nth=0")
    page.fill("input[name=q]", "northwind")
    page.click("button[title='Apply filters']")
    page.locator(f"#error-{error.pk} [data-testid=resync-row]").click()
    page.locator(f"#error-{error.pk}[data-state=queued]").wait_for()
    run_jobs("sync")  # the sync worker the resync woke
    cleared = page.locator(f"#error-{error.pk}[data-state=cleared]")
    cleared.wait_for()
    assert "Cleared" in cleared.inner_text()
    page.screenshot(path=SHOTS / "errors-3-cleared.png", full_page=True)
    error.refresh_from_db()
    assert error.resolution == SyncError.Resolution.CLEAN_SYNC
    prospect.refresh_from_db()
    assert prospect.crm_lead_id and prospect.sync_status == "synced"


def test_the_demo_table_and_a_reimport_report(page, live_server, run_jobs, tmp_path):
    """The demo's errors in all four categories, then a corrected file with bad rows."""
    from tests.fixtures.demo_errors import load_demo_errors

    cache.clear()  # the tab counts are cached a few seconds
    load_demo_errors()
    log_in_as_marketer(page, live_server)
    page.goto(f"{live_server.url}/sync/errors/")
    tabs = page.inner_text("[data-testid=category-tabs]")
    for label in ("Data formatting", "Access", "Process alignment", "Customization"):
        assert label in tabs
    assert page.locator("#errors-table tbody tr").count() == 8
    page.screenshot(path=SHOTS / "errors-4-demo.png", full_page=True)

    lena = SyncError.objects.get(prospect_email="lena.vogel@contoso.example").prospect
    upload = tmp_path / "corrected.csv"
    upload.write_text(
        "prospect_id,state,phone,mystery\n"
        f"{lena.pk},Texas,,\n"
        "abc,Ohio,,\n"
        f"{lena.pk},Utah,,\n"
        f"{lena.pk},,'=cmd,\n"
        "424242,Ohio,,\n",
        encoding="utf-8-sig",
    )
    page.goto(f"{live_server.url}/sync/errors/import/")
    page.set_input_files("input[type=file]", str(upload))
    page.click("main button[type=submit]")
    page.wait_for_selector("[data-testid=import-status][data-state=queued]")
    run_jobs("imports")  # the imports worker applies the file
    page.wait_for_selector("[data-testid=refusals]")
    assert page.inner_text("[data-testid=applied]") == "1"
    refusals = page.inner_text("[data-testid=refusals]")
    assert "not a number" in refusals and "line 2" in refusals and "424242" in refusals
    page.screenshot(path=SHOTS / "errors-5-import-report.png", full_page=True)
    lena.refresh_from_db()
    assert lena.state == "Texas"


def test_resync_selected_rows_update_in_place(page, live_server, connector, run_jobs):
    """Two rows selected: the fixed one clears, the other is replaced by its new attempt."""
    cache.clear()
    fixed = ProspectFactory(assigned_user=UserFactory(), notes="x" * 150)
    kept = ProspectFactory(assigned_user=UserFactory(), notes="y" * 120)
    push_prospects(connector=connector, prospect_ids=[fixed.pk, kept.pk])
    fixed_error = SyncError.objects.get(prospect=fixed)
    kept_error = SyncError.objects.get(prospect=kept)
    fixed.notes = "Short enough now."
    fixed.save()

    log_in_as_marketer(page, live_server)
    page.goto(f"{live_server.url}/sync/errors/")
    page.check(f"#error-{fixed_error.pk} input[name=select]")
    page.check(f"#error-{kept_error.pk} input[name=select]")
    page.click("[data-testid=resync-selected]")
    page.locator("[data-testid=task]").wait_for()
    run_jobs("imports")  # the page's job queues both prospects …
    page.locator("[data-testid=task][data-state=syncing]").wait_for()
    run_jobs("sync")  # … and the sync worker it woke pushes them
    page.locator(f"#error-{fixed_error.pk}[data-state=cleared]").wait_for()
    page.locator(f"#error-{kept_error.pk}[data-state=failed]").wait_for()
    page.locator("[data-testid=task][data-state=done]").wait_for()
    assert "1 cleared" in page.inner_text("[data-testid=task]")
    page.screenshot(path=SHOTS / "errors-6-bulk-resync.png", full_page=True)
    kept_error.refresh_from_db()
    assert kept_error.attempts == 2 and kept_error.resolved_at is None
