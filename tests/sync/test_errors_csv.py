# ruff: noqa: F811 - fixtures imported from factories_errors
"""CSV export and re-import of Sync Errors: safe in spreadsheets, refusing bad rows one by one."""

import csv
import io
import tracemalloc

import pytest
from django.urls import reverse

from core.models import Task
from prospects.factories import ProspectFactory
from prospects.models import CustomField, SyncQueueItem, SyncReason
from sync.errors.csv_io import (
    MAX_REFUSALS,
    duplicate_columns,
    import_file,
    neutralise,
    unneutralise,
)

from .factories_errors import SyncErrorFactory, marketer_web, web  # noqa: F401

pytestmark = pytest.mark.django_db


def _export(web, **params) -> bytes:
    response = web.get(reverse("sync:errors_export"), params)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    return b"".join(response.streaming_content)


def _rows(data: bytes) -> list[dict]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_export_has_the_errors_and_the_prospects_fields(marketer_web):
    error = SyncErrorFactory(message='He said "hi", then\nleft')
    rows = _rows(_export(marketer_web))
    assert len(rows) == 1
    row = rows[0]
    assert row["prospect_id"] == str(error.prospect_id)
    assert row["prospect_email"] == error.prospect.email
    assert row["error_code"] == "STRING_TOO_LONG"
    assert row["category"] == "data_formatting"
    assert row["field"] == "Customer_Comment__c"
    assert row["message"] == 'He said "hi", then\nleft'
    assert row["value_sent"] == "x" * 143
    assert row["last_name"] == error.prospect.last_name  # a mapped (standard) prospect field


def test_export_follows_the_filter(marketer_web):
    SyncErrorFactory(error_code="STRING_TOO_LONG")
    SyncErrorFactory(error_code="DUPLICATES_DETECTED", field="")
    rows = _rows(_export(marketer_web, error_code="DUPLICATES_DETECTED"))
    assert [r["error_code"] for r in rows] == ["DUPLICATES_DETECTED"]


@pytest.mark.parametrize("cell", ["=1+1", "+SUM(A1)", "-2", "@cmd", "\tx", "\rx"])
def test_cells_a_spreadsheet_would_evaluate_are_neutralised(marketer_web, cell):
    SyncErrorFactory(value_sent=cell)
    row = _rows(_export(marketer_web))[0]
    assert row["value_sent"] == "'" + cell
    assert unneutralise(neutralise(cell)) == cell


def test_plain_cells_are_left_alone():
    assert neutralise("hello") == "hello"
    assert neutralise("") == ""
    assert unneutralise("'quoted") == "'quoted"


# -- import --------------------------------------------------------------------------------------


def _write(tmp_path, text: str | bytes, name="in.csv"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8-sig"))
    return path


def test_an_edited_export_updates_prospects_and_requests_their_sync(tmp_path, marketer_web):
    SyncErrorFactory(prospect=ProspectFactory(comments="x" * 143))
    data = _export(marketer_web).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(data, newline="")))
    column = rows[0].index("comments")
    rows[1][column] = "short"
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    report = import_file(_write(tmp_path, out.getvalue()))
    assert (report.applied, report.refused, report.file_error) == (1, [], "")
    prospect_id = int(rows[1][0])
    item = SyncQueueItem.objects.get(prospect_id=prospect_id)
    assert item.reason == SyncReason.ERROR_REIMPORT
    assert item.prospect.comments == "short"


def test_bad_rows_are_refused_one_by_one_with_line_numbers(tmp_path):
    ok = ProspectFactory()
    bad = ProspectFactory(first_name="Keep")
    CustomField.objects.create(label="Seats", api_name="seats", type=CustomField.Type.NUMBER)
    text = (
        "prospect_id,first_name,email,custom:seats,mystery\r\n"
        f"{ok.pk},Ann,ann@example.com,12,\r\n"  # line 2: applied
        f",Bob,bob@example.com,,\r\n"  # line 3: no id
        f"{bad.pk},Zed,not-an-email,,\r\n"  # line 4: invalid email -> nothing applied
        f"{ok.pk},Ann,ann@example.com,12,\r\n"  # line 5: same id, same values: fine
        f"{ok.pk},Other,ann@example.com,12,\r\n"  # line 6: same id, other values
        "999999,Ghost,g@example.com,,\r\n"  # line 7: unknown id
        f"{bad.pk},Zed,z@example.com,lots,\r\n"  # line 8: not a number
        f"{bad.pk},Zed,z@example.com,,boo\r\n"  # line 9: unknown column with a value
        f'{bad.pk},"=HYPERLINK(""http://x"")",z@example.com,,\r\n'  # line 10: formula
        f"{bad.pk},Zed\r\n"  # line 11: short row
    )
    report = import_file(_write(tmp_path, text))
    refused = {r.line: r.reason for r in report.refused}
    assert report.applied == 1 and report.unchanged == 1
    assert set(refused) == {3, 4, 6, 7, 8, 9, 10, 11}
    assert "no prospect id" in refused[3]
    assert "email" in refused[4].lower()
    assert "line 2" in refused[6]
    assert "999999" in refused[7]
    assert "not a number" in refused[8]
    assert "mystery" in refused[9]
    assert "formula" in refused[10]
    assert "header has 5" in refused[11]
    ok.refresh_from_db()
    bad.refresh_from_db()
    assert (ok.first_name, ok.custom_fields) == ("Ann", {"seats": "12"})
    assert (bad.first_name, bad.email) == ("Keep", bad.email)  # nothing half-applied


def test_neutralised_cells_come_back_as_they_were(tmp_path):
    prospect = ProspectFactory()
    path = _write(tmp_path, f"prospect_id,phone\r\n{prospect.pk},'+1 555 0100\r\n")
    assert import_file(path).applied == 1
    prospect.refresh_from_db()
    assert prospect.phone == "+1 555 0100"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("prénom;nom\r\nÉlodie;Dupont\r\n".encode("cp1252"), "not UTF-8"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40000, "not a CSV"),  # ~10 MB of junk
        ("name,email\r\nAnn,ann@example.com\r\n", "no prospect_id column"),
        ("", "empty"),
        ("prospect_id,first_name,first_name\r\n1,a,b\r\n", "twice"),
        ('prospect_id,notes\r\n1,"' + "y" * 200_000 + '"\r\n', "cannot be read as CSV"),
    ],
)
def test_a_file_that_is_not_an_export_is_refused_whole(tmp_path, content, message):
    prospect = ProspectFactory(first_name="Same")
    report = import_file(_write(tmp_path, content))
    assert message in report.file_error
    assert report.applied == 0
    prospect.refresh_from_db()
    assert prospect.first_name == "Same"


def test_ten_megabytes_of_text_junk_is_refused_with_a_clear_message(tmp_path):
    junk = ("lorem ipsum dolor sit amet " * 40 + "\n") * 9500
    report = import_file(_write(tmp_path, junk))
    assert "no prospect_id column" in report.file_error


def test_the_upload_page_runs_the_import_and_shows_the_report(
    marketer_web, run_jobs, django_capture_on_commit_callbacks
):
    prospect = ProspectFactory()
    upload = io.BytesIO(f"prospect_id,first_name\r\n{prospect.pk},Fixed\r\nabc,x\r\n".encode())
    upload.name = "fixed.csv"
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer_web.post(reverse("sync:errors_import"), {"file": upload})
    task = Task.objects.get(kind="errors_import")
    assert response.url == reverse("sync:errors_import_report", args=[task.pk])
    assert 'data-state="queued"' in marketer_web.get(response.url).content.decode()
    run_jobs("imports")
    page = marketer_web.get(response.url).content.decode()
    assert 'data-testid="applied">1<' in page
    assert "is not a number" in page and "<td>3</td>" in page
    # No connector syncs yet: the report says so, and polls slowly until one does.
    assert "1 queued: they sync once the connector resumes" in page and "every 10s" in page


# -- what a hostile or broken file may cost -----------------------------------------------------


def test_a_header_of_forty_thousand_columns_is_refused_whole(tmp_path):
    header = ",".join(["prospect_id", *(f"column{i}" for i in range(40_000))])
    report = import_file(_write(tmp_path, header + "\r\n1" + "," * 40_000 + "\r\n"))
    assert "40,001 columns" in report.file_error
    assert report.applied == 0


class CountedName(str):
    """A column name that counts how often it is compared for equality."""

    comparisons = 0

    def __eq__(self, other: object) -> bool:
        CountedName.comparisons += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def test_duplicate_columns_compare_each_name_a_bounded_number_of_times():
    names = [CountedName(f"column{i}") for i in range(5_000)] + [CountedName("column7")]
    CountedName.comparisons = 0
    assert duplicate_columns(names) == ["column7"]
    assert CountedName.comparisons <= 2 * len(names)  # linear: not one scan per name


def test_a_megabyte_of_refused_rows_keeps_memory_flat(tmp_path):
    rows = 150_000  # "abc,x": about 1 MB, every row refused (the id is not a number)
    path = _write(tmp_path, "prospect_id,first_name\r\n" + "abc,x\r\n" * rows)
    tracemalloc.start()
    try:
        report = import_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20, f"peak {peak / 2**20:.0f} MB"
    assert report.refused_total == rows
    assert len(report.refused) == MAX_REFUSALS
    assert report.refused[0].line == 2 and "not a number" in report.refused[0].reason
    assert report.as_dict()["refused_total"] == rows


def test_a_row_of_millions_of_empty_cells_is_refused_before_it_is_built(tmp_path):
    path = _write(tmp_path, "prospect_id,first_name\r\n" + "," * 10_000_000 + "\r\n")
    tracemalloc.start()
    try:
        report = import_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "A row is longer than 4 MB (it starts after line 1)" in report.file_error
    assert peak < 32 * 2**20, f"peak {peak / 2**20:.0f} MB"  # not ten million cells


@pytest.mark.parametrize("raw_id", ["²", "٣", "9" * 30, "1" * 5000])
def test_an_id_that_only_looks_like_a_number_refuses_its_row_not_the_file(tmp_path, raw_id):
    prospect = ProspectFactory()
    path = _write(tmp_path, f"prospect_id,first_name\r\n{raw_id},x\r\n{prospect.pk},Fixed\r\n")
    report = import_file(path)
    assert report.applied == 1 and report.refused_total == 1
    assert "is not a number" in report.refused[0].reason
