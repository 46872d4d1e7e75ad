"""intake/imports.py through the imports worker: rows in, prospects out, a report of the rest."""

import codecs
import csv
import datetime as dt
import io
import time

import django_rq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook
from rq import SimpleWorker

from core.models import Task
from intake import imports
from intake.imports import (
    ImportOptions,
    ImportRefused,
    cancel_import,
    next_evening,
    receive_upload,
    report_lines,
    submit_import,
)
from intake.models import Import
from prospects.factories import CampaignFactory, ProspectFactory
from prospects.models import (
    Activity,
    ActivityType,
    CustomField,
    Prospect,
    SyncQueueItem,
    SyncReason,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def start_import(django_capture_on_commit_callbacks):
    """``imports.start_import``, its after-commit enqueue run as a committed request's would."""

    def start(**kwargs) -> Import:
        with django_capture_on_commit_callbacks(execute=True):
            return imports.start_import(**kwargs)

    return start


def _upload(text: str | bytes, name="people.csv"):
    data = text.encode() if isinstance(text, str) else text
    return SimpleUploadedFile(name, data, content_type="text/csv")


def _report(run: Import) -> list[list[str]]:
    data = b"".join(report_lines(run))
    assert data.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_it_creates_and_updates_prospects_and_reports_refused_rows(
    start_import, marketer, run_jobs
):
    ann = ProspectFactory(email="ann@example.com", first_name="Old", company="Acme")
    text = (
        "Email,First Name,Company / Account,Lead Owner\n"
        "ann@example.com,Ann,Acme,Somebody\n"  # updated (first name)
        "new@example.com,Neil,Newco,Somebody\n"  # created
        "not-an-email,Bad,Row\n"  # refused by the field
        "extra@example.com,Ex,Tra,Owner,stray\n"  # ragged: too many cells
        "short@example.com,Shorty\n"  # ragged: too few, the rest blank
        "\n"
    )
    run = start_import(user=marketer, uploaded_file=_upload(text))
    assert run.state == Import.State.QUEUED
    assert run.mapping == {"0": "email", "1": "first_name", "2": "company"}
    run_jobs("imports")
    run.refresh_from_db()
    assert run.state == Import.State.DONE, run.message
    assert (run.rows_read, run.created, run.updated, run.failed) == (6, 2, 1, 2)
    ann.refresh_from_db()
    assert ann.first_name == "Ann"
    assert Prospect.objects.get(email="short@example.com").company == ""
    report = _report(run)
    assert report[0] == ["line", "column", "value", "reason"]
    lines = {row[0]: row for row in report[1:]}
    assert lines["4"][1:3] == ["Email", "not-an-email"]
    assert "5 cells, but the header has 4 columns" in lines["5"][3]
    assert (
        run.stored_path == "" and not list(Import.objects.values_list("stored_path", flat=True))[0]
    )


def test_each_changed_prospect_records_an_import_activity_and_asks_for_a_sync(
    start_import, marketer, run_jobs
):
    run = start_import(
        user=marketer, uploaded_file=_upload("Email\na@example.com\nb@example.com\n", "list.csv")
    )
    run_jobs("imports")
    prospects = Prospect.objects.filter(email__in=["a@example.com", "b@example.com"])
    assert prospects.count() == 2
    activities = Activity.objects.filter(prospect__in=prospects, type=ActivityType.IMPORT)
    assert sorted(activities.values_list("title", flat=True)) == ["list.csv", "list.csv"]
    queued = SyncQueueItem.objects.filter(prospect__in=prospects)
    assert set(queued.values_list("reason", flat=True)) == {SyncReason.CSV_IMPORT}
    assert run.pk


def test_options_assign_campaign_and_only_fill_blanks(start_import, marketer, sync_admin, run_jobs):
    campaign = CampaignFactory()
    kept = ProspectFactory(email="kept@example.com", company="Keep me", city="")
    run = start_import(
        user=marketer,
        uploaded_file=_upload(
            "Email,Company,City\nkept@example.com,Other,Paris\nn@example.com,N,Lyon\n"
        ),
        options=ImportOptions(
            overwrite=False, assign_user_id=sync_admin.pk, campaign_id=campaign.pk
        ),
    )
    run_jobs("imports")
    kept.refresh_from_db()
    assert (kept.company, kept.city) == ("Keep me", "Paris")
    new = Prospect.objects.get(email="n@example.com")
    assert (new.assigned_user, new.campaign) == (sync_admin, campaign)
    run.refresh_from_db()
    assert (run.created, run.updated) == (1, 1)


def test_a_mapping_by_header_text_and_match_by_crm_id(start_import, marketer, run_jobs):
    linked = ProspectFactory(email="old@example.com", crm_lead_id="00Q000000000001AAA")
    run = start_import(
        user=marketer,
        uploaded_file=_upload("Lead ID,Work email,Title\n00Q000000000001AAA,,CTO\n"),
        mapping={"Lead ID": "crm_id", "Title": "job_title"},
    )
    run_jobs("imports")
    linked.refresh_from_db()
    assert linked.job_title == "CTO"
    assert Import.objects.get(pk=run.pk).updated == 1


def test_formula_cells_are_stored_as_text_and_neutralised_in_the_report(
    start_import, marketer, run_jobs
):
    text = 'Email,Company\nf@example.com,=HYPERLINK("http://evil")\nbad,=1+2\n'
    run = start_import(user=marketer, uploaded_file=_upload(text))
    run_jobs("imports")
    assert Prospect.objects.get(email="f@example.com").company == '=HYPERLINK("http://evil")'
    rows = _report(Import.objects.get(pk=run.pk))
    assert rows[1][0] == "3" and rows[1][2] == "bad"
    assert all(not cell.startswith(("=", "+", "@")) for row in rows for cell in row)


def test_an_xlsx_with_formulas_and_merged_cells(start_import, marketer, run_jobs, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Email", "Company", "Score"])
    sheet.append(["x1@example.com", "Merged Inc", 10])
    sheet.append(["x2@example.com", None, "=B2*2"])
    sheet.merge_cells("B2:B3")
    path = tmp_path / "book.xlsx"
    book.save(path)
    run = start_import(user=marketer, uploaded_file=_upload(path.read_bytes(), "book.xlsx"))
    run_jobs("imports")
    run.refresh_from_db()
    assert run.format == "xlsx" and (run.created, run.failed) == (1, 1)
    assert Prospect.objects.get(email="x1@example.com").company == "Merged Inc"
    assert not Prospect.objects.filter(email="x2@example.com").exists()
    problem = run.problems.get()
    assert (problem.line, problem.column) == (3, "Score")
    assert "formula" in problem.reason


def test_missing_and_duplicated_email_columns_are_refused_at_mapping(start_import, marketer):
    with pytest.raises(ImportRefused, match="No column is mapped to Email"):
        start_import(user=marketer, uploaded_file=_upload("Name,Company\nA,B\n"))
    run = receive_upload(
        user=marketer, uploaded_file=_upload("Email,E-mail Address\na@x.io,b@x.io\n")
    )
    with pytest.raises(ImportRefused) as refused:
        submit_import(run, mapping={"0": "email", "1": "email"}, options=ImportOptions())
    assert "are both mapped to Email" in refused.value.messages[0]
    assert Import.objects.get(pk=run.pk).state == Import.State.DRAFT


def test_an_unreadable_file_keeps_nothing(start_import, marketer):
    with pytest.raises(ImportRefused, match="not a CSV or Excel file"):
        start_import(user=marketer, uploaded_file=_upload(bytes(range(256)) * 10))
    assert not Import.objects.exists()


def test_a_file_over_200_mb_is_refused_before_it_is_stored(start_import, marketer):
    upload = _upload("Email\n")
    upload.size = 201 * 2**20
    with pytest.raises(ImportRefused, match="limit is 200 MB"):
        start_import(user=marketer, uploaded_file=upload)


def test_a_scheduled_import_waits_then_runs_from_the_schedulers_registry(marketer, start_import):
    """RQ's scheduler (the imports worker runs ``--with-scheduler``) moves it to the queue."""
    queue = django_rq.get_queue("imports")
    queue.empty()
    soon = timezone.now() + dt.timedelta(seconds=32)
    run = start_import(user=marketer, uploaded_file=_upload("Email\ns@example.com\n"), run_at=soon)
    assert run.state == Import.State.SCHEDULED and run.scheduled_for == soon
    assert queue.scheduled_job_registry.count == 1 and queue.count == 0
    SimpleWorker([queue], connection=queue.connection).work(burst=True, with_scheduler=True)
    assert Import.objects.get(pk=run.pk).state == Import.State.SCHEDULED  # not yet
    # Move the clock: RQ compares its registry's score to the time now.
    registry = queue.scheduled_job_registry
    job_id = registry.get_job_ids()[0]
    queue.connection.zadd(registry.key, {job_id: time.time() - 1})
    SimpleWorker([queue], connection=queue.connection).work(burst=True, with_scheduler=True)
    run.refresh_from_db()
    assert run.state == Import.State.DONE, run.message
    assert Prospect.objects.filter(email="s@example.com").exists()


def test_next_evening_is_tonight_or_tomorrow_at_20():
    morning = timezone.make_aware(dt.datetime(2026, 3, 2, 9, 0))
    night = timezone.make_aware(dt.datetime(2026, 3, 2, 21, 0))
    assert timezone.localtime(next_evening(morning)).strftime("%d %H:%M") == "02 20:00"
    assert timezone.localtime(next_evening(night)).strftime("%d %H:%M") == "03 20:00"


def test_a_cancelled_import_never_runs(start_import, marketer, run_jobs):
    run = start_import(user=marketer, uploaded_file=_upload("Email\nc@example.com\n"))
    assert cancel_import(run)
    run_jobs("imports")
    run.refresh_from_db()
    assert run.state == Import.State.CANCELLED and run.stored_path == ""
    assert not Prospect.objects.filter(email="c@example.com").exists()
    assert Task.objects.get(pk=run.task_id).state == Task.State.FAILED
    assert not cancel_import(run)


def test_a_blank_cell_never_clears_a_field(start_import, marketer, run_jobs):
    kept = ProspectFactory(email="keep@example.com", company="Acme", city="Oslo")
    start_import(
        user=marketer, uploaded_file=_upload("Email,Company,City\nkeep@example.com,,Bergen\n")
    )
    run_jobs("imports")
    kept.refresh_from_db()
    assert (kept.company, kept.city) == ("Acme", "Bergen")


def test_cancelling_a_running_import_stops_after_the_chunk(
    start_import, marketer, run_jobs, monkeypatch
):
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    real_write = imports.write_prospects

    def write_then_cancel(*args, **kwargs):
        results = real_write(*args, **kwargs)
        cancel_import(Import.objects.get())  # the Cancel button, while the first chunk ran
        return results

    monkeypatch.setattr(imports, "write_prospects", write_then_cancel)
    text = "Email\n" + "".join(f"r{i}@example.com\n" for i in range(6))
    run = start_import(user=marketer, uploaded_file=_upload(text))
    run_jobs("imports")
    run.refresh_from_db()
    assert run.state == Import.State.CANCELLED and run.created == 2
    assert Prospect.objects.filter(email__startswith="r").count() == 2
    assert run.stored_path == ""


def test_problems_past_the_cap_are_counted_not_kept(start_import, marketer, run_jobs, monkeypatch):
    monkeypatch.setattr(imports, "MAX_PROBLEMS", 2)
    text = "Email\n" + "".join(f"bad{i}\n" for i in range(5))
    run = start_import(user=marketer, uploaded_file=_upload(text))
    run_jobs("imports")
    run.refresh_from_db()
    assert (run.failed, run.problems_total, run.problems.count()) == (5, 5, 2)
    assert _report(run)[-1][3] == "… and 3 more problems not listed"


@pytest.mark.parametrize(("validate", "refused"), [(True, 1), (False, 0)])
def test_validate_predefined_values(start_import, marketer, run_jobs, validate, refused):
    CustomField.objects.create(
        label="Product interest", api_name="product", type="dropdown", choices=["Widgets"]
    )
    text = "Email,Product interest\nw@example.com,Widgets\ng@example.com,Gizmos\n"
    run = start_import(
        user=marketer,
        uploaded_file=_upload(text),
        options=ImportOptions(validate_values=validate),
    )
    assert run.mapping == {"0": "email", "1": "custom:product"}
    run_jobs("imports")
    run.refresh_from_db()
    assert (run.created, run.failed) == (2 - refused, refused)
    if refused:
        assert run.problems.get().column == "Product interest"
