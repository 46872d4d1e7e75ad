"""Sync Errors as CSV: a streamed export, and the re-import that applies a corrected file.

The export opens cleanly in Excel and LibreOffice (UTF-8 with a BOM, RFC 4180 quoting) and is
safe there: a cell that a spreadsheet would run as a formula gets a leading apostrophe, which
the re-import takes off again. The re-import applies each row in its own transaction, so a
refused row changes nothing and an accepted one is complete.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Case, CharField, F, QuerySet, TextField, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, Concat, Left, NullIf
from django.db.models.lookups import Regex

from prospects.models import CUSTOM_PREFIX, CustomField, Prospect
from sync.errors.fix import EDITABLE_FIELDS, apply_values, mapped_columns
from sync.models import Connector, SyncReason
from sync.triggers import request_sync

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
FORMULA_START = frozenset("=+-@\t\r")
EXPORT_CHUNK = 5000
MAX_CELL = 131072  # the csv module's default field limit: longer is junk, not a value


# -- export -------------------------------------------------------------------------------------


def neutralise(cell: str) -> str:
    """Defuse a cell a spreadsheet would evaluate (=, +, -, @, tab, CR) with an apostrophe."""
    return "'" + cell if cell and cell[0] in FORMULA_START else cell


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


@dataclass
class Refusal:
    line: int
    prospect_id: str
    reason: str


@dataclass
class ImportReport:
    """Rows applied and rows refused (with line numbers); ``file_error`` refuses the whole file."""

    applied: int = 0
    unchanged: int = 0
    refused: list[Refusal] = field(default_factory=list)
    file_error: str = ""
    prospect_ids: list[int] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    def as_dict(self, *, max_refusals: int = 1000) -> dict:
        return {
            "applied": self.applied,
            "unchanged": self.unchanged,
            "refused_total": len(self.refused),
            "refused": [[r.line, r.prospect_id, r.reason] for r in self.refused[:max_refusals]],
            "file_error": self.file_error,
            "ignored_columns": self.ignored_columns,
        }


class FileRefused(Exception):
    """The file as a whole cannot be read as an export: nothing is applied."""


def check_file(path: Path) -> list[str]:
    """Read the whole file once, applying nothing: UTF-8, a CSV, with a prospect_id column.

    Returns the header; raises FileRefused with what is wrong and where.
    """
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
    header = None
    with _reader(path) as reader:
        try:
            for row in reader:
                if header is None:
                    header = row
        except csv.Error as exc:
            raise FileRefused(
                f"Line {reader.line_num}: the file cannot be read as CSV ({exc})."
            ) from exc
    if not header:
        raise FileRefused("The file is empty.")
    names = [_header_name(h) for h in header]
    if "prospect_id" not in names:
        shown = ", ".join(repr(h) for h in header[:6]) + (" …" if len(header) > 6 else "")
        raise FileRefused(
            f"There is no prospect_id column (the columns are {shown}). Upload the CSV exported "
            "from Sync Errors, keeping its header row."
        )
    duplicates = sorted({n for n in names if n and names.count(n) > 1})
    if duplicates:
        raise FileRefused(f"Columns appear twice: {', '.join(duplicates)}.")
    return names


class _reader:
    """``csv.reader`` over a UTF-8 file (BOM dropped), as a context manager."""

    def __init__(self, path: Path) -> None:
        self.file = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115
        csv.field_size_limit(MAX_CELL)
        self.reader = csv.reader(self.file)

    def __enter__(self):
        return self.reader

    def __exit__(self, *exc) -> None:
        self.file.close()


def _header_name(cell: str) -> str:
    name = unneutralise(cell).strip()
    return name if name.startswith(CUSTOM_PREFIX) else name.lower()


def unneutralise(cell: str) -> str:
    """Undo ``neutralise``: drop the apostrophe the export put before a formula character."""
    return cell[1:] if len(cell) > 1 and cell[0] == "'" and cell[1] in FORMULA_START else cell


def import_file(
    path: Path, *, progress: Callable[[int, int], None] | None = None, actor=None
) -> ImportReport:
    """Apply a corrected export to prospects by prospect id, then request their sync.

    1. ``check_file``: encoding, CSV syntax and the header; a file that fails applies nothing.
    2. Each row on its own: a missing or unknown id, an unknown column with a value, a formula,
       a value that fails its field's validation, or the same id again with other values
       refuses that row only (with its line number and why).
    3. An accepted row is saved and its sync requested in one transaction.
    """
    report = ImportReport()
    try:
        names = check_file(path)
    except FileRefused as exc:
        report.file_error = str(exc)
        return report
    custom = {c.api_name: c for c in CustomField.objects.all()}
    editable = {
        i: n
        for i, n in enumerate(names)
        if n in EDITABLE_FIELDS
        or (n.startswith(CUSTOM_PREFIX) and n.removeprefix(CUSTOM_PREFIX) in custom)
    }
    unknown = {i: n for i, n in enumerate(names) if n not in INFO_COLUMNS and i not in editable}
    report.ignored_columns = [n for n in names if n in INFO_COLUMNS and n != "prospect_id"]
    seen: dict[int, tuple[int, dict]] = {}
    key = names.index("prospect_id")
    done = 0
    with _reader(path) as reader:
        next(reader)
        line = reader.line_num + 1
        for row in reader:
            start, line = line, reader.line_num + 1
            done += 1
            if progress and done % 200 == 0:
                progress(done, len(report.refused))
            if not any(cell.strip() for cell in row):
                continue
            reason, pid = _row_problem(row, names, key, unknown)
            values = {} if reason else _row_values(row, editable)
            if not reason:
                reason = _duplicate_problem(seen, pid, values, start)
            if reason == "same":
                report.unchanged += 1
                continue
            if reason:
                report.refused.append(
                    Refusal(start, row[key].strip() if key < len(row) else "", reason)
                )
                continue
            reason = _apply_row(pid, values, custom, report, actor)
            if reason:
                report.refused.append(Refusal(start, str(pid), reason))
            else:
                seen[pid] = (start, values)
    if progress:
        progress(done, len(report.refused))
    return report


def _row_problem(
    row: list[str], names: list[str], key: int, unknown: dict[int, str]
) -> tuple[str, int]:
    if len(row) != len(names):
        return f"{len(row)} cells, but the header has {len(names)} columns", 0
    raw_id = unneutralise(row[key]).strip()
    if not raw_id:
        return "no prospect id", 0
    if not raw_id.isdigit():
        return f"prospect id {raw_id!r} is not a number", 0
    filled = [names[i] for i in unknown if row[i].strip()]
    if filled:
        return f"unknown column {', '.join(map(repr, filled))} (not a prospect field)", 0
    return "", int(raw_id)


def _row_values(row: list[str], editable: dict[int, str]) -> dict[str, str]:
    return {name: unneutralise(row[i]) for i, name in editable.items()}


def _duplicate_problem(seen: dict[int, tuple[int, dict]], pid: int, values: dict, line: int) -> str:
    formulas = [n for n, v in values.items() if v.lstrip().startswith("=")]
    if formulas:
        return (
            f"{', '.join(formulas)} holds a spreadsheet formula; enter the value itself "
            "(or paste as values)"
        )
    if pid not in seen:
        return ""
    first_line, first_values = seen[pid]
    if first_values == values:
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
