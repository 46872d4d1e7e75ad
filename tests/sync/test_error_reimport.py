# ruff: noqa: F811 - fixtures imported from factories_errors
"""The guide's option 2 end to end: export → edit in a spreadsheet → re-import → resync."""

import csv
import io

import pytest
from django.urls import reverse

from core.models import Task
from prospects.factories import ProspectFactory, UserFactory
from sync.engine.outbound import push_prospects
from sync.models import SyncError

from .factories_errors import marketer_web, web  # noqa: F401

pytestmark = pytest.mark.django_db


def test_export_edit_reimport_resync_clears_fixed_rows_and_keeps_the_rest(
    connector, marketer_web, run_jobs, unique_email, django_capture_on_commit_callbacks
):
    prospects = [
        ProspectFactory(assigned_user=UserFactory(), email=unique_email(), notes=c * 143)
        for c in "abc"
    ]
    push_prospects(connector=connector, prospect_ids=[p.pk for p in prospects])
    assert SyncError.objects.open().count() == 3

    # 1. Export, as a marketer would from the table.
    response = marketer_web.get(reverse("sync:errors_export"), {"error_code": "STRING_TOO_LONG"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, body = rows[0], rows[1:]
    assert len(body) == 3 and "notes" in header  # notes is mapped to Customer_Comment__c

    # 2. Shorten two comments in the "spreadsheet"; leave the third too long.
    fixed = {prospects[0].pk, prospects[1].pk}
    for row in body:
        if int(row[0]) in fixed:
            row[header.index("notes")] = "Shortened to fit."
    out = io.StringIO()
    csv.writer(out).writerows([header, *body])
    upload = io.BytesIO(b"\xef\xbb\xbf" + out.getvalue().encode())
    upload.name = "sync-errors.csv"

    # 3. Re-import: the imports worker applies the rows and queues those prospects' sync;
    #    a sync worker pushes them.
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer_web.post(reverse("sync:errors_import"), {"file": upload})
    run_jobs("imports")
    task = Task.objects.get(kind="errors_import")
    assert task.result["applied"] == 2 and task.result["unchanged"] == 1
    assert task.result["refused_total"] == 0
    assert task.state == "done"
    page = marketer_web.get(response.url).content.decode()
    assert "3 waiting for a sync worker" in page and 'hx-trigger="every 2s"' in page
    run_jobs("sync")
    page = marketer_web.get(response.url).content.decode()
    assert "2 cleared" in page and "1 still failing" in page and "every 2s" not in page

    # 4. The fixed rows cleared; the unfixed one is still open, one attempt more.
    still_open = SyncError.objects.open()
    assert [e.prospect_id for e in still_open] == [prospects[2].pk]
    assert still_open.get().attempts == 2
    for error in SyncError.objects.filter(prospect_id__in=fixed):
        assert error.resolution == SyncError.Resolution.CLEAN_SYNC
