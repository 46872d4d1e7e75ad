"""Sync Errors as CSV: a streamed export, and the re-import that applies a corrected file.

The export opens cleanly in Excel and LibreOffice (UTF-8 with a BOM, RFC 4180 quoting) and is
safe there: a cell that a spreadsheet would run as a formula gets a leading apostrophe, which
the re-import takes off again. The re-import applies each row in its own transaction, so a
refused row changes nothing and an accepted one is complete.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TextIO

from django.core.exceptions import ValidationError
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Case, CharField, F, QuerySet, TextField, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, Concat, Left, NullIf
from django.db.models.lookups import Regex

from core.csv_safe import FORMULA_START, neutralise  # noqa: F401 - shared with crm exports
from prospects.models import CUSTOM_PREFIX, CustomField, Prospect, SyncReason
from prospects.sync_requests import request_sync
from sync.errors.fix import EDITABLE_FIELDS, apply_values, mapped_columns
from sync.models import Connector

INFO_COLUMNS = [
    "prospect_id",
    "prospect_email",
    "crm_id",
    "error_code",
    "category",
    "object",
    "field",
    "message",
    "value_sent",
    "first_seen_at",
    "last_seen_at",
]
EXPORT_CHUNK = 5000
MAX_CELL = 131072  # the csv module's default field limit: longer is junk, not a value


# -- export -------------------------------------------------------------------------------------


def export_header(columns: list[str]) -> list[str]:
    return INFO_COLUMNS + columns


def export_lines(*, errors: QuerySet, connector: Connector | None) -> Iterator[bytes]:
    """Yield the CSV file for ``errors`` in chunks of bytes, at constant memory.

    PostgreSQL writes the rows itself (``COPY … TO STDOUT``, neutralised in SQL); elsewhere
    Python writes them from a server-side cursor. Same columns, same cells, either way.
    """
    columns = mapped_columns(connector)
    if db_connection.vendor == "postgresql":
        return _export_copy(errors, columns)
    return _export_python(errors, columns)


def _export_python(errors: QuerySet, columns: list[str]) -> Iterator[bytes]:
    """Rows read with a server-side cursor; dates rendered by the database (UTC)."""
    standard = [c for c in columns if not c.startswith(CUSTOM_PREFIX)]
    custom = [c.removeprefix(CUSTOM_PREFIX) for c in columns if c.startswith(CUSTOM_PREFIX)]
    rows = (
        errors.order_by()
        .annotate(
            _crm=Coalesce(
                NullIf("prospect__crm_contact_id", Value("")),
                NullIf("prospect__crm_lead_id", Value("")),
                "record_id",
            ),
            _first=Cast("first_seen_at", CharField()),
            _last=Cast("last_seen_at", CharField()),
        )
        .values_list(
            "prospect_id",
            "prospect_email",
            "_crm",
            "error_code",
            "category",
            "sobject",
            "field",
            "message",
            "value_sent",
            "_first",
            "_last",
            *(f"prospect__{name}" for name in standard),
            *(["prospect__custom_fields"] if custom else []),
        )
        .iterator(chunk_size=EXPORT_CHUNK)
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(export_header(columns))
    yield codecs.BOM_UTF8 + buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    danger = FORMULA_START
    batch: list[list[str]] = []
    for row in rows:
        cells = [v if v.__class__ is str else "" if v is None else str(v) for v in row]
        cells[9] = cells[9][:19]
        cells[10] = cells[10][:19]
        if custom:
            values = row[-1] or {}
            cells[-1:] = [_cell(values.get(name)) for name in custom]
        batch.append([("'" + c) if c and c[0] in danger else c for c in cells])
        if len(batch) == EXPORT_CHUNK:
            writer.writerows(batch)
            batch.clear()
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if batch:
        writer.writerows(batch)
        yield buffer.getvalue().encode()


COPY_BLOCK = 1 << 16


def _export_copy(errors: QuerySet, columns: list[str]) -> Iterator[bytes]:
    """PostgreSQL's ``COPY (query) TO STDOUT (FORMAT csv)``: the server renders every cell."""
    standard = [c for c in columns if not c.startswith(CUSTOM_PREFIX)]
    custom = [c.removeprefix(CUSTOM_PREFIX) for c in columns if c.startswith(CUSTOM_PREFIX)]
    cells = {
        "c00": Cast("prospect_id", TextField()),
        "c01": F("prospect_email"),
        "c02": Coalesce(
            NullIf("prospect__crm_contact_id", Value("")),
            NullIf("prospect__crm_lead_id", Value("")),
            "record_id",
        ),
        "c03": F("error_code"),
        "c04": F("category"),
        "c05": F("sobject"),
        "c06": F("field"),
        "c07": F("message"),
        "c08": F("value_sent"),
        "c09": Left(Cast("first_seen_at", TextField()), 19),
        "c10": Left(Cast("last_seen_at", TextField()), 19),
    }
    for i, name in enumerate(standard):
        cells[f"s{i:02d}"] = Cast(f"prospect__{name}", TextField())
    for i, name in enumerate(custom):
        cells[f"u{i:02d}"] = KeyTextTransform(name, "prospect__custom_fields")
    safe = {key: _neutralised(expression) for key, expression in cells.items()}
    query = errors.order_by().annotate(**safe).values_list(*safe)
    sql, params = query.query.sql_with_params()
    statement = f"COPY ({db_connection.ops.compose_sql(sql, params)}) TO STDOUT (FORMAT csv)"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(export_header(columns))
    yield codecs.BOM_UTF8 + buffer.getvalue().encode()
    db_connection.ensure_connection()
    with db_connection.connection.cursor() as cursor, cursor.copy(statement) as copy:
        block = bytearray()
        for data in copy:
            block += data
            if len(block) >= COPY_BLOCK:
                yield bytes(block)
                block.clear()
        if block:
            yield bytes(block)


def _neutralised(expression):
    """SQL for ``neutralise``: an apostrophe before a leading = + - @ tab or CR."""
    return Case(
        When(
            Regex(expression, Value(r"^[=+@\t\r-]")),
            then=Concat(Value("'"), expression, output_field=TextField()),
        ),
        default=expression,
        output_field=TextField(),
    )


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(map(str, value))
    return str(value)


# -- import -------------------------------------------------------------------------------------

# An export has the info columns and one per mapped field: a few dozen. Far more is not an
# export, and refusing it at the header keeps every later check small.
MAX_COLUMNS = 1000
# One row's text, quoted line breaks included. Enforced while reading, so a "row" of millions
# of empty cells (a file of commas) is refused before the csv module builds it.
MAX_ROW_CHARS = 4 * 1024 * 1024
MAX_REFUSALS = 1000  # refused rows kept for the report; the rest are only counted
MAX_SHOWN = 60  # characters of a refused cell repeated in its reason
MAX_ID_DIGITS = 18  # a prospect id fits a 64-bit integer


class Progress(Protocol):
    """Where an import reports how far it got (``core.models.Task`` is one)."""

    def set_total(self, total: int) -> None: ...

    def advance(self, *, done: int = 0, failed: int = 0) -> None: ...


@dataclass
class Refusal:
    line: int
    prospect_id: str
    reason: str


@dataclass
class ImportReport:
    """Rows applied and rows refused (with line numbers); ``file_error`` refuses the whole file.

    Only the first ``MAX_REFUSALS`` refusals are kept, the rest counted: a file of a million
    bad rows costs the worker as little memory as a file of a thousand.
    """

    applied: int = 0
    unchanged: int = 0
    refused: list[Refusal] = field(default_factory=list)
    refused_total: int = 0
    file_error: str = ""
    prospect_ids: list[int] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    def refuse(self, line: int, prospect_id: str, reason: str) -> None:
        self.refused_total += 1
        if len(self.refused) < MAX_REFUSALS:
            self.refused.append(Refusal(line, _shown(prospect_id), reason))

    def as_dict(self) -> dict:
        return {
            "applied": self.applied,
            "unchanged": self.unchanged,
            "refused_total": self.refused_total,
            "refused": [[r.line, r.prospect_id, r.reason] for r in self.refused],
            "file_error": self.file_error,
            "ignored_columns": self.ignored_columns,
        }


class FileRefused(Exception):
    """The file as a whole cannot be read as an export: nothing is applied."""


@dataclass(frozen=True)
class CheckedFile:
    columns: list[str]  # header names, normalised (``column_name``)
    rows: int  # records after the header


def check_file(path: Path) -> CheckedFile:
    """Read the whole file once, applying nothing: UTF-8, a CSV, with a prospect_id column.

    Every check is linear in the file's size and bounded in memory. Raises FileRefused with
    what is wrong and where.
    """
    _check_encoding(path)
    with _reader(path) as reader:
        try:
            header = next(reader, None)
            if not header:
                raise FileRefused("The file is empty.")
            names = _check_header(header)
            rows = sum(1 for _ in reader)
        except csv.Error as exc:
            raise FileRefused(
                f"Line {reader.line_num}: the file cannot be read as CSV ({exc})."
            ) from exc
    return CheckedFile(names, rows)


def _check_encoding(path: Path) -> None:
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with open(path, "rb") as raw:
        while chunk := raw.read(1 << 20):
            if b"\x00" in chunk:
                raise FileRefused(
                    "This is not a CSV file (it contains binary data). Upload the CSV exported "
                    "from Sync Errors."
                )
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise FileRefused(
                    f"The file is not UTF-8 (byte {offset + exc.start:,} cannot be read). In "
                    "Excel choose “CSV UTF-8 (Comma delimited)”; in LibreOffice choose the "
                    "“Unicode (UTF-8)” character set, then upload again."
                ) from exc
            offset += len(chunk)


def _check_header(header: list[str]) -> list[str]:
    if len(header) > MAX_COLUMNS:
        raise FileRefused(
            f"The file has {len(header):,} columns; an export from Sync Errors has at most "
            f"{MAX_COLUMNS:,}. Upload the CSV exported from Sync Errors."
        )
    names = [column_name(h) for h in header]
    if "prospect_id" not in names:
        shown = ", ".join(repr(_shown(h)) for h in header[:6]) + (" …" if len(header) > 6 else "")
        raise FileRefused(
            f"There is no prospect_id column (the columns are {shown}). Upload the CSV exported "
            "from Sync Errors, keeping its header row."
        )
    duplicates = duplicate_columns(names)
    if duplicates:
        shown = ", ".join(_shown(n) for n in duplicates[:10]) + (
            " …" if len(duplicates) > 10 else ""
        )
        raise FileRefused(f"Columns appear twice: {shown}.")
    return names


def duplicate_columns(names: Iterable[str]) -> list[str]:
    """The non-empty names that appear more than once, sorted (one pass: a Counter)."""
    return sorted(name for name, count in Counter(names).items() if name and count > 1)


class _reader:
    """``csv.reader`` over a UTF-8 file (BOM dropped), as a context manager, fed at most
    ``MAX_ROW_CHARS`` of text per row."""

    def __init__(self, path: Path) -> None:
        self.file = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115
        csv.field_size_limit(MAX_CELL)
        self.lines = _BoundedLines(self.file)
        self.reader = _RowBoundaries(csv.reader(self.lines), self.lines)

    def __enter__(self) -> _RowBoundaries:
        return self.reader

    def __exit__(self, *exc) -> None:
        self.file.close()


class _BoundedLines:
    """The file's lines, refusing a row that grows past ``MAX_ROW_CHARS`` (``row_done``
    starts the next row's budget)."""

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
                f"A row is longer than {MAX_ROW_CHARS // 2**20} MB (it starts after line "
                f"{self.lines_before_row:,}). Upload the CSV exported from Sync Errors."
            )
        return line

    def row_done(self, line_num: int) -> None:
        self.row_chars = 0
        self.lines_before_row = line_num


class _RowBoundaries:
    """A csv reader that tells ``_BoundedLines`` where each row ends."""

    def __init__(self, reader, lines: _BoundedLines) -> None:
        self.reader = reader
        self.lines = lines

    def __iter__(self) -> _RowBoundaries:
        return self

    def __next__(self) -> list[str]:
        row = next(self.reader)
        self.lines.row_done(self.reader.line_num)
        return row

    @property
    def line_num(self) -> int:
        return self.reader.line_num


def column_name(cell: str) -> str:
    """A header cell as a column name: un-neutralised, trimmed, lower case (custom fields keep
    their API name's case)."""
    name = unneutralise(cell).strip()
    return name if name.startswith(CUSTOM_PREFIX) else name.lower()


def unneutralise(cell: str) -> str:
    """Undo ``neutralise``: drop the apostrophe the export put before a formula character."""
    return cell[1:] if len(cell) > 1 and cell[0] == "'" and cell[1] in FORMULA_START else cell


def _shown(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def import_file(path: Path, *, progress: Progress | None = None, actor=None) -> ImportReport:
    """Apply a corrected export to prospects by prospect id, requesting each one's sync.

    1. ``check_file``: encoding, CSV syntax and the header; a file that fails applies nothing.
    2. Each row on its own: a missing or unknown id, an unknown column with a value, a formula,
       a value that fails its field's validation, or the same id again with other values
       refuses that row only (with its line number and why).
    3. An accepted row is saved and its sync requested in one transaction; a worker pushes it.
    """
    report = ImportReport()
    try:
        checked = check_file(path)
        if progress:
            progress.set_total(checked.rows)
        _apply_rows(path, checked.columns, report, progress, actor)
    except FileRefused as exc:
        report.file_error = str(exc)
    return report


PROGRESS_EVERY = 200  # rows between two progress writes


def _apply_rows(
    path: Path, names: list[str], report: ImportReport, progress: Progress | None, actor=None
) -> None:
    rows = _Rows(names, report, actor)
    read = refused = 0
    with _reader(path) as reader:
        next(reader)
        line = reader.line_num + 1
        for row in reader:
            start, line = line, reader.line_num + 1
            before = report.refused_total
            rows.apply(row, start)
            read += 1
            refused += report.refused_total - before
            if progress and read == PROGRESS_EVERY:
                progress.advance(done=read - refused, failed=refused)
                read = refused = 0
    if progress and read:
        progress.advance(done=read - refused, failed=refused)


class _Rows:
    """Applies the rows of one file, given its header; remembers the ids already applied."""

    def __init__(self, names: list[str], report: ImportReport, actor=None) -> None:
        self.names = names
        self.report = report
        self.actor = actor  # who imports: named in each prospect's history
        self.custom = {c.api_name: c for c in CustomField.objects.all()}
        editable_fields = set(EDITABLE_FIELDS)
        info = set(INFO_COLUMNS)
        self.editable = {
            i: n
            for i, n in enumerate(names)
            if n in editable_fields
            or (n.startswith(CUSTOM_PREFIX) and n.removeprefix(CUSTOM_PREFIX) in self.custom)
        }
        self.unknown = {
            i: n for i, n in enumerate(names) if n not in info and i not in self.editable
        }
        self.key = names.index("prospect_id")
        self.seen: dict[int, tuple[int, bytes]] = {}  # id → (first line, digest of its values)
        report.ignored_columns = [n for n in names if n in info and n != "prospect_id"]

    def apply(self, row: list[str], line: int) -> None:
        if not any(cell.strip() for cell in row):
            return
        reason, pid = _row_problem(row, self.names, self.key, self.unknown)
        values = {} if reason else _row_values(row, self.editable)
        if not reason:
            reason = _duplicate_problem(self.seen, pid, values, line)
        if reason == "same":
            self.report.unchanged += 1
            return
        if reason:
            key = self.key
            self.report.refuse(line, row[key].strip() if key < len(row) else "", reason)
            return
        reason = _apply_row(pid, values, self.custom, self.report, self.actor)
        if reason:
            self.report.refuse(line, str(pid), reason)
        else:
            self.seen[pid] = (line, _digest(values))


def _row_problem(
    row: list[str], names: list[str], key: int, unknown: dict[int, str]
) -> tuple[str, int]:
    if len(row) != len(names):
        return f"{len(row):,} cells, but the header has {len(names)} columns", 0
    raw_id = unneutralise(row[key]).strip()
    if not raw_id:
        return "no prospect id", 0
    # isdigit() alone lets "²" and 5,000-digit numbers through, which int() or the database
    # would then refuse with an exception that stops the whole import.
    if not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > MAX_ID_DIGITS:
        return f"prospect id {_shown(raw_id)!r} is not a number", 0
    filled = [names[i] for i in unknown if row[i].strip()]
    if filled:
        shown = ", ".join(repr(_shown(n)) for n in filled[:5]) + (" …" if len(filled) > 5 else "")
        return f"unknown column {shown} (not a prospect field)", 0
    return "", int(raw_id)


def _row_values(row: list[str], editable: dict[int, str]) -> dict[str, str]:
    return {name: unneutralise(row[i]) for i, name in editable.items()}


def _digest(values: dict[str, str]) -> bytes:
    """A row's values in 16 bytes: what ``seen`` keeps instead of the values themselves."""
    return hashlib.blake2b(repr(sorted(values.items())).encode(), digest_size=16).digest()


def _duplicate_problem(
    seen: dict[int, tuple[int, bytes]], pid: int, values: dict, line: int
) -> str:
    formulas = [n for n, v in values.items() if v.lstrip().startswith("=")]
    if formulas:
        return (
            f"{', '.join(formulas)} holds a spreadsheet formula; enter the value itself "
            "(or paste as values)"
        )
    if pid not in seen:
        return ""
    first_line, first_values = seen[pid]
    if first_values == _digest(values):
        return "same"
    return f"prospect {pid} is also on line {first_line} with different values"


def _apply_row(pid: int, values: dict, custom: dict, report: ImportReport, actor=None) -> str:
    try:
        with transaction.atomic():
            prospect = Prospect.objects.select_for_update().filter(pk=pid).first()
            if prospect is None:
                return f"no prospect with id {pid} (deleted?)"
            changed = apply_values(
                prospect=prospect,
                values=values,
                custom=custom,
                actor=actor,
                operation="import",
                reason=SyncReason.ERROR_REIMPORT,
            )
            request_sync(prospect, SyncReason.ERROR_REIMPORT)
    except ValidationError as exc:
        return "; ".join(exc.messages)
    report.prospect_ids.append(pid)
    if changed:
        report.applied += 1
    else:
        report.unchanged += 1
    return ""
