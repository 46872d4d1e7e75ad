"""Processing Bulk API 2.0 jobs (run by an RQ worker, see sandbox/worker.py), and their files.

A job's uploaded CSV and its results live in ``job_dir(job_id)``. Ingest: the uploaded CSV is checked as a whole (encoding, line ending, header), then read in
chunks of rows; each chunk goes through ``records.write_records`` — the same rules as every
other write path — so a bad row fails alone, with ``sf__Error`` built from the very error the
REST path gives. Query: the SOQL runs once and the rows are written as CSV with a row-offset
index, so result pages are read straight from disk.
"""

import csv
import io
import os
import time
from array import array
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import OperationalError, close_old_connections

from sandbox import ids, query, soql
from sandbox.errors import ApiError
from sandbox.models import BulkJob, JobState, OrgUser, Record
from sandbox.records import DB, Op, Result, find_by_field, refresh_statistics, write_records
from sandbox.schema import Actor, ObjectMeta, actor_for
from sandbox.values import now

CHUNK = 2000
ANALYZE_EVERY = 50_000  # rows: keep the planner's statistics up with a large load
DELIMITERS = {
    "COMMA": ",",
    "TAB": "\t",
    "PIPE": "|",
    "SEMICOLON": ";",
    "CARET": "^",
    "BACKQUOTE": "`",
}


def bulk_dir() -> Path:
    """Where job files live (``SANDBOX_BULK_DIR``, default var/sandbox/bulk)."""
    return Path(
        os.environ.get("SANDBOX_BULK_DIR") or Path(settings.BASE_DIR) / "var" / "sandbox" / "bulk"
    )


def job_dir(job_id: str) -> Path:
    return bulk_dir() / job_id


def fail_interrupted_jobs() -> int:
    """Jobs left InProgress by a killed worker end Failed, so their state stays consistent."""
    return (
        BulkJob.objects.using(DB)
        .filter(state=JobState.IN_PROGRESS)
        .update(
            state=JobState.FAILED,
            system_modstamp=now(),
            error_message="InternalServerError : processing was interrupted; resubmit the job",
        )
    )


class JobFailure(Exception):
    """A problem with the whole job: it ends Failed with this message."""


def process_job(job_id: str) -> None:
    """Take an UploadComplete job and run it to a final state."""
    close_old_connections()
    started = time.monotonic()
    taken = (
        BulkJob.objects.using(DB)
        .filter(pk=job_id, state=JobState.UPLOAD_COMPLETE)
        .update(state=JobState.IN_PROGRESS, system_modstamp=now())
    )
    if taken != 1:
        return
    job = BulkJob.objects.using(DB).select_related("user__org").get(pk=job_id)
    try:
        if job.job_type == "V2Ingest":
            _ingest(job)
        else:
            _query(job)
    except JobFailure as failure:
        _finish(job, JobState.FAILED, started, str(failure))
        return
    except ApiError as error:
        _finish(job, JobState.FAILED, started, f"{error.code} : {error.message}")
        return
    except Exception as exc:
        # Salesforce never leaves a job InProgress for ever: whatever broke, it ends Failed.
        _finish(job, JobState.FAILED, started, f"UnknownException : {exc}")
        raise
    _finish(job, JobState.JOB_COMPLETE, started)


def _finish(job: BulkJob, state: str, started: float, message: str = "") -> None:
    elapsed = int((time.monotonic() - started) * 1000)
    BulkJob.objects.using(DB).filter(pk=job.pk, state=JobState.IN_PROGRESS).update(
        state=state,
        error_message=message,
        processing_ms=elapsed,
        system_modstamp=now(),
        records_processed=job.records_processed,
        records_failed=job.records_failed,
    )


def _actor(job: BulkJob) -> Actor:
    user = OrgUser.objects.using(DB).select_related("org").get(pk=job.user_id)
    return actor_for(user)


# -- ingest ----------------------------------------------------------------------------------


def _read_upload(job: BulkJob) -> str:
    path = job_dir(job.pk) / "upload.csv"
    if not path.exists():
        raise JobFailure("InvalidBatch : No data was uploaded for this job")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise JobFailure(f"InvalidBatch : The file is not valid UTF-8 (byte {exc.start})") from exc
    if job.line_ending == "LF" and "\r\n" in text:
        raise JobFailure(
            "ClientInputError : LineEnding is invalid on user data. Current "
            "LineEnding setting is LF"
        )
    if job.line_ending == "CRLF" and "\n" in text.replace("\r\n", ""):
        raise JobFailure(
            "ClientInputError : LineEnding is invalid on user data. Current "
            "LineEnding setting is CRLF"
        )
    return text


def _columns(actor: Actor, obj: ObjectMeta, job: BulkJob, header: list[str]) -> list[str]:
    """Validate the header; returns canonical field names (``Rel.Field`` kept as written)."""
    names = []
    for column in header:
        name = column.strip()
        if "." in name:
            _relationship_column(actor, obj, name)
            names.append(name)
            continue
        fmeta = actor.visible_field(obj, name)
        if fmeta is None:
            raise JobFailure(f"InvalidBatch : Field name not found : {name}")
        names.append(fmeta.name)
    if job.operation in ("delete", "hardDelete") and names != ["Id"]:
        raise JobFailure(
            f"InvalidBatch : The Id field is the only column allowed for {job.operation}"
        )
    if job.operation == "update" and "Id" not in names:
        raise JobFailure("InvalidBatch : Field name not provided : Id")
    if job.operation == "upsert" and job.external_id_field not in names:
        raise JobFailure(f"InvalidBatch : Field name not provided : {job.external_id_field}")
    return names


def _relationship_column(actor: Actor, obj: ObjectMeta, column: str):
    relationship, _, field_name = column.partition(".")
    rel = obj.relationships.get(relationship.lower())
    if rel is None or not actor.can_edit_field(obj, rel):
        raise JobFailure(f"InvalidBatch : Field name not found : {column}")
    target = actor.schema.sobject(rel.reference_to[0])
    fmeta = actor.visible_field(target, field_name)
    if fmeta is None or not (fmeta.external_id or fmeta.name in ("Id", "Email")):
        raise JobFailure(f"InvalidBatch : Field name not found : {column}")
    return rel, target, fmeta


def _rows(text: str, delimiter: str) -> tuple[list[str], Iterator[list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    try:
        header = next(reader)
    except StopIteration as exc:
        raise JobFailure("InvalidBatch : The file has no header row") from exc
    return header, reader


def _ingest(job: BulkJob) -> None:
    actor = _actor(job)
    obj = actor.schema.sobject(job.sobject)
    header, reader = _rows(_read_upload(job), DELIMITERS[job.column_delimiter])
    names = _columns(actor, obj, job, header)
    out = _ResultFiles(job, header)
    try:
        chunk: list[list[str]] = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            chunk.append(row)
            if len(chunk) >= CHUNK:
                if not _run_chunk(actor, obj, job, names, chunk, out):
                    _write_unprocessed(reader, out)
                    return
                chunk = []
        if chunk:
            _run_chunk(actor, obj, job, names, chunk, out)
    finally:
        out.close()
        refresh_statistics()


def _write_retrying(actor: Actor, ops: list[Op], attempts: int = 5) -> list[Result]:
    """``write_records``, again when PostgreSQL broke a deadlock with a concurrent writer (two
    jobs, or a job and a Composite call, locking the same values): Salesforce retries a batch
    whose rows were locked, too, before it reports them."""
    for attempt in range(1, attempts + 1):
        try:
            return write_records(actor, ops)
        except OperationalError as exc:
            if attempt == attempts or getattr(exc.__cause__, "sqlstate", None) != "40P01":
                raise
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")


def _aborted(job: BulkJob) -> bool:
    return BulkJob.objects.using(DB).filter(pk=job.pk, state=JobState.ABORTED).exists()


def _run_chunk(
    actor: Actor,
    obj: ObjectMeta,
    job: BulkJob,
    names: list[str],
    rows: list[list[str]],
    out: "_ResultFiles",
) -> bool:
    """Write one chunk; False (rows left unprocessed) when the job was aborted meanwhile."""
    if _aborted(job):
        for row in rows:
            out.unprocessed.writerow(row)
        return False
    ops = [_row_op(actor, obj, job, names, row) for row in rows]
    good = [op for op in ops if isinstance(op, Op)]
    results = iter(_write_retrying(actor, good))
    for row, op in zip(rows, ops, strict=True):
        result = Result(error=op) if isinstance(op, ApiError) else next(results)
        out.record(row, result, op, job)
    if (
        job.records_processed // ANALYZE_EVERY
        != (job.records_processed + len(rows)) // ANALYZE_EVERY
    ):
        refresh_statistics()
    job.records_processed += len(rows)
    job.records_failed = out.failed
    BulkJob.objects.using(DB).filter(pk=job.pk).update(
        records_processed=job.records_processed, records_failed=job.records_failed
    )
    return True


def _row_op(
    actor: Actor, obj: ObjectMeta, job: BulkJob, names: list[str], row: list[str]
) -> Op | ApiError:
    if len(row) != len(names):
        return ApiError(
            "INVALID_FIELD", f"Row has {len(row)} columns but the header has {len(names)}", 400, []
        )
    values = dict(zip(names, row, strict=True))
    if job.operation in ("delete", "hardDelete"):
        return Op("delete", obj, record_id=values["Id"].strip())
    body: dict = {"attributes": {"type": obj.name, "_csv": True}}
    for name, value in values.items():
        if value == "" or name == "Id":
            continue
        if "." in name:
            try:
                name, value = _resolve_relationship(actor, obj, name, value)
            except ApiError as error:
                return error
        body[name] = None if value == "#N/A" else value
    if job.operation == "update":
        return Op("update", obj, body, record_id=values.get("Id", "").strip())
    if job.operation == "upsert":
        ext_value = values.get(job.external_id_field, "")
        body.pop(job.external_id_field, None)
        return Op("upsert", obj, body, ext_field=job.external_id_field, ext_value=ext_value or None)
    return Op("create", obj, body)


def _resolve_relationship(
    actor: Actor, obj: ObjectMeta, column: str, value: str
) -> tuple[str, str]:
    rel, target, fmeta = _relationship_column(actor, obj, column)
    found = find_by_field(actor, target, fmeta, value)
    if len(found) != 1:
        raise ApiError(
            "INVALID_FIELD",
            f"Foreign key external ID: {value} not found for field "
            f"{fmeta.name} in entity {target.name}",
            400,
            [],
        )
    return rel.name, found[0].pk


def sf_error(error: ApiError) -> str:
    """``sf__Error`` as Salesforce writes it: ``CODE:message:fields --``."""
    fields = ",".join(error.fields or [])
    return (
        f"{error.code}:{error.message}:{fields} --"
        if fields
        else f"{error.code}:{error.message}:--"
    )


class _ResultFiles:
    """successfulResults / failedResults / unprocessedrecords CSVs for one job."""

    def __init__(self, job: BulkJob, header: list[str]):
        folder = job_dir(job.pk)
        self.files = [
            open(folder / name, "w", newline="", encoding="utf-8")  # noqa: SIM115
            for name in ("success.csv", "failed.csv", "unprocessed.csv")
        ]
        self.success, self.failures, self.unprocessed = (
            csv.writer(f, lineterminator="\n") for f in self.files
        )
        quoted = ",".join(_quote_min(h) for h in header)
        self.files[0].write(f'"sf__Id","sf__Created",{quoted}\n')
        self.files[1].write(f'"sf__Id","sf__Error",{quoted}\n')
        self.files[2].write(f"{quoted}\n")
        self.failed = 0

    def record(self, row: list[str], result: Result, op, job: BulkJob) -> None:
        if result.error:
            self.failed += 1
            record_id = op.record_id if isinstance(op, Op) and op.record_id else ""
            self.failures.writerow([ids.normalize(record_id) or "", sf_error(result.error), *row])
            return
        if job.operation == "hardDelete":
            Record.objects.using(DB).filter(pk=result.id)._raw_delete(DB)
        self.success.writerow([result.id, "true" if result.created else "false", *row])

    def close(self) -> None:
        for handle in self.files:
            handle.close()


def _quote_min(text: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow([text])
    return buffer.getvalue()


def _write_unprocessed(reader: Iterator[list[str]], out: _ResultFiles) -> None:
    for row in reader:
        out.unprocessed.writerow(row)


# -- query -----------------------------------------------------------------------------------


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _query(job: BulkJob) -> None:
    actor = _actor(job)
    parsed = soql.parse(job.query)
    all_rows = job.operation == "queryAll"
    prepared = query.prepare(actor, parsed, all_rows=all_rows)
    select = [s for s in prepared.select if isinstance(s, query.Resolved)]
    folder = job_dir(job.pk)
    delimiter = DELIMITERS[job.column_delimiter]
    terminator = "\r\n" if job.line_ending == "CRLF" else "\n"
    offsets = array("Q")
    buffer = io.StringIO()
    writer = csv.writer(
        buffer, delimiter=delimiter, lineterminator=terminator, quoting=csv.QUOTE_ALL
    )
    with (folder / "results.csv").open("wb") as handle:
        writer.writerow([s.path.text for s in select])
        position = handle.write(_drain(buffer))
        for page in _query_pages(actor, parsed, prepared, all_rows):
            parents = query.ParentCache(actor.org.pk)
            parents.prime(page, [s for s in select if s.chain])
            for row in page:
                offsets.append(position)
                writer.writerow([_cell(parents.get(row, s)) for s in select])
                position += handle.write(_drain(buffer))
            job.records_processed = len(offsets)
        offsets.append(position)
    with (folder / "results.idx").open("wb") as index:
        offsets.tofile(index)


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return data


def _query_pages(actor: Actor, parsed, prepared, all_rows: bool) -> Iterator[list[dict]]:
    """Rows in pages of 5,000: keyset-streamed when SQL answers the query, else in memory."""
    stream = query.stream_order(actor, prepared)
    if stream is None:
        rows = query.run_rows(actor, parsed, all_rows=all_rows)
        for start in range(0, len(rows), 5000):
            yield rows[start : start + 5000]
        return
    count = prepared.queryset.count()
    cursor = query.Cursor(
        locator="",
        user_id=actor.user_id,
        obj=prepared.obj,
        select=[],
        version="",
        total=min(count, parsed.limit or count),
        batch=5000,
        stream=prepared.queryset,
        order_key=stream[0],
        descending=stream[1],
    )
    remaining = cursor.total
    while remaining > 0:
        page = query.fetch_stream(cursor, min(5000, remaining))
        if not page:
            return
        remaining -= len(page)
        yield page


def read_result_page(job: BulkJob, start: int, limit: int) -> tuple[bytes, int]:
    """The header plus rows ``start … start+limit`` of a query job's results."""
    folder = job_dir(job.pk)
    offsets = array("Q")
    with (folder / "results.idx").open("rb") as index:
        offsets.frombytes(index.read())
    rows = len(offsets) - 1
    start = min(max(start, 0), rows)
    end = min(start + max(limit, 0), rows)
    with (folder / "results.csv").open("rb") as handle:
        header = handle.readline()
        handle.seek(offsets[start])
        body = handle.read(offsets[end] - offsets[start])
    return header + body, end - start
