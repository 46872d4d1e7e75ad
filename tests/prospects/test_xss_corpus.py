"""Hostile values in every prospect field render inert on every page, and safe in the CSV export.

The corpus (tests/fixtures/xss_corpus.py) puts script tags, attribute breakers, script URLs,
template syntax, htmx attributes and spreadsheet formulas in every prospect column, custom field,
history row, Sync Error and import report; every page of the portal is opened with it.
"""

import csv
import io

import pytest
from django.urls import reverse

from tests.fixtures.xss_corpus import TEXT_PAYLOADS, audit_html, page_urls, seed_corpus

pytestmark = pytest.mark.django_db

# Pages that must have rendered the corpus, so the audit can never pass by opening nothing.
MUST_RENDER = {
    "portal:dashboard",
    "operations:dashboard_panels",
    "operations:recycle_bin",
    "operations:recycle_restore",
    "operations:recycle_purge",
    "operations:prospect_delete",
    "prospects:list",
    "prospects:detail",
    "prospects:edit",
    "prospects:sync_status",
    "prospects:timeline",
    "prospects:scoring",
    "prospects:scoring_task",
    "prospects:grading_profile_edit",
    "sync:errors",
    "sync:error_detail",
    "sync:errors_task",
    "sync:errors_import_report",
    "sync:custom_fields",
    "admin:prospects_prospect_changelist",
    "admin:prospects_prospect_change",
    "intake:form_edit",
    "intake:handler_edit",
    "intake:page_edit",
    "intake:preference_links",
    "intake_public:form",
    "intake_public:landing_page",
    "intake_public:preferences",
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def corpus(connector):
    return seed_corpus(connector)


@pytest.fixture
def auditor(client, sync_admin):
    """A Sync admin who may also open the Django admin's pages for every model."""
    sync_admin.is_superuser = True
    sync_admin.save()
    client.force_login(sync_admin)
    return client


def test_every_page_renders_the_corpus_inert(auditor, corpus):
    findings, rendered = {}, set()
    for name, url in page_urls(corpus):
        response = auditor.get(url)
        assert response.status_code in (200, 302, 405), f"{url} answered {response.status_code}"
        if response.status_code != 200 or "text/html" not in response["Content-Type"]:
            continue
        rendered.add(name)
        problems, _ = audit_html(response.content.decode())
        if problems:
            findings[url] = sorted(set(problems))
    assert not findings, "\n".join(f"{url}: {problems}" for url, problems in findings.items())
    assert rendered >= MUST_RENDER, MUST_RENDER - rendered


def test_the_prospect_page_shows_every_value_as_written(auditor, corpus):
    for prospect in corpus.prospects:
        _, text = audit_html(auditor.get(prospect.get_absolute_url()).content.decode())
        custom = prospect.custom_fields
        for value in (prospect.company, prospect.comments, custom["corpus_text"], prospect.website):
            assert value.strip() in text, (prospect.pk, value)


def test_the_export_neutralises_formulas_and_is_a_download(auditor, corpus):
    response = auditor.get(reverse("sync:errors_export"), {"status": "all"})
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"  # never sniffed into HTML
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body, newline="")))
    cells = [cell for row in rows[1:] for cell in row]
    assert len(rows) == len(corpus.errors) + 1
    assert [cell for cell in cells if cell.startswith(FORMULA_START)] == []
    # A CSV is data: each payload is there whole (after the apostrophe), not escaped or cut.
    for payload in TEXT_PAYLOADS:
        assert payload in cells or "'" + payload in cells, payload
