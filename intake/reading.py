"""Reading an uploaded file of prospects, CSV or XLSX, row by row at constant memory.

``inspect_file`` looks at a new upload once: what it is (by its bytes, not its name), its
encoding and delimiter, its header and first rows — or a ``FileRefused`` saying, in words a
marketer can act on, why it cannot be read. ``read_rows`` then streams its records for the
worker, each with the line it starts on, so every refusal in the report points at a line.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TextIO

CSV, XLSX = "csv", "xlsx"
DELIMITERS = (",", ";", "\t", "|")
PREVIEW_ROWS = 10
SNIFF_BYTES = 64 * 1024
SCAN_BLOCK = 1 << 20
MAX_COLUMNS = 500
MAX_CELL = 131072  # the csv module's default field limit
# One record's text, quoted line breaks included: a "row" past this is junk, not a prospect.
MAX_ROW_CHARS = 1024 * 1024
# Bytes Windows-1252 leaves undefined: a file holding one is Latin-1 (ISO-8859-1) instead.
CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")
ENCODING_LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (with BOM)",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16 (little-endian, no BOM)",
    "utf-16-be": "UTF-16 (big-endian, no BOM)",
    "cp1252": "Windows-1252",
    "latin-1": "Latin-1 (ISO-8859-1)",
}
SPREADSHEET_ERRORS = frozenset(
    {"#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!"}
)
NOT_A_TABLE = (
    "This file is not a CSV or Excel file (it holds binary data). Upload a .csv file or an "
    ".xlsx workbook."
)


class FileRefused(Exception):
    """The file as a whole cannot be read: nothing is imported."""


@dataclass
class Inspection:
    """What an upload turned out to be, and what the mapping page shows of it."""

    format: str
    encoding: str = ""
    delimiter: str = ""
    headers: list[str] = field(default_factory=list)
    preview: list[list[str]] = field(default_factory=list)

    @property
    def encoding_label(self) -> str:
        return ENCODING_LABELS.get(self.encoding, self.encoding)


# A record from the file: the line it starts on, its cells as text, and per column index a
# reason a cell cannot be used (an XLSX formula without a saved value), or None.
Record = tuple[int, list[str], dict[int, str] | None]


def inspect_file(path: Path) -> Inspection:
    """Recognise the file and read its header and first rows; raises FileRefused.

    1. The first bytes say what it is: an XLSX (a zip), an old .xls, or text.
    2. Text: the encoding from a BOM, else the whole file must decode as UTF-8, else it is
       read as Windows-1252 (Latin-1 if it holds a byte Windows-1252 leaves undefined).
       NUL bytes or control characters outside UTF-16 mean binary junk.
    3. The delimiter is the one of , ; tab | that splits the first rows into the most
       consistent number of columns (more than one).
    """
    with open(path, "rb") as raw:
        head = raw.read(8)
    if not head:
        raise FileRefused("The file is empty.")
    if head.startswith(b"PK\x03\x04"):
        return _inspect_xlsx(path)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRefused(
            "This is an old Excel 97–2003 workbook (.xls). Save it as .xlsx or as CSV, then "
            "upload it again."
        )
    encoding = detect_encoding(path)
    with open(path, encoding=encoding, newline="") as text:
        sample = text.read(SNIFF_BYTES)
    _check_text(sample)
    delimiter = sniff_delimiter(sample)
    inspection = Inspection(format=CSV, encoding=encoding, delimiter=delimiter)
    records = read_rows(path, inspection, with_header=True)
    try:
        header = next(records, None)
        if header is None:
            raise FileRefused("The file is empty.")
        inspection.headers = _header(header[1])
        inspection.preview = [cells for _, cells, _ in islice(records, PREVIEW_ROWS)]
    finally:
        records.close()
    return inspection


def detect_encoding(path: Path) -> str:
    """The file's text encoding (a Python codec name); raises FileRefused for binary data."""
    with open(path, "rb") as raw:
        start = raw.read(4096)
    if start.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _checked_utf16(path, "utf-16")
    if b"\x00" in start:
        # UTF-16 without a BOM puts a NUL beside every ASCII character, always on one side.
        even, odd = start[0::2].count(0), start[1::2].count(0)
        if odd > len(start) // 4 and even == 0:
            return _checked_utf16(path, "utf-16-le")
        if even > len(start) // 4 and odd == 0:
            return _checked_utf16(path, "utf-16-be")
        raise FileRefused(NOT_A_TABLE)
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8, cp1252 = True, True
    with open(path, "rb") as raw:
        while block := raw.read(SCAN_BLOCK):
            if b"\x00" in block:
                raise FileRefused(NOT_A_TABLE)
            if utf8:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    utf8 = False
            if cp1252 and any(byte in block for byte in CP1252_UNDEFINED):
                cp1252 = False
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    return "utf-8" if utf8 else "cp1252" if cp1252 else "latin-1"


def _checked_utf16(path: Path, encoding: str) -> str:
    decoder = codecs.getincrementaldecoder(encoding)()
    with open(path, "rb") as raw:
        try:
            while block := raw.read(SCAN_BLOCK):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise FileRefused(
                "The file starts as UTF-16 text but cannot be read as UTF-16 further on. Save "
                "it again as “CSV UTF-8” and upload it."
            ) from exc
    return encoding


def _check_text(sample: str) -> None:
    """Text with many control characters (other than tab and line breaks) is not a table."""
    if "\x00" in sample:
        raise FileRefused(NOT_A_TABLE)
    controls = sum(1 for ch in sample if ch < " " and ch not in "\t\r\n\f\v")
    if controls > max(2, len(sample) // 100):
        raise FileRefused(NOT_A_TABLE)


def sniff_delimiter(sample: str) -> str:
    """The delimiter giving the most rows with the same (greater than one) number of columns;
    a comma when nothing splits (a one-column file)."""
    lines = sample.splitlines(keepends=True)
    if len(lines) > 1 and len(sample) >= SNIFF_BYTES:
        lines = lines[:-1]  # probably cut short
    lines = lines[:50]
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        try:
            widths = [len(row) for row in csv.reader(lines, delimiter=delimiter) if row]
        except csv.Error:
            continue
        if not widths:
            continue
        common = max(set(widths), key=widths.count)
        score = (widths.count(common), common) if common > 1 else (0, 0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _header(cells: list[str]) -> list[str]:
    headers = [cell.strip() for cell in cells]
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise FileRefused("The first row is empty: the file needs a header row naming its columns.")
    if len(headers) > MAX_COLUMNS:
        raise FileRefused(
            f"The file has {len(headers):,} columns; at most {MAX_COLUMNS} can be imported. "
            "Remove the columns you do not need."
        )
    return headers


# -- streaming the records -----------------------------------------------------------------------


def read_rows(path: Path, inspection: Inspection, *, with_header: bool = False) -> Iterator[Record]:
    """The file's records after the header (with it, if asked), as ``(line, cells, flags)``.

    Lines count from 1 (the header); a CSV record spanning several lines (a quoted line break)
    carries the line it starts on; an XLSX record its sheet row. Raises FileRefused on a file
    that stops being readable (the worker counts the rows first, so this happens before any
    row is written).
    """
    if inspection.format == XLSX:
        yield from _xlsx_rows(path, with_header=with_header)
    else:
        yield from _csv_rows(path, inspection, with_header=with_header)


def count_rows(path: Path, inspection: Inspection) -> int:
    """Records after the header: one full read, applying nothing (for the progress bar)."""
    return sum(1 for _ in read_rows(path, inspection))


def _csv_rows(path: Path, inspection: Inspection, *, with_header: bool) -> Iterator[Record]:
    csv.field_size_limit(MAX_CELL)
    with open(path, encoding=inspection.encoding, newline="") as text:
        lines = _BoundedLines(text)
        reader = csv.reader(lines, delimiter=inspection.delimiter or ",")
        start = 1
        first = True
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise FileRefused(
                    f"Line {start:,}: the file cannot be read as CSV ({exc}). Nothing was imported "
                    "from it."
                ) from exc
            line, start = start, reader.line_num + 1
            lines.row_done(reader.line_num)
            if first:
                first = False
                if not with_header:
                    continue
            yield line, cells, None


class _BoundedLines:
    """The file's lines, refusing a record that grows past ``MAX_ROW_CHARS``: a file of one
    endless quoted cell is refused before the csv module builds it in memory."""

    def __init__(self, file: TextIO) -> None:
        self.file = file
        self.row_chars = 0
        self.lines_before_row = 0

    def __iter__(self) -> _BoundedLines:
        return self

    def __next__(self) -> str:
        line = self.file.readline(MAX_ROW_CHARS - self.row_chars + 1)
        if not line:
            raise StopIteration
        self.row_chars += len(line)
        if self.row_chars > MAX_ROW_CHARS:
            raise FileRefused(
                f"Line {self.lines_before_row + 1:,}: a row longer than "
                f"{MAX_ROW_CHARS // 2**20} MB (an unclosed quote?). Nothing was imported from "
                "this file."
            )
        return line

    def row_done(self, line_num: int) -> None:
        self.row_chars = 0
        self.lines_before_row = line_num


# -- XLSX ----------------------------------------------------------------------------------------


def _inspect_xlsx(path: Path) -> Inspection:
    inspection = Inspection(format=XLSX)
    records = _xlsx_rows(path, with_header=True)
    try:
        header = next(records, None)
        if header is None:
            raise FileRefused("The workbook's first sheet is empty.")
        inspection.headers = _header(header[1])
        inspection.preview = [cells for _, cells, _ in islice(records, PREVIEW_ROWS)]
    finally:
        records.close()
    return inspection


@contextmanager
def _workbooks(path: Path):
    """The workbook twice, read-only: its saved values, and its formulas (to tell a formula
    that has no saved value from an empty cell)."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    with ExitStack() as files:
        try:
            # File objects, not the path: openpyxl judges a path by its extension, and the
            # stored upload has none.
            values = load_workbook(
                files.enter_context(open(path, "rb")), read_only=True, data_only=True
            )
            formulas = load_workbook(
                files.enter_context(open(path, "rb")), read_only=True, data_only=False
            )
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
            raise FileRefused(
                "This file is not an Excel workbook that can be read (a damaged .xlsx, or another "
                "kind of zip file). Open it in Excel and save it as .xlsx or CSV."
            ) from exc
        try:
            yield values, formulas
        finally:
            values.close()
            formulas.close()


def _xlsx_rows(path: Path, *, with_header: bool) -> Iterator[Record]:
    """The first sheet's rows. Formulas give their saved (cached) values; a formula saved
    without one, or giving an error (#REF!…), flags its cell. Merged cells hold their value
    in the top-left cell only; the other cells of the merge read as blank."""
    with _workbooks(path) as (values, formulas):
        if not values.worksheets:
            raise FileRefused("The workbook has no sheet.")
        rows = values.worksheets[0].iter_rows(values_only=True)
        formula_rows = formulas.worksheets[0].iter_rows(values_only=True)
        try:
            for number, (row, formula_row) in enumerate(zip(rows, formula_rows, strict=False), 1):
                if number == 1 and not with_header:
                    continue
                cells = [_xlsx_text(value) for value in row]
                while cells and not cells[-1]:
                    cells.pop()
                yield number, cells, _formula_flags(cells, formula_row)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise FileRefused(
                "The workbook is damaged and cannot be read to the end. Open it in Excel and "
                "save it again."
            ) from exc


def _formula_flags(cells: list[str], formula_row: tuple) -> dict[int, str] | None:
    flags = None
    for index, formula in enumerate(formula_row):
        if not (isinstance(formula, str) and formula.startswith("=")):
            continue
        value = cells[index] if index < len(cells) else ""
        reason = ""
        if value == "" or value == formula:
            reason = (
                "a formula saved without its value; open the file in Excel and save it again "
                "(or paste the column as values)"
            )
        elif value in SPREADSHEET_ERRORS:
            reason = f"the formula in this cell gives an error ({value})"
        if reason:
            flags = flags or {}
            flags[index] = reason
    return flags


def _xlsx_text(value: object) -> str:
    """A cell as the text a CSV export would hold: 12 not 12.0, dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value).strip() if isinstance(value, str) else str(value)
