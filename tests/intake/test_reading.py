"""intake/reading.py: what an upload is, its encoding and delimiter, and its records."""

import codecs
import datetime as dt

import pytest
from openpyxl import Workbook

from intake.reading import FileRefused, count_rows, inspect_file, read_rows

HEADER = "Email,First Name,Company\n"
ROWS = "ann@example.com,Ann,Acme\nbob@example.com,Bob,Globex\n"


def _write(tmp_path, data: bytes, name="upload"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ((HEADER + ROWS).encode(), "utf-8"),
        (codecs.BOM_UTF8 + (HEADER + ROWS).encode(), "utf-8-sig"),
        ((HEADER + ROWS).encode("utf-16"), "utf-16"),
        ((HEADER + ROWS).encode("utf-16-le"), "utf-16-le"),
        ((HEADER + "zoé@example.com,Zoé,Café €\n").encode("cp1252"), "cp1252"),
        ((HEADER + "zoé@example.com,Zoé,Caf\x81\n").encode("latin-1"), "latin-1"),
    ],
)
def test_it_detects_the_encoding(tmp_path, data, encoding):
    inspection = inspect_file(_write(tmp_path, data))
    assert inspection.encoding == encoding
    assert inspection.headers == ["Email", "First Name", "Company"]
    assert inspection.preview[0][0] in {"ann@example.com", "zoé@example.com"}


def test_it_reads_accents_of_a_windows_file_as_written(tmp_path):
    path = _write(tmp_path, (HEADER + "zoe@example.com,Zoé,Café €\n").encode("cp1252"))
    inspection = inspect_file(path)
    assert inspection.preview == [["zoe@example.com", "Zoé", "Café €"]]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_it_sniffs_the_delimiter(tmp_path, delimiter):
    text = (HEADER + ROWS + 'cy@example.com,Cy,"Smith, Jones & Co"\n').replace(",", delimiter)
    inspection = inspect_file(_write(tmp_path, text.encode()))
    assert inspection.delimiter == delimiter
    assert len(inspection.headers) == 3


def test_a_semicolon_file_with_commas_in_values_is_still_semicolons(tmp_path):
    text = "Email;Company;City\na@x.io;Acme, Inc.;Paris\nb@x.io;Foo, Bar, Baz;Lyon\n"
    assert inspect_file(_write(tmp_path, text.encode())).delimiter == ";"


@pytest.mark.parametrize(
    "data",
    [
        bytes(range(256)) * 20,
        b"\x89PNG\r\n\x1a\n" + bytes(range(1, 32)) * 100,
        b"%PDF-1.7\n" + b"\x00\x01\x02" * 100,
    ],
)
def test_binary_junk_is_refused_with_a_clear_message(tmp_path, data):
    with pytest.raises(FileRefused, match="not a CSV or Excel file"):
        inspect_file(_write(tmp_path, data))


def test_an_old_xls_workbook_is_refused_with_what_to_do(tmp_path):
    with pytest.raises(FileRefused, match="Save it as .xlsx or as CSV"):
        inspect_file(_write(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600))


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path):
    import zipfile

    path = tmp_path / "notes.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(FileRefused, match="not an Excel workbook"):
        inspect_file(path)


def test_empty_file_and_empty_header_are_refused(tmp_path):
    with pytest.raises(FileRefused, match="empty"):
        inspect_file(_write(tmp_path, b""))
    with pytest.raises(FileRefused, match="header row"):
        inspect_file(_write(tmp_path, b",,,\na,b,c\n"))


def test_records_carry_the_line_they_start_on(tmp_path):
    text = 'Email,Comments\na@x.io,"two\nlines"\n\nb@x.io,one\n'
    path = _write(tmp_path, text.encode())
    inspection = inspect_file(path)
    records = [(line, cells) for line, cells, _ in read_rows(path, inspection)]
    assert records == [(2, ["a@x.io", "two\nlines"]), (4, []), (5, ["b@x.io", "one"])]
    assert count_rows(path, inspection) == 3


def test_an_unclosed_quote_running_to_the_end_is_a_file_error(tmp_path):
    text = 'Email,Comments\na@x.io,"never closed\n' + ("x" * 1000 + "\n") * 1200
    with pytest.raises(FileRefused, match="Line 2: the file cannot be read as CSV"):
        inspect_file(_write(tmp_path, text.encode()))


def _workbook(tmp_path, rows, merge=None, name="people.xlsx"):
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    book.create_sheet("Second")["A1"] = "ignored"
    path = tmp_path / name
    book.save(path)
    return path


def test_xlsx_first_sheet_values_as_csv_text(tmp_path):
    path = _workbook(
        tmp_path,
        [
            ["Email", "Employees", "Revenue", "Since", "Opted out"],
            ["a@x.io", 12, 1500.5, dt.datetime(2024, 5, 1), True],
            ["b@x.io", 4155551234.0, None, dt.datetime(2024, 5, 1, 9, 30), False],
        ],
    )
    inspection = inspect_file(path)
    assert inspection.format == "xlsx"
    assert inspection.headers == ["Email", "Employees", "Revenue", "Since", "Opted out"]
    assert inspection.preview == [
        ["a@x.io", "12", "1500.5", "2024-05-01", "true"],
        ["b@x.io", "4155551234", "", "2024-05-01 09:30:00", "false"],
    ]


def test_xlsx_formula_without_a_saved_value_flags_its_cell(tmp_path):
    # openpyxl saves formulas without computing them: exactly "a formula with no cached value".
    path = _workbook(tmp_path, [["Email", "Score"], ["a@x.io", "=1+1"], ["b@x.io", 7]])
    records = list(read_rows(path, inspect_file(path)))
    line, _cells, flags = records[0]
    assert line == 2 and list(flags) == [1]
    assert "formula saved without its value" in flags[1]
    assert records[1] == (3, ["b@x.io", "7"], None)


def test_xlsx_merged_cells_hold_the_value_in_the_top_left_cell_only(tmp_path):
    path = _workbook(
        tmp_path,
        [["Email", "Company"], ["a@x.io", "Acme"], ["b@x.io", None]],
        merge="B2:B3",
    )
    records = [(line, cells) for line, cells, _ in read_rows(path, inspect_file(path))]
    assert records == [(2, ["a@x.io", "Acme"]), (3, ["b@x.io"])]


def test_a_header_of_too_many_columns_is_refused(tmp_path):
    header = ",".join(f"c{i}" for i in range(600))
    with pytest.raises(FileRefused, match="600 columns"):
        inspect_file(_write(tmp_path, (header + "\n").encode()))
