"""Bulk API 2.0 resources under ``/services/data/vXX.X/jobs/``: ingest and query jobs.

Job rows live in the database; uploaded CSV and results are files under ``bulk_jobs.bulk_dir()``.
Closing an ingest job (``UploadComplete``) or creating a query job queues
``bulk_jobs.process_job`` on RQ (see sandbox/worker.py); the job moves Open → UploadComplete →
InProgress → JobComplete / Failed, or Aborted by the client.
"""

import base64
import binascii
import shutil

from sandbox import ids, limits, query, soql, worker
from sandbox.bulk_jobs import DELIMITERS, job_dir, process_job, read_result_page
from sandbox.errors import ApiError, not_found
from sandbox.http import Request, Response, require
from sandbox.models import BulkJob, JobState
from sandbox.records import DB
from sandbox.values import format_datetime, now

LINE_ENDINGS = {"LF", "CRLF"}
INGEST_OPERATIONS = {"insert", "update", "upsert", "delete", "hardDelete"}
QUERY_OPERATIONS = {"query", "queryAll"}
MAX_UPLOAD = 100 * 1024 * 1024
RESULT_KINDS = {
    "successfulresults": "success.csv",
    "failedresults": "failed.csv",
    "unprocessedrecords": "unprocessed.csv",
}
CLOSABLE = {JobState.OPEN}
ABORTABLE = {JobState.OPEN, JobState.UPLOAD_COMPLETE, JobState.IN_PROGRESS}
DELETABLE = {JobState.UPLOAD_COMPLETE, JobState.JOB_COMPLETE, JobState.ABORTED, JobState.FAILED}


def invalid_job(message: str, status: int = 400) -> ApiError:
    return ApiError("INVALIDJOB", message, status, None)


def invalid_state(job: BulkJob, target: str) -> ApiError:
    return ApiError(
        "INVALIDJOBSTATE",
        f"Job {job.pk} is in state {job.state} and cannot move to {target}",
        409,
        None,
    )


def job_info(job: BulkJob) -> dict:
    """JobInfo as Salesforce returns it."""
    body = {
        "id": job.pk,
        "operation": job.operation,
        "object": job.sobject,
        "createdById": job.user_id,
        "createdDate": format_datetime(job.created_date),
        "systemModstamp": format_datetime(job.system_modstamp),
        "state": job.state,
        "concurrencyMode": "Parallel",
        "contentType": "CSV",
        "apiVersion": float(job.api_version),
        "jobType": job.job_type,
        "lineEnding": job.line_ending,
        "columnDelimiter": job.column_delimiter,
        "numberRecordsProcessed": job.records_processed,
        "retries": 0,
        "totalProcessingTime": job.processing_ms,
    }
    if job.job_type == "V2Ingest":
        body.update(
            {
                "externalIdFieldName": job.external_id_field or None,
                "contentUrl": f"services/data/v{job.api_version}/jobs/ingest/{job.pk}/batches",
                "numberRecordsFailed": job.records_failed,
                "apiActiveProcessingTime": job.processing_ms,
                "apexProcessingTime": 0,
            }
        )
    else:
        body["isPkChunkingSupported"] = False
    if job.state == JobState.FAILED and job.error_message:
        body["errorMessage"] = job.error_message
    return body


def route(request: Request, rest: list[str]) -> Response:
    if not rest or rest[0] not in ("ingest", "query"):
        raise not_found()
    kind, rest = rest[0], rest[1:]
    if not rest:
        require(request, "GET", "POST")
        if request.method == "GET":
            return list_jobs(request, kind)
        return create_ingest(request) if kind == "ingest" else create_query(request)
    job = _job(request, rest[0], kind)
    if len(rest) == 1:
        require(request, "GET", "PATCH", "DELETE")
        if request.method == "GET":
            return Response(200, job_info(job))
        if request.method == "PATCH":
            return change_state(request, job)
        return delete_job(job)
    tail = rest[1].lower()
    if kind == "ingest" and tail == "batches" and len(rest) == 2:
        require(request, "PUT")
        return upload(request, job)
    if kind == "ingest" and tail in RESULT_KINDS and len(rest) == 2:
        require(request, "GET")
        return ingest_results(job, RESULT_KINDS[tail])
    if kind == "query" and tail == "results" and len(rest) == 2:
        require(request, "GET")
        return query_results(request, job)
    raise not_found()


def _job(request: Request, job_id: str, kind: str) -> BulkJob:
    job = BulkJob.objects.using(DB).filter(pk=job_id, org_id=request.actor.org.pk).first()
    if job is None or job.job_type != ("V2Ingest" if kind == "ingest" else "V2Query"):
        raise not_found()
    return job


def list_jobs(request: Request, kind: str) -> Response:
    jobs = BulkJob.objects.using(DB).filter(
        org_id=request.actor.org.pk, job_type="V2Ingest" if kind == "ingest" else "V2Query"
    )
    return Response(
        200, {"done": True, "records": [job_info(j) for j in jobs[:1000]], "nextRecordsUrl": None}
    )


def _format_options(body: dict) -> tuple[str, str]:
    delimiter = body.get("columnDelimiter") or "COMMA"
    line_ending = body.get("lineEnding") or "LF"
    if delimiter not in DELIMITERS:
        raise invalid_job(f"Invalid column delimiter: {delimiter}")
    if line_ending not in LINE_ENDINGS:
        raise invalid_job(f"Invalid line ending: {line_ending}")
    if (body.get("contentType") or "CSV") != "CSV":
        raise invalid_job(f"Invalid content type: {body.get('contentType')}")
    return delimiter, line_ending


def _new_job(request: Request, **fields) -> BulkJob:
    moment = now()
    job = BulkJob.objects.using(DB).create(
        id=ids.new_id("750"),
        org_id=request.actor.org.pk,
        user_id=request.actor.user_id,
        api_version=request.version,
        created_date=moment,
        system_modstamp=moment,
        **fields,
    )
    job_dir(job.pk).mkdir(parents=True, exist_ok=True)
    return job


def create_ingest(request: Request) -> Response:
    body = request.json()
    if not isinstance(body, dict):
        raise invalid_job("Request body must be a JSON object")
    operation = body.get("operation")
    if operation not in INGEST_OPERATIONS:
        raise invalid_job(f"Invalid operation: {operation}")
    obj = request.actor.schema.sobject(str(body.get("object") or ""))
    if obj is None or not request.actor.object_perm(obj)[0]:
        raise ApiError(
            "INVALIDENTITY",
            f"Entity '{body.get('object')}' is not supported by the Bulk API.",
            400,
            None,
        )
    ext = str(body.get("externalIdFieldName") or "")
    if operation == "upsert":
        fmeta = request.actor.visible_field(obj, ext) if ext else None
        if fmeta is None or not (fmeta.external_id or fmeta.name == "Id"):
            raise invalid_job(
                f"External ID was blank or not valid for {obj.name}. An External "
                "ID must be specified for upsert."
            )
        ext = fmeta.name
    delimiter, line_ending = _format_options(body)
    job = _new_job(
        request,
        job_type="V2Ingest",
        operation=operation,
        sobject=obj.name,
        external_id_field=ext,
        column_delimiter=delimiter,
        line_ending=line_ending,
    )
    return Response(200, job_info(job))


def create_query(request: Request) -> Response:
    body = request.json()
    if not isinstance(body, dict):
        raise invalid_job("Request body must be a JSON object")
    operation = body.get("operation") or "query"
    if operation not in QUERY_OPERATIONS:
        raise invalid_job(f"Invalid operation: {operation}")
    text = str(body.get("query") or "")
    parsed = soql.parse(text)
    if parsed.is_count or parsed.offset or any(isinstance(f, soql.Query) for f in parsed.fields):
        raise ApiError(
            "API_ERROR",
            "Bulk API 2.0 query does not support COUNT(), OFFSET or parent-to-child subqueries.",
            400,
            None,
        )
    prepared = query.prepare(request.actor, parsed, all_rows=operation == "queryAll")
    delimiter, line_ending = _format_options(body)
    job = _new_job(
        request,
        job_type="V2Query",
        operation=operation,
        sobject=prepared.obj.name,
        query=text,
        column_delimiter=delimiter,
        line_ending=line_ending,
        state=JobState.UPLOAD_COMPLETE,
    )
    limits.count_bulk(job.org_id, "query_jobs")
    _enqueue(job)
    return Response(200, job_info(job))


def upload(request: Request, job: BulkJob) -> Response:
    if job.state != JobState.OPEN:
        raise invalid_state(job, "UploadComplete")
    if len(request.body) > MAX_UPLOAD or job.uploaded_bytes + len(request.body) > MAX_UPLOAD:
        raise ApiError(
            "EXCEEDED_QUOTA", "Upload exceeds the maximum of 100 MB of raw data per job", 413, None
        )
    if not request.body:
        raise ApiError("INVALIDJOB", "Upload is empty", 400, None)
    path = job_dir(job.pk) / "upload.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as out:
        out.write(request.body if not job.uploaded_bytes else _without_header(request.body))
    BulkJob.objects.using(DB).filter(pk=job.pk).update(
        uploaded_bytes=job.uploaded_bytes + len(request.body), system_modstamp=now()
    )
    rows = request.body.count(b"\n")
    limits.count_bulk(job.org_id, "batches", max(1, -(-rows // 10_000)))
    return Response(201)


def _without_header(data: bytes) -> bytes:
    """A second upload to the same job repeats the header; keep its rows only."""
    newline = data.find(b"\n")
    return data[newline + 1 :] if newline >= 0 else b""


def change_state(request: Request, job: BulkJob) -> Response:
    body = request.json()
    target = body.get("state") if isinstance(body, dict) else None
    if target == JobState.UPLOAD_COMPLETE and job.job_type == "V2Ingest":
        return _close(job)
    if target == JobState.ABORTED:
        moved = (
            BulkJob.objects.using(DB)
            .filter(pk=job.pk, state__in=ABORTABLE)
            .update(state=JobState.ABORTED, system_modstamp=now())
        )
        if not moved:
            raise invalid_state(job, target)
        job.refresh_from_db(using=DB)
        return Response(200, job_info(job))
    raise invalid_state(job, str(target))


def _close(job: BulkJob) -> Response:
    moved = (
        BulkJob.objects.using(DB)
        .filter(pk=job.pk, state__in=CLOSABLE)
        .update(state=JobState.UPLOAD_COMPLETE, system_modstamp=now())
    )
    if not moved:
        raise invalid_state(job, JobState.UPLOAD_COMPLETE)
    job.refresh_from_db(using=DB)
    _enqueue(job)
    return Response(200, job_info(job))


def _enqueue(job: BulkJob) -> None:
    worker.enqueue(process_job, job.pk)


def delete_job(job: BulkJob) -> Response:
    if job.state not in DELETABLE:
        raise invalid_state(job, "Deleted")
    shutil.rmtree(job_dir(job.pk), ignore_errors=True)
    job.delete(using=DB)
    return Response(204)


def _csv(data: bytes, extra: dict | None = None) -> Response:
    return Response(200, raw=data, content_type="text/csv", headers=extra or {})


def ingest_results(job: BulkJob, filename: str) -> Response:
    if job.state not in (JobState.JOB_COMPLETE, JobState.FAILED, JobState.ABORTED):
        raise ApiError(
            "JOB_NOT_COMPLETE",
            f"Results are available once the job is complete. Current state: {job.state}",
            412,
            None,
        )
    path = job_dir(job.pk) / filename
    return _csv(path.read_bytes() if path.exists() else b"")


def _decode_locator(locator: str) -> int:
    if not locator:
        return 0
    try:
        return int(base64.b64decode(locator + "=" * (-len(locator) % 4)).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ApiError("INVALIDLOCATOR", f"Invalid locator: {locator}", 400, None) from exc


def _encode_locator(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def query_results(request: Request, job: BulkJob) -> Response:
    """A page of results: ``Sforce-NumberOfRecords`` and ``Sforce-Locator`` (``null`` last)."""
    if job.state != JobState.JOB_COMPLETE:
        raise ApiError(
            "JOB_NOT_COMPLETE",
            "can only download query results of successfully "
            "completed bulk job with status: JOB_COMPLETE. Current status: "
            f"{job.state.upper()}",
            412,
            None,
        )
    start = _decode_locator(request.query.get("locator", ""))
    try:
        limit = int(request.query.get("maxRecords") or 0) or job.records_processed
    except ValueError as exc:
        raise ApiError("INVALIDREQUEST", "maxRecords must be a number", 400, None) from exc
    data, count = read_result_page(job, start, limit)
    end = start + count
    locator = _encode_locator(end) if end < job.records_processed else "null"
    return _csv(data, {"Sforce-NumberOfRecords": str(count), "Sforce-Locator": locator})
