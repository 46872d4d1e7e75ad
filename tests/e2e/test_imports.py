"""Issue 13's import, end to end in a real browser (Playwright + Chromium).

A marketer exports the demo org's leads as a Salesforce report would (read here through
simple-salesforce, then grown to 1,000 rows with ragged and bad ones), uploads the file, checks
the guessed mapping, assigns the new prospects to a sales rep, runs it, watches the progress bar
move, downloads the row report; the sync then turns the assigned rows into Leads in the org.
Screenshots go to /tmp/leadbridge-e2e/.
"""

import codecs
import csv
import io
import os
import threading
import time
from pathlib import Path

import django_rq
import pytest
from django.contrib.auth.models import Group, Permission

from intake import imports
from intake.models import Import
from prospects.factories import UserFactory
from prospects.models import Prospect
from sync.jobs import push_pending
from tests.e2e.conftest import SHOTS

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop shares the thread

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ROWS = 1000
HEADER = [
    "Lead ID",
    "First Name",
    "Last Name",
    "Title",
    "Company / Account",
    "Email",
    "City",
    "Lead Source",
    "Lead Owner",
]
TAG = "imp-e2e"
EXPORTED = 900  # of the demo org's leads; the rest of the file is new people


@pytest.fixture
def page(browser_page):
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


def demo_leads_report(sf, path: Path) -> dict:
    """The org's open leads as a "Leads" report exports them (converted ones left out), grown to ``ROWS`` rows: each further row a
    new person at one of the exported leads' companies; plus ragged and bad rows."""
    leads = sf.query_all(
        "SELECT Id, FirstName, LastName, Title, Company, Email, City, LeadSource FROM Lead "
        f"WHERE Email != null AND IsConverted = false ORDER BY CreatedDate LIMIT {EXPORTED}"
    )["records"]
    assert leads, "the demo org has leads to export"
    bad = [
        # ragged: two cells more than the header, not blank
        ["", "Rag", "Ged", "", "Acme", f"ragged@{TAG}.example", "Paris", "", "", "x", "y"],
        ["", "Not", "Anemail", "", "Acme", "not-an-email", "Oslo", "", ""],
        ["", "Only", "Names", "", "", "", "", "", ""],  # no email, nothing to match
        ["", "Huge", "Revenue", "", "Acme", "bad@@" + TAG + ".example", "", "", ""],
    ]
    rows = []
    for lead in leads:
        rows.append(
            [
                lead["Id"],
                lead["FirstName"] or "",
                lead["LastName"] or "",
                lead["Title"] or "",
                lead["Company"] or "",
                lead["Email"],
                lead["City"] or "",
                lead["LeadSource"] or "",
                "Demo Admin",
            ]
        )
    exported = len(rows)
    formula = '=HYPERLINK("http://evil.example","click")'
    n = 0
    while len(rows) < ROWS - len(bad):
        lead = leads[n % len(leads)]
        company = formula if n == 7 else (lead["Company"] or "Acme")
        rows.append(
            [
                "",
                f"{lead['FirstName'] or 'Pat'}",
                f"Import{n}",
                lead["Title"] or "",
                company,
                f"person{n}@{TAG}.example",
                lead["City"] or "",
                "Trade show",
                "",
            ]
        )
        n += 1
    short = rows.pop()  # a ragged row with too few cells: the missing ones are blank
    rows.append(short[:6])
    rows[200:200] = bad  # bad rows in the middle of the file
    with path.open("w", newline="", encoding="utf-8-sig") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(rows)
    emails = {lead["Email"].lower() for lead in leads}
    return {"exported": exported, "emails": len(emails), "new": n, "bad": len(bad)}


def test_a_marketer_imports_the_demo_orgs_leads(
    page, live_server, connector, sandbox_sf, tmp_path, monkeypatch
):
    report_file = tmp_path / "Leads report.csv"
    facts = demo_leads_report(sandbox_sf, report_file)
    leads_before = sandbox_sf.query("SELECT COUNT() FROM Lead")["totalSize"]
    rep_email = sandbox_sf.query("SELECT Email FROM User WHERE IsActive = true LIMIT 1")
    rep = UserFactory(username="sales-rep", email=rep_email["records"][0]["Email"])

    log_in_as_marketer(page, live_server)
    page.click("nav >> text=Imports")
    page.click("[data-testid=new-import]")
    page.set_input_files("input[type=file]", str(report_file))
    page.screenshot(path=SHOTS / "import-1-upload.png", full_page=True)
    page.click("[data-testid=upload]")

    # The mapping: guessed from a Salesforce Lead report's headers.
    page.wait_for_selector("[data-testid=mapping-form]")
    guessed = [page.locator(f"select[data-column='{i}']").input_value() for i in range(9)]
    assert guessed == [
        "crm_id",
        "first_name",
        "last_name",
        "job_title",
        "company",
        "email",
        "city",
        "source",
        "",
    ]
    assert "UTF-8 (with BOM)" in page.inner_text("[data-testid=file-facts]")
    page.select_option("select[name=assign_user]", label=str(rep))
    page.fill("input[name=template_name]", "Salesforce leads report")
    page.screenshot(path=SHOTS / "import-2-mapping.png", full_page=True)

    # Slow each chunk a little so the progress is there to be watched.
    monkeypatch.setattr(imports, "CHUNK_ROWS", 100)
    real_write = imports.write_prospects

    def write_slowly(*args, **kwargs):
        time.sleep(0.4)
        return real_write(*args, **kwargs)

    monkeypatch.setattr(imports, "write_prospects", write_slowly)
    page.click("[data-testid=start-import]")
    page.wait_for_selector("[data-testid=import-status][data-state=queued]")
    page.screenshot(path=SHOTS / "import-3-queued.png", full_page=True)

    # The imports worker's job, in a thread so the browser can be watched meanwhile (an RQ
    # worker must own the main thread for its signals; the job is the same either way).
    queue = django_rq.get_queue("imports")
    (job,) = queue.jobs
    queue.remove(job)
    worker = threading.Thread(target=job.perform)
    worker.start()
    try:
        page.wait_for_selector("[data-testid=import-status][data-state=running]")
        page.wait_for_function(
            "() => { const n = document.querySelector('[data-testid=rows-read]');"
            " return n && parseInt(n.textContent.replace(/,/g, '')) > 0 }"
        )
        page.screenshot(path=SHOTS / "import-4-running.png", full_page=True)
        # The page can be left and come back to.
        page.click("nav >> text=Imports")
        page.wait_for_selector("#imports-table")
        page.click("#imports-table >> text=Leads report.csv")
    finally:
        worker.join(timeout=300)
    page.wait_for_selector("[data-testid=import-status][data-state=done]", timeout=60_000)
    page.screenshot(path=SHOTS / "import-5-done.png", full_page=True)

    run = Import.objects.get()
    refused = facts["bad"]
    assert run.rows_read == ROWS
    created = facts["emails"] + facts["new"]  # a repeated email updates its first row's prospect
    assert (run.created, run.updated + run.unchanged) == (
        created,
        facts["exported"] - facts["emails"],
    )
    assert run.failed == refused, run.message
    assert page.inner_text("[data-testid=created]") == f"{created:,}"
    assert page.inner_text("[data-testid=failed]") == str(refused)
    problems = page.inner_text("[data-testid=problems]")
    assert "11 cells, but the header has 9 columns" in problems
    assert "not-an-email" in problems

    with page.expect_download() as download:
        page.click("[data-testid=download-report]")
    data = Path(download.value.path()).read_bytes()
    (SHOTS / "import-report.csv").write_bytes(data)
    assert data.startswith(codecs.BOM_UTF8)
    report = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert report[0] == ["line", "column", "value", "reason"]
    assert {row[0] for row in report[1:]} == {"202", "203", "204", "205"}

    # Stored as text, neutralised only on the way out.
    hyperlink = Prospect.objects.get(email=f"person7@{TAG}.example")
    assert hyperlink.company.startswith("=HYPERLINK")
    assert (
        Prospect.objects.filter(email__endswith=f"@{TAG}.example", assigned_user=rep).count()
        == (facts["new"])
    )

    # The sync workers push what the import queued: the assigned rows become Leads.
    for _ in range(10):
        push_pending(connector.pk)
        if not Prospect.objects.filter(sync_status="pending").exists():
            break
    new_leads = sandbox_sf.query(f"SELECT COUNT() FROM Lead WHERE Email LIKE '%@{TAG}.example'")
    assert new_leads["totalSize"] == facts["new"]
    assert not Prospect.objects.filter(crm_lead_id="", crm_contact_id="").exists()
    # The exported leads were linked to their own records, not created again.
    assert sandbox_sf.query("SELECT COUNT() FROM Lead")["totalSize"] == leads_before + facts["new"]

    page.click("nav >> text=Imports")
    page.wait_for_selector("#imports-table")
    assert "Salesforce leads report" not in page.content()  # templates are not in the history
    page.screenshot(path=SHOTS / "import-6-history.png", full_page=True)
